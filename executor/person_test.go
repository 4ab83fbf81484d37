package executor

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/report"
)

// stepWant is what one step of a fixture must come to.
type stepWant struct {
	line   int
	status report.Status
	reason string // substring of Reason
	cause  string // substring of Cause
	actual string // substring of Actual
}

// replayPerson runs one deck of fixtures/person and checks every step, in
// the deck's order, against wants.
func replayPerson(t *testing.T, name string, wants []stepWant) *report.Run {
	t.Helper()
	kubectl := needKubectl(t)
	deck := loadChapter(t, "../fixtures/person/"+name, nil)
	var c collect
	res, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 10 * time.Second, Sink: &c}))
	if err != nil {
		t.Fatal(err)
	}
	steps := c.steps
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%s:%d %s %s %q: %s [cause %s]", s.File, s.Line, s.Kind, s.Status, text.FirstLine(s.Command), s.Reason, s.Cause))
	}
	if len(steps) != len(wants) {
		t.Fatalf("%d steps, want %d:\n%s", len(steps), len(wants), strings.Join(got, "\n"))
	}
	if c.heard != len(steps) {
		t.Errorf("the sink heard of %d steps, the report has %d", c.heard, len(steps))
	}
	for i, w := range wants {
		s := steps[i]
		if s.Line != w.line || s.Status != w.status || !strings.Contains(s.Reason, w.reason) ||
			!strings.Contains(s.Cause, w.cause) || !strings.Contains(s.Actual, w.actual) {
			t.Errorf("step %d: got %s\n  want line %d %s: …%s… [cause …%s…] actual …%s…\nactual: %s\nscreen:\n%s",
				i, got[i], w.line, w.status, w.reason, w.cause, w.actual, s.Actual, s.Screen)
		}
	}
	return res
}

// Commands that do not return run in terminals of their own; the lab goes
// on in the first, placeholders are filled from what the terminals show,
// a wait after a block of them looks at each, and an error a watch prints
// fails the step that started it.
func TestSecondTerminals(t *testing.T) {
	if _, err := exec.LookPath("watch"); err != nil {
		t.Skipf("needs watch (procps): %v", err)
	}
	replayPerson(t, "terminals.md", []stepWant{
		{line: 13, status: report.Passed},
		{line: 18, status: report.Passed, reason: "runs in terminal 2", actual: "── terminal 2: watch kubectl get pods"},
		{line: 23, status: report.Passed},
		{line: 36, status: report.Passed, reason: "terminal 3, terminal 4, terminal 5", actual: "── terminal 5: kubectl get deployments -w"},
		{line: 43, status: report.Passed},
		{line: 44, status: report.Passed, reason: "^C went to terminal 3, terminal 4, terminal 5"},
		{line: 48, status: report.Passed},
		{line: 61, status: report.Failed, reason: "terminal 6 shows an error: error: the server doesn't have a resource type"},
		{line: 66, status: report.Passed},
	})
}

// An editor with no keys after it is a manual step; the file is left as it
// was, and an editor that cannot open fails.
func TestManualEditor(t *testing.T) {
	if _, err := exec.LookPath("vim"); err != nil {
		t.Skipf("needs vim: %v", err)
	}
	replayPerson(t, "editor.md", []stepWant{
		{line: 12, status: report.Passed},
		{line: 17, status: report.Manual, reason: `left it without saving`},
		{line: 22, status: report.Passed},
		{line: 35, status: report.Failed, reason: `"kubectl edit deployment nowhere" exited with status 1 instead of opening an editor`},
	})
}

// A failure the slide announces is the expected result, in a comment or
// as the output shown; one that does not come fails the step.
func TestAnnouncedFailures(t *testing.T) {
	replayPerson(t, "announced.md", []stepWant{
		{line: 12, status: report.Passed},
		{line: 17, status: report.Passed},
		{line: 31, status: report.Failed, reason: `the slide says this fails ("# This fails with an error") but the command succeeded`},
		{line: 44, status: report.Passed},
	})
}

