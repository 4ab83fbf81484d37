package builtin_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These are the workload behaviours decks rely on, held before by the
// fake's workloads, minready and foreground tests; the controllers are
// upstream's now, the pods' readiness and ends are the node agent's.

func (k *kube) exact(what, got, want string) {
	k.t.Helper()
	if got != want {
		k.t.Errorf("%s: %q, want %q", what, got, want)
	}
}

func (k *kube) match(what, got, re string) {
	k.t.Helper()
	if !regexp.MustCompile(re).MatchString(got) {
		k.t.Errorf("%s: %q does not match %s", what, got, re)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestWorkloads drives a Deployment through expose, endpoints, describe, a
// rolling update and its undo, apply/patch, a Job, a DaemonSet and a
// StatefulSet, and garbage collection, with the kubectl on PATH.
func TestWorkloads(t *testing.T) {
	k := newKube(t)
	k.exact("create", k.must("create", "deployment", "blue", "--image=nginx", "--replicas=2"), "deployment.apps/blue created\n")
	k.exact("expose", k.must("expose", "deployment", "blue", "--port=80"), "service/blue exposed\n")
	out, err := k.run("", "expose", "deployment", "blue", "--port=80")
	k.exact("expose again", out, "Error from server (AlreadyExists): services \"blue\" already exists\n")
	if err == nil {
		t.Error("expose again: exit 0")
	}
	k.exact("wait", k.must("wait", "deploy", "blue", "--for", "condition=available", "--timeout=90s"), "deployment.apps/blue condition met\n")
	eventually(t, time.Minute, func() string {
		if out, _ := k.run("", "get", "endpoints", "blue", "--no-headers"); strings.Count(out, ":80") != 2 {
			return "endpoints: " + out
		}
		return ""
	})
	k.match("endpoints", k.stdout("", "get", "endpoints", "blue"), `(?m)^blue +10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80 +\d+s$`)
	k.match("service", k.stdout("", "get", "svc", "blue", "-o", "wide"), `(?m)^blue +ClusterIP +10\.\d+\.\d+\.\d+ +<none> +80/TCP +\d+s +app=blue$`)
	desc := k.stdout("", "describe", "pod", "-l", "app=blue")
	for _, want := range []string{`Controlled By: +ReplicaSet/blue-`, `Successfully assigned ` + k.ns + `/blue-`, `Started container nginx`, `(?m)^Status: +Running$`, `Service Account: +default`} {
		k.match("describe pod", desc, want)
	}
	if d := k.stdout("", "describe", "deploy", "blue"); !strings.Contains(d, "NewReplicaSet:   blue-") || !strings.Contains(d, "(2/2 replicas created)") {
		t.Errorf("describe deploy:\n%s", d)
	}

	// Rolling update, history, undo.
	k.exact("set image", k.must("set", "image", "deploy/blue", "nginx=nginx:1.27"), "deployment.apps/blue image updated\n")
	k.exact("rollout status", lastLine(k.must("rollout", "status", "deploy/blue", "--timeout=90s")), `deployment "blue" successfully rolled out`)
	k.match("history", k.must("rollout", "history", "deploy/blue"), `(?s)REVISION +CHANGE-CAUSE\n1 +<none>\n2 +<none>\n`)
	k.exact("undo", k.must("rollout", "undo", "deploy/blue"), "deployment.apps/blue rolled back\n")
	k.exact("rollout status", lastLine(k.must("rollout", "status", "deploy/blue", "--timeout=90s")), `deployment "blue" successfully rolled out`)
	k.match("history after undo", k.must("rollout", "history", "deploy/blue"), `(?s)REVISION +CHANGE-CAUSE\n2 +<none>\n3 +<none>\n`)

	// apply: created, unchanged, configured; patches.
	web := func(replicas int) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80}]
`, replicas)
	}
	k.exact("apply", k.stdout(web(1), "apply", "-f", "-"), "deployment.apps/web created\nservice/web created\n")
	k.exact("apply again", k.stdout(web(1), "apply", "-f", "-"), "deployment.apps/web unchanged\nservice/web unchanged\n")
	k.exact("apply changed", k.stdout(web(2), "apply", "-f", "-"), "deployment.apps/web configured\nservice/web unchanged\n")
	k.exact("patch", k.must("patch", "deploy", "web", "-p", `{"spec":{"replicas":3}}`), "deployment.apps/web patched\n")
	k.exact("json patch", k.must("patch", "deploy", "web", "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":1}]`), "deployment.apps/web patched\n")
	// Once the Deployment's status is still (a status update between
	// kubectl's read and its patch makes a no-op look like a change).
	k.must("rollout", "status", "deploy/web", "--timeout=90s")
	k.exact("patch no-op", k.must("patch", "deploy", "web", "-p", `{"spec":{"replicas":1}}`), "deployment.apps/web patched (no change)\n")
	k.match("nodeport", k.stdout("", "get", "svc", "web"), `(?m)^web +NodePort +\S+ +<none> +80:3\d{4}/TCP +\d+s$`)

	// A Job runs to completion.
	k.exact("job", k.must("create", "job", "hello", "--image=busybox", "--", "echo", "hello"), "job.batch/hello created\n")
	k.exact("job wait", k.must("wait", "job", "hello", "--for", "condition=complete", "--timeout=90s"), "job.batch/hello condition met\n")
	k.exact("job logs", k.must("logs", "job/hello"), "hello\n")
	k.match("jobs", k.stdout("", "get", "jobs"), `(?m)^hello +Complete +1/1 +\d+s +\d+s$`)

	// A DaemonSet (a pod on every node without a NoSchedule taint: all of
	// them, as on a workshop cluster whose node1 takes pods) and a
	// StatefulSet.
	k.exact("apply ds/sts", k.stdout(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds1}
spec:
  selector: {matchLabels: {app: ds1}}
  template:
    metadata: {labels: {app: ds1}}
    spec:
      containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts1}
