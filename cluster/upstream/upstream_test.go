package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

func TestMain(m *testing.M) { upstreamtest.Main(m) }

// kubectl runs the real kubectl against the control plane as the lab user.
func kubectl(t *testing.T, cp *upstream.ControlPlane, stdin string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		upstreamtest.SkipOrFail(t, "kubectl not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"--kubeconfig", cp.Kubeconfig()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

func TestServerVersion(t *testing.T) {
	cp := upstreamtest.Shared(t)
	var v struct {
		ServerVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(kubectl(t, cp, "", "version", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.ServerVersion.GitVersion != "v1.32.4" {
		t.Errorf("server version %q, want v1.32.4 (built without make's version ldflags?)", v.ServerVersion.GitVersion)
	}
}

func TestExplain(t *testing.T) {
	cp := upstreamtest.Shared(t)
	out := kubectl(t, cp, "", "explain", "pod.spec.containers.image")
	for _, want := range []string{"KIND:", "Pod", "FIELD:", "image <string>", "Container image name."} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl explain lacks %q:\n%s", want, out)
		}
	}
}

func TestAPIResources(t *testing.T) {
	cp := upstreamtest.Shared(t)
	out := kubectl(t, cp, "", "api-resources", "-o", "name")
	have := map[string]bool{}
	for _, l := range strings.Fields(out) {
		have[l] = true
	}
	for _, want := range []string{
		"pods", "deployments.apps", "storageclasses.storage.k8s.io", "ingresses.networking.k8s.io",
		"ingressclasses.networking.k8s.io", "customresourcedefinitions.apiextensions.k8s.io",
		"horizontalpodautoscalers.autoscaling", "networkpolicies.networking.k8s.io",
		"poddisruptionbudgets.policy", "resourcequotas", "limitranges", "priorityclasses.scheduling.k8s.io",
		"certificatesigningrequests.certificates.k8s.io", "roles.rbac.authorization.k8s.io",
		"persistentvolumeclaims", "leases.coordination.k8s.io",
	} {
		if !have[want] {
			t.Errorf("api-resources lacks %s", want)
		}
	}
}

func TestLabUserIsClusterAdmin(t *testing.T) {
	cp := upstreamtest.Shared(t)
	if out := strings.TrimSpace(kubectl(t, cp, "", "auth", "can-i", "*", "*", "--all-namespaces")); out != "yes" {
		t.Errorf("auth can-i '*' '*' = %q, want yes", out)
	}
}

// The controller manager runs: the default ServiceAccount exists (Start
// waited for it) and a namespace gets its own and the root CA ConfigMap.
func TestControllersRun(t *testing.T) {
	cp := upstreamtest.Shared(t)
	ns := upstreamtest.Namespace(t, cp)
	deadline := time.Now().Add(60 * time.Second)
	for {
		cmd := exec.Command("kubectl", "--kubeconfig", cp.Kubeconfig(), "-n", ns, "get", "sa/default", "configmap/kube-root-ca.crt", "-o", "name")
		if out, err := cmd.CombinedOutput(); err == nil && strings.Count(string(out), "\n") == 2 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("namespace %s has no default ServiceAccount and root CA after 60s: %v\n%s", ns, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The `kubernetes` Service has an endpoint, on the advertised address.
func TestKubernetesEndpoint(t *testing.T) {
	cp := upstreamtest.Shared(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := kubectl(t, cp, "", "get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[*].addresses[*].ip}")
		if strings.TrimSpace(out) != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kubernetes Service has no endpoint after 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: coffees.labrun.test
spec:
  group: labrun.test
  scope: Namespaced
  names: {plural: coffees, singular: coffee, kind: Coffee, shortNames: [cof]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              taste: {type: string}
    additionalPrinterColumns:
    - {name: Taste, type: string, jsonPath: .spec.taste}
`

func TestCustomResource(t *testing.T) {
	cp := upstreamtest.Shared(t)
	ns := upstreamtest.Namespace(t, cp)
	kubectl(t, cp, crd, "apply", "-f", "-")
	t.Cleanup(func() { kubectl(t, cp, "", "delete", "crd", "coffees.labrun.test") })
	kubectl(t, cp, "", "wait", "--for=condition=Established", "crd/coffees.labrun.test", "--timeout=60s")
	kubectl(t, cp, "apiVersion: labrun.test/v1\nkind: Coffee\nmetadata: {name: arabica}\nspec: {taste: strong}\n",
		"-n", ns, "apply", "-f", "-")
	out := kubectl(t, cp, "", "-n", ns, "get", "cof")
	if !strings.Contains(out, "TASTE") || !strings.Contains(out, "arabica") || !strings.Contains(out, "strong") {
		t.Errorf("kubectl get cof:\n%s", out)
	}
}

// script writes an executable shell script standing in for labrun-k8s.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "labrun-k8s")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// Start's failures name the component, its status and its last log lines,
// and leave nothing in Dir.
func TestStartFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   func(t *testing.T) upstream.Options
		want   []string
		asComp string // the failure is a ComponentError of this component
	}{{
		name: "binary exits",
		opts: func(t *testing.T) upstream.Options {
			return upstream.Options{Binary: script(t, "echo \"$1: no such luck\" >&2\nexit 3\n")}
		},
		want:   []string{"etcd: exit status 3", "etcd: no such luck"},
		asComp: "etcd",
	}, {
		name: "apiserver exits",
		opts: func(t *testing.T) upstream.Options {
			real, err := upstreamtest.Binary()
			if err != nil {
				upstreamtest.SkipOrFail(t, err.Error())
			}
			return upstream.Options{Binary: script(t, "if [ \"$1\" = etcd ]; then exec "+real+" \"$@\"; fi\necho \"$1 refuses\" >&2\nexit 7\n")}
		},
		want:   []string{"kube-apiserver: exit status 7", "kube-apiserver refuses"},
		asComp: "kube-apiserver",
	}, {
		name: "port always taken",
		opts: func(t *testing.T) upstream.Options {
			return upstream.Options{Binary: script(t, "echo 'listen tcp 127.0.0.1:2379: bind: address already in use' >&2\nexit 1\n")}
		},
		want:   []string{"etcd: exit status 1", "address already in use", "started 3 times"},
		asComp: "etcd",
	}, {
		name: "binary missing",
		opts: func(t *testing.T) upstream.Options {
			return upstream.Options{Binary: filepath.Join(t.TempDir(), "nothing-here")}
		},
		want: []string{"nothing-here: not an executable file"},
	}, {
		name: "control-plane dir incomplete",
		opts: func(t *testing.T) upstream.Options {
			d := t.TempDir()
			for _, n := range []string{"etcd", "kube-apiserver"} {
				if err := os.WriteFile(filepath.Join(d, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			return upstream.Options{ControlPlaneDir: d}
		},
		want: []string{"no executable kube-controller-manager, kube-scheduler"},
	}, {
		name: "start timeout",
		opts: func(t *testing.T) upstream.Options {
			real, err := upstreamtest.Binary()
			if err != nil {
				upstreamtest.SkipOrFail(t, err.Error())
			}
			return upstream.Options{Binary: real, Timeout: 300 * time.Millisecond}
		},
		// Which component is still starting at 300 ms depends on the
		// machine (etcd on a loaded one, the API server on a quiet one).
		want: []string{"not ready: start took longer than 300ms"},
	}, {
		name: "bad CIDR",
		opts: func(t *testing.T) upstream.Options { return upstream.Options{ServiceCIDR: "10.96.0.0/99"} },
		want: []string{"service CIDR"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts(t)
			opts.Dir = filepath.Join(t.TempDir(), "cp")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cp, err := upstream.Start(ctx, opts)
			if err == nil {
				_ = cp.Close(ctx)
				t.Fatal("Start succeeded")
			}
			t.Logf("Start: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			var ce *upstream.ComponentError
			if tc.asComp != "" && (!errors.As(err, &ce) || ce.Component != tc.asComp) {
				t.Errorf("error is not a ComponentError of %s: %#v", tc.asComp, err)
			}
			if _, err := os.Stat(opts.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Start left %s behind (%v)", opts.Dir, err)
			}
			if left := pids(t, opts.Dir); len(left) > 0 {
				t.Errorf("Start left processes running: %v", left)
			}
		})
	}
}

// A port taken between labrun's choosing it and the component's binding it
// is survived: the components start again on other ports. The stand-in
// fails one component's first start as a taken port does.
func TestPortTakenRetried(t *testing.T) {
	real, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		t.Run(name, func(t *testing.T) {
			mark := filepath.Join(t.TempDir(), "failed-once")
			bin := script(t, `if [ "$1" = `+name+` ] && mkdir "`+mark+`" 2>/dev/null; then
  echo "listen tcp 127.0.0.1:4242: bind: address already in use" >&2; exit 1
fi
exec `+real+` "$@"
`)
			var log strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cp, err := upstream.Start(ctx, upstream.Options{Binary: bin, Dir: filepath.Join(t.TempDir(), "cp"), Log: &log})
			if err != nil {
				t.Fatalf("Start: %v\n%s", err, log.String())
			}
			defer cp.Close(ctx)
			if !strings.Contains(log.String(), name+"'s port was taken, retrying on other ports") {
				t.Errorf("no retry of %s in the log:\n%s", name, log.String())
			}
			if out := strings.TrimSpace(kubectl(t, cp, "", "auth", "can-i", "get", "pods")); out != "yes" {
				t.Errorf("after the retry, auth can-i = %q", out)
			}
		})
	}
}

// pids lists the processes whose command line mentions dir: the
// components, whose flags name files in it.
func pids(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			found = append(found, pid)
		}
	}
	return found
}

// A component that dies mid-run stops the control plane: Done closes, Err
// names it with its status and log, nothing stays running, Close removes
// the files.
func TestComponentDies(t *testing.T) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	dir := filepath.Join(t.TempDir(), "cp")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp, err := upstream.Start(ctx, upstream.Options{Binary: bin, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close(ctx)
	if cp.Err() != nil {
		t.Fatalf("Err before any death: %v", cp.Err())
	}
	running := pids(t, dir)
	if len(running) < 4 {
		t.Fatalf("%d component processes, want 4", len(running))
	}
	var victim int
	for _, pid := range running {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if bytes.Contains(cmdline, []byte("kube-scheduler")) {
			victim = pid
		}
	}
	if victim == 0 {
		t.Fatal("no kube-scheduler process")
	}
	// It starts last, just before Start returns: let it say something
	// first, for the error to carry.
	for i := 0; ; i++ {
		if fi, err := os.Stat(filepath.Join(dir, "logs", "kube-scheduler.log")); err == nil && fi.Size() > 0 {
			break
		}
		if i == 300 {
			t.Fatal("kube-scheduler logged nothing in 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cp.Done():
	case <-ctx.Done():
		t.Fatal("Done not closed after kube-scheduler was killed")
	}
	var ce *upstream.ComponentError
	if !errors.As(cp.Err(), &ce) || ce.Component != "kube-scheduler" || ce.Status != "signal: killed" {
		t.Fatalf("Err = %v, want kube-scheduler killed", cp.Err())
	}
	if len(ce.Tail) == 0 {
		t.Errorf("Err carries no log lines")
	}
	if err := cp.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := pids(t, dir); len(left) > 0 {
		t.Errorf("processes left after Close: %v", left)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left %s (%v)", dir, err)
	}
	if err := cp.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// logFunc is a Log that calls f with each line.
type logFunc func(string)

func (f logFunc) Write(p []byte) (int, error) { f(string(p)); return len(p), nil }

// Cancelling the context during the start stops it: an error that says so,
// nothing running, nothing on disk.
func TestStartCancelled(t *testing.T) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	dir := filepath.Join(t.TempDir(), "cp")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelAt := logFunc(func(line string) {
		if strings.Contains(line, "starting kube-apiserver") {
			cancel()
		}
	})
	cp, err := upstream.Start(ctx, upstream.Options{Binary: bin, Dir: dir, Log: cancelAt})
	if err == nil {
		cp.Close(context.Background())
		t.Fatal("Start succeeded after its context was cancelled")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
	if left := pids(t, dir); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Start left %s (%v)", dir, err)
	}
}

// Start's context bounds the start only: the control plane outlives it
// until Close, which removes only what Start made in a Dir that existed.
func TestOutlivesStartContext(t *testing.T) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine")
	if err := os.WriteFile(mine, []byte("not the control plane's"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := upstream.Start(ctx, upstream.Options{Binary: bin, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(time.Second)
	if out := strings.TrimSpace(kubectl(t, cp, "", "auth", "can-i", "create", "pods")); out != "yes" || cp.Err() != nil {
		t.Errorf("after the start's context ended: can-i %q, Err %v", out, cp.Err())
	}
	if err := cp.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left := pids(t, dir); len(left) > 0 {
		t.Errorf("processes left after Close: %v", left)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "mine" {
		t.Errorf("after Close %s holds %v, want only mine", dir, entries)
	}
}

// Start makes the default ServiceAccount and kube-root-ca.crt in `default`
// before the controller manager would: they must be what its controllers
// make (as in kube-system, where only they do), or the controllers would
// rewrite them and a lab would see labrun's version first.
func TestDefaultNamespaceAsControllersMakeIt(t *testing.T) {
	cp := upstreamtest.Shared(t)
	get := func(ns, what string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			cmd := exec.Command("kubectl", "--kubeconfig", cp.Kubeconfig(), "-n", ns, "get", what, "-o", "json", "--show-managed-fields")
			out, err := cmd.Output()
			if err == nil {
				var obj map[string]any
				if err := json.Unmarshal(out, &obj); err != nil {
					t.Fatal(err)
				}
				return obj
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s in %s: %v", what, ns, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// What can differ between two namespaces' copies.
	strip := func(obj map[string]any) map[string]any {
		md := obj["metadata"].(map[string]any)
		for _, k := range []string{"namespace", "uid", "resourceVersion", "creationTimestamp"} {
			delete(md, k)
		}
		mfs, _ := md["managedFields"].([]any)
		for _, mf := range mfs {
			delete(mf.(map[string]any), "time")
		}
		return obj
	}
	for _, what := range []string{"serviceaccount/default", "configmap/kube-root-ca.crt"} {
		ours, theirs := strip(get("default", what)), strip(get("kube-system", what))
		a, _ := json.MarshalIndent(ours, "", "  ")
		b, _ := json.MarshalIndent(theirs, "", "  ")
		if !bytes.Equal(a, b) {
			t.Errorf("%s in default differs from the controller's in kube-system:\n%s\nvs\n%s", what, a, b)
		}
	}
	cm := get("default", "configmap/kube-root-ca.crt")
	caPEM, _ := cp.CA()
	if got := cm["data"].(map[string]any)["ca.crt"]; got != string(caPEM) {
		t.Errorf("kube-root-ca.crt holds %v, want the run's CA", got)
	}
}
