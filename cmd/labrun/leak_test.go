package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/internal/proc"
)

// TestNoProcessSurvives runs labrun as a child of this test process, which
// is made a child subreaper: every process labrun starts, directly or through
// shells, setsid and `&`, that outlives it is reparented here, where the test
// finds it. Runs that time out and runs interrupted by SIGINT are covered.
// Each run starts a built-in cluster of its own, the default, in a network
// namespace of its own (the shared cluster's holds the cluster DNS address).
func TestNoProcessSurvives(t *testing.T) {
	needKubectl(t)
	needControlPlane(t) // each run starts a built-in cluster of its own
	if os.Getenv("LABRUN_LEAKTEST_CHILD") != "" {
		t.Skip("already inside the leak test")
	}
	if err := proc.BecomeSubreaper(); err != nil {
		t.Skipf("cannot become a child subreaper (%v): this test needs Linux", err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		signal bool
	}{
		{"step times out", []string{"--timeout", "3s"}, false},
		{"interrupted by SIGINT", []string{"--timeout", "60s"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-test.run=^TestLabrunChild$", "--", "run", "--color", "never"}, tc.args...)
			args = append(args, "../../fixtures/leak/leak.md")
			cmd := exec.Command(os.Args[0], args...)
			tmp := t.TempDir()
			// Not the test binary's network namespace: the child enters one
			// of its own, as labrun does.
			env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "LABRUN_NETNS") })
			cmd.Env = append(env, "LABRUN_LEAKTEST_CHILD=1", "TMPDIR="+tmp)
			// The shared cluster's processes, if it runs, are ours already.
			before := orphans(t)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			signalled := false
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				out.WriteString(line + "\n")
				// The last step, `sleep 1004`, is running once the step before it passed.
				if tc.signal && !signalled && strings.Contains(line, "sleep 1003 &") {
					signalled = true
					// Give the shell the line: signal once sleep 1004 is among our descendants.
					waitFor(t, func() bool { return len(descendants(t, "sleep 1004")) > 0 })
					if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
						t.Fatal(err)
					}
				}
			}
			err = cmd.Wait()
			t.Logf("labrun output:\n%s", out.String())
			want := exitFailed // the leak fixture's run fails
			if tc.signal {
				want = exitSignals // Ctrl-C
			}
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != want {
				t.Errorf("labrun exited with %v, want status %d", err, want)
			}
			if tc.signal && !strings.Contains(out.String(), "interrupted") {
				t.Errorf("the report does not say the run was interrupted")
			}
			// The sandbox (HOME, cluster files, pane state) is gone too.
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
				t.Errorf("temporary files outlived labrun: %v", left)
			}
			// Anything left is now our child. Allow processes being killed time to die.
			var left []string
			waitFor(t, func() bool {
				left = slices.DeleteFunc(orphans(t), func(p string) bool { return slices.Contains(before, p) })
				return len(left) == 0
			})
			if len(left) > 0 {
				t.Errorf("processes outlived labrun:\n%s", strings.Join(left, "\n"))
				for _, l := range left {
					pid, _ := strconv.Atoi(strings.Fields(l)[0])
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
	}
}

// TestLabrunChild is labrun's main when the leak test runs this binary.
func TestLabrunChild(t *testing.T) {
	if os.Getenv("LABRUN_LEAKTEST_CHILD") == "" {
		t.Skip("only runs as the child of TestNoProcessSurvives")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(args, os.Stdin, os.Stdout, os.Stderr))
}

// waitFor re-checks cond until it holds or five seconds pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// orphans reaps our dead children and lists the living ones.
func orphans(t *testing.T) []string {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			break
		}
	}
	return children(t, os.Getpid())
}

func children(t *testing.T, ppid int) []string {
	var out []string
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		rest := s[strings.LastIndexByte(s, ')')+2:]
		f := strings.Fields(rest)
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if p, _ := strconv.Atoi(f[1]); p == ppid {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			out = append(out, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
		}
	}
	return out
}

// descendants lists our descendants whose command line contains text.
func descendants(t *testing.T, text string) []string {
	var out []string
	queue := []int{os.Getpid()}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children(t, p) {
			pid, _ := strconv.Atoi(strings.Fields(c)[0])
			queue = append(queue, pid)
			if strings.Contains(c, text) {
				out = append(out, c)
			}
		}
	}
	return out
}
