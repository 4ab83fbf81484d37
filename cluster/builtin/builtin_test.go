package builtin_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin"
	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// kube runs kubectl against the test binary's shared cluster, in a
// namespace of the test's own.
type kube struct {
	t   *testing.T
	c   *builtin.Cluster
	ns  string
	bin string
}

func newKube(t *testing.T) *kube {
	t.Helper()
	c := builtintest.Shared(t)
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		upstreamtest.SkipOrFail(t, "kubectl not on PATH")
	}
	return &kube{t: t, c: c, bin: bin, ns: builtintest.Namespace(t, c)}
}

func (k *kube) run(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"--kubeconfig", k.c.Kubeconfig(), "-n", k.ns}, args...)
	cmd := exec.CommandContext(ctx, k.bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), err
}

// stdout runs kubectl with stdin and returns what it printed on stdout
// alone, failing the test on an error. kubectl's own klog lines go to
// stderr; one of them ("Unknown stream id 1, discarding message", from
// client-go's websocket executor) shows now and then after an exec's output
// and is kept out of what the command printed.
func (k *kube) stdout(stdin string, args ...string) string {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"--kubeconfig", k.c.Kubeconfig(), "-n", k.ns}, args...)
	cmd := exec.CommandContext(ctx, k.bin, full...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errs.String())
	}
	return out.String()
}

