package executor

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// TestEveryStepKind replays fixtures/steps/every-step.md, where each lab
// exercises a step kind or a failure mode, and checks each step's outcome.
func TestEveryStepKind(t *testing.T) {
	kubectl := needKubectl(t)
	if _, err := exec.LookPath("vim"); err != nil {
		t.Fatalf("this test types into vim, and there is none: %v (Debian: apt-get install vim)", err)
	}
	// The deck holds a regex that does not compile on purpose: the parser
	// reports it, and the run still goes on to fail that one step.
	deck, diags := parser.Load("../fixtures/steps/every-step.md", os.ReadFile)
	if len(diags) != 2 || !strings.Contains(diags[0].Message, "does not compile") || !strings.Contains(diags[1].Message, "frobnicate") {
		t.Fatalf("want two diagnostics, for the bad regex and the unknown directive; got %v", diags)
	}
	var c collect
	// 20 s a step: printing 2 MB takes more than 8 s under -race on a loaded
	// 2-core machine; two steps wait for their timeout on purpose.
	res, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 20 * time.Second, Sink: &c}))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind, cmd string
		status    report.Status
		reason    string // substring of the reason
		pane      int
	}
	wants := []want{
		{"command", "cd /tmp", report.Passed, "", 0},
		{"command", "kubectl get pod nope", report.Passed, "", 0},
		{"command", "false", report.Failed, "exited with status 1", 0},
		{"hide", `test "$PWD" = /tmp`, report.Passed, "", 0},
		{"hide", "exit 3", report.Failed, "hidden command exited with status 3", 0},
		{"command", "for i in 1 2 3", report.Passed, "", 0},
		{"wait", "tick 3", report.Passed, "", 0},
		{"key", "^C", report.Passed, "", 0},
		{"check", "", report.Failed, "status 130", 0},
		{"command", "sleep 100", report.Passed, "", 0},
		{"wait", "this text never shows", report.Failed, "did not show on pane 0 within 20s", 0},
		{"command", `echo "the id is id-4242-x"`, report.Passed, "", 0},
		{"copy", "id-[0-9]+-x", report.Passed, "", 0},
		{"keys", "echo copied ", report.Passed, "", 0},
		{"paste", "id-4242-x", report.Passed, "", 0},
		{"key", "Enter", report.Passed, "", 0},
		{"check", "", report.Passed, "", 0},
		{"copypaste", "id-4242", report.Passed, "", 0},
		{"key", "^C", report.Passed, "", 0},
		{"paste", "", report.Failed, "clipboard is empty", 0},
		{"copy", "(unclosed", report.Failed, "bad regular expression", 0},
		{"key", "NoSuchKey", report.Failed, "NoSuchKey", 0},
		{"frobnicate", "the widget", report.Skipped, `unknown directive "frobnicate"`, 0},
		{"tmux", "split-pane -h", report.Passed, "", 1},
		{"tmux", "select-pane -t 0", report.Passed, "", 0},
		{"tmux", "last-pane", report.Passed, "", 1},
		{"tmux", "selectl even-vertical", report.Passed, "", 1},
		{"tmux", "kill-pane", report.Passed, "", 0},
		{"tmux", "frobnicate", report.Failed, "frobnicate", 0},
		{"command", "echo back in pane 0", report.Passed, "", 0},
		{"command", "exit 4", report.Failed, "exit", 0},
		{"command", "echo a new shell", report.Passed, "", 0},
		{"command", "sleep 1000", report.Failed, "timed out after 20s", 0},
		{"command", "yes labrun", report.Passed, "", 0},
		{"command", "sleep 1000 &", report.Passed, "", 0},
		{"command", "vim -u NONE note.txt", report.Passed, "", 0},
		{"keys", "ihello from vim", report.Passed, "", 0},
		{"key", "Escape", report.Passed, "", 0},
		{"keys", ":wq", report.Passed, "", 0},
		{"key", "Enter", report.Passed, "", 0},
		{"check", "", report.Passed, "", 0},
		{"command", "cat note.txt", report.Passed, "", 0},
	}
	var got []string
	for _, s := range c.steps {
		got = append(got, fmt.Sprintf("%s %s:%d %s %q pane %d: %s", s.Status, s.File, s.Line, s.Kind, text.FirstLine(s.Command), s.Pane, s.Reason))
	}
	if len(c.steps) != len(wants) {
		t.Fatalf("%d steps ran, want %d:\n%s", len(c.steps), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		s := c.steps[i]
		if s.Kind != w.kind || !strings.HasPrefix(s.Command, w.cmd) || s.Status != w.status ||
			!strings.Contains(s.Reason, w.reason) || s.Pane != w.pane {
			t.Errorf("step %d: got %s\n  want %s %s %q pane %d: …%s…\n%s", i, got[i], w.status, w.kind, w.cmd, w.pane, w.reason, s.Screen)
		}
		if s.Status == report.Failed && s.Screen == "" && s.Kind != "hide" {
			t.Errorf("step %d failed without the screen attached", i)
		}
	}
	// The exited shell was replaced, and the report says so.
	if !strings.Contains(strings.Join(res.Notes, "\n"), "a new one was started") {
		t.Errorf("notes do not say the shell was replaced: %q", res.Notes)
	}
	// The expected output of the last lab was checked.
	if last := c.steps[len(c.steps)-1]; last.Expected == "" || !strings.Contains(last.Actual, "hello from vim") {
		t.Errorf("vim's file was not checked: expected %q, actual %q", last.Expected, last.Actual)
	}
	if res.Status != report.Failed {
		t.Errorf("run status %s, want failed", res.Status)
	}
}
