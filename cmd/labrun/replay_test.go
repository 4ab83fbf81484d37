package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labrun/labrun/report"
)

// TestNoFalseGreens: input that is broken, unreadable or holds nothing to
// replay exits 2 with file:line (and a caret for diagnostics) before anything
// runs; none of these needs a cluster.
func TestNoFalseGreens(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 20_000)
	r := rand.New(rand.NewPCG(10, 8))
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	deepMD := "# Deep\n\n.lab[\n" + strings.Repeat("[", 20_000) + "\n" + strings.Repeat("> ", 20_000) + "x\n" + strings.Repeat("]", 20_001) + "\n"
	deepYML := "content:\n- " + strings.Repeat("[", 20_000) + "a.md" + strings.Repeat("]", 20_000) + "\n"
	const bad = "../../fixtures/replay/bad/"
	for _, tc := range []struct {
		name string
		path string
		want []string
	}{
		{"missing chapter", bad + "missing-chapter.yml", []string{bad + "missing-chapter.yml:3: error: cannot read chapter ../unclosed-lab-does-not-exist.md", "^"}},
		{"unclosed lab", bad + "unclosed-lab.md", []string{bad + "unclosed-lab.md:3:1: error: unbalanced brackets", ".lab[\n^"}},
		{"unclosed fence", bad + "unclosed-fence.md", []string{bad + "unclosed-fence.md:6:3: error: fence ``` opened here is never closed"}},
		{"unreadable include", bad + "bad-include.yml", []string{"include.md:8:3: error: cannot read @@INCLUDE[no/such/file.yaml]", "\n  ^"}},
		{"random bytes", write("random.md", random), []string{"random.md:1:1: error: not a text file"}},
		{"empty file", bad + "empty.md", []string{"nothing to replay: " + bad + "empty.md has no lab steps"}},
		{"no labs", bad + "no-labs.md", []string{"nothing to replay"}},
		{"a directory", bad, []string{"error: cannot read deck: read " + bad + ": is a directory"}},
		{"deep nesting in a chapter", write("deep.md", []byte(deepMD)), []string{"nothing to replay"}},
		{"deep nesting in a manifest", write("deep.yml", []byte(deepYML)), []string{"deep.yml:2: error: manifest is not valid YAML", "…"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := labrun(t, "run", "--color", "never", tc.path)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s\n%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if strings.Contains(out, "PASS") {
				t.Errorf("a run took place:\n%s", out)
			}
		})
	}
}