// ^D and ^C on an idle prompt keep the shell; a command started for a
// wait that fails ends the wait at once; keys for an interactive program
// that did not start are not typed; a failure that follows from an
// earlier one names it.
func TestKeysAndPrograms(t *testing.T) {
	replayPerson(t, "keys.md", []stepWant{
		{line: 14, status: report.Passed},
		{line: 19, status: report.Passed, reason: "nothing to act on: pane 0 sits idle at its prompt, so ^D was not sent"},
		{line: 20, status: report.Passed, reason: "nothing to act on"},
		{line: 24, status: report.Passed},
		{line: 37, status: report.Passed},
		{line: 41, status: report.Failed, reason: `the command exited with status 127 before "Listening on port 8080" showed`, actual: "No such file or directory"},
		{line: 52, status: report.Failed, reason: `the interactive program did not start: "kubectl exec -ti ghost -- sh" came back to the prompt (status 1)`},
		{line: 57, status: report.NotVerified, cause: "after the interactive program of"},
		{line: 58, status: report.NotVerified},
		{line: 59, status: report.NotVerified},
		{line: 71, status: report.Failed},
		{line: 76, status: report.Failed, cause: "after $SECRET was not set at"},
		{line: 89, status: report.Passed},
		{line: 93, status: report.Failed, reason: `the command finished without "Listening on port 8080" showing, and nothing left running on pane 0 could print it`},
		{line: 104, status: report.Passed},
		{line: 109, status: report.Failed},
		{line: 114, status: report.Failed, cause: "after pane 0's shell exited at ../fixtures/person/keys.md:109"},
		// The wait does not take the first "line one" for the second: the
		// ^C comes after the second is printed, as the copy shows.
		{line: 127, status: report.Passed},
		{line: 132, status: report.Passed},
		{line: 137, status: report.Passed},
		{line: 138, status: report.Passed},
		{line: 139, status: report.Passed, actual: "line one"},
	})
}

// A NodePort placeholder takes the port of the service on the screen, and
// an address next to it is node1's, in commands and in open.
func TestNodePlaceholders(t *testing.T) {
	node1 := builtintest.Shared(t).NodeAddress("node1")
	res := replayPerson(t, "placeholders.md", []stepWant{
		{line: 12, status: report.Passed},
		{line: 18, status: report.Passed},
		{line: 23, status: report.Passed, actual: "http://" + node1 + ":3"},
		// The built-in cluster serves the NodePort on node1's address.
		{line: 27, status: report.Passed, actual: "Welcome to nginx!"},
	})
	steps := res.Chapters[0].Labs[0].Steps
	port := regexp.MustCompile(`80:(3[0-9]{4})/TCP`).FindStringSubmatch(steps[1].Actual)
	if port == nil {
		t.Fatalf("no NodePort in the output of kubectl get service: %q", steps[1].Actual)
	}
	if want := "http://" + node1 + ":" + port[1] + "/"; !strings.Contains(steps[2].Actual, want) || steps[3].Command != "http://node1:"+port[1]+"/" {
		t.Errorf("filled in %q and %q, want the service's port %s", steps[2].Actual, steps[3].Command, port[1])
	}
	if subs := strings.Join(steps[2].Substituted, "; "); !strings.Contains(subs, "A.B.C.D → "+node1+" (node1)") {
		t.Errorf("substitutions %q do not say the address is node1's", subs)
	}
}

// A loop of requests in a terminal fails on an error it still shows at the
// end, not on one it recovered from (a pod replaced behind a Service).
func TestLastingError(t *testing.T) {
	const (
		ok   = "🔵This is pod default/blue-5c986bd7bf-f6pf5 on linux/amd64, serving / for 10.244.1.5:43618."
		bad  = "curl: (7) Failed to connect to 10.111.111.22 port 80 after 0 ms: Couldn't connect to server"
		loop = "while sleep 0.3; do curl -m1 http://$CLUSTER_IP; done"
	)
	screen := func(lines ...string) string {
		return "[node1] ~# " + loop + "\n" + strings.Join(lines, "\n") + "\n"
	}
	for _, tc := range []struct {
		name, line, screen, want string
	}{
		{"a short interruption", loop, screen(ok, ok, bad, ok, ok, ok), ""},
		{"no answer any more", loop, screen(ok, ok, bad, bad), bad},
		{"not recovered for long", loop, screen(ok, bad, ok, ok), bad},
		{"never an error", loop, screen(ok, ok), ""},
		{"a command that does not repeat", "kubectl port-forward svc/blue 8080:80", screen(bad, ok, ok, ok, ok), bad},
	} {
		if got := lastingError(tc.line, tc.screen); got != tc.want {
			t.Errorf("%s: lastingError = %q, want %q", tc.name, got, tc.want)
		}
	}
}
