package warm

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

func TestMain(m *testing.M) { builtintest.Main(m) }

// What labs do outside their namespace, as kubectl does it: each is undone
// by Reset, and a second Reset finds nothing left to undo.
const labs = `
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: pingpong, namespace: default}
spec:
  containers: [{name: ping, image: alpine, command: [ping, 127.0.0.1]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: lab-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: coffees.container.training}
spec:
  group: container.training
  scope: Namespaced
  names: {plural: coffees, singular: coffee, kind: Coffee}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: lab-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/lab-pv}
`

func TestResetUndoesWhatLabsDid(t *testing.T) {
	c := builtintest.Shared(t)
	kubectl, err := cluster.FindKubectl("")
	if err != nil {
		t.Skipf("no kubectl: %v", err)
	}
	run := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig())
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base, err := Record(ctx, c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	idle := time.Now()
	if did, err := base.Reset(ctx); err != nil || did != "nothing to undo" {
		t.Fatalf("a reset right after Record: %q, %v", did, err)
	}
	t.Logf("a reset with nothing to undo: %s for %d objects", time.Since(idle).Round(time.Millisecond), base.Len())
	nsBefore := run("", "get", "namespaces", "-o", "name")
	coredns := run("", "get", "configmap", "-n", "kube-system", "coredns", "-o", "jsonpath={.data.Corefile}")

	run(labs, "apply", "-f", "-")
	run("", "wait", "--for", "condition=established", "crd/coffees.container.training")
	run("apiVersion: container.training/v1\nkind: Coffee\nmetadata: {name: espresso, namespace: default}\n", "apply", "-f", "-")
	run("", "label", "node", "node2", "disk=ssd")
	run("", "taint", "node", "node3", "dedicated=lab:NoSchedule")
	run("", "cordon", "node1")
	run("", "patch", "configmap", "-n", "kube-system", "coredns", "--type=merge", "-p", `{"data":{"Corefile":"edited"}}`)
	run("", "delete", "clusterrole", "view")
	run("", "annotate", "namespace", "default", "lab/owner=me")

	start := time.Now()
	did, err := base.Reset(ctx)
	if err != nil {
		t.Fatalf("reset: %v (did: %s)", err, did)
	}
	t.Logf("reset in %s: %s", time.Since(start).Round(time.Millisecond), did)
	for _, want := range []string{"namespaces demo", "clusterroles.rbac.authorization.k8s.io lab-reader",
		"customresourcedefinitions.apiextensions.k8s.io coffees.container.training", "persistentvolumes lab-pv",
		"pods default/pingpong", "put back", "nodes node2", "configmaps kube-system/coredns", "made again 1 (clusterroles.rbac.authorization.k8s.io view)"} {
		if !strings.Contains(did, want) {
			t.Errorf("reset did not say %q: %s", want, did)
		}
	}
	if again, err := base.Reset(ctx); err != nil || again != "nothing to undo" {
		t.Errorf("a second reset: %q, %v", again, err)
	}
	if ns := run("", "get", "namespaces", "-o", "name"); ns != nsBefore {
		t.Errorf("namespaces after the reset:\n%s\nwant:\n%s", ns, nsBefore)
	}
	checks := []struct{ args, want string }{
		{"get node node2 -o jsonpath={.metadata.labels.disk}", ""},
		{"get node node3 -o jsonpath={.spec.taints}", ""},
		{"get node node1 -o jsonpath={.spec.unschedulable}", ""},
		{"get configmap -n kube-system coredns -o jsonpath={.data.Corefile}", coredns},
		{"get clusterrole view -o name", "clusterrole.rbac.authorization.k8s.io/view\n"},
		{"get clusterrole lab-reader -o name --ignore-not-found", ""},
		{"get crd coffees.container.training -o name --ignore-not-found", ""},
		{"get pv lab-pv -o name --ignore-not-found", ""},
		{"get pod pingpong -o name --ignore-not-found", ""},
		{"get namespace default -o jsonpath={.metadata.annotations}", ""},
	}
	for _, c := range checks {
		if got := run("", strings.Fields(c.args)...); got != c.want {
			t.Errorf("kubectl %s after the reset: %q, want %q", c.args, got, c.want)
		}
	}
}
