package parser

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// caseOptions gives some case files the options a manifest would.
func caseOptions(name string) Options {
	switch name {
	case "tokens.md":
		return Options{
			Tokens:   map[string]string{"@@GITREPO@@": "github.com/example/repo", "@@SLIDES@@": "https://slides.example/"},
			Includes: map[string]string{"k8s/x.yaml": "apiVersion: v1\nkind: Pod\n"},
			LinkBase: "https://github.com/example/repo/tree/main",
		}
	case "excluded.md":
		return Options{Exclude: []string{"self-paced"}}
	}
	return Options{}
}

// TestCasesGolden renders every small case file under testdata/cases (one
// per situation FORMAT.md describes) next to its .golden.
func TestCasesGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ch, diags := ParseChapter(name, src, caseOptions(name))
			golden(t, "cases/"+strings.TrimSuffix(name, ".md")+".golden", dump(ch, diags, verbatim))
		})
	}
}

// parseCase parses a case file for the assertions below.
func parseCase(t *testing.T, name string) (*Chapter, []Diagnostic) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata/cases", name))
	if err != nil {
		t.Fatal(err)
	}
	return ParseChapter(name, src, caseOptions(name))
}

func allSteps(ch *Chapter) []Step {
	var out []Step
	for _, s := range ch.Slides {
		for _, l := range s.Labs {
			out = append(out, l.Steps...)
		}
	}
	return out
}

func allLabs(ch *Chapter) []Lab {
	var out []Lab
	for _, s := range ch.Slides {
		out = append(out, s.Labs...)
	}
	return out
}

func hasDiag(ds []Diagnostic, sev Severity, line int, substr string) bool {
	for _, d := range ds {
		if d.Severity == sev && d.Pos.Line == line && strings.Contains(d.Message, substr) {
			return true
		}
	}
	return false
}

