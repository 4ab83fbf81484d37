package proc

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       Stat
		ok         bool
	}{
		{"plain", "42 (bash) S 1 42 42 34816 42 4194560", Stat{Pid: 42, PPid: 1, Pgid: 42, Sid: 42, TTY: 34816, State: 'S'}, true},
		// The command name is the process's to choose: the fields start after the last ')'.
		{"parens and spaces", "7 (a) b (c) Z 3 4 5 0 9", Stat{Pid: 7, PPid: 3, Pgid: 4, Sid: 5, State: 'Z'}, true},
		{"truncated", "7 (sh) S 1 2", Stat{}, false},
		{"no name", "7 sh S 1 2 3 4", Stat{}, false},
		{"not a number", "7 (sh) S 1 x 3 4", Stat{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseStat(7, []byte(tc.stat))
			if tc.ok {
				tc.want.Pid = got.Pid // the pid comes from the caller, not the text
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("parseStat(%q) = %+v, %v; want %+v, %v", tc.stat, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestDescendantsSessionWaitGone starts a real shell with a grandchild in a
// new session and follows it through /proc until it is gone.
func TestDescendantsSessionWaitGone(t *testing.T) {
	cmd := exec.Command("setsid", "sh", "-c", "sleep 600 & wait")
	if err := cmd.Start(); err != nil {
		t.Skipf("setsid: %v", err)
	}
	defer cmd.Process.Kill()
	var sleeper Process
	deadline := time.Now().Add(20 * time.Second)
	for sleeper.Pid == 0 && time.Now().Before(deadline) {
		for _, p := range Descendants(os.Getpid()) {
			if p.Cmd == "sleep 600" {
				sleeper = p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sleeper.Pid == 0 {
		t.Fatalf("no `sleep 600` among the descendants: %v", Descendants(os.Getpid()))
	}
	if sleeper.PPid != cmd.Process.Pid {
		t.Errorf("sleep's parent is %d, want the shell %d", sleeper.PPid, cmd.Process.Pid)
	}
	st, ok := ReadStat(sleeper.Pid)
	if !ok || st.Sid != cmd.Process.Pid || st.PPid != cmd.Process.Pid {
		t.Errorf("ReadStat(sleep) = %+v, %v; want session and parent %d", st, ok, cmd.Process.Pid)
	}
	if got := Session(cmd.Process.Pid, 0); !slices.Contains(got, sleeper.Pid) || !slices.Contains(got, cmd.Process.Pid) {
		t.Errorf("Session(%d) = %v, want the shell and its sleep", cmd.Process.Pid, got)
	}
	if left := WaitGone([]int{sleeper.Pid}, time.Now().Add(50*time.Millisecond)); !slices.Equal(left, []int{sleeper.Pid}) {
		t.Errorf("WaitGone on a running sleep = %v, want it still there", left)
	}
	if err := unix.Kill(sleeper.Pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if left := WaitGone([]int{sleeper.Pid}, time.Now().Add(30*time.Second)); len(left) != 0 {
		t.Errorf("WaitGone after KILL = %v, want none left", left)
	}
	_ = cmd.Wait()
	if got := Session(cmd.Process.Pid, 0); len(got) != 0 {
		t.Errorf("Session after the shell's exit = %v", got)
	}
}
