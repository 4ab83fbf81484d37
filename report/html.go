package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// WriteHTML renders a run as one self-contained page for authors: for each
// lab, its slide rendered from the markdown beside the terminal window after
// each step, with colours; failures first. Nothing in it loads from
// elsewhere (no scripts, fonts, images or styles from the network), so it
// can be mailed, attached to CI, read on a phone or printed.
//
// The slides and windows come from the executor's Screens option; without
// them the page still lists every step.
func WriteHTML(w io.Writer, r *Run) error {
	md := newSlideMarkdown()
	page := htmlPage{Run: r, Started: r.Started.UTC().Format(time.RFC1123), Duration: round(r.Duration)}
	counts := map[Status]int{}
	for ci, ch := range r.Chapters {
		hc := htmlChapter{Title: ch.Title, File: ch.File, Status: ch.Status, Duration: round(ch.Duration)}
		if hc.Title == "" {
			hc.Title = filepath.Base(ch.File)
		}
		for li, lab := range ch.Labs {
			hl := htmlLab{ID: fmt.Sprintf("c%d-l%d", ci+1, li+1), Lab: lab, Duration: round(lab.Duration),
				Where: where(lab.File, lab.Line)}
			if lab.SlideSource != "" {
				hl.Slide = md.render(lab.SlideSource)
			}
			lastWindow := ""
			for si, st := range lab.Steps {
				counts[st.Status]++
				hs := htmlStep{ID: fmt.Sprintf("%s-s%d", hl.ID, si+1), Step: st, Duration: round(st.Duration),
					Where: where(st.File, st.Line)}
				if st.ExpectedFile != "" {
					hs.ExpectedWhere = where(st.ExpectedFile, st.ExpectedLine)
				}
				// A window is shown when it changed: a wait or a key after a
				// command would repeat the same screen.
				if st.Window != "" && (st.Window != lastWindow || st.Status.Bad()) {
					hs.Window = ansiHTML(st.Window)
					lastWindow = st.Window
				}
				if st.Status.Bad() {
					page.Failures = append(page.Failures, htmlFailure{ID: hs.ID, Where: hs.Where,
						Slide: lab.SlideTitle, Reason: st.Reason})
				}
				hl.Steps = append(hl.Steps, hs)
			}
			hc.Labs = append(hc.Labs, hl)
		}
		page.Chapters = append(page.Chapters, hc)
	}
	for _, s := range []Status{Passed, Failed, Error, Interrupted, Skipped, Manual, NotVerified} {
		if counts[s] > 0 {
			page.Counts = append(page.Counts, htmlCount{s, counts[s]})
		}
	}
	return htmlTemplate.Execute(w, page)
}

type htmlPage struct {
	Run      *Run
	Started  string
	Duration time.Duration
	Counts   []htmlCount
	Failures []htmlFailure
	Chapters []htmlChapter
}

type htmlCount struct {
	Status Status
	N      int
}

type htmlFailure struct {
	ID, Where, Slide, Reason string
}

type htmlChapter struct {
	Title, File string
	Status      Status
	Duration    time.Duration
	Labs        []htmlLab
}

type htmlLab struct {
	ID       string
	Lab      LabResult
	Slide    template.HTML
	Where    string
	Duration time.Duration
	Steps    []htmlStep
}

type htmlStep struct {
	ID            string
	Step          StepResult
	Where         string
	ExpectedWhere string
	Duration      time.Duration
	Window        template.HTML
}

