package node_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/builtin/builtintest"
)

// An exec or attach into a container that has ended gets the kubelet's
// answer before any stream is set up: kubectl shows the kubelet's message,
// and `kubectl run -it` falls back to the container's log. A running
// container of the same pod still answers.
func TestExecAndAttachIntoAnEndedContainer(t *testing.T) {
	kubectl, err := cluster.FindKubectl("")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("needs kubectl: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	c := builtintest.Shared(t)
	ns := builtintest.Namespace(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", c.Kubeconfig(), "-n", ns}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	pod := `apiVersion: v1
kind: Pod
metadata:
  name: pair
spec:
  restartPolicy: Never
  containers:
  - name: quick
    image: busybox
    command: ["echo", "quick one done"]
  - name: slow
    image: busybox
    command: ["sleep", "3600"]
`
	if out, err := run(pod, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if out, err := run("", "wait", "--timeout=60s", "--for=jsonpath={.status.containerStatuses[?(@.name==\"quick\")].state.terminated.reason}=Completed", "pod/pair"); err != nil {
		t.Fatalf("wait for the quick container to end: %v\n%s", err, out)
	}
	if out, err := run("", "wait", "--timeout=60s", "--for=jsonpath={.status.containerStatuses[?(@.name==\"slow\")].started}=true", "pod/pair"); err != nil {
		t.Fatalf("wait for the slow container to run: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
		want string
	}{
		{"exec into the running one", []string{"exec", "pair", "-c", "slow", "--", "echo", "still here"}, true, "still here"},
		{"exec into the ended one", []string{"exec", "pair", "-c", "quick", "--", "echo", "hello"}, false, `container not found ("quick")`},
		{"attach to the ended one", []string{"attach", "pair", "-c", "quick"}, false, "container quick not found in pod pair_" + ns},
		{"its log is still there", []string{"logs", "pair", "-c", "quick"}, true, "quick one done"},
	} {
		out, err := run("", tc.args...)
		if (err == nil) != tc.ok || !strings.Contains(out, tc.want) {
			t.Errorf("%s: kubectl %s: error %v, output %q; want success %v and %q", tc.name, strings.Join(tc.args, " "), err, out, tc.ok, tc.want)
		}
	}
}
