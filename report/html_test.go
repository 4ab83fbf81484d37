package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func htmlRun() *Run {
	slide := "class: extra-details\n\n## Counting to three\n\n.lab[\n\n- Count, .emph[slowly]:\n  ```bash\n  seq 1 3\n  ```\n\n<!-- ```wait 3``` -->\n\n]\n\n![a diagram](images/diagram.png)\n\n<script>alert(1)</script>\n\n--\n\nThe output shows:\n```\n1\n2\n4\n```\n\n???\n\nSpeaker notes say this is wrong on purpose.\n"
	return &Run{
		Deck: []string{"fixtures/x.md"}, Cluster: "builtin", Started: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
		Duration: 1500 * time.Millisecond, Status: Failed,
		Chapters: []ChapterResult{{
			File: "fixtures/x.md", Title: "A chapter", Status: Failed,
			Labs: []LabResult{
				{File: "fixtures/x.md", Line: 3, Slide: 1, SlideTitle: "Fine", Status: Passed,
					SlideSource: "## Fine\n\n.lab[\n\n```bash\necho ok\n```\n\n]",
					Steps: []StepResult{{File: "fixtures/x.md", Line: 6, Kind: "command", Command: "echo ok", Status: Passed,
						Window: "[node1] ~# echo ok\nok\n[node1] ~#"}}},
				{File: "fixtures/x.md", Line: 12, Slide: 2, SlideTitle: "Counting to three", Status: Failed,
					SlideSource: slide,
					Steps: []StepResult{{File: "fixtures/x.md", Line: 17, Kind: "command", Command: "seq 1 3", Status: Failed,
						Reason: "the output does not match the slides", Diff: "  1\n  2\n- 4\n+ 3", Actual: "1\n2\n3\n",
						ExpectedFile: "fixtures/x.md", ExpectedLine: 30,
						Window: "[node1] ~# seq 1 3\n\x1b[0;1;38;5;1mred\x1b[0m \x1b[0;7mrev\x1b[0m <b>\n[node1] ~#"}}},
			},
		}},
	}
}

func TestWriteHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, htmlRun()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	// Failures come first, linking to the failed step, which exists.
	fail := strings.Index(page, `id="failures"`)
	chapter := strings.Index(page, `<section class="chapter">`)
	if fail < 0 || chapter < 0 || fail > chapter {
		t.Errorf("the failures are not listed before the chapters (%d, %d)", fail, chapter)
	}
	link := regexp.MustCompile(`<a href="#(c1-l2-s1)">fixtures/x.md:17</a> \(Counting to three\): the output does not match`).FindStringSubmatch(page)
	if link == nil || !strings.Contains(page, `id="`+link[1]+`"`) {
		t.Errorf("no link from the failure to its step")
	}
	for _, want := range []string{
		// The slide, as remark shows it.
		`<h2>Counting to three</h2>`,
		`<li>Count, slowly:`,
		`seq 1 3`,
		// Hidden directives are visible, muted, escaped.
		`<pre class="hidden-directive">&lt;!-- ` + "```wait 3```" + ` --&gt;</pre>`,
		// The image is its alt text; raw HTML is shown, not run.
		`[image: a diagram images/diagram.png]`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		// The window with its colours; text is escaped.
		`<span style="color:#cd3131;font-weight:bold">red</span>`,
		`<span style="color:var(--term-bg);background:var(--term-fg)">rev</span> &lt;b&gt;`,
		// The failure's diff, where the expected output is, and the full output.
		`<a href="file:///`, `fixtures/x.md:30</a>`, `<span class="del">- 4</span>`, `<span class="add">+ 3</span>`, `<pre class="output">1
2
3
</pre>`,
		`<meta name="viewport"`, `@media print`, `@media (max-width: 900px)`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "Speaker notes", ".lab[", "class: extra-details", " src=", "<link", "<img", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
}

// A report without slides and windows (no Screens) still lists every step.
func TestWriteHTMLWithoutScreens(t *testing.T) {
	r := htmlRun()
	for i := range r.Chapters[0].Labs {
		r.Chapters[0].Labs[i].SlideSource = ""
		for j := range r.Chapters[0].Labs[i].Steps {
			r.Chapters[0].Labs[i].Steps[j].Window = ""
		}
	}
	r.Chapters[0].Labs[1].Steps[0].Screen = "[node1] ~# seq 1 3"
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(slide text not recorded)", "$ echo ok", `<pre class="term">[node1] ~# seq 1 3</pre>`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestANSIHTML(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain <text>", "plain &lt;text&gt;"},
		{"\x1b[31mred\x1b[0m", `<span style="color:#cd3131">red</span>`},
		{"\x1b[38;5;208mo\x1b[48;5;236mx", `<span style="color:#ff8700">o</span><span style="color:#ff8700;background:#303030">x</span>`},
		{"\x1b[38;2;1;2;3mrgb", `<span style="color:#010203">rgb</span>`},
		{"\x1b[4;3mu\x1b[39;49;0m.", `<span style="font-style:italic;text-decoration:underline">u</span>.`},
		{"\x1b[Kbad escape", "[Kbad escape"},
	} {
		if got := string(ansiHTML(c.in)); got != c.want {
			t.Errorf("ansiHTML(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
