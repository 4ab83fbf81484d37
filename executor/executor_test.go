package executor

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/internal/testshared"
	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// The tests share one built-in cluster, in a network namespace of the test
// binary's own; the binary doubles as the busybox its containers run.
func TestMain(m *testing.M) { builtintest.Main(m) }

func TestEveryKindHasAHandler(t *testing.T) {
	for _, k := range parser.Kinds {
		if handlers[k] == nil {
			t.Errorf("step kind %q has no handler", k)
		}
	}
}

// needKubectl finds a kubectl for end-to-end tests. In CI a missing kubectl
// is a failure, never a silent skip.
func needKubectl(t *testing.T) string {
	t.Helper()
	k, err := cluster.FindKubectl("")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("end-to-end test needs kubectl: %v", err)
		}
		t.Skipf("skipping end-to-end test: %v (run `make test`, which builds bin/kubectl)", err)
	}
	return k
}

// onShared points o at the test binary's built-in cluster: a kubeconfig
// run, in a namespace of its own that the run deletes.
func onShared(tb testing.TB, o Options) Options {
	tb.Helper()
	o.Cluster, o.Kubeconfig = "kubeconfig", builtintest.Shared(tb).Kubeconfig()
	return o
}

// onSharedDefault is onShared in the shared cluster's default namespace,
// emptied before and after the test, for decks that need what only a fresh
// cluster's default namespace has: the seed's `kubectl get all` shows
// service/kubernetes, which a namespace of the run's own lacks.
func onSharedDefault(t *testing.T, o Options) Options {
	t.Helper()
	o = onShared(t, o)
	o.Namespace = builtintest.DefaultNamespace(t, builtintest.Shared(t))
	return o
}

func testCtx(t *testing.T) context.Context {
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		t.Cleanup(cancel)
	}
	return ctx
}

func loadChapter(t *testing.T, path string, edit func(string) string) *parser.Deck {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		src = []byte(edit(string(src)))
		path = filepath.Join(t.TempDir(), filepath.Base(path))
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deck, diags := parser.Load(path, os.ReadFile)
	for _, d := range diags {
		if d.Severity == parser.SeverityError {
			t.Fatalf("parsing %s: %s", path, d.Format())
		}
	}
	return deck
}

// collect is a run's sink for assertions: steps are the step results of
// the finished run, read from its report; heard counts the StepDone calls
// the sink got meanwhile, one a step.
type collect struct {
	nopSink
	steps []report.StepResult
	heard int
}

func (c *collect) StepDone(report.LabResult, report.StepResult) { c.heard++ }

func (c *collect) RunDone(r *report.Run) {
	for _, s := range r.Steps() {
		c.steps = append(c.steps, *s)
	}
}

func TestDemoPasses(t *testing.T) {
	kubectl := needKubectl(t)
	deck := loadChapter(t, "../fixtures/demo/pingpong.md", nil)
	var c collect
	res, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 30 * time.Second, Sink: &c}))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.steps {
		t.Logf("%s %s:%d %s %q %s", s.Status, s.File, s.Line, s.Kind, text.FirstLine(s.Command), s.Reason)
		if s.Status != report.Passed {
			t.Errorf("step %s:%d %q: %s: %s\n%s\n%s", s.File, s.Line, s.Command, s.Status, s.Reason, s.Diff, s.Screen)
		}
	}
	if res.Status != report.Passed {
		t.Fatalf("run status %s", res.Status)
	}
	// The expected outputs were checked, not ignored.
	checked := 0
	for _, s := range c.steps {
		if s.Expected != "" {
			checked++
		}
	}
	if checked != 3 {
		t.Errorf("%d steps checked against expected output, want 3", checked)
	}
}

func TestWrongExpectedOutputFails(t *testing.T) {
	kubectl := needKubectl(t)
	deck := loadChapter(t, "../fixtures/demo/pingpong.md", func(s string) string {
		return strings.Replace(s, "pod/pingpong created", "pod/pingpong configured", 1)
	})
	var c collect
	res, err := Run(testCtx(t), deck, onShared(t, Options{Kubectl: kubectl, Timeout: 30 * time.Second, Sink: &c}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != report.Failed {
		t.Fatalf("run status %s, want failed", res.Status)
	}
	first := c.steps[0]
	if first.Status != report.Failed || !strings.Contains(first.Diff, "pod/pingpong configured") || !strings.Contains(first.Diff, "pod/pingpong created") {
		t.Fatalf("first step: %s %q, diff:\n%s", first.Status, first.Reason, first.Diff)
	}
	if first.Line != 16 || first.ExpectedLine != 25 {
		t.Errorf("step at line %d, expected block at line %d; want 16 and 25 (the fences)", first.Line, first.ExpectedLine)
	}
	// The run goes on after a failed step.
	if len(c.steps) < 4 {
		t.Errorf("only %d steps ran after the failure", len(c.steps))
	}
}

// The seed chapter, a real container.training chapter with its encoding
// damage, replays green: its pane lab splits, copies a pod name from the
// watch pane, deletes that pod from the other pane and checks the status.
func TestSeedChapterPasses(t *testing.T) {
	kubectl := needKubectl(t)
	deck := loadChapter(t, testshared.Seed(t), nil)
	var c collect
	res, err := Run(testCtx(t), deck, onSharedDefault(t, Options{Kubectl: kubectl, Timeout: 30 * time.Second, Sink: &c}))
	if err != nil {
		t.Fatal(err)
	}
	var checked []string
	var pasted string
	for _, s := range c.steps {
		if s.Status != report.Passed {
			t.Errorf("step %s:%d %s %q: %s: %s\n%s\n%s", s.File, s.Line, s.Kind, s.Command, s.Status, s.Reason, s.Diff, s.Screen)
		}
		if s.Expected != "" {
			checked = append(checked, text.FirstLine(s.Expected))
		}
		if s.Kind == "paste" {
			pasted = s.Command
		}
	}
	if res.Status != report.Passed {
		t.Fatalf("run status %s", res.Status)
	}
	want := []string{
		"pod/pingpong created",
		"Error from server (NotFound): the server could not find the requested resource",
		"NAME                            READY   STATUS        RESTARTS   AGE",
	}
	if strings.Join(checked, "\n") != strings.Join(want, "\n") {
		t.Errorf("expected outputs checked:\n%s\nwant:\n%s", strings.Join(checked, "\n"), strings.Join(want, "\n"))
	}
	if !regexp.MustCompile(`^pingpong-[a-z0-9]{8,10}-[a-z0-9]{5}$`).MatchString(pasted) {
		t.Errorf("the pane lab pasted %q, want a pod name copied from the watch pane", pasted)
	}
	if n := len(c.steps); n != 27 {
		t.Errorf("%d steps ran, want 27", n)
	}
}

// A panic in a handler fails that step as an error and the run goes on.
func TestHandlerPanicIsAStepError(t *testing.T) {
	var log strings.Builder
	st := &labState{r: &runner{opts: Options{Log: &log}}}
	var res report.StepResult
	boom := func(*labState, context.Context, int, parser.Step, *report.StepResult) { panic("boom") }
	st.safely(context.Background(), boom, 0, parser.Step{Kind: parser.KindCheck, Pos: parser.Pos{File: "x.md", Line: 3}}, &res)
	if res.Status != report.Error || !strings.Contains(res.Reason, "panic in the check handler: boom") {
		t.Errorf("step %s: %q", res.Status, res.Reason)
	}
	if !strings.Contains(log.String(), "x.md:3") || !strings.Contains(log.String(), "goroutine") {
		t.Errorf("the log lacks the place and the stack: %q", log.String())
	}
}
