package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
)

// screenOf renders an emulator's screen as text.
func screenOf(vt vt10x.Terminal) string {
	vt.Lock()
	defer vt.Unlock()
	cols, rows := vt.Size()
	var lines []string
	for y := 0; y < rows; y++ {
		var b strings.Builder
		for x := 0; x < cols; x++ {
			c := vt.Cell(x, y).Char
			if c == 0 {
				c = ' '
			}
			b.WriteRune(c)
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	return strings.Join(lines, "\n")
}

// `labrun step` in a real 80×24 pty: keys in, screens checked. Enter runs
// a step, the panes are drawn live (a split shows its border), s skips, r
// runs the previous step again, q quits cleanly.
func TestStepThroughPty(t *testing.T) {
	needKubectl(t)
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptm.Close()
	defer tty.Close()
	if err := pty.Setsize(ptm, &pty.Winsize{Cols: 80, Rows: 24}); err != nil {
		t.Fatal(err)
	}
	vt := vt10x.New(vt10x.WithSize(80, 24))
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := ptm.Read(buf)
			if n > 0 {
				vt.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	codec := make(chan int, 1)
	args := onShared(t, []string{"step", "../../fixtures/authors/colours.md"})
	go func() {
		codec <- execute(ctx, args, streams{in: tty, out: tty, err: tty})
	}()
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			s := screenOf(vt)
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; the screen is:\n%s", what, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	has := func(subs ...string) func(string) bool {
		return func(s string) bool {
			for _, sub := range subs {
				if !strings.Contains(s, sub) {
					return false
				}
			}
			return true
		}
	}
	key := func(k string) {
		t.Helper()
		if _, err := ptm.Write([]byte(k)); err != nil {
			t.Fatal(err)
		}
	}

	s := waitFor("the first slide", has("slide 2: A variable for later", "Remember a greeting", "› $ export GREETING=hello", "[Enter] run"))
	if strings.Contains(s, "```") || strings.Contains(s, ".lab[") {
		t.Errorf("the slide is shown as raw markdown:\n%s", s)
	}
	key("\r")
	waitFor("the end of the lab", has("✓ passed", "end of the lab  [Enter] next: slide 3: Printing in colour"))
	key("\r")
	waitFor("the next slide", has("slide 3: Printing in colour", "› $ echo \"$GREETING world\""))
	key("\r")
	s = waitFor("the step's result", has("hello world", "✓ passed"))
	// The live window was the pane's real screen: grep's colour is there.
	vt.Lock()
	red := false
	for y := 0; y < 24 && !red; y++ {
		for x := 0; x < 80; x++ {
			if g := vt.Cell(x, y); g.Char == 'w' && g.FG != vt10x.DefaultFG {
				red = true
				break
			}
		}
	}
	vt.Unlock()
	if !red {
		t.Errorf("the live pane lost its colours:\n%s", s)
	}
	key("\r")
	waitFor("the split slide", has("slide 4: Two panes side by side", "› tmux split-pane -h"))
	key("\r")
	waitFor("the split", has("│", "✓ passed", "› $ echo right pane"))
	key("s")
	waitFor("the skip", has("› tmux select-pane -t 0"))
	key("r") // runs the skipped echo after all
	waitFor("the step run again", has("│right pane\n", "✓ passed"))
	key("q")
	select {
	case code := <-codec:
		if code != 0 {
			t.Errorf("exit %d after q; screen:\n%s", code, screenOf(vt))
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("labrun step did not end after q; screen:\n%s", screenOf(vt))
	}
	waitFor("the summary", has("passed, 0 failed"))
}

// Without a terminal, step prints plain prompts and reads lines.
func TestStepPlainPrompts(t *testing.T) {
	needKubectl(t)
	var out, errs bytes.Buffer
	code := execute(context.Background(), onShared(t, []string{"step", "../../fixtures/authors/broken.md"}),
		streams{in: strings.NewReader("\n\n"), out: &out, err: &errs})
	if code != 1 {
		t.Errorf("exit %d, want 1 (the fixture's expected output is wrong)\n%s\n%s", code, out.String(), errs.String())
	}
	for _, want := range []string{"slide 2: Counting to three", "› $ seq 1 3", "[Enter] run", "✗ failed",
		"- 4", "slide 3: Something that works", "1 passed, 1 failed, 0 skipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("plain prompts carry escape sequences:\n%q", out.String())
	}
}

// --prepare replays the labs before --slide quietly, so slide 4 of the seed
// (kubectl logs pingpong) finds the pod slide 3 creates; without it, it
// does not.
func TestPrepareSeedSlide4(t *testing.T) {
	needKubectl(t)
	seed := sharedFile(t, "seed/kubectl-run.md")
	code, out, errs := labrun(t, "run", "--color", "never", "--slide", "4", seed)
	if code != 1 || !strings.Contains(out, `pods "pingpong" not found`) {
		t.Errorf("without --prepare: exit %d, want 1 with pods \"pingpong\" not found\n%s\n%s", code, out, errs)
	}
	code, out, errs = labrun(t, "run", "--color", "never", "--slide", "4", "--prepare", seed)
	if code != 0 {
		t.Fatalf("with --prepare: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "kubectl logs pingpong") || !strings.Contains(out, "prepared: replayed the 1 labs before the selection") {
		t.Errorf("with --prepare:\n%s\n%s", out, errs)
	}
}

// `labrun watch` replays the chapter, then, after a save in place and a
// save by rename (as editors do), replays from the first changed slide.
func TestWatchReplaysFromChangedSlide(t *testing.T) {
	needKubectl(t)
	src, err := os.ReadFile("../../fixtures/authors/colours.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "colours.md")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errs syncBuffer
	codec := make(chan int, 1)
	args := onShared(t, []string{"watch", "--color", "never", "--poll", "100ms", path})
	go func() {
		codec <- execute(ctx, args, streams{in: strings.NewReader(""), out: &out, err: &errs})
	}()
	waitCount := func(what string, n int) time.Time {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for strings.Count(out.String(), what) < n {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %q ×%d:\n%s\n%s", what, n, out.String(), errs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Now()
	}
	const watching = "labrun watch: watching 1 file(s)"
	waitCount(watching, 1)
	if !strings.Contains(out.String(), "PASS 1 chapter, 3 labs, 6 steps") {
		t.Errorf("first replay:\n%s", out.String())
	}

	// A save in place, on slide 4.
	edited := strings.Replace(string(src), "echo left side", "echo left side, edited", 1)
	saved := time.Now()
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	shown := waitCount("replaying from "+path+" slide 4 (Two panes side by side) (the 2 labs before it quietly first)", 1)
	t.Logf("feedback after a save: %s", shown.Sub(saved))
	waitCount(watching, 2)
	if !strings.Contains(out.String(), "$ echo left side, edited") || !strings.Contains(out.String(), "PASS 1 chapter, 1 lab, 4 steps") {
		t.Errorf("second replay:\n%s", out.String())
	}

	// A save by rename, on slide 3, with a mistake in it.
	broken := strings.Replace(edited, "The terminal shows:\n```\nhello world", "The terminal shows:\n```\nhello there", 1)
	tmp := filepath.Join(dir, ".colours.md.swp")
	if err := os.WriteFile(tmp, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitCount("replaying from "+path+" slide 3 (Printing in colour) (the 1 labs before it quietly first)", 1)
	waitCount(watching, 3)
	if !strings.Contains(out.String(), "FAIL 1 chapter, 2 labs") {
		t.Errorf("third replay:\n%s", out.String())
	}
	cancel()
	select {
	case code := <-codec:
		if code != 0 {
			t.Errorf("exit %d after Ctrl-C\n%s", code, errs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("watch did not stop")
	}
}

// Ctrl-C while step waits at a prompt ends the run cleanly, without an
// answer on stdin.
func TestStepInterruptedAtPrompt(t *testing.T) {
	needKubectl(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var out, errs syncBuffer
	codec := make(chan int, 1)
	args := onShared(t, []string{"step", "../../fixtures/authors/colours.md"})
	go func() {
		codec <- execute(ctx, args, streams{in: pr, out: &out, err: &errs})
	}()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "[Enter] run") {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt:\n%s\n%s", out.String(), errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel(errors.New("got interrupt"))
	select {
	case code := <-codec:
		if code == 0 {
			t.Errorf("exit 0 after an interrupt\n%s", out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("step did not end after the interrupt:\n%s", out.String())
	}
}

// c runs the rest of the lab without asking, and only that lab.
func TestStepContinueLastsOneLab(t *testing.T) {
	needKubectl(t)
	var out, errs bytes.Buffer
	code := execute(context.Background(), onShared(t, []string{"step", "../../fixtures/authors/colours.md"}),
		streams{in: strings.NewReader("c\n\nc\n"), out: &out, err: &errs})
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	if n := strings.Count(out.String(), "[Enter] run"); n != 3 {
		t.Errorf("%d prompts, want one per lab (3): c lasts one lab\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "6 passed, 0 failed, 0 skipped") {
		t.Errorf("not every step ran:\n%s", out.String())
	}
}
