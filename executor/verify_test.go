package executor

import (
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/report"
)

// Copies of the seed chapter with a broken promise fail at the step that
// broke it, with a readable diff and the file:line of both the step and the
// expected block, and the rest of the run still passes.
func TestSeedBrokenPromises(t *testing.T) {
	kubectl := needKubectl(t)
	for _, tc := range []struct {
		name               string
		from, to           string
		line, expectedLine int
		diff               []string
	}{
		{
			name: "wrong status word",
			from: "pod/pingpong created", to: "pod/pingpong configured",
			line: 52, expectedLine: 61,
			diff: []string{"- pod/pingpong configured", "+ pod/pingpong created"},
		},
		{
			name: "wrong error message",
			from: "Error from server (NotFound): the server could not find the requested resource\n```\n\n---\n\n## Scaling a Pod",
			to:   "Error from server (Forbidden): pods \"pingpong\" is forbidden\n```\n\n---\n\n## Scaling a Pod",
			line: 127, expectedLine: 135,
			diff: []string{`- Error from server (Forbidden): pods "pingpong" is forbidden`, "+ Error from server (NotFound): the server could not find the requested resource"},
		},
		{
			name: "missing table row",
			from: "deployment.apps/pingpong   1/1     1            1           11s\n",
			to:   "deployment.apps/pingpong   1/1     1            1           11s\ndeployment.apps/blue       1/1     1            1           11s\n",
			line: 222, expectedLine: 236,
			diff: []string{"- deployment.apps/blue"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deck := loadChapter(t, "../parser/testdata/seed/kubectl-run.md", func(s string) string {
				if !strings.Contains(s, tc.from) {
					t.Fatalf("the seed has no %q", tc.from)
				}
				return strings.Replace(s, tc.from, tc.to, 1)
			})
			var c collect
			res, err := Run(testCtx(t), deck, Options{Kubectl: kubectl, Timeout: 30 * time.Second, Sink: &c})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != report.Failed {
				t.Fatalf("run %s, want failed", res.Status)
			}
			var failed []report.StepResult
			for _, s := range c.steps {
				if s.Status != report.Passed {
					failed = append(failed, s)
				}
			}
			if len(failed) != 1 {
				t.Fatalf("%d steps failed, want 1: %+v", len(failed), failed)
			}
			f := failed[0]
			if f.Line != tc.line || f.ExpectedLine != tc.expectedLine || !strings.HasSuffix(f.ExpectedFile, "kubectl-run.md") {
				t.Errorf("failed at line %d against %s:%d; want %d and %d", f.Line, f.ExpectedFile, f.ExpectedLine, tc.line, tc.expectedLine)
			}
			for _, d := range tc.diff {
				if !diffHasLine(f.Diff, d) {
					t.Errorf("the diff lacks %q:\n%s", d, f.Diff)
				}
			}
			if f.Screen == "" || !strings.Contains(f.Reason, "does not match") {
				t.Errorf("reason %q; screen attached: %v", f.Reason, f.Screen != "")
			}
		})
	}
}

// diffHasLine finds a diff line starting with want, spacing aside (the
// matcher realigns table columns).
func diffHasLine(diff, want string) bool {
	w := strings.Join(strings.Fields(want), " ")
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(strings.Join(strings.Fields(l), " "), w) {
			return true
		}
	}
	return false
}

// A placeholder is filled in from the most recent fitting text on the
// pane, and the report says with what; when nothing fits, the step fails
// naming the placeholder.
func TestPlaceholders(t *testing.T) {
	kubectl := needKubectl(t)
	deck := loadChapter(t, "../fixtures/steps/placeholders.md", nil)
	var c collect
	if _, err := Run(testCtx(t), deck, Options{Kubectl: kubectl, Timeout: 30 * time.Second, Sink: &c}); err != nil {
		t.Fatal(err)
	}
	if len(c.steps) != 3 {
		t.Fatalf("%d steps", len(c.steps))
	}
	logs := c.steps[1]
	if logs.Status != report.Passed || len(logs.Substituted) != 1 ||
		!strings.HasPrefix(logs.Substituted[0], "blue-xxxxxxxx-yyyyy → blue-") ||
		!strings.HasPrefix(logs.Command, "kubectl logs blue-") || strings.Contains(logs.Command, "xxxx") {
		t.Errorf("logs step: %s %q, substituted %q: %s", logs.Status, logs.Command, logs.Substituted, logs.Reason)
	}
	if !strings.Contains(logs.Actual, `image "nginx" is simulated`) {
		t.Errorf("the logs of the substituted pod name: %q", logs.Actual)
	}
	none := c.steps[2]
	if none.Status != report.Failed || !strings.Contains(none.Reason, "placeholder red-xxxxxxxx-yyyyy") {
		t.Errorf("nothing fits: %s %q", none.Status, none.Reason)
	}
}
