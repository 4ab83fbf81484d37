package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin"
	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// controlPlaneOnPath puts labrun-k8s on PATH, where labrun finds it, or
// skips the test saying why (fails under CI).
func controlPlaneOnPath(t *testing.T) string {
	t.Helper()
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	return bin
}

// `labrun cluster start` serves the built-in cluster real kubectl reaches
// through the kubeconfig it writes, with the nodes --nodes asks for, and
// removes that kubeconfig and its own files when stopped.
func TestClusterStart(t *testing.T) {
	needKubectl(t)
	controlPlaneOnPath(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the cluster's files go, to see them gone
	kc := filepath.Join(t.TempDir(), "labrun.kubeconfig")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errw syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, []string{"cluster", "start", "--kubeconfig", kc, "--nodes", "2"}, streams{in: strings.NewReader(""), out: &out, err: &errw})
	}()
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(out.String(), "export KUBECONFIG=") {
		select {
		case code := <-done:
			t.Fatalf("exit %d before serving: %q %q", code, out.String(), errw.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no kubeconfig announced: %q %q", out.String(), errw.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "with nodes [node1 node2]") {
		t.Errorf("announcement: %q", out.String())
	}
	kubectl, _ := exec.LookPath("kubectl")
	cmd := exec.Command(kubectl, "get", "nodes", "--no-headers", "-o", "custom-columns=NAME:.metadata.name,READY:.status.conditions[?(@.type==\"Ready\")].status")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kc, "HOME="+t.TempDir())
	nodes, err := cmd.CombinedOutput()
	if got := strings.Join(strings.Fields(string(nodes)), " "); err != nil || got != "node1 True node2 True" {
		t.Errorf("kubectl get nodes: %v\n%s", err, nodes)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, errw.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("cluster start did not stop after its context ended")
	}
	if _, err := os.Stat(kc); !os.IsNotExist(err) {
		t.Errorf("the kubeconfig of a stopped cluster is still there: %v", err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
		t.Errorf("the stopped cluster left %d entries in TMPDIR, the first %s", len(ents), ents[0].Name())
	}
}

// Bad flags are usage errors before anything starts.
func TestClusterStartUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "start", "--nodes", "0"}, "--nodes 0: the cluster needs at least one node"},
		{[]string{"cluster", "start", "--seed", "1"}, "unknown flag: --seed"},
		{[]string{"cluster", "start", "extra"}, "extra"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errs := labrun(t, tc.args...)
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errs, exitUsage, tc.want)
			}
		})
	}
}

// --cluster kubeconfig borrows the current context in a namespace of its
// own, deleted afterwards; a built-in cluster of the test's own stands in
// for a real one.
func TestRunAgainstKubeconfig(t *testing.T) {
	needKubectl(t)
	bin := controlPlaneOnPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := builtin.Start(ctx, builtin.Options{Dir: t.TempDir(), Upstream: upstream.Options{Binary: bin, Timeout: 5 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cl.Close(cctx); err != nil {
			t.Error(err)
		}
	}()
	t.Setenv("KUBECONFIG", cl.Kubeconfig())
	t.Setenv("HOME", t.TempDir())
	code, out, errs := labrun(t, "run", "--color", "never", "--cluster", "kubeconfig", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "created namespace labrun-") || !strings.Contains(errs, "deleted namespace labrun-") {
		t.Errorf("stderr does not say the namespace was made and deleted: %q", errs)
	}
	kubectl, _ := exec.LookPath("kubectl")
	ns, err := exec.Command(kubectl, "get", "ns", "-o", "name").CombinedOutput()
	if err != nil || strings.Contains(string(ns), "labrun-") {
		t.Errorf("the run's namespace is left: %v\n%s", err, ns)
	}
}

// relay carries connections both ways, half-closes as TCP does, and once
// its context ends closes the listener and the connections still open.
func TestRelay(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }() // echo until EOF
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := relay(ctx, ln, target.Addr().String())

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	if b, err := io.ReadAll(c); err != nil || string(b) != "ping\n" {
		t.Errorf("through the relay: %q %v", b, err)
	}
	c.Close()

	open, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if _, err := io.WriteString(open, "x"); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the relay did not end with its context")
	}
	_ = open.SetReadDeadline(time.Now().Add(10 * time.Second))
	// Closed: EOF, or a reset when the relay closed it with bytes unread.
	if _, err := io.ReadAll(open); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("an open connection after the end: %v, want it closed", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener still accepts after the end")
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
