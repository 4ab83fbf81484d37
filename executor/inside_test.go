package executor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/report"
)

// The end of a command typed into a program is its prompt back below the
// command's echo; what lies between is what it printed.
func TestBackAtPrompt(t *testing.T) {
	for _, tc := range []struct {
		name, screen, prompt, line, out string
		ok                              bool
	}{
		{"back, with output", "If you don't see a command prompt, try pressing enter.\n# # echo hi\nhi\n# \n\n", "# #", "echo hi", "hi", true},
		{"still running", "# curl slow\n", "#", "curl slow", "", false},
		{"echo not shown yet", "# \n", "#", "curl slow", "", false},
		{"no output", "/ # true\n/ # ", "/ #", "true", "", true},
		{"the last of two runs of the same command", "# ls\na\n# ls\nb\n# ", "#", "ls", "b", true},
		{"a prompt with the host name", "[root@pod /]# cat /x\ncat: /x: No such file or directory\n[root@pod /]# ", "[root@pod /]#", "cat /x", "cat: /x: No such file or directory", true},
		{"a prompt drawn over the last line", "# curl web\nline one\n# ne two", "#", "curl web", "line one\nne two", true},
		{"output without a final newline", "# curl web\n<h1>web</h1># ", "#", "curl web", "<h1>web</h1>", true},
		// (A program that ended is seen by the pane no longer being busy,
		// before the screen is looked at.)
		{"another prompt is not the program's", "bash-5.2$ exit\n[node1] ~# ", "bash-5.2$", "exit", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := backAtPrompt(tc.screen, tc.prompt, tc.line)
			if ok != tc.ok || out != tc.out {
				t.Errorf("backAtPrompt = %q, %v; want %q, %v", out, ok, tc.out, tc.ok)
			}
		})
	}
}

// Commands after a shell in a pod (run -it, no keys) are typed into it and
// judged by what shows; the shell is left with ^D at the end of its lab and
// the next lab runs on node1.
func TestCommandsInsideAPodShell(t *testing.T) {
	kubectl := needKubectl(t)
	deck := loadChapter(t, "../fixtures/inside/pod.md", nil)
	res, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 20 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	var steps []report.StepResult
	for _, ch := range res.Chapters {
		for _, l := range ch.Labs {
			steps = append(steps, l.Steps...)
		}
	}
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%d %s %q: %s | %q", s.Line, s.Status, text.FirstLine(s.Command), s.Reason, s.Actual))
	}
	wants := []struct {
		line           int
		status         report.Status
		reason, actual string
	}{
		{13, report.Passed, "the commands after it are typed into it", ""},
		{18, report.Passed, "its output shows no error", "hello from the sandbox"},
		{23, report.Passed, "the error the slide announces showed", "No such file or directory"},
		{28, report.Failed, "the output shows an error", "diary.txt"},
		{33, report.NotVerified, "no exit status to read", ""},
		{46, report.Passed, "", "back on"},
	}
	if len(steps) != len(wants) {
		t.Fatalf("%d steps, want %d:\n%s", len(steps), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		s := steps[i]
		if s.Line != w.line || s.Status != w.status || !strings.Contains(s.Reason, w.reason) || !strings.Contains(s.Actual, w.actual) {
			t.Errorf("step %d: got %s\n  want line %d %s: …%s… actual …%s…\nscreen:\n%s", i, got[i], w.line, w.status, w.reason, w.actual, s.Screen)
		}
		if s.Status == report.Passed && i > 0 && i < 5 && len(s.ExitStatuses) != 0 {
			t.Errorf("step %d reports exit statuses %v from inside the shell, where none can be read", i, s.ExitStatuses)
		}
	}
	if strings.Contains(steps[5].Actual, "sandbox-shell") {
		t.Errorf("the last lab ran in the pod's shell, not on node1: %q", steps[5].Actual)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "with ^D at the end of the lab") {
		t.Errorf("no note says the shell was left with ^D: %q", res.Notes)
	}
}

// A run -it or exec -it whose command is not a shell is judged as any
// command, by its status and what it printed (kubectl shows the log of a
// container that ended before it attached); the commands after it run on
// node1. A shell still takes the commands after it, and so does a program
// that waits at a prompt of its own.
func TestOneShotCommandsInPods(t *testing.T) {
	kubectl := needKubectl(t)
	deck := loadChapter(t, "../fixtures/inside/oneshot.md", nil)
	res, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	var steps []report.StepResult
	for _, ch := range res.Chapters {
		for _, l := range ch.Labs {
			steps = append(steps, l.Steps...)
		}
	}
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%d %s %q: %s | %q", s.Line, s.Status, text.FirstLine(s.Command), s.Reason, s.Actual))
	}
	wants := []struct {
		line           int
		status         report.Status
		reason, actual string
	}{
		{13, report.Passed, "came back to the prompt", "greetings from a short-lived pod"},
		{27, report.Passed, "", "recipe.txt"},
		{40, report.Passed, "", ""},
		{46, report.Passed, "came back to the prompt", "napper"},
		{51, report.Passed, "", "still here on"},
		{64, report.Passed, "the commands after it are typed into it", ""},
		{69, report.Passed, "judged inside", "napper"},
		{82, report.Passed, `runs in the foreground (prompt "calc>")`, ""},
		{87, report.Passed, "judged inside", "= 2+2"},
	}
	if len(steps) != len(wants) {
		t.Fatalf("%d steps, want %d:\n%s", len(steps), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		s := steps[i]
		if s.Line != w.line || s.Status != w.status || !strings.Contains(s.Reason, w.reason) || !strings.Contains(s.Actual, w.actual) {
			t.Errorf("step %d: got %s\n  want line %d %s: …%s… actual …%s…\nscreen:\n%s", i, got[i], w.line, w.status, w.reason, w.actual, s.Screen)
		}
	}
	if s := steps[1]; len(s.ExitStatuses) == 0 || s.ExitStatuses[len(s.ExitStatuses)-1] == 0 {
		t.Errorf("the failing one-shot's exit statuses are %v, want its failure", s.ExitStatuses)
	}
	if strings.Contains(steps[4].Actual, "napper") {
		t.Errorf("the command after exec -it hostname ran in the pod, not on node1: %q", steps[4].Actual)
	}
}

// A run prepared with the labs before its selection (--prepare) leaves a
// pod's shell one of them opened, as the lab's end does in any run: the
// selection starts at node1's prompt.
func TestPrepareLeavesAPodShell(t *testing.T) {
	kubectl := needKubectl(t)
	deck := loadChapter(t, "../fixtures/inside/pod.md", nil)
	sel, before, _, err := SplitPrepare(deck, Selection{From: "Back on node1"})
	if err != nil {
		t.Fatal(err)
	}
	if before == nil {
		t.Fatal("nothing to prepare before the selection")
	}
	res, err := Run(testCtx(t), sel, onShared(t, Options{Kubectl: kubectl, Timeout: 20 * time.Second, Prepare: before}))
	if err != nil {
		t.Fatal(err)
	}
	var steps []report.StepResult
	for _, ch := range res.Chapters {
		for _, l := range ch.Labs {
			steps = append(steps, l.Steps...)
		}
	}
	if len(steps) != 1 {
		t.Fatalf("%d steps ran, want the selection's one", len(steps))
	}
	s := steps[0]
	if s.Status != report.Passed || !strings.Contains(s.Actual, "back on") || strings.Contains(s.Actual, "sandbox-shell") {
		t.Errorf("the selected step: %s %q, actual %q\nscreen:\n%s", s.Status, s.Reason, s.Actual, s.Screen)
	}
}
