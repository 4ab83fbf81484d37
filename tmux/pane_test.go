package tmux

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/internal/proc"
)

// geometry lists the panes like `tmux list-panes -F '#{pane_index}
// #{pane_left},#{pane_top} #{pane_width}x#{pane_height} #{pane_active}'`.
func geometry(m *Mux) []string {
	var out []string
	act := m.Active()
	for i, p := range m.Panes() {
		x, y, w, h := p.Geometry()
		a := 0
		if p == act {
			a = 1
		}
		out = append(out, fmt.Sprintf("%d %d,%d %dx%d %d", i, x, y, w, h, a))
	}
	return out
}

// realTmux runs the commands in a private tmux server of the given size and
// returns its list-panes in the geometry format.
func realTmux(t *testing.T, cols, rows int, cmds []string) []string {
	t.Helper()
	tm, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux not installed: CI installs it to compare layouts with (.ci/run)")
		}
		t.Skip("skipping the comparison with real tmux: tmux not installed")
	}
	// a short socket path: unix socket paths are limited to 108 bytes
	sockDir, err := os.MkdirTemp("", "lt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := sockDir + "/s"
	env := append(os.Environ(), "TMUX=")
	tmux := func(args ...string) string {
		cmd := exec.Command(tm, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows), "sh")
	t.Cleanup(func() {
		cmd := exec.Command(tm, "-S", sock, "kill-server")
		cmd.Env = env
		cmd.Run()
	})
	for _, c := range cmds {
		tmux(strings.Fields(c)...)
	}
	out := tmux("list-panes", "-F", "#{pane_index} #{pane_left},#{pane_top} #{pane_width}x#{pane_height} #{pane_active}")
	return strings.Split(strings.TrimSpace(out), "\n")
}

