package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/content/contenttest"
	"github.com/labrun/labrun/report"
)

// TestLintContent: lint reports content rot of the fixture repository with
// file:line:col, exits 1, and writes the problems grouped by chapter.
func TestLintContent(t *testing.T) {
	needKubectl(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	r := contenttest.MakeRepo(t)
	out := filepath.Join(t.TempDir(), "content.json")
	code, stdout, stderr := labrun(t, "lint", "--report", "json="+out, filepath.Join(r.Root, "slides", "rot.yml"))
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"paths.md:26:18: error: k8s/traefik.yml is not in the repository; git: renamed to k8s/traefik.yaml in " + r.Commits["rename traefik"],
		"typos.md:12:1: error: kuectl: no such command; did you mean kubectl",
		"typos.md:24:17: error: --generator: kubectl run v1.",
		"\nkuectl get services\n^\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lint output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep content.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, ch := range rep.Chapters {
		files = append(files, filepath.Base(ch.File))
		for _, p := range ch.Problems {
			if p.Pos.File != ch.File {
				t.Errorf("problem of %s filed under %s", p.Pos.File, ch.File)
			}
		}
	}
	if strings.Join(files, " ") != "paths.md typos.md" {
		t.Errorf("chapters %v, want paths.md typos.md in deck order", files)
	}
	if rep.Errors < 8 {
		t.Errorf("%d errors in the report, want at least 8:\n%s", rep.Errors, b)
	}
}

// TestRunHints: a run of the fixture deck whose failures have known causes
// explains each in its step's hint, in the JSON report, and lists the
// chapter's content problems there.
func TestRunHints(t *testing.T) {
	needKubectl(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	r := contenttest.MakeRepo(t)
	out := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := labrun(t, "run", "--color", "never", "--timeout", "10s", "--report", "json="+out, filepath.Join(r.Root, "slides", "hints.yml"))
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[int]string{}
	for _, ch := range res.Chapters {
		for _, lab := range ch.Labs {
			for _, s := range lab.Steps {
				if s.Hint != "" {
					hints[s.Line] = s.Hint
				}
			}
		}
	}
	want := map[int]string{
		21: "deployment \"blue\" was already created at " + filepath.Join(r.Root, "slides", "ch", "hints.md") + ":9",
		33: "kuectl: no such command; did you mean kubectl",
		49: `deployment "green" should have been created at ` + filepath.Join(r.Root, "slides", "ch", "hints.md") + ":45, which failed",
		61: "k8s/traefik.yml is not in the repository; git: renamed to k8s/traefik.yaml",
		77: `"this text never shows" never showed although`,
	}
	for line, w := range want {
		if !strings.Contains(hints[line], w) {
			t.Errorf("hint of hints.md:%d is %q, want it to contain %q", line, hints[line], w)
		}
	}
	if len(res.Chapters) != 1 || len(res.Chapters[0].Problems) == 0 {
		t.Errorf("the chapter's content problems are not in the report: %+v", res.Chapters)
	}
	if t.Failed() {
		t.Logf("hints: %v\nstdout:\n%s", hints, stdout)
	}
}

// TestLintCorpus: `labrun lint kube-fullday.yml`, from the corpus's slides
// folder, reports the renamed Traefik manifest and the kuectl typo, and
// exits 1, with no cluster.
func TestLintCorpus(t *testing.T) {
	needKubectl(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	root := contenttest.CloneCorpus(t)
	t.Chdir(filepath.Join(root, "slides"))
	code, stdout, stderr := labrun(t, "lint", "kube-fullday.yml")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"k8s/ingress.md:257:20: error: ~/container.training/k8s/traefik.yml: k8s/traefik.yml is not in the repository; did you mean k8s/traefik.yaml?",
		"k8s/openebs.md:338:3: error: kuectl: no such command; did you mean kubectl",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lint output lacks %q:\n%s", want, stdout)
		}
	}
}
