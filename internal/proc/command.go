package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// RunError is a command that failed: its arguments, its own output (what
// kind or kubectl printed, which says why) and the exit error.
type RunError struct {
	Cmd    []string
	Output []byte
	Err    error
}

func (e *RunError) Error() string {
	msg := fmt.Sprintf("%s: %v", strings.Join(e.Cmd, " "), e.Err)
	if out := strings.TrimSpace(string(e.Output)); out != "" {
		msg += "\n" + tail(out, 40)
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// tail keeps the last n lines: the end of kind's output says what failed.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return "[…]\n" + strings.Join(lines[len(lines)-n:], "\n")
}

// Command runs an external tool (kind, kubectl, docker) in its own process
// group, so that cancelling ctx ends the tool and everything it started:
// TERM to the group, then KILL after Grace.
type Command struct {
	Name string
	Args []string
	// Env is added to the inherited environment.
	Env []string
	// Log, if set, receives the command's stderr (and stdout when combined)
	// as it runs: kind's progress lines.
	Log io.Writer
	// Grace is how long the group has between TERM and KILL; 0 means 5s.
	Grace time.Duration
}

// Output runs the command and returns its stdout; on failure the RunError
// carries stderr (and the stdout read so far).
func (c Command) Output(ctx context.Context) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	err := c.run(ctx, &stdout, &stderr, false)
	if err != nil {
		var re *RunError
		if errors.As(err, &re) {
			re.Output = append(append([]byte(nil), stderr.Bytes()...), stdout.Bytes()...)
		}
	}
	return stdout.Bytes(), err
}

// CombinedOutput runs the command and returns stdout and stderr interleaved.
func (c Command) CombinedOutput(ctx context.Context) ([]byte, error) {
	var out bytes.Buffer
	err := c.run(ctx, &out, &out, true)
	if err != nil {
		var re *RunError
		if errors.As(err, &re) {
			re.Output = out.Bytes()
		}
	}
	return out.Bytes(), err
}

func (c Command) run(ctx context.Context, stdout, stderr *bytes.Buffer, combined bool) error {
	argv := append([]string{c.Name}, c.Args...)
	if err := ctx.Err(); err != nil {
		return &RunError{Cmd: argv, Err: err}
	}
	grace := c.Grace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = grace
	switch {
	case c.Log != nil && combined:
		w := io.MultiWriter(stdout, c.Log)
		cmd.Stdout, cmd.Stderr = w, w
	case c.Log != nil:
		cmd.Stdout, cmd.Stderr = stdout, io.MultiWriter(stderr, c.Log)
	default:
		cmd.Stdout, cmd.Stderr = stdout, stderr
	}
	if err := cmd.Start(); err != nil {
		return &RunError{Cmd: argv, Err: err}
	}
	// Whatever the group left behind (a grandchild after TERM, a daemon the
	// tool forked) ends with the command.
	err := WaitGroup(cmd, nil)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return &RunError{Cmd: argv, Err: err}
	}
	return nil
}
