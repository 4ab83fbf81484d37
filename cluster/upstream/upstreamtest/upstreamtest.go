// Package upstreamtest gives a package's tests one real control plane,
// started on first use and shared by every test of the test binary (a
// start costs seconds and hundreds of MB), with a namespace per test.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { upstreamtest.Main(m) }
//
// and in a test:
//
//	cp := upstreamtest.Shared(t)
//	ns := upstreamtest.Namespace(t, cp)
package upstreamtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/upstream"
)

// shared is the test binary's one control plane. It is package state
// because a test binary is the unit it is shared by: Main stops it.
var shared struct {
	once   sync.Once
	cp     *upstream.ControlPlane
	err    error
	skip   string
	cancel context.CancelFunc
}

// Main runs the tests and then stops the shared control plane, if one was
// started, before the test binary exits.
func Main(m *testing.M) {
	code := m.Run()
	if shared.cp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.cp.Close(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "upstreamtest: close the shared control plane: %v\n", err)
			code = 1
		}
		cancel()
	}
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// Shared returns the test binary's control plane, starting it on first use.
// Without labrun-k8s the test is skipped saying why, or fails under CI
// (CI set), where a skip would pass a test that never ran.
func Shared(tb testing.TB) *upstream.ControlPlane {
	tb.Helper()
	shared.once.Do(func() {
		bin, err := Binary()
		if err != nil {
			shared.skip = err.Error()
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		shared.cancel = cancel
		shared.cp, shared.err = upstream.Start(ctx, upstream.Options{Binary: bin})
	})
	if shared.skip != "" {
		SkipOrFail(tb, shared.skip)
	}
	if shared.err != nil {
		tb.Fatalf("start the shared control plane: %v", shared.err)
	}
	if err := shared.cp.Err(); err != nil {
		tb.Fatalf("the shared control plane stopped: %v", err)
	}
	return shared.cp
}

// SkipOrFail skips the test saying why, or fails it when CI is set.
func SkipOrFail(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s (CI is set: this test must run)", why)
	}
	tb.Skip(why)
}

// Binary finds labrun-k8s for tests: bin/ at the module root (where make
// puts it), then where labrun itself looks (cluster.Tools.ControlPlane).
func Binary() (string, error) {
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", cluster.ControlPlaneBinary)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := (cluster.Tools{}).ControlPlane()
	if err != nil {
		return "", fmt.Errorf("%w; for tests, `make controlplane` at the module root", err)
	}
	return p, nil
}

// moduleRoot walks up from the working directory (a test's package
// directory) to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Namespace creates a namespace for the test, named after it, and deletes
// it when the test ends.
func Namespace(tb testing.TB, cp *upstream.ControlPlane) string {
	tb.Helper()
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		tb.Fatalf("client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceName(tb.Name())}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		tb.Fatalf("create namespace %s: %v", ns.Name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			tb.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// namespaceName is a DNS label from the test's name and a random suffix.
func namespaceName(test string) string {
	name := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(test), "-"), "-")
	if len(name) > 50 {
		name = strings.TrimRight(name[:50], "-")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return name + "-" + hex.EncodeToString(b)
}
