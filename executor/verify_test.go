package executor

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/internal/testshared"
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
			deck := loadChapter(t, testshared.Seed(t), func(s string) string {
				if !strings.Contains(s, tc.from) {
					t.Fatalf("the seed has no %q", tc.from)
				}
				return strings.Replace(s, tc.from, tc.to, 1)
			})
			var c collect
			res, err := Run(testCtx(t), deck, onSharedDefault(t, Options{Kubectl: kubectl, Timeout: 30 * time.Second, Sink: &c}))
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
	if _, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 30 * time.Second, Sink: &c})); err != nil {
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
	if !strings.Contains(logs.Actual, "nginx") || !strings.Contains(logs.Actual, "start worker process") {
		t.Errorf("the logs of the substituted pod name: %q", logs.Actual)
	}
	none := c.steps[2]
	if none.Status != report.Failed || !strings.Contains(none.Reason, "placeholder red-xxxxxxxx-yyyyy") {
		t.Errorf("nothing fits: %s %q", none.Status, none.Reason)
	}
}

// open fetches the URL a slide would show in a browser, with node1 mapped
// to the cluster's first node, and fails on an error status.
func TestOpen(t *testing.T) {
	kubectl := needKubectl(t)
	// A server on node1's address, as a NodePort would be.
	node1 := builtintest.Shared(t).NodeAddress("node1")
	ln, err := net.Listen("tcp", net.JoinHostPort(node1, "0"))
	if err != nil {
		t.Fatalf("listen on node1's address %s: %v", node1, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "hello from the node")
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	src := fmt.Sprintf("# Open\n\n---\n\n## Browse\n\n.lab[\n\n<!-- ```open http://node1:%s/``` -->\n\n<!-- ```open http://node1:%s/missing``` -->\n\n]\n", port, port)
	deck := loadChapter(t, writeTemp(t, "open.md", src), nil)
	var c collect
	if _, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 10 * time.Second, Sink: &c})); err != nil {
		t.Fatal(err)
	}
	if len(c.steps) != 2 {
		t.Fatalf("%d steps", len(c.steps))
	}
	if ok := c.steps[0]; ok.Status != report.Passed || !strings.Contains(ok.Actual, "200 OK") || !strings.Contains(ok.Actual, "hello from the node") {
		t.Errorf("open /: %s %q %q", ok.Status, ok.Reason, ok.Actual)
	}
	if nf := c.steps[1]; nf.Status != report.Failed || !strings.Contains(nf.Reason, "404") {
		t.Errorf("open /missing: %s %q", nf.Status, nf.Reason)
	}
}

// --fail-fast stops the run at the first failed step.
func TestFailFast(t *testing.T) {
	kubectl := needKubectl(t)
	src := "# Fail fast\n\n---\n\n## One\n\n.lab[\n\n```bash\nfalse\n```\n\n```bash\ntrue\n```\n\n]\n\n---\n\n## Two\n\n.lab[\n\n```bash\ntrue\n```\n\n]\n"
	deck := loadChapter(t, writeTemp(t, "failfast.md", src), nil)
	var c collect
	res, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, FailFast: true, Sink: &c}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.steps) != 1 || c.steps[0].Status != report.Failed || res.Status != report.Failed || len(res.Chapters[0].Labs) != 1 {
		t.Errorf("ran %d steps in %d labs, run %s; want the run to stop after the first", len(c.steps), len(res.Chapters[0].Labs), res.Status)
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
