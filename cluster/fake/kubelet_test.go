package fake

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func podSpecJSON(name, restart, image string, command ...string) []byte {
	cmd := ""
	if len(command) > 0 {
		cmd = `,"command":["` + strings.Join(command, `","`) + `"]`
	}
	return []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"restartPolicy":"` + restart +
		`","containers":[{"name":"c","image":"` + image + `"` + cmd + `}]}}`)
}

func (s *Server) pod(t testing.TB, name string) *corev1.Pod {
	t.Helper()
	obj, err := s.store.get(s.reg.must("", "pods"), "default", name)
	if err != nil {
		return nil
	}
	return obj.(*corev1.Pod)
}

func podRow(s *Server, p *corev1.Pod) []any { return printPod(p, time.Now()) }

func createPod(t testing.TB, c *client, body []byte) {
	t.Helper()
	if code, b := c.do("POST", "/api/v1/namespaces/default/pods", "application/json", body); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
}

func TestContainerLifecycle(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	createPod(t, c, podSpecJSON("ok", "Never", "busybox", "sh", "-c", "echo done"))
	createPod(t, c, podSpecJSON("fail", "Never", "busybox", "sh", "-c", "echo oops >&2; exit 3"))
	createPod(t, c, podSpecJSON("crash", "Always", "busybox", "sh", "-c", "echo run; exit 1"))
	createPod(t, c, podSpecJSON("missing", "Never", "busybox", "no-such-command"))
	createPod(t, c, podSpecJSON("clock", "Always", "jpetazzo/clock"))
	createPod(t, c, podSpecJSON("idle", "Always", "example.com/team/app:1.2"))
	createPod(t, c, podSpecJSON("alp", "Never", "alpine"))

	phase := func(name string, want corev1.PodPhase) func() bool {
		return func() bool { p := s.pod(t, name); return p != nil && p.Status.Phase == want }
	}
	waitStore(t, s, 15*time.Second, "ok Succeeded", phase("ok", corev1.PodSucceeded))
	waitStore(t, s, 15*time.Second, "fail Failed", phase("fail", corev1.PodFailed))
	waitStore(t, s, 15*time.Second, "missing Failed", phase("missing", corev1.PodFailed))
	waitStore(t, s, 15*time.Second, "alpine Succeeded", phase("alp", corev1.PodSucceeded))
	waitStore(t, s, 15*time.Second, "crash in back-off", func() bool {
		p := s.pod(t, "crash")
		return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "CrashLoopBackOff"
	})
	for _, tc := range []struct{ pod, status, restarts string }{
		{"ok", "Completed", `^0$`},
		{"fail", "Error", `^0$`},
		{"missing", "StartError", `^0$`},
		{"alp", "Completed", `^0$`},
		{"crash", "CrashLoopBackOff", `^1 \(\d+s ago\)$`},
	} {
		row := podRow(s, s.pod(t, tc.pod))
		if row[2] != tc.status || !regexp.MustCompile(tc.restarts).MatchString(row[3].(string)) || row[1] != "0/1" {
			t.Errorf("%s: row %v, want status %s restarts %s", tc.pod, row, tc.status, tc.restarts)
		}
	}
	if cs := s.pod(t, "fail").Status.ContainerStatuses[0]; cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 3 {
		t.Errorf("fail exit code: %+v", cs.State)
	}
	if msg := s.pod(t, "missing").Status.ContainerStatuses[0].State.Terminated.Message; !strings.Contains(msg, `"no-such-command": executable file not found in $PATH`) {
		t.Errorf("missing: %q", msg)
	}
	for _, tc := range []struct{ path, code, want string }{
		{"ok/log", "200", "^done\n$"},
		{"fail/log", "200", "^oops\n$"},
		{"crash/log", "200", "^run\n$"},
		{"crash/log?previous=true", "200", "^run\n$"},
		{"ok/log?previous=true", "400", `previous terminated container \\"c\\" in pod \\"ok\\" not found`},
		{"ok/log?timestamps=true", "200", `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z done\n$`},
		{"ok/log?container=nope", "400", `container nope is not valid for pod ok`},
		{"ok/log?limitBytes=2", "200", `^do$`},
		{"nope/log", "404", `pods \\"nope\\" not found`},
	} {
		code, b := c.do("GET", "/api/v1/namespaces/default/pods/"+tc.path, "", nil)
		if strings.TrimSpace(tc.code) != itoa(code) || !regexp.MustCompile(tc.want).Match(b) {
			t.Errorf("%s: %d %q, want %s %s", tc.path, code, b, tc.code, tc.want)
		}
	}
	waitLog(t, s, "default", "clock", 1)
	if _, b := c.do("GET", "/api/v1/namespaces/default/pods/clock/log", "", nil); !regexp.MustCompile(`^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}\n`).Match(b) {
		t.Errorf("clock log: %q", b)
	}
	waitLog(t, s, "default", "idle", 1)
	if _, b := c.do("GET", "/api/v1/namespaces/default/pods/idle/log", "", nil); !strings.Contains(string(b), `image "example.com/team/app:1.2" is simulated`) {
		t.Errorf("idle log: %q", b)
	}
	if p := s.pod(t, "idle"); podRow(s, p)[2] != "Running" {
		t.Errorf("idle: %v", podRow(s, p))
	}
	// Events a describe shows.
	evs, _ := s.store.list(s.reg.must("", "events"), "default", func(o runtime.Object) bool {
		return o.(*corev1.Event).InvolvedObject.Name == "ok"
	})
	var reasons []string
	for _, e := range evs {
		reasons = append(reasons, e.(*corev1.Event).Reason)
	}
	if got := strings.Join(reasons, ","); !strings.Contains(got, "Scheduled") || !strings.Contains(got, "Pulling") || !strings.Contains(got, "Created") || !strings.Contains(got, "Started") {
		t.Errorf("events of ok: %s", got)
	}
}

