package fake

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// waitStore blocks until cond holds on the store (checked at every write),
// or fails the test after timeout.
func waitStore(t testing.TB, s *Server, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rv := s.store.currentRV()
	for !cond() {
		evs, err := s.store.since(ctx, rv, 0)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		rv = evs[len(evs)-1].rv
	}
}

func (s *Server) pods(ns, selector string) []*corev1.Pod {
	objs, _ := s.store.list(s.reg.must("", "pods"), ns, func(o runtime.Object) bool {
		if selector == "" {
			return true
		}
		k, v, _ := strings.Cut(selector, "=")
		return accessor(o).GetLabels()[k] == v
	})
	out := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Pod)
	}
	return out
}

// waitLog waits until the pod's (first) container has logged n lines.
func waitLog(t testing.TB, s *Server, ns, name string, n int) {
	t.Helper()
	obj, err := s.store.get(s.reg.must("", "pods"), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	pod := obj.(*corev1.Pod)
	w := s.kubelet.worker(pod.UID)
	if w == nil {
		t.Fatalf("pod %s has no worker", name)
	}
	buf, _ := w.container(pod.Spec.Containers[0].Name).logs()
	timeout := time.After(15 * time.Second)
	for {
		lines, _, ch := buf.snapshot(0)
		if len(lines) >= n {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("pod %s logged %d lines, want %d", name, len(lines), n)
		}
	}
}

func countReady(ps []*corev1.Pod) int {
	n := 0
	for _, p := range ps {
		if hasPodReady(p) && p.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

// readLines reads lines from r into a channel until EOF.
func readLines(r io.Reader) <-chan string {
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

func nextLine(t testing.TB, ch <-chan string, timeout time.Duration, what string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("%s: stream ended", what)
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("%s: no line within %s", what, timeout)
	}
	return ""
}

func expectExact(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func expectMatch(t testing.TB, what, got, pattern string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(got) {
		t.Errorf("%s: %q does not match %q", what, got, pattern)
	}
}

// TestSeedChapter replays the commands of the seed chapter
// (kubectl-run.md) with real kubectl binaries and checks what they print.
func TestSeedChapter(t *testing.T) {
	forEachKubectl(t, func(t *testing.T, s *Server, k *kubectl, _ string) { seedChapter(t, s, k) })
}

func seedChapter(t *testing.T, s *Server, k *kubectl) {
	expectExact(t, "run", k.ok("run", "pingpong", "--image", "alpine", "ping", "127.0.0.1"), "pod/pingpong created\n")
	expectExact(t, "wait", k.ok("wait", "pod", "--selector=run=pingpong", "--for", "condition=ready"), "pod/pingpong condition met\n")

	// ping's first line, then a reply a second; wait for two replies.
	waitLog(t, s, "default", "pingpong", 3)
	logs := k.ok("logs", "pingpong")
	expectMatch(t, "logs", logs, `^PING 127\.0\.0\.1 \(127\.0\.0\.1\): 56 data bytes\n64 bytes from 127\.0\.0\.1: seq=0 ttl=64 time=\d+\.\d+ ms\n`)

	// --tail 1 --follow streams: the last line at once, then new ones
	// while kubectl keeps running.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := k.cmd(ctx, "logs", "pingpong", "--tail", "1", "--follow")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(stdout)
	first := nextLine(t, lines, 10*time.Second, "logs --follow first line")
	expectMatch(t, "follow line 1", first, `^64 bytes from 127\.0\.0\.1: seq=\d+ `)
	second := nextLine(t, lines, 10*time.Second, "logs --follow second line")
	expectMatch(t, "follow line 2", second, `^64 bytes from 127\.0\.0\.1: seq=\d+ `)
	if first == second {
		t.Errorf("follow repeated %q", first)
	}
	cancel()
	_ = cmd.Wait()

	out, errs, code := k.run("scale", "pod", "pingpong", "--replicas=3")
	if code != 1 || out != "" || errs != "Error from server (NotFound): the server could not find the requested resource\n" {
		t.Errorf("scale pod: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	expectExact(t, "create deployment", k.ok("create", "deployment", "pingpong", "--image=alpine", "--", "ping", "127.0.0.1"), "deployment.apps/pingpong created\n")
	k.ok("wait", "pod", "--selector=app=pingpong", "--for", "condition=ready")
	all := k.ok("get", "all")
	expectMatch(t, "get all", all, `(?s)^NAME +READY +STATUS +RESTARTS +AGE\n`+
		`pod/pingpong +1/1 +Running +0 +\d+s\n`+
		`pod/pingpong-[bcdfghjklmnpqrstvwxz2456789]{8,10}-[bcdfghjklmnpqrstvwxz2456789]{5} +1/1 +Running +0 +\d+s\n\n`+
		`NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\n`+
		`service/kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +\d+s\n\n`+
		`NAME +READY +UP-TO-DATE +AVAILABLE +AGE\n`+
		`deployment\.apps/pingpong +1/1 +1 +1 +\d+s\n\n`+
		`NAME +DESIRED +CURRENT +READY +AGE\n`+
		`replicaset\.apps/pingpong-[bcdfghjklmnpqrstvwxz2456789]{8,10} +1 +1 +1 +\d+s\n$`)

	expectExact(t, "scale deployment", k.ok("scale", "deployment", "pingpong", "--replicas", "3"), "deployment.apps/pingpong scaled\n")
	expectExact(t, "scale deployment/", k.ok("scale", "deployment/pingpong", "--replicas", "3"), "deployment.apps/pingpong scaled\n")
	k.ok("wait", "deploy", "pingpong", "--for", "condition=available")
	waitStore(t, s, 20*time.Second, "3 ready pingpong pods", func() bool { return countReady(s.pods("default", "app=pingpong")) == 3 })
	pods := k.ok("get", "pods")
	rows := strings.Split(strings.TrimSpace(pods), "\n")
	if len(rows) != 5 {
		t.Fatalf("get pods: want header and 4 pods, got:\n%s", pods)
	}
	expectMatch(t, "get pods header", rows[0], `^NAME +READY +STATUS +RESTARTS +AGE$`)
	for _, r := range rows[1:] {
		expectMatch(t, "get pods row", r, `^pingpong(-\w+-\w{5})? +1/1 +Running +0 +\d+s$`)
	}

	// Each pod's log has ping's header and replies; kubectl picks one.
	for _, p := range s.pods("default", "app=pingpong") {
		waitLog(t, s, "default", p.Name, 3)
	}
	out, errs, code = k.run("logs", "deploy/pingpong", "--tail", "2")
	if code != 0 {
		t.Fatalf("logs deploy: exit %d: %s", code, errs)
	}
	expectMatch(t, "logs deploy stdout", out, `^(64 bytes from 127\.0\.0\.1: seq=\d+ ttl=64 time=\d+\.\d+ ms\n){2}$`)
	expectMatch(t, "logs deploy stderr", errs, `^Found 3 pods, using pod/pingpong-\w+-\w{5}\n$`)
	chosen := regexp.MustCompile(`pod/(\S+)`).FindStringSubmatch(errs)[1]

	// Watch in the background while deleting the chosen pod.
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	watchCmd := k.cmd(wctx, "get", "pods", "-w")
	wout, err := watchCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watchCmd.Start(); err != nil {
		t.Fatal(err)
	}
	wlines := readLines(wout)
	expectMatch(t, "get -w header", nextLine(t, wlines, 10*time.Second, "get -w"), `^NAME +READY +STATUS +RESTARTS +AGE$`)
	for i := 0; i < 4; i++ {
		expectMatch(t, "get -w row", nextLine(t, wlines, 10*time.Second, "get -w"), `^pingpong\S* +1/1 +Running +0 +\d+s$`)
	}

	expectExact(t, "delete pod", k.ok("delete", "pod", chosen), fmt.Sprintf("pod %q deleted\n", chosen))
	waitStore(t, s, 20*time.Second, "replacement pod", func() bool {
		ps := s.pods("default", "app=pingpong")
		for _, p := range ps {
			if p.Name == chosen {
				return false
			}
		}
		return countReady(ps) == 3
	})
	// The watch saw the deletion and the replacement: Terminating, then
	// a new pod going through Pending/ContainerCreating to Running.
	sawTerminating, sawNew := false, false
	deadline := time.After(20 * time.Second)
	for !(sawTerminating && sawNew) {
		select {
		case l, ok := <-wlines:
			if !ok {
				t.Fatal("get -w ended")
			}
			if strings.HasPrefix(l, chosen+" ") && strings.Contains(l, "Terminating") {
				sawTerminating = true
			}
			if strings.HasPrefix(l, "pingpong-") && !strings.HasPrefix(l, chosen+" ") && regexp.MustCompile(`1/1 +Running`).MatchString(l) {
				sawNew = true
			}
		case <-deadline:
			t.Fatalf("get -w: terminating %v, new pod running %v", sawTerminating, sawNew)
		}
	}
	wcancel()
	_ = watchCmd.Wait()

	expectExact(t, "delete standalone pod", k.ok("delete", "pod", "pingpong"), "pod \"pingpong\" deleted\n")
	_, errs, code = k.run("get", "pod", "pingpong")
	if code != 1 || errs != "Error from server (NotFound): pods \"pingpong\" not found\n" {
		t.Errorf("get deleted pod: exit %d, stderr %q", code, errs)
	}
}
