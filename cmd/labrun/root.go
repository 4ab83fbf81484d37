package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/labrun/labrun/internal/proc"
	"github.com/spf13/cobra"
)

// Exit codes, as the README documents them.
const (
	exitOK      = 0
	exitFailed  = 1 // a lab step failed (or lint found errors)
	exitUsage   = 2 // usage error, unreadable input, or no cluster
	exitSignals = 130
)

// exitError carries an exit code up to Main without printing twice.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// streams are the command's input, outputs and environment, injected for
// tests.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// getenv reads the environment (os.Getenv when nil).
	getenv func(string) string
	// argv is the command line, program name first (set by execute).
	argv []string
}

func (st streams) env(key string) string {
	if st.getenv == nil {
		return os.Getenv(key)
	}
	return st.getenv(key)
}

// usageError is a mistake on the command line: the message names the
// command, and the help to read is that command's own.
type usageError struct {
	cmd string // the command's path, "labrun run"
	err error
}

func (e *usageError) Error() string { return e.cmd + ": " + e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// needFiles stands for cobra.MinimumNArgs(1), saying in words what is missing.
func needFiles(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return &usageError{cmd.CommandPath(), errors.New("no FILE given: name at least one chapter (.md) or deck manifest (.yml)")}
	}
	return nil
}

// noArgs stands for cobra.NoArgs, whose message reads "unknown command".
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{cmd.CommandPath(), fmt.Errorf("unexpected argument %q: %s takes no arguments", args[0], cmd.Name())}
	}
	return nil
}

// Main runs labrun with args and returns the process exit code. The first
// SIGINT or SIGTERM cancels the run, which then cleans up and reports; a
// second one exits at once.
func Main(args []string, in io.Reader, out, errw io.Writer) int {
	// Failing to become a subreaper only weakens the final sweep.
	_ = proc.BecomeSubreaper()
	defer func() {
		if ended := proc.Sweep(); len(ended) > 0 {
			fmt.Fprintf(errw, "labrun: ended %d processes left behind by the labs: %s\n", len(ended), strings.Join(ended, "; "))
		}
	}()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		var first time.Time
		for s := range sigs {
			if first.IsZero() {
				first = time.Now()
				fmt.Fprintf(errw, "\nlabrun: %v: stopping and cleaning up (again to force)\n", s)
				cancel(signalCause(s))
				continue
			}
			// A parent that passes on the signal its process group got
			// as well (labrun's own network namespace, a -j run) makes
			// one interrupt arrive twice: that is not asking to force.
			if time.Since(first) < duplicateSignal {
				continue
			}
			fmt.Fprintf(errw, "labrun: %v again: exiting now\n", s)
			proc.Sweep()
			os.Exit(exitSignals)
		}
	}()
	return execute(ctx, args, streams{in: in, out: out, err: errw})
}

// duplicateSignal is how soon after the first a signal counts as the same
// interrupt arriving twice, not a second Ctrl-C.
const duplicateSignal = time.Second

// signalCause names a signal as a person knows it; a step it interrupts
// reads "interrupted (Ctrl-C)".
func signalCause(s os.Signal) error {
	if s == os.Interrupt {
		return errors.New("Ctrl-C")
	}
	return fmt.Errorf("%v", s)
}

func execute(ctx context.Context, args []string, st streams) int {
	st.argv = append([]string{"labrun"}, args...)
	root := newRoot(st)
	root.SetArgs(args)
	root.SetIn(st.in)
	root.SetOut(st.out)
	root.SetErr(st.err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(st.err, "%v\nRun '%s --help' for usage.\n", ue, ue.cmd)
		return exitUsage
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(st.err, "labrun: %v\n", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: an unknown command.
	fmt.Fprintf(st.err, "labrun: %v\nRun 'labrun --help' for usage.\n", err)
	return exitUsage
}

func newRoot(st streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "labrun",
		Short: "Verify and replay the hands-on labs of markdown slide decks",
		Long: `labrun reads container.training-style slide decks (remark.js markdown with
.lab[ … ] sections and hidden directives), replays every lab step in a real
terminal against a Kubernetes cluster (the built-in one by default), and
checks the exit statuses and the output the slides promise.`,
		Version:       readBuild().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("labrun {{.Version}}\n")
	// A bad flag names the command it was given to, and that command's help.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{c.CommandPath(), err}
	})
	root.AddCommand(newRunCmd(st), newStepCmd(st), newWatchCmd(st), newListCmd(st), newLintCmd(st), newVersionCmd(st), newDoctorCmd(st), newClusterCmd(st),
		newCompareCmd(st), newMergeCmd(st), newRegressCmd(st), newBisectCmd(st), newBisectJudgeCmd(st))
	return root
}
