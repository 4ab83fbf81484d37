package fake

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func expectFail(t *testing.T, k *kubectl, stderr string, args ...string) {
	t.Helper()
	out, errs, code := k.run(args...)
	if code != 1 || errs != stderr {
		t.Errorf("kubectl %s: exit %d, stdout %q, stderr %q; want exit 1, stderr %q", strings.Join(args, " "), code, out, errs, stderr)
	}
}

// TestWorkloads drives services, apply/patch, rolling updates and
// rollbacks, jobs, daemon sets, stateful sets, namespaces and garbage
// collection with real kubectl.
func TestWorkloads(t *testing.T) {
	forEachKubectl(t, func(t *testing.T, s *Server, k *kubectl, _ string) { workloads(t, s, k) })
}

func workloads(t *testing.T, s *Server, k *kubectl) {
	expectExact(t, "create", k.ok("create", "deployment", "blue", "--image=nginx", "--replicas=2"), "deployment.apps/blue created\n")
	expectExact(t, "expose", k.ok("expose", "deployment", "blue", "--port=80"), "service/blue exposed\n")
	expectFail(t, k, "Error from server (AlreadyExists): services \"blue\" already exists\n", "expose", "deployment", "blue", "--port=80")
	expectExact(t, "wait", k.ok("wait", "deploy", "blue", "--for", "condition=available"), "deployment.apps/blue condition met\n")
	waitStore(t, s, 10*time.Second, "2 ready blue pods", func() bool { return countReady(s.pods("default", "app=blue")) == 2 })
	waitStore(t, s, 10*time.Second, "endpoints", func() bool {
		out, _, _ := k.run("get", "endpoints", "blue", "--no-headers")
		return strings.Count(out, ":80") == 2
	})
	expectMatch(t, "endpoints", k.ok("get", "endpoints", "blue"), `(?m)^blue +10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80 +\d+s$`)
	expectMatch(t, "service", k.ok("get", "svc", "blue", "-o", "wide"), `(?m)^blue +ClusterIP +10\.\d+\.\d+\.\d+ +<none> +80/TCP +\d+s +app=blue$`)
	desc := k.ok("describe", "pod", "-l", "app=blue")
	for _, want := range []string{`Controlled By: +ReplicaSet/blue-`, `Successfully assigned default/blue-`, `Started container nginx`, `(?m)^Status: +Running$`, `Service Account: +default`} {
		expectMatch(t, "describe pod", desc, want)
	}
	if d := k.ok("describe", "node", "node1"); !strings.Contains(d, "Non-terminated Pods:") || !strings.Contains(d, "Ready            True") {
		t.Errorf("describe node:\n%s", d)
	}
	if d := k.ok("describe", "deploy", "blue"); !strings.Contains(d, "NewReplicaSet:   blue-") || !strings.Contains(d, "(2/2 replicas created)") {
		t.Errorf("describe deploy:\n%s", d)
	}

	// Rolling update, history, rollback.
	expectExact(t, "set image", k.ok("set", "image", "deploy/blue", "nginx=nginx:1.27"), "deployment.apps/blue image updated\n")
	expectExact(t, "rollout status", lastLine(k.ok("rollout", "status", "deploy/blue", "--timeout=60s")), `deployment "blue" successfully rolled out`)
	expectMatch(t, "history", k.ok("rollout", "history", "deploy/blue"), `(?s)REVISION +CHANGE-CAUSE\n1 +<none>\n2 +<none>\n`)
	expectExact(t, "undo", k.ok("rollout", "undo", "deploy/blue"), "deployment.apps/blue rolled back\n")
	expectExact(t, "rollout status", lastLine(k.ok("rollout", "status", "deploy/blue", "--timeout=60s")), `deployment "blue" successfully rolled out`)
	expectMatch(t, "history after undo", k.ok("rollout", "history", "deploy/blue"), `(?s)REVISION +CHANGE-CAUSE\n2 +<none>\n3 +<none>\n`)
	expectMatch(t, "rs", k.ok("get", "rs", "-o", "wide"), `(?m)^blue-\w+ +2 +2 +2 +\d+s +nginx +nginx +app=blue,pod-template-hash=\w+$`)

	// apply: created, unchanged, configured; patches.
	expectExact(t, "apply", k.ok("apply", "-f", "testdata/web.yaml"), "deployment.apps/web created\nservice/web created\n")
	expectExact(t, "apply again", k.ok("apply", "-f", "testdata/web.yaml"), "deployment.apps/web unchanged\nservice/web unchanged\n")
	expectExact(t, "apply changed", k.ok("apply", "-f", "testdata/web2.yaml"), "deployment.apps/web configured\nservice/web unchanged\n")
	expectExact(t, "patch", k.ok("patch", "deploy", "web", "-p", `{"spec":{"replicas":3}}`), "deployment.apps/web patched\n")
	expectExact(t, "json patch", k.ok("patch", "deploy", "web", "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":1}]`), "deployment.apps/web patched\n")
	expectExact(t, "patch no-op", k.ok("patch", "deploy", "web", "-p", `{"spec":{"replicas":1}}`), "deployment.apps/web patched (no change)\n")
	expectMatch(t, "nodeport", k.ok("get", "svc", "web"), `(?m)^web +NodePort +\S+ +<none> +80:3\d{4}/TCP +\d+s$`)
	k.ok("wait", "deploy", "web", "--for", "condition=available")

	// A Job runs to completion.
	expectExact(t, "job", k.ok("create", "job", "hello", "--image=busybox", "--", "echo", "hello"), "job.batch/hello created\n")
	expectExact(t, "job wait", k.ok("wait", "job", "hello", "--for", "condition=complete", "--timeout=30s"), "job.batch/hello condition met\n")
	expectExact(t, "job logs", k.ok("logs", "job/hello"), "hello\n")
	expectMatch(t, "jobs", k.ok("get", "jobs"), `(?m)^hello +Complete +1/1 +\d+s +\d+s$`)

	// DaemonSet and StatefulSet.
	expectExact(t, "apply ds/sts", k.ok("apply", "-f", "testdata/ds-sts.yaml"), "daemonset.apps/ds1 created\nstatefulset.apps/sts1 created\n")
	expectExact(t, "ds rollout", lastLine(k.ok("rollout", "status", "ds/ds1", "--timeout=60s")), `daemon set "ds1" successfully rolled out`)
	expectExact(t, "sts rollout", lastLine(k.ok("rollout", "status", "sts/sts1", "--timeout=60s")), `partitioned roll out complete: 2 new pods have been updated...`)
	expectMatch(t, "ds", k.ok("get", "ds"), `(?m)^ds1 +3 +3 +3 +3 +3 +<none> +\d+s$`)
	expectMatch(t, "sts pods", k.ok("get", "pods", "-l", "app=sts1"), `(?s)sts1-0 +1/1 +Running.*\nsts1-1 +1/1 +Running`)
	revisionHistory(t, k)

	// Namespaces: content goes, then the namespace.
	expectExact(t, "create ns", k.ok("create", "namespace", "tmp"), "namespace/tmp created\n")
	k.ok("run", "-n", "tmp", "x", "--image=nginx")
	expectExact(t, "delete ns", k.ok("delete", "namespace", "tmp"), "namespace \"tmp\" deleted\n")
	expectFail(t, k, "Error from server (NotFound): namespaces \"tmp\" not found\n", "get", "ns", "tmp")

	// Garbage collection: cascade, and orphaning.
	expectExact(t, "delete deploy", k.ok("delete", "deploy", "blue"), "deployment.apps \"blue\" deleted\n")
	waitStore(t, s, 20*time.Second, "blue's replicasets and pods gone", func() bool {
		rs, _ := s.store.list(s.reg.must("apps", "replicasets"), "default", func(o runtime.Object) bool { return strings.HasPrefix(accessor(o).GetName(), "blue-") })
		return len(rs) == 0 && len(s.pods("default", "app=blue")) == 0
	})
	expectExact(t, "orphan", k.ok("delete", "deploy", "web", "--cascade=orphan"), "deployment.apps \"web\" deleted\n")
	rs, _ := s.store.list(s.reg.must("apps", "replicasets"), "default", func(o runtime.Object) bool { return strings.HasPrefix(accessor(o).GetName(), "web-") })
	if len(rs) == 0 {
		t.Fatal("orphaned replicaset deleted")
	}
	for _, r := range rs {
		if len(r.(*appsv1.ReplicaSet).OwnerReferences) != 0 {
			t.Errorf("orphan %s keeps owner references", r.(*appsv1.ReplicaSet).Name)
		}
	}
}

// TestCronJob backdates a CronJob's last schedule so that a run is due.
func TestCronJob(t *testing.T) {
	s := startCluster(t, Options{})
	k := newKubectl(t, s, "")
	expectExact(t, "create", k.ok("create", "cronjob", "every", "--image=busybox", "--schedule=*/1 * * * *", "--", "echo", "tick"), "cronjob.batch/every created\n")
	res := s.reg.must("batch", "cronjobs")
	if _, err := s.store.update(res, "default", "every", func(cur runtime.Object) (runtime.Object, error) {
		cj := cur.(*batchv1.CronJob)
		cj.CreationTimestamp = metav1.NewTime(time.Now().Add(-3 * time.Minute))
		return cj, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitStore(t, s, 20*time.Second, "a job of the cronjob completes", func() bool {
		jobs, _ := s.store.list(s.reg.must("batch", "jobs"), "default", nil)
		for _, j := range jobs {
			if done, typ := jobFinished(j.(*batchv1.Job)); done && typ == batchv1.JobComplete && strings.HasPrefix(j.(*batchv1.Job).Name, "every-") {
				return true
			}
		}
		return false
	})
	expectMatch(t, "get cronjob", k.ok("get", "cronjob"), `(?m)^every +\*/1 \* \* \* \* +<none> +False +[01] +\d+s +\d+m(\d+s)?$`)
}

// TestSeedReproducible: the same seed and the same calls give the same
// generated names.
func TestSeedReproducible(t *testing.T) {
	names := func() string {
		s := startCluster(t, Options{Seed: 7})
		k := newKubectl(t, s, "")
		k.ok("create", "deployment", "web", "--image=nginx", "--replicas=3")
		waitStore(t, s, 20*time.Second, "3 pods", func() bool { return countReady(s.pods("default", "app=web")) == 3 })
		var out []string
		for _, p := range s.pods("default", "app=web") {
			out = append(out, p.Name)
		}
		return strings.Join(out, " ")
	}
	a, b := names(), names()
	if a != b {
		t.Errorf("seed 7 gave %q, then %q", a, b)
	}
}

// revisionHistory covers the ControllerRevisions of a DaemonSet and a
// StatefulSet: their table, rollout history (with a change cause),
// history of one revision, and rollout undo, which raises the old
// revision to the newest number.
func revisionHistory(t *testing.T, k *kubectl) {
	rolledOut := func(args ...string) step {
		return step{args: append([]string{"rollout", "status", "--timeout=60s"}, args...), out: like(`(?s)(successfully rolled out|partitioned roll out complete: 2 new pods have been updated\.\.\.)\n$`)}
	}
	runSteps(t, k, []step{
		{args: []string{"get", "controllerrevisions"}, out: like(`^NAME +CONTROLLER +REVISION +AGE\nds1-\w+ +daemonset\.apps/ds1 +1 +` + ageRE + `\nsts1-\w+ +statefulset\.apps/sts1 +1 +` + ageRE + `\n$`)},
		{args: []string{"set", "image", "ds/ds1", "c=busybox:1.36"}, out: is("daemonset.apps/ds1 image updated\n")},
		rolledOut("ds/ds1"),
		{args: []string{"rollout", "history", "ds/ds1"}, out: is("daemonset.apps/ds1 \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n")},
		{args: []string{"rollout", "history", "ds/ds1", "--revision=2"}, out: like(`(?s)^daemonset\.apps/ds1 with revision #2\nPod Template:\n  Labels:\tapp=ds1\n.*Image:\tbusybox:1\.36\n`)},
		{args: []string{"rollout", "undo", "ds/ds1"}, out: is("daemonset.apps/ds1 rolled back\n")},
		rolledOut("ds/ds1"),
		{args: []string{"get", "ds", "ds1", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}, out: is("busybox")},
		{args: []string{"rollout", "history", "ds/ds1"}, out: is("daemonset.apps/ds1 \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n")},
		// kubectl compares the revision's data byte for byte with the
		// patch it derives from the DaemonSet.
		{args: []string{"rollout", "undo", "ds/ds1", "--to-revision=3"}, out: is("daemonset.apps/ds1 skipped rollback (current template already matches revision 3)\n")},
		{args: []string{"rollout", "undo", "ds/ds1", "--to-revision=9"}, err: is("error: unable to find specified revision 9 in history\n"), code: 1},

		{args: []string{"annotate", "sts", "sts1", "kubernetes.io/change-cause=redis 7"}, out: like(`^statefulset\.apps/sts1 annotated?\n$`)}, // 1.27 prints "annotate"
		{args: []string{"set", "image", "sts/sts1", "c=redis:7"}, out: is("statefulset.apps/sts1 image updated\n")},
		rolledOut("sts/sts1"),
		{args: []string{"rollout", "history", "sts/sts1"}, out: is("statefulset.apps/sts1 \nREVISION  CHANGE-CAUSE\n1         <none>\n2         redis 7\n\n")},
		{args: []string{"rollout", "history", "sts/sts1", "--revision=1"}, out: like(`(?s)^statefulset\.apps/sts1 with revision #1\nPod Template:\n.*Image:\tredis\n`)},
		{args: []string{"rollout", "undo", "sts/sts1"}, out: is("statefulset.apps/sts1 rolled back\n")},
		rolledOut("sts/sts1"),
		{args: []string{"get", "pods", "sts1-0", "sts1-1", "-o", "jsonpath={.items[*].spec.containers[0].image}"}, out: is("redis redis")},
		{args: []string{"rollout", "history", "sts/sts1"}, out: is("statefulset.apps/sts1 \nREVISION  CHANGE-CAUSE\n2         redis 7\n3         <none>\n\n")},
	})
}
