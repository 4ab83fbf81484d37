// Package node_test drives the node agent through the real control plane
// and the real kubectl, on the test binary's shared built-in cluster, each
// test in a namespace of its own.
package node_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

func TestMain(m *testing.M) { builtintest.Main(m) }

// kube runs the kubectl on PATH in a test's namespace.
type kube struct {
	t          *testing.T
	bin        string
	kubeconfig string
	ns         string
}

func newKube(t *testing.T) *kube {
	t.Helper()
	c := builtintest.Shared(t)
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		upstreamtest.SkipOrFail(t, "kubectl not on PATH")
	}
	return &kube{t: t, bin: bin, kubeconfig: c.Kubeconfig(), ns: builtintest.Namespace(t, c)}
}

// run returns what kubectl printed on stdout and stderr.
func (k *kube) run(stdin string, args ...string) (string, error) {
	return k.runOut(stdin, true, args...)
}

func (k *kube) runOut(stdin string, withStderr bool, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig", k.kubeconfig, "-n", k.ns}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if withStderr {
		cmd.Stderr = &out
	}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	if err != nil && !withStderr {
		return out.String() + errb.String(), err
	}
	return out.String(), err
}

// must is run failing the test on an error.
func (k *kube) must(args ...string) string {
	k.t.Helper()
	out, err := k.run("", args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// stdout is must keeping stdout alone (kubectl's klog lines go to stderr).
func (k *kube) stdout(args ...string) string {
	k.t.Helper()
	out, err := k.runOut("", false, args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// waitReady waits for the pods to be Ready, describing them when they are
// not, since their events say why.
func (k *kube) waitReady(pods ...string) {
	k.t.Helper()
	args := []string{"wait", "--for=condition=Ready", "--timeout=90s"}
	for _, p := range pods {
		args = append(args, "pod/"+p)
	}
	if out, err := k.run("", args...); err != nil {
		desc, _ := k.run("", append([]string{"describe", "pod"}, pods...)...)
		k.t.Fatalf("kubectl %s: %v\n%s\n%s", strings.Join(args, " "), err, out, desc)
	}
}

func (k *kube) apply(yaml string) {
	k.t.Helper()
	if out, err := k.run(yaml, "apply", "-f", "-"); err != nil {
		k.t.Fatalf("apply: %v\n%s", err, out)
	}
}

// eventually polls f until it returns "" or d passes, then fails with its
// last word.
func eventually(t *testing.T, d time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
