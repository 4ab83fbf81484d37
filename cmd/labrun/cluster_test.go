package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/fake"
)

// `labrun cluster start` serves a fake cluster real kubectl reaches through
// the kubeconfig it writes, and removes that kubeconfig when stopped.
func TestClusterStart(t *testing.T) {
	needKubectl(t)
	kc := filepath.Join(t.TempDir(), "fake.kubeconfig")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errw syncBuffer
	done := make(chan int)
	go func() {
		done <- execute(ctx, []string{"cluster", "start", "--kubeconfig", kc}, streams{in: strings.NewReader(""), out: &out, err: &errw})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "export KUBECONFIG=") {
		if time.Now().After(deadline) {
			t.Fatalf("no kubeconfig announced: %q %q", out.String(), errw.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	kubectl, _ := exec.LookPath("kubectl")
	cmd := exec.Command(kubectl, "get", "nodes", "--no-headers", "-o", "custom-columns=NAME:.metadata.name")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kc, "HOME="+t.TempDir())
	nodes, err := cmd.CombinedOutput()
	if err != nil || strings.Fields(string(nodes))[0] != "node1" {
		t.Errorf("kubectl get nodes: %v\n%s", err, nodes)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errw.String())
	}
	if _, err := os.Stat(kc); !os.IsNotExist(err) {
		t.Errorf("the kubeconfig of a stopped cluster is still there: %v", err)
	}
}

// --cluster kubeconfig borrows the current context in a namespace of its
// own, deleted afterwards; the fake cluster stands in for a real one.
func TestRunAgainstKubeconfig(t *testing.T) {
	needKubectl(t)
	ctx := context.Background()
	srv, err := fake.Start(ctx, fake.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	t.Setenv("KUBECONFIG", srv.Kubeconfig())
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
