package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
)

// asLabrun makes exec of this test binary run labrun's main (see TestMain)
// outside the test binary's network namespace, with TMPDIR tmp, and
// returns the environment for such a child.
func asLabrun(t *testing.T, tmp string) []string {
	t.Helper()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "LABRUN_NETNS") || strings.HasPrefix(kv, "TMPDIR=")
	})
	return append(env, "LABRUN_TEST_AS_MAIN=1", "TMPDIR="+tmp)
}

// tmpEmpty fails the test when dir holds anything: what a run leaves.
func tmpEmpty(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

// `run -j 2` of two decks on the built-in cluster: each unit is a labrun
// process of its own in a network namespace of its own, so that two
// built-in clusters run side by side (both decks create deployment web in
// the default namespace, which one cluster would refuse the second time);
// the parent merges their reports in deck order and leaves nothing behind.
func TestParallelBuiltinUnits(t *testing.T) {
	needKubectl(t)
	needControlPlane(t)
	tmp, dir := t.TempDir(), t.TempDir()
	var decks []string
	for _, name := range []string{"first", "second"} {
		deck := filepath.Join(dir, name+".md")
		src := "# " + name + "\n\n---\n\n## A cluster of its own\n\n.lab[\n\n```bash\nkubectl create deployment web --image=nginx\n```\n\n```bash\nkubectl get deployments -o name\n```\n\n]\n"
		if err := os.WriteFile(deck, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		decks = append(decks, deck)
	}
	rep := filepath.Join(t.TempDir(), "run.json")
	// Not the test binary's namespace, whose cluster DNS address the
	// shared cluster may hold: a labrun of its own, as a user runs it.
	cmd := exec.Command(os.Args[0], append([]string{"run", "-q", "--color", "never", "-j", "2", "--report", "json=" + rep}, decks...)...)
	cmd.Env = asLabrun(t, tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := readRun(t, rep)
	if len(r.Chapters) != 2 || r.Chapters[0].File != decks[0] || r.Chapters[1].File != decks[1] {
		t.Fatalf("chapters %+v, want first.md then second.md", r.Chapters)
	}
	for _, want := range []string{"── " + decks[0] + " ──", "── " + decks[1] + " ──", "── all 2 ──", "PASS 2 chapters, 2 labs, 4 steps: 4 passed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	tmpEmpty(t, tmp)
}

// A second built-in cluster in a namespace that holds one is refused
// before it starts, saying why and what to do.
func TestSecondBuiltinClusterRefused(t *testing.T) {
	needKubectl(t)
	builtintest.Shared(t) // the test binary's namespace now holds a cluster
	code, out, errs := labrunOwn(t, "run", "--color", "never", "--cluster", "builtin", "../../fixtures/demo/pingpong.md")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitUsage, out, errs)
	}
	for _, want := range []string{"already holds a built-in cluster", "--cluster kubeconfig"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q: %s", want, errs)
		}
	}
	if strings.Contains(errs, "address already in use") {
		t.Errorf("the refusal came late, from the bind: %s", errs)
	}
}

// SIGINT to a run's whole process group (timeout(1), a CI runner) reaches
// labrun and, passed on, its process in the network namespace: one
// interrupt, not two, so the run stops its cluster and cleans up: exit
// 130 and nothing left in TMPDIR.
func TestGroupInterrupt(t *testing.T) {
	needKubectl(t)
	needControlPlane(t)
	tmp, dir := t.TempDir(), t.TempDir()
	started := filepath.Join(dir, "started")
	deck := filepath.Join(dir, "long.md")
	src := "# Long\n\n---\n\n## Sleeping\n\n.lab[\n\n```bash\ntouch " + started + "; sleep 300\n```\n\n]\n"
	if err := os.WriteFile(deck, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(os.Args[0], "run", "--color", "never", "--timeout", "10m", deck)
	cmd.Env = asLabrun(t, tmp)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(5 * time.Minute)
wait:
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("labrun ended (%v) before the step started:\n%s", err, out.String())
		case <-deadline:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("the step never started:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
			continue wait
		}
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("labrun did not stop after SIGINT:\n%s", out.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitSignals {
		t.Errorf("exit %v, want %d:\n%s", err, exitSignals, out.String())
	}
	if strings.Contains(out.String(), "exiting now") {
		t.Errorf("one interrupt was taken for two:\n%s", out.String())
	}
	tmpEmpty(t, tmp)
}