spec:
  replicas: 2
  serviceName: sts1
  selector: {matchLabels: {app: sts1}}
  template:
    metadata: {labels: {app: sts1}}
    spec:
      containers: [{name: c, image: redis}]
`, "apply", "-f", "-"), "daemonset.apps/ds1 created\nstatefulset.apps/sts1 created\n")
	k.exact("ds rollout", lastLine(k.must("rollout", "status", "ds/ds1", "--timeout=90s")), `daemon set "ds1" successfully rolled out`)
	k.exact("sts rollout", lastLine(k.must("rollout", "status", "sts/sts1", "--timeout=90s")), `partitioned roll out complete: 2 new pods have been updated...`)
	taints := k.stdout("", "get", "nodes", "-o", `jsonpath={range .items[*]}{.spec.taints[*].effect}{"\n"}{end}`)
	open := 0
	for _, l := range strings.Split(strings.TrimSuffix(taints, "\n"), "\n") {
		if !strings.Contains(l, "NoSchedule") {
			open++
		}
	}
	k.match("ds", k.stdout("", "get", "ds"), fmt.Sprintf(`(?m)^ds1 +%[1]d +%[1]d +%[1]d +%[1]d +%[1]d +<none> +\d+s$`, open))
	k.match("sts pods", k.stdout("", "get", "pods", "-l", "app=sts1"), `(?s)sts1-0 +1/1 +Running.*\nsts1-1 +1/1 +Running`)

	// Garbage collection: cascade, and orphaning.
	k.exact("delete deploy", k.must("delete", "deploy", "blue"), "deployment.apps \"blue\" deleted\n")
	eventually(t, time.Minute, func() string {
		if out := k.must("get", "rs,pods", "-l", "app=blue", "-o", "name"); out != "" {
			return "blue's replicasets and pods are left: " + out
		}
		return ""
	})
	k.exact("orphan", k.must("delete", "deploy", "web", "--cascade=orphan"), "deployment.apps \"web\" deleted\n")
	rs := k.stdout("", "get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.metadata.name} owners={.metadata.ownerReferences}{\"\\n\"}{end}")
	if !strings.HasPrefix(rs, "web-") || strings.Contains(rs, "Deployment") {
		t.Errorf("the orphaned replicaset: %q, want it kept without owner", rs)
	}
}

// TestMinReadySeconds: a Deployment's pods count as available only once
// ready for minReadySeconds, which rollout status waits for.
func TestMinReadySeconds(t *testing.T) {
	k := newKube(t)
	k.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: slow}
spec:
  replicas: 2
  minReadySeconds: 5
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec:
      containers: [{name: c, image: busybox, command: [sleep, "1000"]}]
`)
	var ready time.Time
	eventually(t, time.Minute, func() string {
		out := strings.Join(strings.Fields(k.must("get", "deploy", "slow", "--no-headers")), " ")
		if strings.HasPrefix(out, "slow 2/2 2 0") {
			ready = time.Now()
			return ""
		}
		if strings.HasPrefix(out, "slow 2/2 2 2") {
			t.Fatalf("available before minReadySeconds: %q", out)
		}
		return "want 2/2 ready, 0 available: " + out
	})
	k.exact("rollout status", lastLine(k.must("rollout", "status", "deploy/slow", "--timeout=60s")), `deployment "slow" successfully rolled out`)
	if time.Since(ready) < 2*time.Second {
		t.Errorf("rolled out %s after the pods were ready, before minReadySeconds (5s)", time.Since(ready))
	}
	k.match("after minReadySeconds", strings.Join(strings.Fields(k.must("get", "deploy", "slow", "--no-headers")), " "), `^slow 2/2 2 2 `)
}

// TestForegroundDeletion: a Deployment deleted with --cascade=foreground
// stays, with a deletionTimestamp and the foregroundDeletion finalizer,
// while a blocking dependent exists; its ReplicaSet and pods go meanwhile,
// and it goes once the dependent has.
func TestForegroundDeletion(t *testing.T) {
	k := newKube(t)
	k.must("create", "deployment", "fg", "--image=nginx", "--replicas=2")
	uid := k.must("get", "deploy", "fg", "-o", "jsonpath={.metadata.uid}")
	k.apply(fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: fg-held
  finalizers: [example.com/hold]
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: fg, uid: %q, blockOwnerDeletion: true}]
`, uid))
	k.must("wait", "deploy", "fg", "--for", "condition=available", "--timeout=90s")
	k.exact("delete", k.must("delete", "deploy", "fg", "--cascade=foreground", "--wait=false"), "deployment.apps \"fg\" deleted\n")
	eventually(t, time.Minute, func() string {
		if out := k.must("get", "rs,pods", "-l", "app=fg", "-o", "name"); out != "" {
			return "fg's replicaset and pods are left: " + out
		}
		return ""
	})
	held := k.must("get", "deploy", "fg", "-o", "jsonpath={.metadata.finalizers} {.metadata.deletionTimestamp}")
	k.match("the deployment while its dependent holds", held, `^\["foregroundDeletion"\] \d{4}-`)
	k.must("patch", "configmap", "fg-held", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
	eventually(t, time.Minute, func() string {
		if out, err := k.run("", "get", "deploy", "fg"); err == nil || !strings.Contains(out, "NotFound") {
			return "fg still there: " + out
		}
		return ""
	})
}
