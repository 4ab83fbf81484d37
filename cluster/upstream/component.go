package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/labrun/labrun/cluster"
)

// ComponentError is a component that exited when it should not have, or
// could not be started: its name, how it ended and its last log lines,
// which say why.
type ComponentError struct {
	Component string
	// Status is how the process ended ("exit status 1", "signal: killed"),
	// or why it could not start.
	Status string
	// Tail is the component's last log lines, oldest first.
	Tail []string
	// Err is the cause when it is an error of its own (the start's context
	// ended), for errors.Is.
	Err error
}

func (e *ComponentError) Unwrap() error { return e.Err }

func (e *ComponentError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Component, e.Status)
	if len(e.Tail) > 0 {
		msg += "; its last log lines:\n\t" + strings.Join(e.Tail, "\n\t")
	}
	return msg
}

// tailLines is how many of a component's last log lines an error carries.
const tailLines = 15

// component is one control-plane process, the leader of its own process
// group so that ending it ends whatever it started.
type component struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	tail *tailWriter
	// exited is closed once the whole group is ended and the leader reaped;
	// waitErr is cmd.Wait's error, set before.
	exited  chan struct{}
	waitErr error
	// stopping is set before labrun ends the component on purpose: an exit
	// after it is not a fault.
	stopping atomic.Bool

	// mu guards reaped: once the leader is reaped its pid, and so its group
	// id, may belong to a stranger, so nothing may be signalled by it.
	mu     sync.Mutex
	reaped bool
}

// startComponent starts argv as component name, with env added to
// labrun's environment, its output going to the file logPath and to the
// tail kept for errors.
func startComponent(name string, argv, env []string, logPath string) (*component, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &component{name: name, log: logFile, tail: &tailWriter{max: tailLines}, exited: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	out := io.MultiWriter(logFile, c.tail)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own group, so a TERM reaches everything it started; and killed
	// with labrun should labrun die without a chance to stop it. Pdeathsig
	// fires when the starting OS thread ends: start components from an
	// ordinary goroutine, never from a thread locked (for setns) and then
	// left to exit.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	c.cmd = cmd
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, &ComponentError{Component: name, Status: fmt.Sprintf("cannot start %s: %v", argv[0], unwrapExec(err))}
	}
	go func() {
		c.waitErr = cluster.WaitGroup(cmd, reapLock{c})
		_ = logFile.Close()
		close(c.exited)
	}()
	return c, nil
}

// unwrapExec drops os/exec's repetition of the path from a start error.
func unwrapExec(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// signal sends sig to the component's group, unless it is already reaped.
func (c *component) signal(sig syscall.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reaped {
		_ = syscall.Kill(-c.cmd.Process.Pid, sig)
	}
}

// stop ends the component: TERM, then KILL after grace or when abort is
// closed. It returns once the group is gone.
func (c *component) stop(grace time.Duration, abort <-chan struct{}) {
	c.stopping.Store(true)
	c.signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.exited:
		return
	case <-t.C:
	case <-abort:
	}
	c.signal(syscall.SIGKILL)
	<-c.exited
}

// cpuSeconds is the CPU time (user and system) the component's process has
// used, from /proc; false once it is reaped or where /proc cannot tell.
func (c *component) cpuSeconds() (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return 0, false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// The fields after the command's name, which is in parentheses and
	// may hold spaces: state is the first, utime and stime the 12th and
	// 13th. They count clock ticks, 100 a second on Linux (USER_HZ).
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return float64(ut+st) / 100, true
}

// exitError describes how the component ended, with its last log lines.
func (c *component) exitError() *ComponentError {
	status := "exited"
	if c.waitErr != nil {
		status = c.waitErr.Error()
	} else {
		status = "exited with status 0"
	}
	return &ComponentError{Component: c.name, Status: status, Tail: c.tail.lines()}
}

// reapLock is held by cluster.WaitGroup around the last kill and the reap;
// releasing it marks the component reaped.
type reapLock struct{ c *component }

func (l reapLock) Lock() { l.c.mu.Lock() }
func (l reapLock) Unlock() {
	l.c.reaped = true
	l.c.mu.Unlock()
}

// tailWriter keeps the last max lines written to it (each cut to a few
// hundred bytes): what an error shows of a component's log.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	partial []byte
	buf     []string
}

const maxLineBytes = 400

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	data := append(t.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		t.add(string(data[:i]))
		data = data[i+1:]
	}
	if len(data) > maxLineBytes {
		t.add(string(data))
		data = nil
	}
	t.partial = append([]byte(nil), data...)
	return len(p), nil
}

func (t *tailWriter) add(line string) {
	line = strings.TrimRight(line, "\r")
	if len(line) > maxLineBytes {
		line = line[:maxLineBytes] + "…"
	}
	t.buf = append(t.buf, line)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
}

// lines returns the kept lines, the unfinished last one included.
func (t *tailWriter) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.buf...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.max {
		out = out[len(out)-t.max:]
	}
	return out
}

// contains reports whether a kept line holds s: how a failed start is told
// to be a port someone else took.
func (t *tailWriter) contains(s string) bool {
	for _, l := range t.lines() {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
