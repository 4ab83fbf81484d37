package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// `labrun watch --cluster builtin`, the real binary in a real pty: it runs
// in a network namespace of its own, replays the chapter, puts the cluster
// back after the replay (the ClusterRole, namespace and node label the
// labs made are undone), replays from the changed slide after a save, and
// leaves nothing behind after Ctrl-C.
func TestWatchWarmBuiltinInPty(t *testing.T) {
	if testing.Short() {
		t.Skip("builds labrun and starts the built-in cluster")
	}
	needKubectl(t)
	k8s, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		upstreamtest.SkipOrFail(t, "needs go to build labrun: "+err.Error())
	}
	dir := t.TempDir()
	labrunBin := filepath.Join(dir, "labrun")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goCmd, "build", "-o", labrunBin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src, err := os.ReadFile("../../fixtures/authors/shop.md")
	if err != nil {
		t.Fatal(err)
	}
	chapter := filepath.Join(dir, "shop.md")
	if err := os.WriteFile(chapter, src, 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, labrunBin, "watch", "-v", "--cluster", "builtin", "--color", "never", "--poll", "100ms", chapter)
	// The test binary's namespace holds the shared cluster: the watch makes
	// a namespace of its own, as it does when a person starts it.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "LABRUN_NETNS") })
	cmd.Env = append(env, "TMPDIR="+tmp, "PATH="+filepath.Dir(k8s)+string(os.PathListSeparator)+os.Getenv("PATH"))
	ptm, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 120, Rows: 40})
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptm.Close()
	var mu sync.Mutex
	var raw bytes.Buffer
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := ptm.Read(buf)
			mu.Lock()
			raw.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ansi := regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return ansi.ReplaceAllString(raw.String(), "")
	}
	const watching = "labrun watch: watching 1 file(s)"
	waitFor := func(what string, n int) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Minute)
		for {
			out := output()
			if strings.Count(out, what) >= n {
				return out
			}
			select {
			case err := <-exited:
				t.Fatalf("labrun watch exited (%v) while waiting for %q ×%d:\n%s", err, what, n, out)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %q ×%d:\n%s", what, n, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	out := waitFor(watching, 1)
	if !strings.Contains(out, "PASS 1 chapter, 3 labs, 5 steps") {
		t.Fatalf("first replay:\n%s", out)
	}
	// The replay runs in a network namespace of its own, as run does.
	if kids := children(t, cmd.Process.Pid); len(kids) == 0 {
		t.Errorf("labrun watch started no process in a network namespace")
	} else if self, kid := netns(strconv.Itoa(os.Getpid())), netns(strings.Fields(kids[0])[0]); kid == self {
		if os.Getenv("CI") != "" {
			t.Errorf("labrun watch runs in this network namespace (%s)", self)
		} else {
			t.Logf("no network namespace could be made here: labrun watch runs in this one")
		}
	}
	out = waitFor("labrun watch: cluster put back as it started:", 1)
	for _, undone := range []string{"clusterroles.rbac.authorization.k8s.io shop-reader", "namespaces shop", "put back 1 (nodes node2)"} {
		if !strings.Contains(out, undone) {
			t.Errorf("after the first replay, %q was not undone:\n%s", undone, out)
		}
	}

	// A save on the first lab's slide: its ClusterRole is made again,
	// which fails unless the first replay's was undone.
	edited := strings.Replace(string(src), "--verb=get,list ", "--verb=get,list,watch ", 1)
	if err := os.WriteFile(chapter, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("replaying from "+chapter+" slide 2 (A namespace and a role for the shop)", 1)
	out = waitFor(watching, 2)
	second := out[strings.Index(out, "replaying from"):]
	for _, want := range []string{"clusterrole.rbac.authorization.k8s.io/shop-reader created", "--verb=get,list,watch", "node/node2 labeled", "PASS 1 chapter, 3 labs, 5 steps"} {
		if !strings.Contains(second, want) {
			t.Errorf("second replay: no %q in\n%s", want, second)
		}
	}

	// Ctrl-C, as a person types it: the cluster, the shells and their
	// files go.
	if _, err := ptm.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitSignals {
				t.Errorf("labrun watch after Ctrl-C: %v\n%s", err, output())
			}
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("labrun watch did not stop after Ctrl-C:\n%s", output())
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("left in TMPDIR after Ctrl-C: %s", strings.Join(names, ", "))
	}
}

// netns names a process's network namespace.
func netns(pid string) string {
	s, _ := os.Readlink(filepath.Join("/proc", pid, "ns", "net"))
	return s
}
