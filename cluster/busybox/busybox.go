// Package busybox is labrun's multicall stand-in for the busybox commands
// that workshop images (alpine, busybox) rely on. The node agent runs
// container commands as local processes; the host's commands differ from
// busybox's (or are missing: no ping), so labrun links these applets ahead
// of the host's PATH and selects them by argv[0], as busybox does.
//
// Output formats follow busybox 1.36 built against musl (alpine).
package busybox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// Stdio is the I/O an applet runs with; injected so tests need no process.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
	// Getenv reads the container's environment (HOSTNAME, TZ, ...).
	// Nil means os.Getenv.
	Getenv func(key string) string
}

// Signaled is the cancellation cause that tells an applet which signal
// ended it, so it can exit with 128+signal as a shell reports it. A context
// cancelled for any other reason counts as SIGTERM.
type Signaled struct{ Signal syscall.Signal }

func (s *Signaled) Error() string { return fmt.Sprintf("%v signal received", s.Signal) }

// applet is one command's implementation.
type applet func(ctx context.Context, env *env, args []string) int

// lookup maps an applet name to its implementation. A switch rather than a
// package-level map keeps the package free of mutable globals.
func lookup(name string) (applet, bool) {
	switch name {
	case "cat":
		return runCat, true
	case "curl":
		return runCurl, true
	case "date":
		return runDate, true
	case "echo":
		return runEcho, true
	case "false":
		return func(context.Context, *env, []string) int { return 1 }, true
	case "hostname":
		return runHostname, true
	case "ping":
		return runPing, true
	case "seq":
		return runSeq, true
	case "sh":
		return runSh, true
	case "sleep":
		return runSleep, true
	case "wget":
		return runWget, true
	case "true":
		return func(context.Context, *env, []string) int { return 0 }, true
	case "yes":
		return runYes, true
	}
	return nil, false
}

// Applets lists the applet names Install links, sorted.
func Applets() []string {
	return []string{"cat", "curl", "date", "echo", "false", "hostname", "ping", "seq", "sh", "sleep", "true", "wget", "yes"}
}

// Run runs applet name with args (without argv[0]) on stdio and returns its
// exit status. Cancelling ctx stands for SIGINT/SIGTERM (see Signaled).
// An unknown name prints busybox's message and returns 127.
func Run(ctx context.Context, name string, args []string, stdio Stdio) int {
	e := newEnv(name, stdio)
	fn, ok := lookup(name)
	if !ok {
		e.errorf("applet not found")
		return 127
	}
	return fn(ctx, e, args)
}

// Dispatch runs the applet named by filepath.Base(args[0]) with args[1:] on
// the process's stdio, with SIGINT and SIGTERM cancelling it, and returns its
// exit code and true. It returns (0, false) at once when args[0] names no
// applet, so a normal program continues.
func Dispatch(args []string) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	name := filepath.Base(args[0])
	if _, known := lookup(name); !known {
		return 0, false
	}
	if name == "sh" {
		// Replace this process so the shell keeps our pid and gets signals
		// directly; only returns if exec failed.
		return execSh(args, os.Stderr), true
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	// SIGTERM first: tests see SIGINT become caught (in /proc) and may then
	// rely on SIGTERM being caught too.
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			sig, _ := s.(syscall.Signal)
			cancel(&Signaled{Signal: sig})
		case <-ctx.Done():
		}
	}()
	return Run(ctx, name, args[1:], Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}), true
}

// Install creates dir (if needed) and in it one symlink per applet, named
// after it, pointing to exe. Existing entries with those names are replaced.
func Install(dir, exe string) error {
	return Link(dir, exe, Applets()...)
}

// NetClients are the applets that reach the cluster's addresses in the
// network fallback (curl and wget), which a lab's shell gets too.
func NetClients() []string { return []string{"curl", "wget"} }

// Link is Install for the applets named.
func Link(dir, exe string, names ...string) error {
	abs, err := filepath.Abs(exe)
	if err != nil {
		return fmt.Errorf("busybox install: resolve %s: %w", exe, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("busybox install: %w", err)
	}
	for _, name := range names {
		link := filepath.Join(dir, name)
		if target, err := os.Readlink(link); err == nil && target == abs {
			continue
		}
		if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("busybox install: replace %s: %w", link, err)
		}
		if err := os.Symlink(abs, link); err != nil {
			return fmt.Errorf("busybox install: %w", err)
		}
	}
	return nil
}

// env is what an applet sees of its surroundings.
type env struct {
	name   string
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
}

func newEnv(name string, s Stdio) *env {
	e := &env{name: name, in: s.In, out: s.Out, err: s.Err, getenv: s.Getenv}
	if e.in == nil {
		e.in = eofReader{}
	}
	if e.out == nil {
		e.out = io.Discard
	}
	if e.err == nil {
		e.err = io.Discard
	}
	if e.getenv == nil {
		e.getenv = os.Getenv
	}
	return e
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// errorf prints "applet: message" on stderr, like bb_error_msg.
func (e *env) errorf(format string, a ...any) {
	fmt.Fprintf(e.err, "%s: %s\n", e.name, fmt.Sprintf(format, a...))
}

// usage prints busybox's usage screen for the applet and returns 1.
func (e *env) usage(trivial, full string) int {
	fmt.Fprintf(e.err, "BusyBox v1.36.1 (labrun) multi-call binary.\n\nUsage: %s %s\n", e.name, trivial)
	if full != "" {
		fmt.Fprintf(e.err, "\n%s\n", full)
	}
	return 1
}

// cancelled returns the exit status for an applet ended by ctx: 128+signal.
func cancelled(ctx context.Context) int {
	var s *Signaled
	if errors.As(context.Cause(ctx), &s) && s.Signal > 0 {
		return 128 + int(s.Signal)
	}
	return 128 + int(syscall.SIGTERM)
}

// errnoText renders an error as musl's strerror does ("No such file or
// directory"), which is what busybox prints after a colon.
func errnoText(err error) string {
	var errno syscall.Errno
	var text string
	if errors.As(err, &errno) {
		text = errno.Error()
	} else {
		text = err.Error()
	}
	if text != "" && text[0] >= 'a' && text[0] <= 'z' {
		text = string(text[0]-'a'+'A') + text[1:]
	}
	return text
}
