package cluster

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseNodes(t *testing.T) {
	list := `{"items":[
	 {"metadata":{"name":"k-worker10"},"status":{"addresses":[{"type":"Hostname","address":"k-worker10"},{"type":"InternalIP","address":"172.18.0.12"}]}},
	 {"metadata":{"name":"k-worker2"},"status":{"addresses":[{"type":"InternalIP","address":"172.18.0.3"}]}},
	 {"metadata":{"name":"k-worker"},"status":{"addresses":[{"type":"InternalIP","address":"172.18.0.2"}]}},
	 {"metadata":{"name":"k-control-plane","labels":{"node-role.kubernetes.io/control-plane":""}},"status":{"addresses":[{"type":"InternalIP","address":"172.18.0.4"}]}}
	]}`
	nodes, err := parseNodes([]byte(list))
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{{"k-control-plane", "172.18.0.4"}, {"k-worker", "172.18.0.2"}, {"k-worker2", "172.18.0.3"}, {"k-worker10", "172.18.0.12"}}
	if !slices.Equal(nodes, want) {
		t.Errorf("nodes %v, want %v", nodes, want)
	}
	if _, err := parseNodes([]byte("error: You must be logged in")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestNaturalLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		less bool
	}{
		{"node2", "node10", true},
		{"node10", "node2", false},
		{"node1", "node1", false},
		{"node01", "node2", true},
		{"a", "b", true},
		{"node", "node1", true},
		{"worker9x", "worker10", true},
	} {
		if got := naturalLess(tc.a, tc.b); got != tc.less {
			t.Errorf("naturalLess(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestCommand(t *testing.T) {
	ctx := context.Background()
	out, err := Command{Name: "sh", Args: []string{"-c", "echo out; echo err >&2"}}.Output(ctx)
	if err != nil || string(out) != "out\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
	out, err = Command{Name: "sh", Args: []string{"-c", "echo out; echo err >&2"}}.CombinedOutput(ctx)
	if err != nil || string(out) != "out\nerr\n" {
		t.Errorf("CombinedOutput = %q, %v", out, err)
	}
	var log strings.Builder
	_, err = Command{Name: "sh", Args: []string{"-c", "echo partial; echo 'ERROR: it broke' >&2; exit 3"}, Log: &log}.Output(ctx)
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("err %T %v", err, err)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("exit error lost: %v", err)
	}
	if string(re.Output) != "ERROR: it broke\npartial\n" || !slices.Equal(re.Cmd[:2], []string{"sh", "-c"}) {
		t.Errorf("RunError = %+v", re)
	}
	if !strings.Contains(err.Error(), "ERROR: it broke") {
		t.Errorf("message lacks the tool's output: %v", err)
	}
	if log.String() != "ERROR: it broke\n" {
		t.Errorf("log %q", log.String())
	}
	if _, err := Run(ctx, "/nonexistent/tool"); err == nil || !errors.As(err, &re) {
		t.Errorf("missing tool: %v", err)
	}
}

// TestCommandCancel: cancelling ends the whole process group, including a
// child that ignores nothing and holds no pipe of ours.
func TestCommandCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pid := make(chan int, 1)
	errc := make(chan error, 1)
	pr := &pidWriter{ch: pid}
	go func() {
		_, err := Command{Name: "sh", Args: []string{"-c", "sleep 600 >/dev/null 2>&1 & echo $! >&2; wait"}, Log: pr, Grace: time.Second}.Output(ctx)
		errc <- err
	}()
	child := <-pid
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	fd, perr := unix.PidfdOpen(child, 0)
	if errors.Is(perr, unix.ESRCH) {
		return
	}
	if perr != nil {
		t.Skipf("pidfd_open: %v", perr)
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 10_000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			_ = unix.Kill(child, unix.SIGKILL)
			t.Fatalf("child %d survived the cancel", child)
		}
		return
	}
}

// pidWriter passes the first line written (a pid) to ch.
type pidWriter struct {
	buf []byte
	ch  chan int
}

func (w *pidWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if i := strings.IndexByte(string(w.buf), '\n'); i >= 0 && w.ch != nil {
		if n, err := strconv.Atoi(string(w.buf[:i])); err == nil {
			w.ch <- n
		}
		w.ch = nil
	}
	return len(p), nil
}