// runJSON runs labrun with a JSON report and returns the exit code, the
// console output and the report.
func runJSON(t *testing.T, args ...string) (int, string, *report.Run) {
	t.Helper()
	js := filepath.Join(t.TempDir(), "run.json")
	code, out, errs := labrun(t, append([]string{"run", "--color", "never", "--report", "json=" + js}, args...)...)
	f, err := os.Open(js)
	if err != nil {
		t.Fatalf("exit %d, no report: %v\n%s\n%s", code, err, out, errs)
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return code, out + errs, run
}

type stepSummary struct {
	line   int
	status report.Status
	reason string // a part of the reason
}

func checkSteps(t *testing.T, run *report.Run, want []stepSummary) {
	t.Helper()
	var got []report.StepResult
	for _, ch := range run.Chapters {
		for _, l := range ch.Labs {
			got = append(got, l.Steps...)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line || g.Status != w.status || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("step %d: line %d %s %q; want line %d %s with %q", i, g.Line, g.Status, g.Reason, w.line, w.status, w.reason)
		}
	}
}

// A step that needs a program this machine lacks is skipped with the reason,
// the rest of its chapter is not verified, the run exits 0 (or 1 with
// --strict), and a note says what to install.
func TestRunMissingTool(t *testing.T) {
	needKubectl(t)
	const deck = "../../fixtures/replay/missing-tool.md"
	code, out, run := runJSON(t, deck)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	checkSteps(t, run, []stepSummary{
		{13, report.Passed, ""},
		{26, report.Skipped, "needs wobblectl: not installed"},
		{31, report.NotVerified, "after wobblectl was skipped at " + deck + ":26"},
		{35, report.NotVerified, "after wobblectl was skipped"},
		{46, report.NotVerified, "after wobblectl was skipped"},
	})
	if !strings.Contains(strings.Join(run.Notes, "\n"), "wobblectl is not installed: 1 step skipped") {
		t.Errorf("notes %q", run.Notes)
	}
	if run.Chapters[0].Labs[1].Status == report.Passed {
		t.Errorf("a lab with nothing verified reads as passed")
	}
	code, out, run = runJSON(t, "--strict", deck)
	if code != 1 || run.Status != report.Failed || !strings.Contains(strings.Join(run.Notes, "\n"), "--strict: 4 steps were not verified") {
		t.Errorf("--strict: exit %d, status %s, notes %q\n%s", code, run.Status, run.Notes, out)
	}
}

// ssh into a node is skipped (the replay already runs as on node1), what
// follows runs, and the exit that ends the ssh session does not end the
// replay's shell.
func TestRunSSH(t *testing.T) {
	needKubectl(t)
	code, out, run := runJSON(t, "../../fixtures/replay/ssh.md")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	checkSteps(t, run, []stepSummary{
		{13, report.Skipped, "the replay already runs as on node1"},
		{18, report.Passed, ""},
		{23, report.Skipped, "ends the ssh session opened at ../../fixtures/replay/ssh.md:13"},
		{28, report.Passed, ""},
	})
}

// A transcript block types only the commands, and the output it showed is
// not typed.
func TestRunTranscript(t *testing.T) {
	needKubectl(t)
	code, out, run := runJSON(t, "../../fixtures/replay/transcript.md")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	checkSteps(t, run, []stepSummary{{13, report.Passed, ""}})
	if s := run.Chapters[0].Labs[0].Steps[0]; s.Command != "echo greetings\nseq 2" || len(s.ExitStatuses) != 2 {
		t.Errorf("typed %q with statuses %v", s.Command, s.ExitStatuses)
	}
	if !strings.Contains(out, "transcript.md:14:3: warning: bash block is a terminal transcript") {
		t.Errorf("no warning about the transcript:\n%s", out)
	}
}

// gitRepo makes a checkout in dir holding the repo fixture and a notes.txt
// committed with one text and then edited, uncommitted, to another.
func gitRepo(t *testing.T, dir, committed, edited string) {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("this test needs git")
		}
		t.Skip("skipping: no git")
	}
	for _, f := range []string{"deck.yml", "clone.md"} {
		b, err := os.ReadFile(filepath.Join("../../fixtures/replay/repo", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte(committed+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "fixture"}} {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(notes, []byte(edited+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A clone of the deck's repository gets the checkout holding the deck as it
// is on disk (the uncommitted edit shows), or the one --repo names; any
// other remote is refused by git; the checkout is left as it was.
func TestRunRepo(t *testing.T) {
	needKubectl(t)
	deckDir, other := t.TempDir(), t.TempDir()
	gitRepo(t, deckDir, "committed", "edited, not committed")
	code, out, run := runJSON(t, filepath.Join(deckDir, "deck.yml"))
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	notes := strings.Join(run.Notes, "\n")
	if !strings.Contains(notes, "git clone https://github.com/example/labrun-workshop") || !strings.Contains(notes, "got "+deckDir) ||
		!strings.Contains(notes, "plus uncommitted edits") {
		t.Errorf("the report does not say what was served: %q", run.Notes)
	}
	st := exec.Command("git", "status", "--porcelain")
	st.Dir = deckDir
	if b, err := st.Output(); err != nil || string(b) != " M notes.txt\n" {
		t.Errorf("the checkout changed: %q %v", b, err)
	}

	// --repo: the deck's own checkout has other notes; the one named wins.
	gitRepo(t, other, "committed", "edited, not committed")
	if err := os.WriteFile(filepath.Join(deckDir, "notes.txt"), []byte("something else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, run = runJSON(t, "--repo", other, filepath.Join(deckDir, "deck.yml"))
	if code != 0 || !strings.Contains(strings.Join(run.Notes, "\n"), "got "+other) {
		t.Fatalf("--repo: exit %d, notes %q\n%s", code, run.Notes, out)
	}
	code, out, _ = runJSON(t, filepath.Join(deckDir, "deck.yml"))
	if code != 1 || !strings.Contains(out, "grep -x") {
		t.Errorf("without --repo the deck's own notes are served and the grep fails: exit %d\n%s", code, out)
	}
	code, _, errs := labrun(t, "run", "--repo", t.TempDir(), filepath.Join(deckDir, "deck.yml"))
	if code != 2 || !strings.Contains(errs, "--repo: git rev-parse: fatal: not a git repository") {
		t.Errorf("--repo of no checkout: exit %d, %q", code, errs)
	}
}

// A run with nothing to replay exits 0 only with --allow-empty.
func TestRunAllowEmpty(t *testing.T) {
	needKubectl(t)
	code, out, errs := labrun(t, "run", "--allow-empty", "../../fixtures/replay/bad/no-labs.md")
	if code != 0 {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}

// doctor DECK lists what the deck's commands call and what is missing.
func TestDoctorDeck(t *testing.T) {
	_, out, errs := labrun(t, "doctor", "../../fixtures/replay/missing-tool.md", "../../fixtures/replay/ssh.md")
	for _, want := range []string{
		"calls 4 programs:",
		"ok         echo           builtin",
		"MISSING    wobblectl      1 step, first at ../../fixtures/replay/missing-tool.md:26:3",
		"no known package: install wobblectl",
		"not needed ssh            1 step, first at ../../fixtures/replay/ssh.md:13:3: the replay already runs as on node1",
		"1 program missing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s\n%s", want, out, errs)
		}
	}
	if code, _, errs := labrun(t, "doctor", "../../fixtures/replay/bad/unclosed-lab.md"); code != 2 || !strings.Contains(errs, "unbalanced brackets") {
		t.Errorf("doctor of a broken deck: exit %d, %q", code, errs)
	}
}