// TestChapterFacts asserts the facts the goldens show, one by one, so a
// wrong golden cannot be blessed by -update unnoticed.
func TestChapterFacts(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, ch *Chapter, ds []Diagnostic)
	}{
		{"separators.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			if len(ch.Slides) != 3 {
				t.Fatalf("slides = %d, want 3 (separators inside fences and `--- ` do not split; `--` is an increment)", len(ch.Slides))
			}
			s := ch.Slides[1]
			if s.Title != "Setext title" || s.Name != "second" || strings.Join(s.Classes, "|") != "in-person|extra-details" {
				t.Errorf("slide 2 = %q name %q classes %q", s.Title, s.Name, s.Classes)
			}
			if len(s.Labs) != 2 {
				t.Fatalf("slide 2 labs = %d, want 2 (one in the increment)", len(s.Labs))
			}
			if want := "cat <<EOF\n---\n--\n--- \nEOF"; s.Labs[0].Steps[0].Text != want {
				t.Errorf("heredoc = %q, want %q", s.Labs[0].Steps[0].Text, want)
			}
			if ch.Slides[0].Title != "Title one" || ch.Slides[2].Title != "Third slide title" || ch.Slides[2].Number != 3 {
				t.Errorf("titles %q %q", ch.Slides[0].Title, ch.Slides[2].Title)
			}
		}},
		{"labs.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			labs := allLabs(ch)
			if len(labs) != 4 {
				t.Fatalf("labs = %d, want 4", len(labs))
			}
			if len(labs[0].Steps) != 2 || labs[0].Steps[1].Text != "kubectl get nodes" {
				t.Errorf("nested .small[ ] must not close the lab: %+v", labs[0].Steps)
			}
			if labs[1].Steps[0].Text != "echo older syntax" {
				t.Errorf(".exercise[ not read: %+v", labs[1])
			}
			var kinds []string
			for _, s := range labs[2].Steps {
				kinds = append(kinds, string(s.Kind))
			}
			if got := strings.Join(kinds, " "); got != "copy keys paste key" {
				t.Errorf("plain fence in a lab must not be a step: kinds %q", got)
			}
			if labs[2].Steps[1].Text != "kubectl delete pod " {
				t.Errorf("keys text must keep its trailing space: %q", labs[2].Steps[1].Text)
			}
			if len(labs[3].Steps) != 0 {
				t.Errorf("a lab with no fence has no steps: %+v", labs[3].Steps)
			}
			if len(ds) != 0 {
				t.Errorf("no diagnostics expected: %v", ds)
			}
		}},
		{"commands.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			st := allSteps(ch)
			want0 := "kubectl apply -f - <<EOF\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\nEOF"
			if st[0].Text != want0 {
				t.Errorf("dedent as a whole:\n%s\nwant\n%s", st[0].Text, want0)
			}
			if want := "kubectl get pods \\\n  -o wide |\n\tgrep Running"; st[1].Text != want {
				t.Errorf("continuations/TAB: %q want %q", st[1].Text, want)
			}
			got := map[string]string{}
			for _, p := range st[2].Placeholders {
				got[p.Text] = p.Pattern
			}
			for text, sample := range map[string]string{
				"blue-xxxxxxxx-yyyyy":    "blue-5f8d7b9c4c-q2w7x",
				"X.X.X.X":                "10.96.0.1",
				"<NodePort>":             "31234",
				"<ClusterIP>":            "10.96.12.7",
				"IP-ADDRESS":             "192.168.1.4",
				"A.B.C.D":                "1.2.3.4",
				"clock-xxxxxxxxxx-yyyyy": "clock-5d4b6c8f9-x7k2p",
			} {
				pat, ok := got[text]
				if !ok {
					t.Errorf("placeholder %q not found (got %v)", text, got)
					continue
				}
				if !regexp.MustCompile("^(?:" + pat + ")$").MatchString(sample) {
					t.Errorf("pattern %q for %q does not match %q", pat, text, sample)
				}
			}
			if _, ok := got["<EOF>"]; ok || len(got) != 7 {
				t.Errorf("unexpected placeholders: %v", got)
			}
			if !hasDiag(ds, SeverityWarning, 28, "placeholder \"blue-xxxxxxxx-yyyyy\": run will type") || ds[len(ds)-1].Pos.Col != 17 {
				t.Errorf("missing placeholder warning: %v", ds)
			}
		}},
		{"directives.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			labs := allLabs(ch)
			var got []string
			for _, s := range labs[0].Steps {
				got = append(got, string(s.Kind)+"="+s.Text)
			}
			want := []string{
				"command=kubectl get pods -w", "wait=seq=3", "key=^C", "keys=:wq", "tmux=split-pane -v",
				"tmux=selectl even-vertical", "longwait=Running", "open=http://node1:8000", "look=", "check=",
				"copypaste=pod/[a-z]+", "key=^[",
				"hide=kubectl wait pod --for condition=ready \\\n  --selector app=web",
				"hide=cd ~\nif [ -d x ]; then\n  echo yes\nfi", "hide=top", "unknown=now",
			}
			if strings.Join(got, "\n|") != strings.Join(want, "\n|") {
				t.Errorf("steps:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, s := range labs[0].Steps[1:] {
				if !s.Hidden || s.Directive == "" {
					t.Errorf("directive step not hidden/named: %+v", s)
				}
			}
			if s := labs[0].Steps[14]; s.Directive != "bash" {
				t.Errorf("```bash in a comment: directive %q", s.Directive)
			}
			for _, c := range []struct {
				sev  Severity
				line int
				msg  string
			}{
				{SeverityWarning, 41, "unknown directive"},
				{SeverityWarning, 51, "no command before it"},
				{SeverityError, 53, "does not compile"},
				{SeverityWarning, 57, "shell prompt"},
				{SeverityWarning, 61, "trailing blanks"},
				{SeverityWarning, 67, "outside a lab"},
			} {
				if !hasDiag(ds, c.sev, c.line, c.msg) {
					t.Errorf("missing %s at line %d: %q in %v", c.sev, c.line, c.msg, ds)
				}
			}
			if HasErrors(ds) != true {
				t.Error("HasErrors")
			}
		}},
		{"notes.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			labs := allLabs(ch)
			if len(labs) != 1 || labs[0].Steps[0].Text != "kubectl get pods" {
				t.Fatalf("only the lab of slide 2 runs: %+v", labs)
			}
			if e := labs[0].Expected; e == nil || e.Text != "the output, one slide later" || e.Distance != 1 {
				t.Errorf("expected = %+v", e)
			}
			if !hasDiag(ds, SeverityWarning, 4, "HTML comment") || !hasDiag(ds, SeverityWarning, 13, "speaker notes") {
				t.Errorf("diagnostics: %v", ds)
			}
			if len(ds) != 2 {
				t.Errorf("want exactly 2 diagnostics (no directive warning in a commented-out lab): %v", ds)
			}
		}},
		{"expected.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			labs := allLabs(ch)
			if len(labs) != 4 {
				t.Fatalf("labs = %d", len(labs))
			}
			if e := labs[0].Expected; e == nil || e.Text != "deployment.apps/web created" || e.Pos.Line != 9 {
				t.Errorf("same slide: %+v", e)
			}
			if e := labs[1].Expected; e == nil || e.Text != "NAME   READY\nweb    1/1" || e.Distance != 0 {
				t.Errorf("increment: %+v", e)
			}
			if labs[2].Expected != nil || labs[3].Expected != nil {
				t.Errorf("next lab ends the search; too far is not output: %+v %+v", labs[2].Expected, labs[3].Expected)
			}
		}},
		{"excluded.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			labs := allLabs(ch)
			if len(labs) != 1 || labs[0].Expected == nil || labs[0].Expected.Text != "output of the first lab" {
				t.Errorf("excluded slide must vanish with its lab and fence: %+v", labs)
			}
			if len(ch.Slides) != 2 || ch.Slides[1].Number != 3 {
				t.Errorf("slides %d, numbers count excluded slides", len(ch.Slides))
			}
		}},
		{"broken.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			for _, c := range []struct {
				sev  Severity
				line int
				msg  string
			}{
				{SeverityError, 3, "unbalanced brackets"},
				{SeverityWarning, 14, "HTML comment is not closed"},
				{SeverityWarning, 24, "closing fence is indented"},
				{SeverityError, 31, "closed by ``` at line 33: remark reads it as a 3-character fence of language \"`bash\""},
			} {
				if !hasDiag(ds, c.sev, c.line, c.msg) {
					t.Errorf("missing %s at %d %q in\n%v", c.sev, c.line, c.msg, ds)
				}
			}
			if len(ch.Slides) != 5 {
				t.Errorf("slides = %d, a mismatched fence must not swallow separators", len(ch.Slides))
			}
			labs := allLabs(ch)
			if len(labs) != 3 || labs[0].Steps[0].Text != "echo one" || labs[1].Steps[0].Text != "echo indented" ||
				labs[2].Steps[0].Text != "echo after" {
				t.Errorf("labs %+v", labs)
			}
		}},
		{"comment-closer.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			var got []string
			for _, s := range allSteps(ch) {
				got = append(got, string(s.Kind)+":"+s.Text)
			}
			want := []string{
				"hide:kubectl wait deploy/rng --for condition=available\nkubectl wait deploy/worker --for condition=available",
				"command:kubectl logs deploy/rng\nkubectl logs deploy/worker",
				"hide:cat <<EOF\n---\nEOF",
				"command:echo after",
			}
			if strings.Join(got, "|") != strings.Join(want, "|") || len(ch.Slides) != 2 || len(ds) != 0 {
				t.Errorf("steps %q (slides %d, diags %v)", got, len(ch.Slides), ds)
			}
		}},
		{"tokens.md", func(t *testing.T, ch *Chapter, ds []Diagnostic) {
			st := allSteps(ch)
			if want := "git clone https://github.com/example/repo\necho @@HOSTNAME@@ https://slides.example/"; st[0].Text != want {
				t.Errorf("tokens: %q want %q", st[0].Text, want)
			}
			if len(st) != 2 || st[1].Pos.Line != 23 {
				t.Errorf("an include must not shift later lines: %+v", st)
			}
			if e := allLabs(ch)[0].Expected; e != nil {
				t.Errorf("a fence showing an included file is taken as the lab's output: %+v", e)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ch, ds := parseCase(t, tc.file)
			tc.check(t, ch, ds)
		})
	}
}

