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

// streams are the command's input and outputs, injected for tests.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Main runs labrun with args and returns the process exit code. The first
// SIGINT or SIGTERM cancels the run, which then cleans up and reports; a
// second one exits at once.
func Main(args []string, in io.Reader, out, errw io.Writer) int {
	// Failing to become a subreaper only weakens the final sweep.
	_ = becomeSubreaper()
	defer func() {
		if ended := sweep(); len(ended) > 0 {
			fmt.Fprintf(errw, "labrun: ended %d processes left behind by the labs: %s\n", len(ended), strings.Join(ended, "; "))
		}
	}()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for s := range sigs {
			n++
			if n == 1 {
				fmt.Fprintf(errw, "\nlabrun: %v: stopping and cleaning up (again to force)\n", s)
				cancel(fmt.Errorf("got %v", s))
				continue
			}
			fmt.Fprintf(errw, "labrun: %v again: exiting now\n", s)
			sweep()
			os.Exit(exitSignals)
		}
	}()
	return execute(ctx, args, streams{in, out, errw})
}

func execute(ctx context.Context, args []string, st streams) int {
	root := newRoot(st)
	root.SetArgs(args)
	root.SetIn(st.in)
	root.SetOut(st.out)
	root.SetErr(st.err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(st.err, "labrun: %v\n", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown flags, missing arguments.
	fmt.Fprintf(st.err, "labrun: %v\nRun 'labrun --help' for usage.\n", err)
	return exitUsage
}

func newRoot(st streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "labrun",
		Short: "Verify and replay the hands-on labs of markdown slide decks",
		Long: `labrun reads container.training-style slide decks (remark.js markdown with
.lab[ … ] sections and hidden directives), replays every lab step in a real
terminal against a Kubernetes cluster (a built-in fake one by default), and
checks the exit statuses and the output the slides promise.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(st), newListCmd(st), newLintCmd(st), newVersionCmd(st), newDoctorCmd(st), newClusterCmd(st),
		newCompareCmd(st), newMergeCmd(st), newRegressCmd(st), newBisectCmd(st), newBisectJudgeCmd(st))
	return root
}
