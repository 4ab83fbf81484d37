// Package builtintest gives a package's tests one built-in cluster (the
// real control plane with labrun's nodes and networking), started on first
// use and shared by every test of the test binary, since a start costs
// seconds and hundreds of MB. Tests work in namespaces of their own: a run
// through `--cluster kubeconfig --kubeconfig Shared(t).Kubeconfig()` makes
// one, and Namespace makes one for a test that calls kubectl itself.
//
// Use it from TestMain, which runs the test binary in a network namespace
// of its own (as labrun runs itself for the built-in cluster) so that pod
// and Service addresses answer, and stops the cluster at the end:
//
//	func TestMain(m *testing.M) { builtintest.Main(m) }
package builtintest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labrun/labrun/cluster/builtin"
	"github.com/labrun/labrun/cluster/busybox"
	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// shared is the test binary's one cluster: package state because the test
// binary is what it is shared by. Main stops it.
var shared struct {
	once sync.Once
	c    *builtin.Cluster
	dir  string
	err  error
	skip string
}

// Main is the TestMain of a package whose tests use the built-in cluster.
// The test binary doubles as the containers' busybox and as the network
// namespace's pod helper, so those roles come first; roles are more of them
// (a role returns its exit code and true when the binary was started as it).
func Main(m *testing.M, roles ...func() (code int, ok bool)) {
	if code, ok := busybox.Dispatch(os.Args); ok {
		os.Exit(code)
	}
	for _, role := range roles {
		if code, ok := role(); ok {
			os.Exit(code)
		}
	}
	if code, exited := network.EnterAlways(os.Args, os.Stderr); exited {
		os.Exit(code)
	}
	code := m.Run()
	if shared.c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.c.Close(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "builtintest: stopping the shared cluster: %v\n", err)
			code = 1
		}
		cancel()
	}
	if shared.dir != "" {
		if ents, _ := os.ReadDir(shared.dir); len(ents) > 0 {
			fmt.Fprintf(os.Stderr, "builtintest: the cluster left %d entries in %s\n", len(ents), shared.dir)
			code = 1
		}
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// Shared returns the test binary's cluster, starting it on first use.
// Without labrun-k8s the test is skipped saying why, or fails under CI.
func Shared(tb testing.TB) *builtin.Cluster {
	tb.Helper()
	shared.once.Do(func() {
		bin, err := upstreamtest.Binary()
		if err != nil {
			shared.skip = err.Error()
			return
		}
		shared.dir, err = os.MkdirTemp("", "labrun-builtin-test-")
		if err != nil {
			shared.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared.c, shared.err = builtin.Start(ctx, builtin.Options{Dir: shared.dir,
			Upstream: upstream.Options{Binary: bin, Timeout: 5 * time.Minute}})
	})
	if shared.skip != "" {
		upstreamtest.SkipOrFail(tb, shared.skip)
	}
	if shared.err != nil {
		tb.Fatalf("start the built-in cluster: %v", shared.err)
	}
	if err := shared.c.Err(); err != nil {
		tb.Fatalf("the shared built-in cluster stopped: %v", err)
	}
	return shared.c
}

// InNamespace tells whether the tests run in the network namespace Main
// made, where cluster addresses answer.
func InNamespace() bool { return network.CurrentMode() != network.Outside }

// Namespace creates a namespace named after the test and deletes it (without
// waiting) when the test ends.
func Namespace(tb testing.TB, c *builtin.Cluster) string {
	tb.Helper()
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		tb.Fatalf("client: %v", err)
	}
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(tb.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.Trim(name, "-")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		tb.Fatalf("namespace %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}