func (k *kube) must(args ...string) string {
	k.t.Helper()
	out, err := k.run("", args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (k *kube) apply(yaml string) {
	k.t.Helper()
	out, err := k.run(yaml, "apply", "-f", "-")
	if err != nil {
		k.t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// eventually retries f until it returns "" or the deadline passes.
func eventually(t *testing.T, d time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestNodesLikeAWorkshop(t *testing.T) {
	k := newKube(t)
	out := k.must("get", "nodes")
	for _, want := range []string{"node1   Ready    control-plane", "node2   Ready    <none>", "node3   Ready    <none>", "v1.32.4"} {
		if !strings.Contains(out, want) {
			t.Errorf("get nodes lacks %q:\n%s", want, out)
		}
	}
	desc := k.must("describe", "node", "node1")
	for _, want := range []string{"Taints:             <none>", "Container Runtime Version:  containerd://", "kubernetes.io/hostname=node1",
		"kube-apiserver-node1", "Allocated resources:", "PodCIDR:"} {
		if !strings.Contains(desc, want) {
			t.Errorf("describe node lacks %q:\n%s", want, desc)
		}
	}
	eventually(t, time.Minute, func() string {
		out := k.must("get", "pods", "-n", "kube-system")
		for _, want := range []string{"etcd-node1", "kube-apiserver-node1", "kube-controller-manager-node1", "kube-scheduler-node1", "kube-proxy-", "coredns-"} {
			if !strings.Contains(out, want) {
				return fmt.Sprintf("kube-system lacks %q:\n%s", want, out)
			}
		}
		if strings.Count(out, "1/1     Running") < 9 {
			return "not all system pods Running:\n" + out
		}
		return ""
	})
	out = k.must("get", "lease", "-n", "kube-node-lease")
	if !strings.Contains(out, "node3") {
		t.Errorf("no node lease:\n%s", out)
	}
}

func TestPodLifeLogsExec(t *testing.T) {
	k := newKube(t)
	k.must("run", "pinger", "--image=alpine", "--", "ping", "127.0.0.1")
	k.must("wait", "--for=condition=Ready", "pod/pinger", "--timeout=60s")
	eventually(t, 30*time.Second, func() string {
		out, _ := k.run("", "logs", "pinger", "--tail=1")
		if !strings.Contains(out, "bytes from 127.0.0.1") {
			return "logs: " + out
		}
		return ""
	})
	out, err := k.run("", "logs", "pinger", "--timestamps", "--tail=1")
	if err != nil || !strings.Contains(out, "Z 64 bytes from") {
		t.Errorf("logs --timestamps: %v\n%s", err, out)
	}
	out = k.stdout("", "exec", "pinger", "--", "sh", "-c", "echo $HOSTNAME; exit 0")
	if strings.TrimSpace(out) != "pinger" {
		t.Errorf("exec hostname: %q", out)
	}
	out, err = k.run("", "exec", "pinger", "--", "sh", "-c", "exit 3")
	if err == nil || !strings.Contains(out, "command terminated with exit code 3") {
		t.Errorf("exec exit 3: %v %q", err, out)
	}
	if out = k.stdout("hello from stdin\n", "exec", "-i", "pinger", "--", "cat"); out != "hello from stdin\n" {
		t.Errorf("exec -i cat: %q", out)
	}
	// kubectl cp: exec with tar, in the container's root.
	src := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(src, []byte("copied\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k.must("cp", src, "pinger:/tmp/note.txt")
	out = k.stdout("", "exec", "pinger", "--", "cat", "tmp/note.txt")
	if out != "copied\n" {
		t.Errorf("after cp, cat: %q", out)
	}
	back := filepath.Join(t.TempDir(), "back.txt")
	k.must("cp", "pinger:/tmp/note.txt", back)
	if b, _ := os.ReadFile(back); string(b) != "copied\n" {
		t.Errorf("cp back: %q", b)
	}
	k.must("delete", "pod", "pinger", "--wait=true", "--timeout=60s")
}

func TestCrashLoopAndCompleted(t *testing.T) {
	k := newKube(t)
	k.must("run", "done", "--image=busybox", "--restart=Never", "--", "sh", "-c", "echo bye")
	k.must("run", "crash", "--image=busybox", "--", "false")
	eventually(t, 90*time.Second, func() string {
		out := k.must("get", "pods")
		if !strings.Contains(out, "Completed") || !strings.Contains(out, "CrashLoopBackOff") {
			return "want Completed and CrashLoopBackOff:\n" + out
		}
		return ""
	})
	if out := k.must("logs", "done"); out != "bye\n" {
		t.Errorf("logs done: %q", out)
	}
	out, err := k.run("", "logs", "crash", "--previous")
	if err != nil {
		t.Errorf("logs --previous: %v %s", err, out)
	}
}

func TestProbesEnvVolumes(t *testing.T) {
	k := newKube(t)
	k.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello, file.txt: "from a configmap\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: p}}
spec:
  initContainers:
  - name: init
    image: busybox
    command: [sh, -c, "echo init > work/init.txt"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: sec, key: password}}}
    - {name: MY_POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MSG, value: "$(GREETING) world"}
    readinessProbe:
      exec: {command: [cat, work/ready]}
      periodSeconds: 1
      timeoutSeconds: 20 # a loaded machine starts processes slowly
    volumeMounts:
    - {name: work, mountPath: /work}
    - {name: cfg, mountPath: /etc/cfg}
  volumes:
  - {name: work, emptyDir: {}}
  - {name: cfg, configMap: {name: cfg}}
`)
	eventually(t, 60*time.Second, func() string {
		out := k.must("get", "pod", "p")
		if !strings.Contains(out, "0/1     Running") {
			return "want Running but not ready:\n" + out
		}
		return ""
	})
	out := k.stdout("", "exec", "p", "-c", "main", "--", "sh", "-c", `echo "$GREETING|$PASSWORD|$MY_POD|$MSG"; cat work/init.txt etc/cfg/file.txt`)
	if want := "hello|s3cret|p|hello world\ninit\nfrom a configmap\n"; out != want {
		t.Errorf("env and volumes: got %q, want %q", out, want)
	}
	k.must("exec", "p", "-c", "main", "--", "sh", "-c", "echo > work/ready")
	k.must("wait", "--for=condition=Ready", "pod/p", "--timeout=60s")
}

func TestPVCBinding(t *testing.T) {
	k := newKube(t)
	if out := k.must("get", "storageclass"); !strings.Contains(out, "standard (default)   rancher.io/local-path   Delete          WaitForFirstConsumer") {
		t.Errorf("get storageclass:\n%s", out)
	}
	k.apply(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers:
  - name: w
    image: busybox
    command: [sh, -c, "echo kept > data/f; sleep 3600"]
    volumeMounts: [{name: d, mountPath: /data}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`)
	k.must("wait", "--for=condition=Ready", "pod/writer", "--timeout=90s")
	out := k.must("get", "pvc", "data")
	if !strings.Contains(out, "Bound") || !strings.Contains(out, "standard") {
		t.Errorf("get pvc:\n%s", out)
	}
	eventually(t, 20*time.Second, func() string {
		out, _ := k.run("", "exec", "writer", "--", "cat", "data/f")
		if out != "kept\n" {
			return "volume content: " + out
		}
		return ""
	})
}

// TestPortForward: kubectl port-forward reaches a pod's port, nginx's page
// on port 80 of its address, which answers in the test binary's network
// namespace as in a run's.
func TestPortForward(t *testing.T) {
	if !builtintest.InNamespace() {
		upstreamtest.SkipOrFail(t, "no network namespace could be made here (see the first lines of the output), and a pod's address answers only there")
	}
	k := newKube(t)
	k.must("run", "web", "--image=nginx", "--port=80")
	k.must("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, "--kubeconfig", k.c.Kubeconfig(), "-n", k.ns, "port-forward", "pod/web", ":80")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var local string
	eventually(t, 30*time.Second, func() string {
		s := out.String()
		if i := strings.Index(s, "Forwarding from 127.0.0.1:"); i >= 0 {
			local = strings.Fields(s[i+len("Forwarding from "):])[0]
			return ""
		}
		return "port-forward: " + s
	})
	resp, err := http.Get("http://" + local)
	if err != nil {
		t.Fatalf("through port-forward: %v", err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), "<title>Welcome to nginx!</title>") {
		t.Errorf("through port-forward: %s %q", resp.Status, b.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