func where(file string, line int) string {
	if file == "" {
		return ""
	}
	return file + ":" + strconv.Itoa(line)
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// fileURL links a file:line to the file itself (browsers ignore the line).
func fileURL(loc string) template.URL {
	file := loc
	if i := strings.LastIndexByte(loc, ':'); i > 0 {
		file = loc[:i]
	}
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	u := "file://" + filepath.ToSlash(file)
	return template.URL(strings.ReplaceAll(u, " ", "%20"))
}

// slideMarkdown renders a remark slide with goldmark as remark shows it:
// .class[ ] wrappers unwrapped, speaker notes left out, and the hidden
// directives (HTML comments) shown as muted text rather than hidden, since
// they are what labrun replays. Raw HTML is never passed through and
// images become their alt text, so a slide cannot make the page load
// anything.
type slideMarkdown struct{ md goldmark.Markdown }

func newSlideMarkdown() slideMarkdown {
	return slideMarkdown{goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(mutedHTML{}, 100))),
	)}
}

var (
	remarkOpen   = regexp.MustCompile(`^\s*\.[A-Za-z][\w-]*(\s+\.?[A-Za-z][\w-]*)*\[\s*$`)
	remarkInline = regexp.MustCompile(`\.[A-Za-z][\w-]*\[([^\[\]]*)\]`)
	remarkProp   = regexp.MustCompile(`^(class|name|layout|template|exclude):`)
)

func (s slideMarkdown) render(src string) template.HTML {
	var lines []string
	depth := 0
	inFence := ""
	props := true
	for _, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		if inFence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
			inFence = t[:3]
			lines = append(lines, l)
			continue
		}
		if inFence != "" {
			if strings.HasPrefix(t, inFence) {
				inFence = ""
			}
			lines = append(lines, l)
			continue
		}
		if props && remarkProp.MatchString(t) {
			continue
		}
		if t != "" {
			props = false
		}
		switch {
		case t == "???":
			lines = append(lines, "") // speaker notes: not on the slide
			return s.convert(lines)
		case t == "--":
			lines = append(lines, "")
			continue
		case remarkOpen.MatchString(l):
			depth++
			lines = append(lines, "")
			continue
		case t == "]" && depth > 0:
			depth--
			lines = append(lines, "")
			continue
		}
		for remarkInline.MatchString(l) {
			l = remarkInline.ReplaceAllString(l, "$1")
		}
		lines = append(lines, l)
	}
	return s.convert(lines)
}

func (s slideMarkdown) convert(lines []string) template.HTML {
	var buf bytes.Buffer
	if err := s.md.Convert([]byte(strings.Join(lines, "\n")), &buf); err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(strings.Join(lines, "\n")) + "</pre>")
	}
	return template.HTML(buf.String())
}

// mutedHTML renders raw HTML (the hidden directives live in comments) as
// visible, escaped, muted text, and images as their alt text.
type mutedHTML struct{}

func (mutedHTML) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHTMLBlock, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		b := n.(*ast.HTMLBlock)
		var text bytes.Buffer
		for i := 0; i < b.Lines().Len(); i++ {
			seg := b.Lines().At(i)
			text.Write(seg.Value(src))
		}
		if b.HasClosure() {
			text.Write(b.ClosureLine.Value(src))
		}
		fmt.Fprintf(w, `<pre class="hidden-directive">%s</pre>`, template.HTMLEscapeString(strings.TrimRight(text.String(), "\n")))
		return ast.WalkSkipChildren, nil
	})
	reg.Register(ast.KindRawHTML, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkSkipChildren, nil
		}
		r := n.(*ast.RawHTML)
		var text bytes.Buffer
		for i := 0; i < r.Segments.Len(); i++ {
			seg := r.Segments.At(i)
			text.Write(seg.Value(src))
		}
		fmt.Fprintf(w, `<code class="hidden-directive">%s</code>`, template.HTMLEscapeString(text.String()))
		return ast.WalkSkipChildren, nil
	})
	reg.Register(ast.KindImage, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkSkipChildren, nil
		}
		img := n.(*ast.Image)
		var alt bytes.Buffer
		for c := img.FirstChild(); c != nil; c = c.NextSibling() {
			if t, ok := c.(*ast.Text); ok {
				alt.Write(t.Segment.Value(src))
			}
		}
		fmt.Fprintf(w, `<span class="image">[image: %s]</span>`, template.HTMLEscapeString(alt.String()+" "+string(img.Destination)))
		return ast.WalkSkipChildren, nil
	})
}