func TestDiagnosticFormat(t *testing.T) {
	d := Diagnostic{Pos: Pos{File: "a.md", Line: 3, Col: 4}, Severity: SeverityWarning, Message: "boom", Source: "\tab cd"}
	want := "a.md:3:4: warning: boom\n\tab cd\n\t  ^"
	if got := d.Format(); got != want {
		t.Errorf("got %q want %q", got, want)
	}
	d.Source = ""
	if got := d.Format(); got != "a.md:3:4: warning: boom" {
		t.Errorf("got %q", got)
	}
}

// TestHostileInputs feeds hostile inputs; each must come back with a chapter.
func TestHostileInputs(t *testing.T) {
	inputs := []string{
		"", "\n", "---", "--\n--\n---", ".lab[", ".lab[\n<!--", ".lab[\n```bash\n", "<!-- ```hide\n",
		"<!-- ```", "```", "````\n```\n", strings.Repeat("[", 1000), strings.Repeat(".lab[\n", 500),
		strings.Repeat("<!--", 1000), strings.Repeat("```a\n", 2000), "\xff\xfe\x00```bash\n\x00\n```",
		"???\n???\n.lab[\n]", "#\n===\n", "class:\nname:\n", "<!-- ```copy (``` -->",
	}
	for _, in := range inputs {
		ch, _ := ParseChapter("x.md", []byte(in), Options{Exclude: []string{""}})
		if ch == nil || ch.Slides == nil {
			t.Errorf("%q: nil chapter", in)
		}
	}
}

// TestPlainATXMatchesGoldmark: the fast path for plain headings must say
// what goldmark says.
func TestPlainATXMatchesGoldmark(t *testing.T) {
	md := goldmarkParser()
	for _, h := range []string{"# Title", "## Title ##", "### A  b\tc", "#  x #", "## Kubernetes 1.17 (or older)...", "# C#", "## a # b", "#", "######## no", "#x"} {
		got, ok := plainATX(h)
		if !ok {
			continue
		}
		if want := headingText(md, []byte(h)); got != want {
			t.Errorf("%q: fast path %q, goldmark %q", h, got, want)
		}
	}
}
