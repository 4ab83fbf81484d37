package builtin

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// captureStderr runs f with the process's standard error (file descriptor
// 2, which klog writes to through os.Stderr) going to a file, and returns
// what was written there.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(saved)
	if err := syscall.Dup3(int(tmp.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if err := syscall.Dup3(saved, 2, 0); err != nil {
				t.Errorf("restoring stderr: %v", err)
			}
		}()
		f()
	}()
	out, err := os.ReadFile(tmp.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// What client-go logs through klog in labrun's process goes to the
// cluster's log, each line once, and nothing to stderr (by klog's default
// an error went to both, and three times to the log): here the error a
// node agent's event broadcaster logs when the API server is gone, as when
// labrun is made to exit at once, and a line logged directly.
func TestKlogToTheClusterLog(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "cluster.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	t.Cleanup(func() { klogTo(io.Discard) })
	// An address where nothing listens: the API server has gone.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: gone})
	if err != nil {
		t.Fatal(err)
	}
	var logged string
	stderr := captureStderr(t, func() {
		klogTo(log)
		bcast := record.NewBroadcaster(record.WithContext(context.Background()))
		defer bcast.Shutdown()
		bcast.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
		rec := bcast.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: "node1"})
		rec.Event(&corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}, corev1.EventTypeNormal, "Killing", "Stopping container web")
		klog.ErrorS(errors.New("a cause"), "one error", "step", 1)
		for range 300 { // the broadcaster writes from a goroutine of its own
			klog.Flush()
			b, _ := os.ReadFile(logPath)
			if logged = string(b); strings.Contains(logged, "Unable to write event") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if stderr != "" {
		t.Errorf("klog wrote on stderr:\n%s", stderr)
	}
	if !strings.Contains(logged, `"Unable to write event (may retry after sleeping)"`) || !strings.Contains(logged, "Killing") {
		t.Errorf("the cluster's log lacks the event broadcaster's error:\n%s", logged)
	}
	if n := strings.Count(logged, `"one error" err="a cause" step=1`); n != 1 {
		t.Errorf("the cluster's log has an error %d times, want once:\n%s", n, logged)
	}
}