// ansiHTML turns a styled screen (text with SGR sequences, as the tmux
// package renders it) into HTML spans with inline colours.
func ansiHTML(s string) template.HTML {
	var b strings.Builder
	var st sgrState
	open := false
	for len(s) > 0 {
		i := strings.IndexByte(s, 0x1b)
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		b.WriteString(template.HTMLEscapeString(s[:i]))
		s = s[i:]
		end := strings.IndexByte(s, 'm')
		if len(s) < 2 || s[1] != '[' || end < 0 {
			s = s[1:] // not an SGR: drop the escape
			continue
		}
		st.apply(s[2:end])
		s = s[end+1:]
		if open {
			b.WriteString("</span>")
			open = false
		}
		if style := st.css(); style != "" {
			fmt.Fprintf(&b, `<span style="%s">`, style)
			open = true
		}
	}
	if open {
		b.WriteString("</span>")
	}
	return template.HTML(b.String())
}

type sgrState struct {
	fg, bg                           string
	bold, italic, underline, reverse bool
}

func (st *sgrState) apply(params string) {
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		n, _ := strconv.Atoi(ps[i])
		switch {
		case n == 0:
			*st = sgrState{}
		case n == 1:
			st.bold = true
		case n == 3:
			st.italic = true
		case n == 4:
			st.underline = true
		case n == 7:
			st.reverse = true
		case n >= 30 && n <= 37:
			st.fg = xterm(n - 30)
		case n >= 90 && n <= 97:
			st.fg = xterm(n - 90 + 8)
		case n >= 40 && n <= 47:
			st.bg = xterm(n - 40)
		case n >= 100 && n <= 107:
			st.bg = xterm(n - 100 + 8)
		case n == 39:
			st.fg = ""
		case n == 49:
			st.bg = ""
		case (n == 38 || n == 48) && i+2 < len(ps) && ps[i+1] == "5":
			c, _ := strconv.Atoi(ps[i+2])
			i += 2
			if n == 38 {
				st.fg = xterm(c)
			} else {
				st.bg = xterm(c)
			}
		case (n == 38 || n == 48) && i+4 < len(ps) && ps[i+1] == "2":
			r, _ := strconv.Atoi(ps[i+2])
			g, _ := strconv.Atoi(ps[i+3])
			bl, _ := strconv.Atoi(ps[i+4])
			i += 4
			c := fmt.Sprintf("#%02x%02x%02x", r&0xff, g&0xff, bl&0xff)
			if n == 38 {
				st.fg = c
			} else {
				st.bg = c
			}
		}
	}
}

func (st sgrState) css() string {
	fg, bg := st.fg, st.bg
	if st.reverse {
		if fg == "" {
			fg = "var(--term-fg)"
		}
		if bg == "" {
			bg = "var(--term-bg)"
		}
		fg, bg = bg, fg
	}
	var parts []string
	if fg != "" {
		parts = append(parts, "color:"+fg)
	}
	if bg != "" {
		parts = append(parts, "background:"+bg)
	}
	if st.bold {
		parts = append(parts, "font-weight:bold")
	}
	if st.italic {
		parts = append(parts, "font-style:italic")
	}
	if st.underline {
		parts = append(parts, "text-decoration:underline")
	}
	return strings.Join(parts, ";")
}

// xterm is the colour of xterm's 256-colour palette entry n.
func xterm(n int) string {
	base := []string{"#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
		"#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"}
	switch {
	case n < 0 || n > 255:
		return ""
	case n < 16:
		return base[n]
	case n < 232:
		n -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return fmt.Sprintf("#%02x%02x%02x", level(n/36), level(n/6%6), level(n%6))
	default:
		v := 8 + 10*(n-232)
		return fmt.Sprintf("#%02x%02x%02x", v, v, v)
	}
}

