package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labrun/labrun/report"
)

// A deck's history for the regression commands: four commits, the third of
// which breaks the expected output of a lab in greet.md.
const (
	greetOK = `# Greetings

---

## Saying hello

.lab[

- Say it:
  ` + "```bash" + `
  echo hello
  ` + "```" + `

]

It answers:
` + "```" + `
hello
` + "```" + `
`
	countMD = `# Counting

---

## Three numbers

.lab[

- Count:
  ` + "```bash" + `
  seq 3
  ` + "```" + `

]

` + "```" + `
1
2
3
` + "```" + `
`
	deckYML = "title: regressions\ncontent:\n- greet.md\n- count.md\n"
)

// historyRepo makes the repository and returns its path and commit ids.
func historyRepo(t *testing.T) (string, []string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the regression tests need git")
		}
		t.Skip("skipping: the regression tests need git")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var commits []string
	commit := func(msg string) {
		git("add", "-A")
		git("commit", "-q", "-m", msg)
		commits = append(commits, git("rev-parse", "HEAD"))
	}
	git("init", "-q", "-b", "main")
	write("greet.md", greetOK)
	write("count.md", countMD)
	write("deck.yml", deckYML)
	commit("first version")
	// A slide inserted before the lab moves it: still the same step.
	write("greet.md", strings.Replace(greetOK, "---\n\n## Saying hello", "---\n\n## Before we start\n\n- Nothing to type here\n\n---\n\n## Saying hello", 1))
	commit("an introduction slide")
	broken, _ := os.ReadFile(filepath.Join(dir, "greet.md"))
	write("greet.md", strings.Replace(string(broken), "\nhello\n```", "\nhullo\n```", 1))
	commit("typo in the expected output")
	write("count.md", strings.Replace(countMD, "Count:", "Count to three:", 1))
	commit("reword a bullet")
	return dir, commits
}

