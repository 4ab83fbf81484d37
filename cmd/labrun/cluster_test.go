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
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
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

// `labrun cluster start`, run as a user runs it (a labrun process that
// makes a network namespace of its own, not the test binary's, which
// holds the shared cluster), serves the built-in cluster real kubectl
// reaches from the host through the kubeconfig it writes, with the nodes
// --nodes asks for, and on Ctrl-C removes that kubeconfig and its files.
func TestClusterStart(t *testing.T) {
	needKubectl(t)
	controlPlaneOnPath(t)
	tmp := t.TempDir() // where the cluster's files go, to see them gone
	kc := filepath.Join(t.TempDir(), "labrun.kubeconfig")
	var out, errw syncBuffer
	cmd := exec.Command(os.Args[0], "cluster", "start", "--kubeconfig", kc, "--nodes", "2")
	cmd.Env = asLabrun(t, tmp)
	cmd.Stdout, cmd.Stderr = &out, &errw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	}()
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(out.String(), "export KUBECONFIG=") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("ended (%v) before serving: %q %q", err, out.String(), errw.String())
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
	get := exec.Command(kubectl, "get", "nodes", "--no-headers", "-o", "custom-columns=NAME:.metadata.name,READY:.status.conditions[?(@.type==\"Ready\")].status")
	get.Env = append(os.Environ(), "KUBECONFIG="+kc, "HOME="+t.TempDir())
	nodes, err := get.CombinedOutput()
	if got := strings.Join(strings.Fields(string(nodes)), " "); err != nil || got != "node1 True node2 True" {
		t.Errorf("kubectl get nodes: %v\n%s", err, nodes)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Errorf("%v after Ctrl-C: %s", err, errw.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("cluster start did not stop after Ctrl-C")
	}
	if _, err := os.Stat(kc); !os.IsNotExist(err) {
		t.Errorf("the kubeconfig of a stopped cluster is still there: %v", err)
	}
	tmpEmpty(t, tmp)
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
// own, deleted afterwards; the test binary's shared built-in cluster
// stands in for a real one.
func TestRunAgainstKubeconfig(t *testing.T) {
	needKubectl(t)
	t.Setenv("KUBECONFIG", builtintest.Shared(t).Kubeconfig())
	t.Setenv("HOME", t.TempDir())
	code, out, errs := labrunOwn(t, "run", "--color", "never", "--cluster", "kubeconfig", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	m := regexp.MustCompile(`created namespace (labrun-\S+)`).FindStringSubmatch(errs)
	if m == nil || !strings.Contains(errs, "deleted namespace "+m[1]) {
		t.Fatalf("stderr does not say the namespace was made and deleted: %q", errs)
	}
	kubectl, _ := exec.LookPath("kubectl")
	ns, err := exec.Command(kubectl, "get", "ns", m[1], "-o", "name", "--ignore-not-found").CombinedOutput()
	if err != nil || strings.TrimSpace(string(ns)) != "" {
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
