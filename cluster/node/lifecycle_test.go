package node_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These held the hand-written API server's kubelet and workload tests
// (TestGracefulDeletion, TestCronJob): the grace period a deleted pod's
// processes get, and the Jobs a CronJob makes, now with upstream's
// controllers and the node agent.

// TestCronJob: a Job made from a CronJob (as a lab does to not wait for the
// schedule) runs its template and completes, and belongs to the CronJob;
// without -short, the schedule makes a Job of its own too.
func TestCronJob(t *testing.T) {
	k := newKube(t)
	if got := k.must("create", "cronjob", "every", "--image=busybox", "--schedule=*/1 * * * *", "--", "echo", "tick"); got != "cronjob.batch/every created\n" {
		t.Errorf("create: %q", got)
	}
	if got := k.must("create", "job", "now", "--from=cronjob/every"); got != "job.batch/now created\n" {
		t.Errorf("create job --from: %q", got)
	}
	k.must("wait", "--for=condition=complete", "job/now", "--timeout=90s")
	if got := k.stdout("logs", "job/now"); got != "tick\n" {
		t.Errorf("logs job/now: %q", got)
	}
	if got := k.stdout("get", "job", "now", "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"); got != "CronJob/every" {
		t.Errorf("owner of job/now: %q", got)
	}
	if got := k.stdout("get", "job", "now", "--no-headers"); !regexp.MustCompile(`^now +(Complete +)?1/1 +[\dms]+ +[\dms]+\n$`).MatchString(got) {
		t.Errorf("get job: %q", got)
	}
	if got := k.stdout("get", "pods", "-l", "job-name=now", "--no-headers"); !regexp.MustCompile(`^now-\w{5} +0/1 +Completed +0 +[\dms]+\n$`).MatchString(got) {
		t.Errorf("the job's pod: %q", got)
	}
	if testing.Short() {
		return
	}
	// The schedule's own Job: within a minute and some.
	eventually(t, 150*time.Second, func() string {
		out, _ := k.run("", "get", "jobs", "--no-headers")
		if !regexp.MustCompile(`(?m)^every-\d+ +(Complete +)?1/1 `).MatchString(out) {
			return "no completed job of the schedule yet:\n" + out
		}
		return ""
	})
	if got := k.stdout("get", "cronjob", "every", "--no-headers"); !regexp.MustCompile(`^every +\*/1 \* \* \* \* +(<none> +)?False +[01] +[\dms]+ +[\dms]+\n$`).MatchString(got) {
		t.Errorf("get cronjob after its run: %q", got)
	}
}

// TestGracePeriod: a deleted pod's container gets SIGTERM (after its
// preStop hook), stays Terminating while it ignores it, and is killed
// once terminationGracePeriodSeconds have passed; --grace-period shortens
// that; a container that exits on SIGTERM goes at once whatever its grace.
func TestGracePeriod(t *testing.T) {
	k := newKube(t)
	// Paths relative to the working directory, /, name the same files
	// where containers share the host's filesystem (no mount namespace).
	mark := "grace-" + k.ns
	hostData := "/srv/" + mark
	k.apply(`apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  nodeName: node3
  terminationGracePeriodSeconds: 4
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "trap 'echo TERM >> data/log' TERM; echo ready; while :; do sleep 1; done # ` + mark + `-stubborn"]
    lifecycle:
      preStop:
        exec: {command: [sh, -c, "echo preStop >> data/log"]}
    volumeMounts: [{name: host, mountPath: /data}]
  volumes: [{name: host, hostPath: {path: ` + hostData + `}}]
---
apiVersion: v1
kind: Pod
metadata: {name: cut}
spec:
  terminationGracePeriodSeconds: 600
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "trap '' TERM; while :; do sleep 1; done # ` + mark + `-cut"]
---
apiVersion: v1
kind: Pod
metadata: {name: polite}
spec:
  terminationGracePeriodSeconds: 600
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: witness}
spec:
  nodeName: node3
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /data}]
  volumes: [{name: host, hostPath: {path: ` + hostData + `}}]
`)
	k.waitReady("stubborn", "cut", "polite", "witness")
	if pids := processesWith(mark + "-stubborn"); len(pids) == 0 {
		t.Fatal("no process of pod stubborn found")
	}

	start := time.Now()
	k.must("delete", "pod", "stubborn", "--wait=false")
	if got := k.stdout("get", "pod", "stubborn", "--no-headers"); !strings.Contains(got, " Terminating ") {
		t.Errorf("right after delete: %q", got)
	}
	// The hook first, then SIGTERM, which the shell traps.
	eventually(t, 60*time.Second, func() string {
		out, _ := k.runOut("", false, "exec", "witness", "--", "cat", "data/log")
		if out != "preStop\nTERM\n" {
			return "the hook and SIGTERM not seen yet: " + strconv.Quote(out)
		}
		return ""
	})
	gone(t, k, "stubborn", 90*time.Second)
	if el := time.Since(start); el < 4*time.Second {
		t.Errorf("pod stubborn went after %s, within its grace period of 4s", el)
	}
	if pids := processesWith(mark + "-stubborn"); len(pids) > 0 {
		t.Errorf("pod stubborn's processes live on: %v", pids)
	}

	// --grace-period cuts 600 s short; the process is killed.
	k.must("delete", "pod", "cut", "--grace-period=1", "--wait=false")
	gone(t, k, "cut", 90*time.Second)
	if pids := processesWith(mark + "-cut"); len(pids) > 0 {
		t.Errorf("pod cut's processes live on: %v", pids)
	}

	// sleep ends on SIGTERM: no waiting for the grace period.
	k.must("delete", "pod", "polite", "--wait=true", "--timeout=90s")
	k.must("delete", "pod", "witness", "--wait=false")
}

// gone waits until the pod is no more.
func gone(t *testing.T, k *kube, pod string, d time.Duration) {
	t.Helper()
	eventually(t, d, func() string {
		out, err := k.run("", "get", "pod", pod, "--no-headers")
		if err == nil || !strings.Contains(out, "NotFound") {
			return "pod " + pod + " still there: " + out
		}
		return ""
	})
}

// processesWith lists the live processes whose command line has s.
func processesWith(s string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] == "Z" {
				continue // a zombie is dead, whoever reaps it
			}
		}
		out = append(out, e.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}
