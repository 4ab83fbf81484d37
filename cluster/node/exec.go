package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/labrun/labrun/cluster"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// exec runs a command in the container, as `kubectl exec` does: in the
// container's root with its environment, on a pty with tty. A non-zero
// exit is a utilexec.ExitError, which the streaming server reports as the
// command's exit code. ctx ending (the client went) kills the command.
func (c *containerRun) exec(ctx context.Context, argv []string, in io.Reader, out, errw io.Writer, tty bool, resize <-chan remotecommand.TerminalSize) error {
	w := c.w
	if c.instance() == nil {
		return fmt.Errorf("container %s is not running", c.spec.Name)
	}
	w.mu.Lock()
	env := c.env
	w.mu.Unlock()
	if env == nil {
		var err error
		if env, err = w.containerEnv(c); err != nil {
			return err
		}
	}
	if !rooted() {
		argv = rootedArgs(argv)
	}
	cmd, err := w.command(c, argv, env)
	if err != nil {
		// As runc reports a missing executable: exit status 127 or 126.
		if out != nil || errw != nil {
			dst := errw
			if dst == nil || tty {
				dst = out
			}
			if dst != nil {
				fmt.Fprintf(dst, "OCI runtime exec failed: exec failed: unable to start container process: %v: unknown\r\n", err)
			}
		}
		return utilexec.CodeExitError{Err: err, Code: 127}
	}
	if tty {
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
		if err != nil {
			return err
		}
		// Resizes end before the close: pty.Setsize reads the descriptor
		// outside os.File's own locking.
		var mu sync.Mutex
		closed := false
		defer func() {
			mu.Lock()
			closed = true
			f.Close()
			mu.Unlock()
		}()
		if resize != nil {
			go func() {
				for sz := range resize {
					mu.Lock()
					if !closed {
						_ = pty.Setsize(f, &pty.Winsize{Rows: sz.Height, Cols: sz.Width})
					}
					mu.Unlock()
				}
			}()
		}
		if in != nil {
			go func() { _, _ = io.Copy(f, in) }()
		}
		copied := make(chan struct{})
		go func() {
			defer close(copied)
			if out != nil {
				_, _ = io.Copy(out, f)
			} else {
				_, _ = io.Copy(io.Discard, f)
			}
		}()
		err = waitKill(ctx, cmd)
		// The output ends when the last holder of the pty's slave exits.
		select {
		case <-copied:
		case <-time.After(200 * time.Millisecond):
		}
		return exitErr(cmd, err)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if out != nil {
		cmd.Stdout = out
	}
	if errw != nil {
		cmd.Stderr = errw
	}
	if in != nil {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		go func() {
			_, _ = io.Copy(stdin, in)
			_ = stdin.Close()
		}()
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	return exitErr(cmd, waitKill(ctx, cmd))
}

// waitKill waits for cmd's group, killing it when ctx ends first.
func waitKill(ctx context.Context, cmd *exec.Cmd) error {
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stop()
	return cluster.WaitGroup(cmd, nil)
}

func exitErr(cmd *exec.Cmd, err error) error {
	if cmd.ProcessState == nil {
		return err
	}
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	if code == 0 {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		err = fmt.Errorf("exit status %d", code)
	}
	return utilexec.CodeExitError{Err: err, Code: code}
}

// rootedArgs maps the absolute paths `kubectl cp` hands to tar (tar cf -
// /src, tar -xmf - -C /dst) into the container's directory, where its files
// live when it has no root of its own (outside labrun's namespace); other
// commands run as given. A container with a root (rootfs.go) needs no
// mapping: its absolute paths are its own, whatever its workingDir.
func rootedArgs(argv []string) []string {
	if len(argv) == 0 || filepath.Base(argv[0]) != "tar" {
		return argv
	}
	// The command runs in root: a path made relative names the same file
	// there, and tar writes it (and reads it back) under the name kubectl
	// expects (tmp/x for /tmp/x).
	out := append([]string(nil), argv...)
	for i := 1; i < len(out); i++ {
		if strings.HasPrefix(out[i], "/") {
			out[i] = strings.TrimLeft(out[i], "/")
			if out[i] == "" {
				out[i] = "."
			}
		}
	}
	return out
}