func TestLayoutMatchesTmux(t *testing.T) {
	tests := []struct {
		name       string
		cols, rows int
		cmds       []string
	}{
		{"split -v", 120, 40, []string{"split-window -v"}},
		{"split -h", 120, 40, []string{"split-window -h"}},
		{"split twice", 120, 40, []string{"split-window -v", "split-window -v"}},
		{"split first pane again", 120, 40, []string{"split-window -v", "split-window -v", "select-pane -t 0", "split-window -h"}},
		{"mixed", 120, 40, []string{"split-window -v", "split-window -h", "split-window -v", "select-pane -t 1", "split-window -v"}},
		{"kill middle", 120, 40, []string{"split-window -v", "split-window -h", "select-pane -t 0", "kill-pane -t 1"}},
		{"kill first", 120, 40, []string{"split-window -v", "split-window -v", "kill-pane -t 0"}},
		{"kill active goes to last", 120, 40, []string{"split-window -v", "split-window -v", "select-pane -t 0", "select-pane -t 2", "kill-pane"}},
		{"even-vertical", 120, 40, []string{"split-window -v", "split-window -h", "split-window -v", "select-layout even-vertical"}},
		{"even-horizontal", 120, 40, []string{"split-window -v", "split-window -h", "split-window -v", "select-layout even-horizontal"}},
		{"tiled 3", 120, 40, []string{"split-window", "split-window", "select-layout tiled"}},
		{"tiled 4", 120, 40, []string{"split-window", "split-window", "split-window -h", "select-layout tiled"}},
		{"tiled 5", 100, 30, []string{"split-window", "split-window -h", "split-window", "split-window -h", "select-layout tiled"}},
		{"main-horizontal", 120, 40, []string{"split-window", "split-window -h", "split-window", "select-layout main-horizontal"}},
		{"main-vertical", 120, 40, []string{"split-window", "split-window -h", "split-window", "select-layout main-vertical"}},
		{"last-pane", 120, 40, []string{"split-window -h", "split-window -v", "last-pane"}},
		{"odd size", 81, 25, []string{"split-window -h", "split-window -v", "split-window -h"}},
		{"split -d -l", 120, 40, []string{"split-window -d -l 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := realTmux(t, tt.cols, tt.rows, tt.cmds)
			m := newMux(t, Options{Cols: tt.cols, Rows: tt.rows})
			for _, c := range tt.cmds {
				if err := m.Command(testCtx(t), c); err != nil {
					t.Fatalf("Command(%q): %v", c, err)
				}
			}
			if got := geometry(m); !reflect.DeepEqual(got, want) {
				t.Errorf("panes:\n%s\ntmux:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// The programs in the panes see the sizes: the pty is resized, not only the
// emulator.
func TestSplitResizesPty(t *testing.T) {
	m := newMux(t, Options{})
	p0 := m.Active()
	if err := p0.Start(testCtx(t), `bash -c 'trap "echo size=\$(stty size)" WINCH; echo ar""med; while :; do sleep 0.05; done'`); err != nil {
		t.Fatal(err)
	}
	// The resize must come after the trap is set, or the signal is lost
	// (the typed line shows ar""med; only the program prints armed).
	if err := p0.WaitText(testCtx(t), "armed"); err != nil {
		t.Fatalf("%v\nscreen:\n%s", err, p0.Screen())
	}
	p1, err := m.Split(testCtx(t), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p0.WaitText(testCtx(t), "size=20 120"); err != nil {
		t.Fatalf("%v\nscreen:\n%s", err, p0.Screen())
	}
	if r := run(t, p1, "stty size"); r.Output != "19 120\n" {
		t.Errorf("new pane stty size = %q", r.Output)
	}
	if err := p0.Interrupt(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if r := run(t, p0, "stty size"); r.Output != "20 120\n" {
		t.Errorf("old pane stty size = %q", r.Output)
	}
	_, rows := p1.Size()
	if strings.Count(p1.Screen(), "\n") >= rows {
		t.Errorf("screen of pane 1 has more than %d lines", rows)
	}
}

func TestSelectLastKill(t *testing.T) {
	m := newMux(t, Options{})
	ctx := testCtx(t)
	p0 := m.Active()
	for _, c := range []string{"split-pane -v", "splitw -h"} {
		if err := m.Command(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	ps := m.Panes()
	if len(ps) != 3 || m.Active() != ps[2] {
		t.Fatalf("after two splits: %d panes, active %d", len(ps), m.Active().Index())
	}
	steps := []struct {
		cmd    string
		active int
	}{
		{"select-pane -t 0", 0},
		{"last-pane", 2},
		{"selectp -t 1", 1},
		{"lastp", 2},
		{"select-pane -t :.+", 0},
		{"select-pane -l", 2},
	}
	for _, s := range steps {
		if err := m.Command(ctx, s.cmd); err != nil {
			t.Fatalf("%s: %v", s.cmd, err)
		}
		if got := m.Active().Index(); got != s.active {
			t.Fatalf("after %q active = %d, want %d", s.cmd, got, s.active)
		}
	}
	// kill-pane the active pane 2: focus to the last pane (0).
	if err := m.Command(ctx, "kill-pane"); err != nil {
		t.Fatal(err)
	}
	if len(m.Panes()) != 2 || m.Active() != p0 || ps[2].Alive() || ps[2].Index() != -1 {
		t.Fatalf("after kill-pane: %v", geometry(m))
	}
	if err := m.Command(ctx, "last-pane"); err == nil {
		t.Errorf("last-pane after the last pane was killed: no error")
	}

	errs := []struct {
		cmd     string
		unknown bool
	}{
		{"resize-pane -Z", true},
		{"select-pane -t 9", false},
		{"split-window -x", false},
		{"select-layout fancy", false},
		{"select-layout", false},
		{"split-window -v -h", false},
		{"", false},
	}
	for _, e := range errs {
		err := m.Command(ctx, e.cmd)
		var ue *UnknownCommandError
		var ce *CommandError
		switch {
		case e.unknown && !errors.As(err, &ue):
			t.Errorf("%q: %v, want *UnknownCommandError", e.cmd, err)
		case !e.unknown && !errors.As(err, &ce):
			t.Errorf("%q: %v, want *CommandError", e.cmd, err)
		}
	}
	if !strings.Contains(m.Command(ctx, "resize-pane").Error(), "resize-pane") {
		t.Errorf("the error does not name the command")
	}
}

func TestCtrlDClosesPaneFocusMoves(t *testing.T) {
	m := newMux(t, Options{})
	ctx := testCtx(t)
	p0 := m.Active()
	p1, err := m.Split(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := m.Split(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	// the seed's dance: select 0, back to the last, ^D there.
	if err := m.Select(0); err != nil {
		t.Fatal(err)
	}
	if err := m.Last(); err != nil {
		t.Fatal(err)
	}
	if err := m.Active().Key(ctx, "^D"); err != nil {
		t.Fatal(err)
	}
	if p2.Alive() || len(m.Panes()) != 2 || m.Active() != p0 {
		t.Fatalf("after ^D in pane 2: alive=%v panes=%v active=%d", p2.Alive(), geometry(m), m.Active().Index())
	}
	// A shell exiting in a pane that is not active leaves the focus alone;
	// the pane after it moves up one index.
	if _, err := m.Split(ctx, false); err != nil { // new pane 1, active
		t.Fatal(err)
	}
	p3 := m.Active()
	_, err = p0.Run(ctx, "exit")
	var se *ShellExitedError
	if !errors.As(err, &se) || se.Pane != 0 {
		t.Fatalf("Run exit: %v", err)
	}
	if m.Active() != p3 || p1.Index() != 1 || p3.Index() != 0 {
		t.Fatalf("after pane 0 exited: active=%d p1=%d p3=%d", m.Active().Index(), p1.Index(), p3.Index())
	}
	if x, y, w, h := p3.Geometry(); x != 0 || y != 0 || w != 120 || h != 20 {
		t.Errorf("pane taking the space: %d,%d %dx%d", x, y, w, h)
	}
}

func TestScreenOfInactivePane(t *testing.T) {
	m := newMux(t, Options{})
	p0 := m.Active()
	run(t, p0, "echo pingpong-5f8d9-abcde")
	p1, err := m.Split(testCtx(t), false)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p1, "echo in the other pane")
	if !strings.Contains(p0.Screen(), "pingpong-5f8d9-abcde") {
		t.Errorf("pane 0 screen:\n%s", p0.Screen())
	}
	if strings.Contains(p1.Screen(), "pingpong") {
		t.Errorf("pane 1 shows pane 0's text:\n%s", p1.Screen())
	}
}

func TestWatchAndCtrlC(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	ctx := testCtx(t)
	if err := p.Start(ctx, "watch -n 0.1 date"); err != nil {
		t.Fatal(err)
	}
	if !p.Busy() {
		t.Errorf("not busy right after Start")
	}
	if err := p.WaitText(ctx, "Every 0.1s"); err != nil {
		t.Fatalf("%v\n%s", err, p.Screen())
	}
	if err := p.Key(ctx, "^C"); err != nil {
		t.Fatal(err)
	}
	r, err := p.WaitPrompt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Statuses) != 1 || p.Busy() {
		t.Errorf("statuses %v, busy %v", r.Statuses, p.Busy())
	}
	if strings.Contains(p.Screen(), "Every 0.1s") {
		t.Errorf("watch's screen still shows:\n%s", p.Screen())
	}
	// WaitPrompt at an idle prompt returns at once, with nothing new.
	r, err = p.WaitPrompt(ctx)
	if err != nil || len(r.Statuses) != 0 {
		t.Errorf("idle WaitPrompt: %v %v", r, err)
	}
}

func TestKeysThenCheck(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	ctx := testCtx(t)
	if err := p.Type(ctx, "ls /nonexistent-dir "); err != nil {
		t.Fatal(err)
	}
	if p.Busy() {
		t.Errorf("busy with a half-typed line")
	}
	if err := p.Key(ctx, "^J"); err != nil {
		t.Fatal(err)
	}
	r, err := p.WaitPrompt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Statuses, []int{2}) || p.LastStatus() != 2 || !strings.Contains(r.Output, "No such file") {
		t.Errorf("result %+v, last status %d", r, p.LastStatus())
	}
}

func TestVim(t *testing.T) {
	if _, err := exec.LookPath("vim"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no vim: CI installs it (.ci/run)")
		}
		t.Skip("skipping: no vim to drive")
	}
	m := newMux(t, Options{})
	p := m.Active()
	ctx := testCtx(t)
	run(t, p, "printf 'first line\\nsecond line\\n' > f.txt")
	if err := p.Start(ctx, "vim f.txt"); err != nil {
		t.Fatal(err)
	}
	// vim prints the file message, clears, draws the text, then the
	// message again
	for _, text := range []string{"\n~\n~\n", `"f.txt" 2L`} {
		if err := p.WaitText(ctx, text); err != nil {
			t.Fatalf("%v\n%s", err, p.Screen())
		}
	}
	// vim may still be redrawing its last line: look until the screen
	// settles into the file's text over a full window of rows.
	drawn := func() bool {
		lines := strings.Split(p.Screen(), "\n")
		return len(lines) == 40 && lines[0] == "first line" && lines[1] == "second line" && lines[2] == "~"
	}
	for !drawn() {
		select {
		case <-ctx.Done():
			t.Fatalf("vim screen:\n%s", p.Screen())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// edit like a person: down, change a word, save and quit.
	for _, k := range []string{"Down", "c", "w"} {
		if err := p.Key(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Type(ctx, "2nd"); err != nil {
		t.Fatal(err)
	}
	if err := p.Key(ctx, "Escape"); err != nil {
		t.Fatal(err)
	}
	if err := p.Type(ctx, ":wq"); err != nil {
		t.Fatal(err)
	}
	if err := p.Key(ctx, "Enter"); err != nil {
		t.Fatal(err)
	}
	r, err := p.WaitPrompt(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, p.Screen())
	}
	if !reflect.DeepEqual(r.Statuses, []int{0}) {
		t.Errorf("vim status %v", r.Statuses)
	}
	if r := run(t, p, "cat f.txt"); r.Output != "first line\n2nd line\n" {
		t.Errorf("file after edit: %q", r.Output)
	}
	// the alternate screen is gone: the shell's lines are back.
	if !strings.Contains(p.Screen(), "vim f.txt") {
		t.Errorf("screen after vim:\n%s", p.Screen())
	}
}

func TestFloodDoesNotBlock(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	r := run(t, p, "head -c 20000000 /dev/zero | tr '\\0' x; echo; echo done")
	if !reflect.DeepEqual(r.Statuses, []int{0}) {
		t.Errorf("statuses %v", r.Statuses)
	}
	if len(r.Output) > outputMax+200 || !strings.HasSuffix(r.Output, "\ndone\n") || !strings.HasPrefix(r.Output, "[labrun: ") {
		t.Errorf("output: %d bytes, starts %q, ends %q", len(r.Output), r.Output[:min(60, len(r.Output))], r.Output[max(0, len(r.Output)-20):])
	}
	if lastLine(p.Screen()) == "" || !strings.Contains(p.Screen(), "done") {
		t.Errorf("screen:\n%s", p.Screen())
	}
}

func TestInterrupt(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	tests := []struct {
		name     string
		block    string
		replaced bool
	}{
		{"sleep stops on ^C", "sleep 1000", false},
		{"shell loop stops on ^C", "while :; do :; done", false},
		{"a program ignoring SIGINT is killed", `bash -c "trap '' INT; sleep 1000"`, false},
		{"a stuck shell is replaced", "trap '' INT; echo loop''ing; while :; do :; done", true},
	}
	dir := t.TempDir()
	run(t, p, "cd "+dir+" && export KEPT=yes")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			if err := p.Start(ctx, tt.block); err != nil {
				t.Fatal(err)
			}
			if tt.replaced { // the trap must be set before the ^C comes
				if err := p.WaitText(ctx, "\nlooping"); err != nil {
					t.Fatal(err)
				}
			}
			err := p.Interrupt(ctx)
			var re *ShellReplacedError
			if tt.replaced != errors.As(err, &re) || (!tt.replaced && err != nil) {
				t.Fatalf("Interrupt: %v, want replaced=%v", err, tt.replaced)
			}
			if p.Busy() || !p.Alive() {
				t.Fatalf("busy=%v alive=%v\n%s", p.Busy(), p.Alive(), p.Screen())
			}
			if r := run(t, p, `echo "$KEPT $PWD"`); r.Output != "yes "+dir+"\n" {
				t.Errorf("after interrupt: %q", r.Output)
			}
		})
	}
}

// Close ends every process of every pane's session: background jobs,
// stopped jobs, nohup'd ones, foreground commands.
func TestCloseLeavesNothing(t *testing.T) {
	m := newMux(t, Options{})
	ctx := testCtx(t)
	p0 := m.Active()
	pidFile := t.TempDir() + "/escaped.pid"
	run(t, p0, "sleep 1000 &\nnohup sleep 1001 >/dev/null 2>&1 &\n(trap '' TERM HUP; exec sleep 1002) &\n"+
		"setsid sh -c 'echo $$ > "+pidFile+"; exec sleep 1005' &\n"+
		"until [ -s "+pidFile+" ]; do sleep 0.01; done")
	if err := p0.Start(ctx, "sleep 1003"); err != nil {
		t.Fatal(err)
	}
	p1, err := m.Split(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	// the job prints once it runs (in the foreground), so ^Z reaches it
	if err := p1.Start(ctx, "sh -c 'echo started; exec sleep 1004'"); err != nil {
		t.Fatal(err)
	}
	if err := p1.WaitText(ctx, "\nstarted"); err != nil {
		t.Fatal(err)
	}
	if err := p1.Key(ctx, "^Z"); err != nil { // a stopped job
		t.Fatal(err)
	}
	if _, err := p1.WaitPrompt(ctx); err != nil {
		t.Fatal(err)
	}
	sids := []int{p0.PID(), p1.PID()}
	for _, sid := range sids {
		if n := len(proc.Session(sid, 0)); n < 2 {
			t.Fatalf("session %d has %d processes before Close", sid, n)
		}
	}
	escaped := 0
	b, _ := os.ReadFile(pidFile)
	fmt.Sscan(string(b), &escaped)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if escaped == 0 {
		t.Errorf("the process that left the session did not write its pid")
	} else if p, ok := proc.ReadStat(escaped); ok && p.State != 'Z' {
		t.Errorf("process %d that left the session (setsid) but held the terminal survived", escaped)
	}
	for _, sid := range sids {
		if left := proc.Session(sid, 0); len(left) > 0 {
			t.Errorf("session %d still has %v", sid, left)
		}
		if err := syscall.Kill(sid, 0); err == nil {
			if p, ok := proc.ReadStat(sid); ok && p.State != 'Z' {
				t.Errorf("shell %d alive", sid)
			}
		}
	}
	if err := m.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, err := p0.Run(ctx, "true"); err == nil {
		t.Errorf("Run after Close: no error")
	}
}

func TestCloseIsQuickWhenIdle(t *testing.T) {
	// Not a timing assertion: Close must not need the grace period when
	// everything leaves on the first signal, which the deadline below shows.
	m := newMux(t, Options{})
	done := make(chan struct{})
	go func() { m.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close hangs")
	}
}
