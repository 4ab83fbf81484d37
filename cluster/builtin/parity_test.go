package builtin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
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

// kubectls are the kubectl 1.27–1.33 binaries beside the one on PATH
// (kubectl.1.x), or that one alone; -short keeps only that one.
func kubectls(t *testing.T) []string {
	t.Helper()
	host, err := exec.LookPath("kubectl")
	if err != nil {
		upstreamtest.SkipOrFail(t, "kubectl not on PATH")
	}
	if testing.Short() {
		return []string{host}
	}
	real, err := filepath.EvalSymlinks(host)
	if err != nil {
		t.Fatal(err)
	}
	versions, _ := filepath.Glob(filepath.Join(filepath.Dir(real), "kubectl.1.*"))
	if len(versions) == 0 {
		return []string{host}
	}
	return versions
}

// TestKubeletAPIEveryKubectl: logs (--tail, --timestamps, --since, -f,
// --previous), exec -i and attach through the API server to the node, with
// every kubectl, websocket (1.29+) and SPDY alike, as the fake's kubelet
// tests held them.
func TestKubeletAPIEveryKubectl(t *testing.T) {
	for _, bin := range kubectls(t) {
		t.Run(strings.ReplaceAll(filepath.Base(bin), ".", "-"), func(t *testing.T) { // a namespace name
			k := newKube(t)
			k.bin = bin
			k.must("run", "talk", "--image=busybox", "--", "sh", "-c", "echo one; echo two; echo three; exec sleep 3600")
			k.must("run", "once", "--image=busybox", "--restart=Never", "--", "sh", "-c", "echo a; echo b")
			k.must("run", "crash", "--image=busybox", "--", "sh", "-c", "echo ran; exit 1")
			k.must("wait", "--for=condition=Ready", "pod/talk", "--timeout=60s")
			eventually(t, 30*time.Second, func() string {
				if got, _ := k.run("", "logs", "talk"); got != "one\ntwo\nthree\n" {
					return fmt.Sprintf("logs: %q", got)
				}
				return ""
			})
			if got := k.stdout("", "logs", "talk", "--tail=2"); got != "two\nthree\n" {
				t.Errorf("logs --tail=2: %q", got)
			}
			if got := k.stdout("", "logs", "talk", "--since=1h"); got != "one\ntwo\nthree\n" {
				t.Errorf("logs --since=1h: %q", got)
			}
			stamped := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (one|two|three)$`)
			lines := strings.Split(strings.TrimSuffix(k.stdout("", "logs", "talk", "--timestamps"), "\n"), "\n")
			for _, l := range lines {
				if !stamped.MatchString(l) {
					t.Errorf("logs --timestamps line %q", l)
				}
			}
			if len(lines) != 3 {
				t.Errorf("logs --timestamps: %d lines", len(lines))
			}
			if got := k.stdout("through stdin\n", "exec", "-i", "talk", "--", "cat"); got != "through stdin\n" {
				t.Errorf("exec -i cat: %q", got)
			}
			// -f on a container that has ended returns what it printed.
			eventually(t, time.Minute, func() string {
				if got, err := k.run("", "logs", "-f", "once"); err != nil || got != "a\nb\n" {
					return fmt.Sprintf("logs -f once: %v %q", err, got)
				}
				return ""
			})
			// --previous is the instance before the restart; a pod that
			// never restarted has none, as the kubelet says.
			eventually(t, 90*time.Second, func() string {
				if got, err := k.run("", "logs", "crash", "--previous"); err != nil || got != "ran\n" {
					return fmt.Sprintf("logs --previous: %v %q", err, got)
				}
				return ""
			})
			if out, err := k.run("", "logs", "talk", "--previous"); err == nil || !strings.Contains(out, `previous terminated container "talk" in pod "talk" not found`) {
				t.Errorf("logs --previous of a pod that never restarted: %v %q", err, out)
			}
			// attach streams what the container prints from now on.
			k.must("run", "ticker", "--image=busybox", "--", "sh", "-c", "while true; do echo tick; sleep 0.2; done")
			k.must("wait", "--for=condition=Ready", "pod/ticker", "--timeout=60s")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			out, _ := exec.CommandContext(ctx, bin, "--kubeconfig", k.c.Kubeconfig(), "-n", k.ns, "attach", "ticker").Output()
			if !strings.Contains(string(out), "tick\ntick\n") {
				t.Errorf("attach printed %q", out)
			}
		})
	}
}

// TestErrorsEveryKubectl: the error lines and exit codes labs show (the
// seed chapter's scale of a pod, a deleted pod, an unknown type, a missing
// container), with every kubectl.
func TestErrorsEveryKubectl(t *testing.T) {
	for _, bin := range kubectls(t) {
		t.Run(strings.ReplaceAll(filepath.Base(bin), ".", "-"), func(t *testing.T) {
			k := newKube(t)
			k.bin = bin
			k.must("run", "pingpong", "--image=alpine", "--", "ping", "127.0.0.1")
			// kubectl logs words a missing pod itself, since 1.30 this way.
			logsNope := "error: error from server (NotFound): pods \"nope\" not found in namespace \"" + k.ns + "\"\n"
			if v := strings.TrimPrefix(filepath.Base(bin), "kubectl.1."); v == "27" || v == "28" || v == "29" {
				logsNope = "Error from server (NotFound): pods \"nope\" not found\n"
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"scale", "pod", "pingpong", "--replicas=3"}, "Error from server (NotFound): the server could not find the requested resource\n"},
				{[]string{"get", "foo"}, "error: the server doesn't have a resource type \"foo\"\n"},
				{[]string{"get", "pod", "nope"}, "Error from server (NotFound): pods \"nope\" not found\n"},
				{[]string{"logs", "nope"}, logsNope},
				{[]string{"get", "deploy", "nope", "-o", "yaml"}, "Error from server (NotFound): deployments.apps \"nope\" not found\n"},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", k.c.Kubeconfig(), "-n", k.ns}, tc.args...)...)
				var out, errs strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errs
				err := cmd.Run()
				cancel()
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || out.String() != "" || errs.String() != tc.want {
					t.Errorf("kubectl %s: %v, stdout %q, stderr %q; want exit 1, stderr %q", strings.Join(tc.args, " "), err, out.String(), errs.String(), tc.want)
				}
			}
			k.must("delete", "pod", "pingpong", "--wait=true", "--timeout=60s")
			if out, err := k.run("", "get", "pod", "pingpong"); err == nil || out != "Error from server (NotFound): pods \"pingpong\" not found\n" {
				t.Errorf("get deleted pod: %v %q", err, out)
			}
		})
	}
}

// TestReadsEveryKubectl: what the compatibility scripts read from a fresh
// cluster (the fake's compat "read" steps), with every kubectl: the server
// version, the nodes as a workshop's, the kubernetes Service, discovery, and
// the API server's own errors for bad selectors.
func TestReadsEveryKubectl(t *testing.T) {
	for _, bin := range kubectls(t) {
		t.Run(strings.ReplaceAll(filepath.Base(bin), ".", "-"), func(t *testing.T) {
			k := newKube(t)
			k.bin = bin
			k.match("version", k.stdout("", "version"), `(?m)^Server Version: (v1\.32\.4|version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.4".*\})$`)
			nodes := `^NAME +STATUS +ROLES +AGE +VERSION\nnode1 +Ready +control-plane +\S+ +v1\.32\.4\n`
			for i := 2; i <= len(k.c.Nodes()); i++ {
				nodes += fmt.Sprintf(`node%d +Ready +<none> +\S+ +v1\.32\.4\n`, i)
			}
			k.match("get nodes", k.stdout("", "get", "nodes"), nodes+`$`)
			k.match("get nodes -o wide", k.stdout("", "get", "nodes", "-o", "wide"), `^NAME +STATUS +ROLES +AGE +VERSION +INTERNAL-IP +EXTERNAL-IP +OS-IMAGE +KERNEL-VERSION +CONTAINER-RUNTIME\n`+
				`node1 +Ready +control-plane +\S+ +v1\.32\.4 +\d+\.\d+\.\d+\.\d+ +<none> +.+ +\S+ +containerd://\S+\n`)
			k.match("kubernetes service", k.stdout("", "-n", "default", "get", "svc", "kubernetes", "--show-labels"), `^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE +LABELS\n`+
				`kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +\S+ +component=apiserver,provider=kubernetes\n$`)
			k.match("api-resources", k.stdout("", "api-resources"), `(?sm)\ANAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND$`+
				`.*^configmaps +cm +v1 +true +ConfigMap$`+
				`.*^pods +po +v1 +true +Pod$`+
				`.*^deployments +deploy +apps/v1 +true +Deployment$`)
			out, err := k.run("", "get", "pods", "-l", "a b")
			if err == nil || !strings.Contains(out, `Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "a b", field selector "": unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`) {
				t.Errorf("bad selector: %v %q", err, out)
			}
			if out, err := k.run("", "get", "pods"); err == nil && out != "No resources found in "+k.ns+" namespace.\n" {
				t.Errorf("get pods in an empty namespace: %q", out)
			}
		})
	}
}
