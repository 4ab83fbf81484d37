package upstream_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// running tells whether a process of component name (its argv[1] for
// labrun-k8s) runs with dir on its command line.
func running(t *testing.T, dir, name string) bool {
	t.Helper()
	for _, pid := range pids(t, dir) {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(cmdline, []byte{0})
		if len(args) > 1 && string(args[1]) == name {
			return true
		}
	}
	return false
}

// launch launches a control plane in a directory of the test's, with two
// minutes for the test.
func launch(t *testing.T) (context.Context, *upstream.ControlPlane, string) {
	t.Helper()
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	dir := filepath.Join(t.TempDir(), "cp")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cp, err := upstream.Launch(ctx, upstream.Options{Binary: bin, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, cp, dir
}

// Launch returns once the API server takes writes, which a caller makes
// while the API server finishes its start; the controller manager and
// the scheduler start in WaitReady, which makes `default`'s
// ServiceAccount, and a second WaitReady returns at once.
func TestLaunchThenWaitReady(t *testing.T) {
	ctx, cp, dir := launch(t)
	defer cp.Close(context.Background())
	for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
		if running(t, dir, name) {
			t.Errorf("%s runs before WaitReady", name)
		}
	}
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	// kube-system comes from the API server's own start, just after Launch.
	for {
		_, err := cs.CoreV1().ConfigMaps("kube-system").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "early"}}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsNotFound(err) || ctx.Err() != nil {
			t.Fatalf("a write right after Launch: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cp.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
		if !running(t, dir, name) {
			t.Errorf("%s does not run after WaitReady", name)
		}
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("default ServiceAccount after WaitReady: %v", err)
	}
	if err := cp.WaitReady(ctx); err != nil {
		t.Errorf("second WaitReady: %v", err)
	}
	if err := cp.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := pids(t, dir); len(left) > 0 {
		t.Errorf("processes left after Close: %v", left)
	}
}

// A control plane closed after Launch, without WaitReady, leaves nothing
// running or on disk, and a WaitReady after that fails instead of waiting.
func TestCloseAfterLaunch(t *testing.T) {
	ctx, cp, dir := launch(t)
	if err := cp.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := pids(t, dir); len(left) > 0 {
		t.Errorf("processes left after Close: %v", left)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left %s (%v)", dir, err)
	}
	if err := cp.WaitReady(ctx); err == nil {
		t.Error("WaitReady after Close succeeded")
	}
	if ctx.Err() != nil {
		t.Error("WaitReady after Close waited for the test's deadline")
	}
}
