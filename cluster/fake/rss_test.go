package fake

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// idleChildEnv makes the test binary a fake cluster and nothing else (see
// serveIdle), so that its resident memory is the server's own.
const idleChildEnv = "LABRUN_FAKE_IDLE_CHILD"

// serveIdle starts a default fake cluster (3 nodes, the seeded objects),
// prints "ready" and serves until stdin closes.
func serveIdle() int {
	dir, err := os.MkdirTemp("", "labrun-fake-idle-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s, err := Start(ctx, Options{Dir: dir, Seed: 1})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// idleRSS starts the fake in a child process, lets it settle for idle, and
// returns its VmRSS in bytes. The child is ended (process group) before
// idleRSS returns.
func idleRSS(tb testing.TB, idle time.Duration) int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), idleChildEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child closes the server and exits
		if err := cmd.Wait(); err != nil {
			tb.Errorf("idle child: %v", err)
		}
	}()
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("child said %q", line)
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-ready:
		if err != nil {
			tb.Fatalf("idle child: %v", err)
		}
	case <-ctx.Done():
		tb.Fatal("idle child never got ready")
	}
	select {
	case <-time.After(idle):
	case <-ctx.Done():
		tb.Fatal(ctx.Err())
	}
	rss, err := vmRSS(cmd.Process.Pid)
	if err != nil {
		tb.Fatal(err)
	}
	return rss
}

// vmRSS reads a process's resident set size from /proc/PID/status.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("vmRSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("vmRSS: odd line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("vmRSS: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("vmRSS: no VmRSS line")
}

// BenchmarkIdleRSS reports the resident memory of an idle fake cluster
// (3 nodes, the seeded objects, no workloads) as MB-rss. The target is
// under 50 MB; -race builds inflate it several times.
func BenchmarkIdleRSS(b *testing.B) {
	var total int64
	for i := 0; i < b.N; i++ {
		total += idleRSS(b, 2*time.Second)
	}
	b.ReportMetric(float64(total)/float64(b.N)/(1<<20), "MB-rss")
}

// TestIdleRSS holds the idle fake cluster under 50 MB resident. The race
// detector multiplies memory, so the check runs in plain builds only.
func TestIdleRSS(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector inflates resident memory")
	}
	if testing.Short() {
		t.Skip("starts a child process and idles 2s")
	}
	rss := idleRSS(t, 2*time.Second)
	t.Logf("idle fake cluster: %.1f MB resident", float64(rss)/(1<<20))
	if rss >= 50<<20 {
		t.Errorf("idle fake cluster uses %.1f MB resident, want < 50 MB", float64(rss)/(1<<20))
	}
}
