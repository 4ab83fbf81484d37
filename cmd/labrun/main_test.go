package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/fake/busybox"
	"github.com/labrun/labrun/report"
)

// The test binary doubles as the busybox the fake cluster's containers run.
func TestMain(m *testing.M) {
	if code, ok := busybox.Dispatch(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// labrun runs the CLI in-process and returns its exit code and outputs.
func labrun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		defer cancel()
	}
	var out, errw bytes.Buffer
	code := execute(ctx, args, streams{strings.NewReader(""), &out, &errw})
	return code, out.String(), errw.String()
}

func needKubectl(t *testing.T) {
	t.Helper()
	if _, err := cluster.FindKubectl(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("end-to-end test needs kubectl: %v", err)
		}
		t.Skipf("skipping end-to-end test: %v (run `make test`, which builds bin/kubectl)", err)
	}
}

func TestRunDemo(t *testing.T) {
	needKubectl(t)
	code, out, errs := labrun(t, "run", "--color", "never", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"ok   ../../fixtures/demo/pingpong.md:16  $ kubectl run pingpong", "PASS 1 chapter, 4 labs, 7 steps: 7 passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunWrongExpectedOutput(t *testing.T) {
	needKubectl(t)
	src, err := os.ReadFile("../../fixtures/demo/pingpong.md")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pingpong.md")
	bad := strings.Replace(string(src), "pod/pingpong created", "pod/pingpong configured", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := labrun(t, "run", "--color", "never", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"FAIL " + path + ":16  $ kubectl run pingpong",
		path + ":25",
		"- pod/pingpong configured",
		"+ pod/pingpong created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "requires at least 1 arg"},
		{[]string{"run", "/nonexistent/deck.md"}, "cannot read /nonexistent/deck.md"},
		{[]string{"run", "--report", "xml=out", "x.md"}, "unknown format"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		code, _, errs := labrun(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("labrun %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

func TestListDemo(t *testing.T) {
	code, out, errs := labrun(t, "list", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"kubectl run pingpong --image alpine ping 127.0.0.1", "hide", "expect      pod/pingpong created", "1 chapters, 4 labs, 7 steps"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunSelection(t *testing.T) {
	needKubectl(t)
	code, out, errs := labrun(t, "run", "--color", "never", "--slide", "2", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "1 lab, 2 steps") && !strings.Contains(out, "1 labs, 2 steps") {
		t.Errorf("want one lab of two steps:\n%s", out)
	}
	if !strings.Contains(errs, "3 labs left out by --slide 2-2") {
		t.Errorf("stderr does not say what was left out: %q", errs)
	}
	code, _, errs = labrun(t, "run", "--from", "no such title", "../../fixtures/demo/pingpong.md")
	if code != 2 || !strings.Contains(errs, "keeps no lab") {
		t.Errorf("an empty selection: exit %d, %q", code, errs)
	}
}

// --report writes a JSON report readable as a Run and a JUnit file with a
// test case per lab; both schemas are checked by report's own tests.
func TestRunReports(t *testing.T) {
	needKubectl(t)
	dir := t.TempDir()
	js, ju := filepath.Join(dir, "run.json"), filepath.Join(dir, "junit.xml")
	code, out, errs := labrun(t, "run", "-q", "--report", "json="+js, "--report", "junit="+ju, "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	f, err := os.Open(js)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != report.Passed || len(run.Chapters) != 1 || len(run.Chapters[0].Labs) != 4 {
		t.Errorf("JSON report: %s, %d chapters", run.Status, len(run.Chapters))
	}
	x, err := os.ReadFile(ju)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(x), "<testcase "); n != 4 || !strings.Contains(string(x), `failures="0"`) {
		t.Errorf("JUnit report has %d test cases:\n%s", n, x)
	}
}
