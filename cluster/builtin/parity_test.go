package builtin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The behaviours below held the hand-written API server's kubelet; here
// they are asserted as a real cluster answers them (issue 11, point 4).

// podJSON reads a pod as the API server has it.
func (k *kube) podJSON(name string) corev1.Pod {
	k.t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal([]byte(k.stdout("", "get", "pod", name, "-o", "json")), &p); err != nil {
		k.t.Fatalf("pod %s: %v", name, err)
	}
	return p
}

// TestDebugEphemeralContainer: `kubectl debug POD --image=busybox` adds an
// ephemeral container the node runs once, with stdin, and reports in
// ephemeralContainerStatuses; the pod's own container runs on.
func TestDebugEphemeralContainer(t *testing.T) {
	k := newKube(t)
	k.must("run", "target", "--image=busybox", "--", "sleep", "3600")
	k.must("wait", "--for=condition=Ready", "pod/target", "--timeout=60s")

	// -i: what the debug shell reads comes from kubectl's stdin, what it
	// prints comes back, as in `kubectl debug -it POD --image=busybox`.
	out := k.stdout("echo from the debugger\nexit 0\n", "debug", "-i", "target", "--image=busybox", "--container=dbg", "--", "sh")
	if !strings.Contains(out, "from the debugger") {
		t.Errorf("kubectl debug -i printed %q", out)
	}
	eventually(t, time.Minute, func() string {
		p := k.podJSON("target")
		if len(p.Status.EphemeralContainerStatuses) != 1 {
			return fmt.Sprintf("ephemeral container statuses %+v", p.Status.EphemeralContainerStatuses)
		}
		st := p.Status.EphemeralContainerStatuses[0]
		if st.Name != "dbg" || st.State.Terminated == nil || st.State.Terminated.ExitCode != 0 || st.Ready {
			return fmt.Sprintf("ephemeral container status %+v", st)
		}
		if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Running == nil || p.Status.Phase != corev1.PodRunning {
			return fmt.Sprintf("the pod's own container after debug: %s %+v", p.Status.Phase, p.Status.ContainerStatuses)
		}
		return ""
	})
	// A second debug container, left running, is reached by exec and by
	// its logs, then goes with the pod.
	k.must("debug", "target", "--image=busybox", "--container=dbg2", "--", "sh", "-c", "echo started; sleep 3600")
	eventually(t, time.Minute, func() string {
		p := k.podJSON("target")
		for _, st := range p.Status.EphemeralContainerStatuses {
			if st.Name == "dbg2" && st.State.Running != nil {
				return ""
			}
		}
		return fmt.Sprintf("dbg2 not running: %+v", p.Status.EphemeralContainerStatuses)
	})
	if got := k.stdout("", "exec", "target", "-c", "dbg2", "--", "sh", "-c", "echo in dbg2"); got != "in dbg2\n" {
		t.Errorf("exec in the debug container: %q", got)
	}
	eventually(t, 30*time.Second, func() string {
		if got, _ := k.run("", "logs", "target", "-c", "dbg2"); got != "started\n" {
			return fmt.Sprintf("logs of the debug container: %q", got)
		}
		return ""
	})
	k.must("delete", "pod", "target", "--wait=true", "--timeout=90s")
}

// TestCopyBothWays: kubectl cp (tar through exec) into a container and
// back, a file and a directory, and the error for a file that is not there.
func TestCopyBothWays(t *testing.T) {
	k := newKube(t)
	k.must("run", "box", "--image=busybox", "--", "sleep", "3600")
	k.must("wait", "--for=condition=Ready", "pod/box", "--timeout=60s")
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "conf", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"conf/a.txt": "alpha\n", "conf/sub/b.txt": "beta\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k.must("cp", filepath.Join(src, "conf"), "box:/tmp/conf")
	back := filepath.Join(t.TempDir(), "back")
	k.must("cp", "box:/tmp/conf", back)
	for name, want := range map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n"} {
		if b, err := os.ReadFile(filepath.Join(back, name)); err != nil || string(b) != want {
			t.Errorf("%s after a round trip: %q, %v", name, b, err)
		}
	}
	// kubectl cp of a missing file exits 0 and copies nothing: the exec
	// under it fails (tar, exit 2) but kubectl does not pass that on, and
	// tar's complaint may or may not reach kubectl's stderr before it exits.
	dst := filepath.Join(t.TempDir(), "x")
	out, err := k.run("", "cp", "box:/tmp/absent.txt", dst)
	if _, serr := os.Stat(dst); err != nil || !os.IsNotExist(serr) {
		t.Errorf("cp of a missing file: %v %q; the destination: %v", err, out, serr)
	}
	if out, err := k.run("", "exec", "box", "--", "tar", "cf", "-", "tmp/absent.txt"); err == nil || !strings.Contains(out, "command terminated with exit code 2") {
		t.Errorf("the tar under cp, of a missing file: %v %q", err, out)
	}
	k.must("delete", "pod", "box", "--wait=false")
}