// liveInGroup lists the processes of group pgid that are not zombies
// (orphans are reaped by init at its own pace, which we do not control).
func liveInGroup(pgid int) []string {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return nil
	}
	ents, _ := os.ReadDir("/proc")
	var live []string
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			live = append(live, e.Name()+" "+string(b[:strings.LastIndexByte(string(b), ')')+1]))
		}
	}
	return live
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestGracefulDeletion: a container that ignores SIGTERM keeps its pod
// Terminating until the grace period ends, then is killed; one that
// honours it goes at once.
func TestGracefulDeletion(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	body := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"stubborn"},"spec":{"terminationGracePeriodSeconds":3,"containers":[{"name":"c","image":"busybox","command":["sh","-c","trap '' TERM; echo ready; while :; do sleep 1; done"]}]}}`)
	createPod(t, c, body)
	waitStore(t, s, 15*time.Second, "stubborn running", func() bool { p := s.pod(t, "stubborn"); return p != nil && hasPodReady(p) })
	waitLog(t, s, "default", "stubborn", 1)
	pid := s.kubelet.worker(s.pod(t, "stubborn").UID).container("c").inst.(*procInstance).cmd.Process.Pid
	code, b := c.do("DELETE", "/api/v1/namespaces/default/pods/stubborn", "application/json", []byte(`{"propagationPolicy":"Background"}`))
	if code != 200 || !strings.Contains(string(b), `"deletionTimestamp"`) {
		t.Fatalf("delete: %d %s", code, b)
	}
	if p := s.pod(t, "stubborn"); p == nil || podRow(s, p)[2] != "Terminating" {
		t.Fatalf("not terminating after delete: %v", p)
	}
	waitStore(t, s, 15*time.Second, "stubborn gone", func() bool { return s.pod(t, "stubborn") == nil })
	if live := liveInGroup(pid); len(live) > 0 {
		t.Errorf("process group %d still has %v after deletion", pid, live)
	}
	// Force deletion (grace 0) removes the object at once.
	createPod(t, c, podSpecJSON("quick", "Always", "busybox", "sleep", "1000"))
	waitStore(t, s, 15*time.Second, "quick running", func() bool { p := s.pod(t, "quick"); return p != nil && hasPodReady(p) })
	if code, b := c.do("DELETE", "/api/v1/namespaces/default/pods/quick?gracePeriodSeconds=0", "", nil); code != 200 {
		t.Fatalf("force delete: %d %s", code, b)
	}
	if s.pod(t, "quick") != nil {
		t.Error("force-deleted pod still there")
	}
}

// TestCloseStopsEverything: Close ends container process groups and is
// idempotent.
func TestCloseStopsEverything(t *testing.T) {
	s, err := Start(context.Background(), Options{Dir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s)
	createPod(t, c, podSpecJSON("sleeper", "Always", "busybox", "sh", "-c", "trap '' TERM; sleep 1000"))
	waitStore(t, s, 15*time.Second, "sleeper running", func() bool { p := s.pod(t, "sleeper"); return p != nil && hasPodReady(p) })
	pid := s.kubelet.worker(s.pod(t, "sleeper").UID).container("c").inst.(*procInstance).cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if live := liveInGroup(pid); len(live) > 0 {
		t.Errorf("process group %d survived Close: %v", pid, live)
	}
	if _, _, err := c.tryDo("GET", "/version", "", nil); err == nil {
		t.Error("server still answers after Close")
	}
	if len(s.Panics()) > 0 {
		t.Error(s.Panics())
	}
	_ = http.StatusOK
}

func TestPrintPodStatus(t *testing.T) {
	now := time.Now()
	base := func() *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	}
	waiting := base()
	waiting.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
	signaled := base()
	signaled.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Signal: 9}}}}
	initing := base()
	initing.Spec.InitContainers = []corev1.Container{{Name: "i"}}
	initing.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "i", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"pending", base(), "Pending"},
		{"creating", waiting, "ContainerCreating"},
		{"signal", signaled, "Signal:9"},
		{"init", initing, "Init:0/1"},
	} {
		if got := printPod(tc.pod, now)[2]; got != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParseCron(t *testing.T) {
	at := time.Date(2026, 11, 26, 17, 7, 30, 0, time.UTC) // a Thursday
	for _, tc := range []struct {
		spec, next string
		bad        bool
	}{
		{"*/1 * * * *", "2026-11-26T17:08:00Z", false},
		{"*/15 * * * *", "2026-11-26T17:15:00Z", false},
		{"0 0 * * *", "2026-11-27T00:00:00Z", false},
		{"@hourly", "2026-11-26T18:00:00Z", false},
		{"30 9 * * mon-fri", "2026-11-27T09:30:00Z", false},
		{"0 12 1 jan *", "2027-01-01T12:00:00Z", false},
		{"0 0 * * 7", "2026-11-29T00:00:00Z", false},
		{"5,10 * * * *", "2026-11-26T17:10:00Z", false},
		{"* * *", "", true},
		{"61 * * * *", "", true},
		{"*/0 * * * *", "", true},
	} {
		cs, err := parseCron(tc.spec)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.spec, err)
			continue
		}
		if err == nil {
			if got := cs.next(at).Format(time.RFC3339); got != tc.next {
				t.Errorf("%q: next %s, want %s", tc.spec, got, tc.next)
			}
		}
	}
}