// diffHTML colours a diff's lines: "- " expected and not found, "+ "
// printed but not expected.
func diffHTML(d string) template.HTML {
	var b strings.Builder
	for i, l := range strings.Split(d, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case strings.HasPrefix(l, "- "):
			fmt.Fprintf(&b, `<span class="del">%s</span>`, template.HTMLEscapeString(l))
		case strings.HasPrefix(l, "+ "):
			fmt.Fprintf(&b, `<span class="add">%s</span>`, template.HTMLEscapeString(l))
		default:
			b.WriteString(template.HTMLEscapeString(l))
		}
	}
	return template.HTML(b.String())
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"fileURL": fileURL,
	"diff":    diffHTML,
	"first":   func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>labrun: {{.Run.Deck}} ({{.Run.Status}})</title>
<style>
:root { --term-fg: #d4d4d4; --term-bg: #1e1e1e; --muted: #6a737d; --ok: #1a7f37; --bad: #cf222e; --skip: #9a6700; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 1rem; max-width: 110rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.4rem; margin: .2rem 0; }
h2 { font-size: 1.2rem; border-bottom: 2px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
a { color: #0969da; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
.summary span { margin-right: 1rem; }
.passed { color: var(--ok); } .failed, .error, .interrupted { color: var(--bad); } .skipped, .manual, .not_verified { color: var(--skip); }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.failures { border: 2px solid var(--bad); border-radius: 6px; padding: .5rem 1rem; background: #fff5f5; }
.failures li { margin: .3rem 0; }
.failures h2 { margin-top: .3rem; }
.lab { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 1rem; border: 1px solid #d0d7de; border-radius: 6px; padding: .8rem; margin: 1rem 0; break-inside: avoid-page; }
.lab.bad { border-color: var(--bad); }
.lab > header { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: .6rem; align-items: baseline; }
.lab > header h3 { margin: 0; font-size: 1.05rem; }
.slide { background: #f6f8fa; border-radius: 6px; padding: .2rem .9rem; overflow-wrap: anywhere; }
.slide pre { background: #fff; padding: .5rem; border-radius: 4px; overflow-x: auto; }
.slide h1 { font-size: 1.2rem; } .slide h2, .slide h3 { font-size: 1.05rem; border: 0; margin-top: .8rem; }
.hidden-directive { color: var(--muted); background: transparent !important; font-style: italic; opacity: .85; white-space: pre-wrap; }
pre.hidden-directive { margin: .2rem 0; padding: 0 !important; }
.image { color: var(--muted); }
.step { margin: 0 0 .8rem 0; }
.step .head { display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
.step .cmd { background: #eaeef2; border-radius: 4px; padding: 0 .3rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.where, .dur { color: var(--muted); font-size: 12px; }
.reason { color: var(--bad); margin: .2rem 0; }
.term { background: var(--term-bg); color: var(--term-fg); padding: .5rem; border-radius: 4px; overflow-x: auto; line-height: 1.2; margin: .3rem 0; }
.diff, .output { background: #f6f8fa; padding: .5rem; border-radius: 4px; overflow-x: auto; }
.diff .del { color: var(--bad); } .diff .add { color: var(--ok); }
details summary { cursor: pointer; color: var(--muted); }
.notes { color: var(--muted); }
@media (max-width: 900px) {
  body { padding: .5rem; }
  .lab { grid-template-columns: minmax(0, 1fr); }
  .term { font-size: 11px; }
}
@media print {
  body { max-width: none; font-size: 11pt; }
  .lab { grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); border-color: #888; }
  .term { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 8pt; border: 1px solid #888; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; overflow: visible; }
  a { color: inherit; text-decoration: none; }
  .failures { background: none; }
}
</style>
</head>
<body>
<header>
<h1>labrun report: {{.Run.Deck}}</h1>
<div class="summary"><span class="badge {{.Run.Status}}">{{.Run.Status}}</span>
<span>{{.Started}}</span><span>cluster {{.Run.Cluster}}</span><span>{{.Duration}}</span>
{{range .Counts}}<span class="{{.Status}}">{{.N}} {{.Status}}</span>{{end}}</div>
{{range .Run.Notes}}<p class="notes">{{.}}</p>{{end}}
</header>
{{if .Failures}}<section class="failures" id="failures"><h2>Failures</h2><ol>
{{range .Failures}}<li><a href="#{{.ID}}">{{.Where}}</a>{{if .Slide}} ({{.Slide}}){{end}}: {{.Reason}}</li>
{{end}}</ol></section>{{end}}
<nav><h2>Contents</h2><ul>
{{range .Chapters}}<li><a href="{{fileURL .File}}">{{.Title}}</a> <span class="badge {{.Status}}">{{.Status}}</span><ul>
{{range .Labs}}<li><a href="#{{.ID}}">{{if .Lab.SlideTitle}}{{.Lab.SlideTitle}}{{else}}{{.Where}}{{end}}</a> <span class="{{.Lab.Status}}">{{.Lab.Status}}</span></li>
{{end}}</ul></li>{{end}}</ul></nav>
{{range .Chapters}}
<section class="chapter"><h2>{{.Title}} <span class="badge {{.Status}}">{{.Status}}</span> <span class="dur">{{.Duration}}</span></h2>
{{range .Labs}}
<article class="lab{{if .Lab.Status.Bad}} bad{{end}}" id="{{.ID}}">
<header><h3>slide {{.Lab.Slide}}{{if .Lab.SlideTitle}}: {{.Lab.SlideTitle}}{{end}}</h3>
<span class="badge {{.Lab.Status}}">{{.Lab.Status}}</span>
<a class="where" href="{{fileURL .Where}}">{{.Where}}</a><span class="dur">{{.Duration}}</span></header>
<div class="slide">{{if .Slide}}{{.Slide}}{{else}}<p class="notes">(slide text not recorded)</p>{{end}}</div>
<div class="steps">
{{range .Steps}}<div class="step" id="{{.ID}}">
<div class="head"><span class="badge {{.Step.Status}}">{{.Step.Status}}</span>
<code class="cmd">{{if eq .Step.Kind "command"}}$ {{.Step.Command}}{{else}}{{.Step.Kind}} {{.Step.Command}}{{end}}</code>
<span class="dur">{{.Duration}}</span> <a class="where" href="{{fileURL .Where}}">{{.Where}}</a>{{if ne .Step.Pane 0}} <span class="where">pane {{.Step.Pane}}</span>{{end}}</div>
{{if .Step.Reason}}<div class="{{if .Step.Status.Bad}}reason{{else}}notes{{end}}">{{.Step.Reason}}</div>{{end}}
{{if .Step.Hint}}<div class="notes">{{.Step.Hint}}</div>{{end}}
{{if .Step.Cause}}<div class="notes">{{.Step.Cause}}</div>{{end}}
{{range .Step.Substituted}}<div class="notes">placeholder {{.}}</div>{{end}}
{{if .Window}}<pre class="term">{{.Window}}</pre>{{end}}
{{if .Step.Status.Bad}}{{if .Step.Diff}}<div class="where">expected output from <a href="{{fileURL .ExpectedWhere}}">{{.ExpectedWhere}}</a> (- expected, + printed)</div><pre class="diff">{{diff .Step.Diff}}</pre>{{end}}
{{if .Step.Actual}}<details open><summary>full output</summary><pre class="output">{{.Step.Actual}}</pre></details>{{end}}
{{if and .Step.Screen (not .Window)}}<pre class="term">{{.Step.Screen}}</pre>{{end}}{{end}}
</div>
{{end}}</div>
</article>
{{end}}</section>
{{end}}
<footer class="notes"><p>labrun · kubectl {{.Run.Kubectl}}</p></footer>
</body>
</html>
`))