func readRun(t *testing.T, path string) *report.Run {
	t.Helper()
	r, err := report.ReadRun(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompareNamesTheBrokenStep(t *testing.T) {
	needKubectl(t)
	repo, commits := historyRepo(t)
	out := t.TempDir()
	deck := filepath.Join(repo, "deck.yml")
	for i, ref := range []string{commits[0], commits[3]} {
		code, stdout, stderr := labrun(t, "run", "-q", "--git", ref, "--report", "json="+filepath.Join(out, []string{"base.json", "head.json"}[i]), deck)
		if want := []int{0, 1}[i]; code != want {
			t.Fatalf("run at %s: exit %d, want %d\n%s\n%s", ref, code, want, stdout, stderr)
		}
	}
	code, stdout, stderr := labrun(t, "compare", "--format", "json", filepath.Join(out, "base.json"), filepath.Join(out, "head.json"))
	if code != 1 {
		t.Fatalf("compare: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	var c report.Comparison
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.NewlyFailing) != 1 || c.NewlyFailing[0].Key.Command != "echo hello" || !strings.HasSuffix(c.NewlyFailing[0].Key.Chapter, "greet.md") {
		t.Fatalf("newly failing = %+v, want exactly the echo hello step of greet.md", c.NewlyFailing)
	}
	if len(c.New)+len(c.Gone)+len(c.Fixed) != 0 {
		t.Errorf("a moved slide and a reworded bullet should change nothing else: %+v", c)
	}
	// The worktrees are gone and the repository's list of them is clean.
	wt, _ := exec.Command("git", "-C", repo, "worktree", "list").Output()
	if n := strings.Count(strings.TrimSpace(string(wt)), "\n"); n != 0 {
		t.Errorf("worktrees left behind:\n%s", wt)
	}
	// Unreadable input is exit 2.
	if code, _, _ := labrun(t, "compare", filepath.Join(out, "base.json"), filepath.Join(out, "missing.json")); code != 2 {
		t.Errorf("compare with a missing report: exit %d, want 2", code)
	}
	// The markdown form is a table a pull-request comment can show.
	_, md, _ := labrun(t, "compare", "--format", "markdown", filepath.Join(out, "base.json"), filepath.Join(out, "head.json"))
	if !strings.Contains(md, "**Newly failing** (1)") || !strings.Contains(md, "echo hello") {
		t.Errorf("markdown comparison:\n%s", md)
	}
}

func TestRegressAndBisectFindTheCommit(t *testing.T) {
	needKubectl(t)
	repo, commits := historyRepo(t)
	deck := filepath.Join(repo, "deck.yml")
	code, stdout, stderr := labrun(t, "regress", commits[0], commits[3], deck)
	if code != 1 || !strings.Contains(stdout, "newly failing (1)") || !strings.Contains(stdout, "echo hello") {
		t.Fatalf("regress: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// git bisect runs this test binary as labrun (see TestMain).
	t.Setenv("LABRUN_TEST_AS_MAIN", "1")
	src, _ := os.ReadFile(filepath.Join(repo, "greet.md"))
	line := slices.IndexFunc(strings.Split(string(src), "\n"), func(l string) bool { return strings.Contains(l, "```bash") }) + 1
	code, stdout, stderr = labrun(t, "bisect", commits[0], commits[3], deck, "--step", fmt.Sprintf("%s:%d", filepath.Join(repo, "greet.md"), line))
	if code != 0 || !strings.Contains(stdout, "first bad commit: "+commits[2]) {
		t.Fatalf("bisect: exit %d, want the commit %s\n%s\n%s", code, commits[2], stdout, stderr)
	}
}

func TestShardsCoverEveryChapterOnceAndMerge(t *testing.T) {
	needKubectl(t)
	repo, _ := historyRepo(t)
	deck := filepath.Join(repo, "deck.yml")
	out := t.TempDir()
	labrun(t, "run", "-q", "--report", "json="+filepath.Join(out, "all.json"), deck)
	all := readRun(t, filepath.Join(out, "all.json"))
	var seen []string
	var shards []string
	for _, s := range []string{"1/2", "2/2"} {
		p := filepath.Join(out, "shard"+s[:1]+".json")
		labrun(t, "run", "-q", "--shard", s, "--durations", filepath.Join(out, "all.json"), "--report", "json="+p, deck)
		for _, ch := range readRun(t, p).Chapters {
			seen = append(seen, ch.File)
		}
		shards = append(shards, p)
	}
	slices.Sort(seen)
	var want []string
	for _, ch := range all.Chapters {
		want = append(want, ch.File)
	}
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("shards ran %v, want each of %v once", seen, want)
	}
	merged := filepath.Join(out, "merged.json")
	junit := filepath.Join(out, "merged.xml")
	if code, o, e := labrun(t, append([]string{"merge", "-o", "json=" + merged, "-o", "junit=" + junit}, shards...)...); code != 0 {
		t.Fatalf("merge: exit %d\n%s\n%s", code, o, e)
	}
	m := readRun(t, merged)
	var total, mergedTotal report.Counts
	for _, ch := range all.Chapters {
		total = addCounts(total, report.StepCounts(ch.Labs))
	}
	for _, ch := range m.Chapters {
		mergedTotal = addCounts(mergedTotal, report.StepCounts(ch.Labs))
	}
	if total != mergedTotal || m.Status != all.Status {
		t.Errorf("merged %+v (%s), one run %+v (%s)", mergedTotal, m.Status, total, all.Status)
	}
	if _, err := os.Stat(junit); err != nil {
		t.Error(err)
	}
}

func addCounts(a, b report.Counts) report.Counts {
	a.Passed += b.Passed
	a.Failed += b.Failed
	a.Errors += b.Errors
	a.Skipped += b.Skipped
	return a
}

func TestUpdateFixesTheExpectationAndNothingElse(t *testing.T) {
	needKubectl(t)
	repo, _ := historyRepo(t)
	greet := filepath.Join(repo, "greet.md")
	before, _ := os.ReadFile(greet)
	code, stdout, stderr := labrun(t, "run", "-q", "--update=yes", filepath.Join(repo, "deck.yml"))
	if code != 1 {
		t.Fatalf("the broken run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	after, _ := os.ReadFile(greet)
	want := strings.Replace(string(before), "\nhullo\n```", "\nhello\n```", 1)
	if string(after) != want {
		t.Fatalf("greet.md after --update:\n%s\nwant:\n%s", after, want)
	}
	if !strings.Contains(stdout, "-hullo") || !strings.Contains(stdout, "+hello") {
		t.Errorf("the diff shown:\n%s", stdout)
	}
	// Now nothing fails, and a second update leaves every file byte for byte.
	files, _ := filepath.Glob(filepath.Join(repo, "*"))
	snapshot := map[string]string{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		snapshot[f] = string(b)
	}
	if code, o, e := labrun(t, "run", "-q", "--update=yes", filepath.Join(repo, "deck.yml")); code != 0 {
		t.Fatalf("after the update: exit %d\n%s\n%s", code, o, e)
	}
	for f, s := range snapshot {
		if b, _ := os.ReadFile(f); string(b) != s {
			t.Errorf("%s changed although nothing failed", f)
		}
	}
}

// Standalone chapters run side by side, each on a cluster of its own, and
// the run's report holds them all in deck order with one summary.
func TestParallelStandaloneChapters(t *testing.T) {
	needKubectl(t)
	repo, _ := historyRepo(t)
	out := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := labrun(t, "run", "-q", "--color", "never", "--standalone", "-j", "2", "--report", "json="+out, filepath.Join(repo, "deck.yml"))
	if code != 1 {
		t.Fatalf("exit %d, want 1 (greet.md's expected output is broken at HEAD)\n%s\n%s", code, stdout, stderr)
	}
	r := readRun(t, out)
	if len(r.Chapters) != 2 || !strings.HasSuffix(r.Chapters[0].File, "greet.md") || !strings.HasSuffix(r.Chapters[1].File, "count.md") {
		t.Fatalf("chapters %+v, want greet.md then count.md", r.Chapters)
	}
	if !strings.Contains(stdout, "── all 2 ──") || !strings.Contains(stdout, "2 chapters") {
		t.Errorf("no summary of the whole run:\n%s", stdout)
	}
}
