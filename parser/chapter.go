package parser

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	gparser "github.com/yuin/goldmark/parser"
)

// maxExpectedDistance is how many slides after its lab a plain fence may
// sit and still be read as the lab's output. Measured on container.training:
// 0 (same slide) to 5 slides; fences further away were unrelated text.
const maxExpectedDistance = 5

// Options tune ParseChapter. The zero value parses a chapter on its own.
type Options struct {
	// Exclude lists slide classes to drop (with their labs), as a manifest's
	// `exclude:` does.
	Exclude []string
	// Tokens maps whole tokens such as "@@GITREPO@@" to their values. Only
	// these are replaced; other @@X@@ text stays literal.
	Tokens map[string]string
	// Includes maps the path written in @@INCLUDE[path] to the text that
	// replaces it. Load fills it (ParseChapter reads no files); an
	// @@INCLUDE whose path is missing here stays literal. Included lines
	// carry the line number of the @@INCLUDE line.
	Includes map[string]string
	// LinkBase, when set, turns @@LINK[path] into [path](LinkBase/path), as
	// the deck builder does.
	LinkBase string
}

// ParseChapter reads one markdown chapter into slides, labs and steps.
//
// Structure follows remark.js, which is line- and regex-based: slides are cut
// on lines exactly `---` / `--` outside fences (so `text\n---` is never a
// setext heading), labs end where raw bracket counting says, and fences may
// sit at any indentation. goldmark renders slide titles (ATX and setext
// headings, with inline markup stripped). CommonMark's container rules are
// deliberately not used for fences: a closing fence indented differently
// from its opener in a list item would swallow the rest of the slide under
// CommonMark, while remark (and the person reading the slide) closes it.
//
// Decisions for cases the deck format leaves open:
//   - Directives in HTML comments outside any lab are ignored, with a
//     warning (in speaker notes, silently); directives inside a lab that is
//     itself commented out or in notes are ignored under that lab's warning.
//   - A lab whose brackets do not balance before the next `---`, `--`, `???`
//     or the end of the file is closed there (an error is reported) and its
//     steps are kept.
//   - A fence that is never closed is an error and is read as text, as
//     remark's lexer does (it only splits fences it can close).
//   - Expected output is the first plain fence (no info string) after a lab
//     and before the next one, outside speaker notes, on the lab's slide
//     or at most maxExpectedDistance slides later.
//   - Slide numbers count every slide in the file, excluded ones too, so a
//     number names the same slide whatever the manifest excludes.
//   - An excluded slide is still linted, but its labs and fences take no
//     part in the chapter (they neither run nor serve as expected output).
//
// It runs in time linear in the input (titles aside, which goldmark parses
// from a line or two). It does not recover from its own panics, so tests and
// the fuzzer see them; Load, which the CLI calls, turns one into a diagnostic.
func ParseChapter(file string, src []byte, opts Options) (ch *Chapter, diags []Diagnostic) {
	p := &chapterParser{file: file, opts: opts}
	p.lines = p.substitute(splitLines(src))
	p.split()
	p.scan()
	ch = p.chapter()
	sort.SliceStable(p.diags, func(i, j int) bool { return p.diags[i].Pos.Line < p.diags[j].Pos.Line })
	return ch, p.diags
}

// chapterParser holds one ParseChapter call's state; nothing is shared
// between calls.
type chapterParser struct {
	file  string
	opts  Options
	lines []line
	diags []Diagnostic

	// fenceRun[i] is the run length a too-long opener at line i was read
	// with (see split); absent for ordinary fences.
	fenceRun map[int]int
	// fenceEnd[i] is the index of the line closing the fence opened at
	// line i, or -1 when line i opens no fence.
	fenceEnd []int
	segs     []segment

	slides  []*slideBuild
	pending *Lab // the last lab, waiting for its expected output
	// pendingSlide is the number of the pending lab's slide.
	pendingSlide int
	md           gparser.Parser
	ph           *placeholderFinder
}

func (p *chapterParser) placeholders(text string) []Placeholder {
	if p.ph == nil {
		p.ph = newPlaceholderFinder()
	}
	return p.ph.find(text)
}

// segment is a run of lines between separators.
type segment struct {
	start, end int  // line indexes [start, end)
	increment  bool // introduced by `--`
	sep        int  // index of the separator line, -1 for the first segment
}

type slideBuild struct {
	Slide
	labs    []*Lab
	dropped bool
}

func (p *chapterParser) pos(i, col int) Pos {
	if i < 0 {
		return Pos{File: p.file, Line: 1}
	}
	if i >= len(p.lines) {
		n := 1
		if len(p.lines) > 0 {
			n = p.lines[len(p.lines)-1].num
		}
		return Pos{File: p.file, Line: n}
	}
	return Pos{File: p.file, Line: p.lines[i].num, Col: col}
}

func (p *chapterParser) diag(i, col int, sev Severity, format string, args ...any) {
	d := Diagnostic{Pos: p.pos(i, col), Severity: sev, Message: fmt.Sprintf(format, args...)}
	if i >= 0 && i < len(p.lines) {
		d.Source = p.lines[i].text
	}
	p.diags = append(p.diags, d)
}

// substitute replaces known @@TOKENS@@, @@LINK[...] and @@INCLUDE[...].
func (p *chapterParser) substitute(ls []line) []line {
	o := p.opts
	if len(o.Tokens) == 0 && len(o.Includes) == 0 && o.LinkBase == "" {
		return ls
	}
	var rep *strings.Replacer
	if len(o.Tokens) > 0 {
		keys := make([]string, 0, len(o.Tokens))
		for k := range o.Tokens {
			if k != "" {
				keys = append(keys, k)
			}
		}
		// Longest first, so a token that prefixes another cannot win.
		sort.Slice(keys, func(i, j int) bool {
			if len(keys[i]) != len(keys[j]) {
				return len(keys[i]) > len(keys[j])
			}
			return keys[i] < keys[j]
		})
		pairs := make([]string, 0, 2*len(keys))
		for _, k := range keys {
			pairs = append(pairs, k, o.Tokens[k])
		}
		rep = strings.NewReplacer(pairs...)
	}
	out := make([]line, 0, len(ls))
	for _, l := range ls {
		if !strings.Contains(l.text, "@@") {
			out = append(out, l)
			continue
		}
		t := l.text
		if rep != nil {
			t = rep.Replace(t)
		}
		if o.LinkBase != "" {
			t = replaceBracketToken(t, "@@LINK[", func(path string) (string, bool) {
				return "[" + path + "](" + strings.TrimSuffix(o.LinkBase, "/") + "/" + path + ")", true
			})
		}
		if len(o.Includes) > 0 && strings.Contains(t, "@@INCLUDE[") {
			included := false
			t = replaceBracketToken(t, "@@INCLUDE[", func(path string) (string, bool) {
				s, ok := o.Includes[path]
				included = included || ok
				return strings.TrimSuffix(s, "\n"), ok
			})
			for _, part := range strings.Split(t, "\n") {
				out = append(out, line{text: strings.TrimSuffix(part, "\r"), num: l.num, included: included})
			}
			continue
		}
		out = append(out, line{text: t, num: l.num})
	}
	return out
}

// replaceBracketToken replaces each prefix+path+"]" in s by f(path) when f
// says it knows the path.
func replaceBracketToken(s, prefix string, f func(string) (string, bool)) string {
	var b strings.Builder
	for {
		i := strings.Index(s, prefix)
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+len(prefix):], ']')
		if j < 0 {
			break
		}
		path := s[i+len(prefix) : i+len(prefix)+j]
		b.WriteString(s[:i])
		if r, ok := f(path); ok {
			b.WriteString(r)
		} else {
			b.WriteString(s[i : i+len(prefix)+j+1])
		}
		s = s[i+len(prefix)+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// split finds the fences (so separators inside them are ignored) and cuts
// the lines into segments at `---` and `--`.
func (p *chapterParser) split() {
	n := len(p.lines)
	p.fenceEnd = make([]int, n)
	p.fenceRun = map[int]int{}
	// maxRun[c][i]: the longest closing run of char c on lines i..n-1,
	// so "is this fence ever closed?" costs O(1) and the pass stays linear.
	maxBT := make([]int, n+1)
	maxTL := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		maxBT[i], maxTL[i] = maxBT[i+1], maxTL[i+1]
		if f, ok := fenceClose(p.lines[i].text); ok {
			if f.char == '`' {
				maxBT[i] = max(maxBT[i], f.n)
			} else {
				maxTL[i] = max(maxTL[i], f.n)
			}
		}
	}
	cur := segment{start: 0, sep: -1}
	inComment := false
	for i := 0; i < n; i++ {
		p.fenceEnd[i] = -1
		t := p.lines[i].text
		if t == "---" || t == "--" {
			cur.end = i
			p.segs = append(p.segs, cur)
			cur = segment{start: i + 1, increment: t == "--", sep: i}
			if t == "---" {
				inComment = false // the scan ends comments with the slide too
			}
			continue
		}
		f, ok := fenceOpen(t)
		if inComment && strings.Contains(t, "-->") {
			ok = false // ```` ``` --> ```` closes a directive and the comment
		}
		if !ok {
			inComment = commentAfter(t, inComment)
			continue
		}
		best := maxBT[i+1]
		if f.char == '~' {
			best = maxTL[i+1]
		}
		if best < f.n && best >= 3 {
			// remark's lexer backtracks (`{3,}): a run that is never closed
			// opens a shorter fence that is, and the extra backticks join
			// the info string (```` ````bash ```` closed by ``` renders as
			// code of language "`bash"). Do the same, so the separators
			// after it stay separators.
			if !inComment {
				p.shrunkFence(i, f, best)
			}
			p.fenceRun[i] = best
			f.n = best
		}
		if best < f.n {
			if !inComment {
				p.unclosedFence(i, f)
			}
			continue
		}
		j := i + 1
		for ; j < n; j++ {
			if c, ok := fenceClose(p.lines[j].text); ok && c.char == f.char && c.n >= f.n {
				break
			}
		}
		if j >= n { // cannot happen given maxRun; stay safe
			p.unclosedFence(i, f)
			continue
		}
		// A fence inside a comment only protects separators (as remark's
		// lexer does); the scan reads it as a directive, not as code.
		if !inComment {
			p.fenceEnd[i] = j
		}
		for k := i + 1; k <= j; k++ {
			p.fenceEnd[k] = -1
		}
		i = j
	}
	cur.end = n
	p.segs = append(p.segs, cur)
}

// commentAfter says whether an HTML comment is open after line t, given
// whether one was open before it.
func commentAfter(t string, in bool) bool {
	for {
		if in {
			k := strings.Index(t, "-->")
			if k < 0 {
				return true
			}
			t, in = t[k+3:], false
			continue
		}
		k := strings.Index(t, "<!--")
		if k < 0 {
			return false
		}
		t, in = t[k+4:], true
	}
}

// shrunkFence reports an opener longer than any closer after it, which
// remark reads as a shorter fence with the extra characters in its info.
func (p *chapterParser) shrunkFence(i int, f fence, n int) {
	closer := 0
	for j := i + 1; j < len(p.lines); j++ {
		if c, ok := fenceClose(p.lines[j].text); ok && c.char == f.char && c.n >= n {
			closer = p.lines[j].num
			break
		}
	}
	extra := strings.Repeat(string(f.char), f.n-n)
	p.diag(i, f.indent+1, SeverityError,
		"fence %s opened here is closed by %s at line %d: remark reads it as a %d-character fence of language %q, not %q",
		strings.Repeat(string(f.char), f.n), strings.Repeat(string(f.char), n), closer, n, extra+f.info, f.info)
}

func (p *chapterParser) unclosedFence(i int, f fence) {
	run := strings.Repeat(string(f.char), f.n)
	// Point at a shorter run that the author probably meant as the closer.
	for j := i + 1; j < len(p.lines); j++ {
		t := p.lines[j].text
		if t == "---" || t == "--" {
			break
		}
		if c, ok := fenceClose(t); ok && c.char == f.char && c.n < f.n {
			p.diag(i, f.indent+1, SeverityError,
				"fence %s opened here is never closed (line %d closes with %d, it needs %d); read as text",
				run, p.lines[j].num, c.n, f.n)
			return
		}
	}
	p.diag(i, f.indent+1, SeverityError, "fence %s opened here is never closed; read as text", run)
}

// ---------------------------------------------------------------------------
// The scan: one pass over each slide's lines.

// scanState is what the scan tracks within one slide.
type scanState struct {
	sb      *slideBuild
	notes   bool
	lab     *Lab
	labIdx  int  // line index of the lab's opener
	labOff  bool // lab does not run (in notes)
	depth   int
	comment *commentState
	// titleTries counts heading candidates given to goldmark.
	titleTries int
}

type commentState struct {
	start int // line index of `<!--`
	col   int // column of `<!--`
	// labOff: a `.lab[` was seen inside the comment: its directives are
	// part of a commented-out lab and need no warning of their own.
	labOff bool
	dir    *openDirective
}

// openDirective is a multi-line directive fence inside a comment.
type openDirective struct {
	line, col int
	n         int
	info      string
	body      []string
}

func (p *chapterParser) scan() {
	var st *scanState
	for si, seg := range p.segs {
		if si == 0 || !seg.increment || st == nil {
			if st != nil {
				p.endSlide(st, seg.sep)
			}
			sb := &slideBuild{}
			sb.Number = len(p.slides) + 1
			sb.Pos = p.pos(seg.sep, 0)
			for k := seg.start; k < seg.end; k++ {
				if strings.TrimSpace(p.lines[k].text) != "" {
					sb.Pos = p.pos(k, 0)
					break
				}
			}
			p.slides = append(p.slides, sb)
			st = &scanState{sb: sb}
			seg.start = p.properties(sb, seg.start, seg.end)
		} else {
			p.endSegment(st, seg.sep, "the next increment (--)")
		}
		for i := seg.start; i < seg.end; i++ {
			i = p.scanLine(st, i)
		}
	}
	if st != nil {
		p.endSlide(st, -1)
	}
}

// properties reads `name: value` lines at the top of a slide, as remark
// does (blank lines may come first), and returns the first content line.
func (p *chapterParser) properties(sb *slideBuild, start, end int) int {
	i := start
	for ; i < end; i++ {
		t := p.lines[i].text
		if strings.TrimSpace(t) == "" {
			continue
		}
		k := 0
		for k < len(t) && (t[k] == '-' || t[k] == '_' || isAlnum(t[k])) {
			k++
		}
		if k == 0 || k >= len(t) || t[k] != ':' {
			break
		}
		key, val := t[:k], strings.TrimSpace(t[k+1:])
		switch key {
		case "class":
			for _, c := range strings.Split(val, ",") {
				if c = strings.TrimSpace(c); c != "" {
					sb.Classes = append(sb.Classes, c)
				}
			}
		case "name":
			sb.Name = val
		case "exclude":
			if val == "true" {
				sb.dropped = true
			}
		}
	}
	for _, c := range sb.Classes {
		if slices.Contains(p.opts.Exclude, c) {
			sb.dropped = true
		}
	}
	return i
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// endSegment closes what cannot cross a separator: a lab.
func (p *chapterParser) endSegment(st *scanState, sep int, what string) {
	if st.lab != nil {
		p.diag(st.labIdx, 1, SeverityError,
			"unbalanced brackets: lab is not closed before %s; remark would swallow what follows (closed here)", what)
		p.closeLab(st)
	}
	st.notes = false
}

func (p *chapterParser) endSlide(st *scanState, sep int) {
	what := "the next slide (---)"
	if sep < 0 {
		what = "the end of the file"
	}
	p.endSegment(st, sep, what)
	if c := st.comment; c != nil {
		if c.dir != nil {
			p.diag(c.dir.line, c.dir.col, SeverityError, "directive fence in HTML comment is never closed")
		}
		p.diag(c.start, c.col, SeverityWarning, "HTML comment is not closed before %s", what)
		st.comment = nil
	}
}

// scanLine handles line i and returns the index of the last line it consumed.
func (p *chapterParser) scanLine(st *scanState, i int) int {
	t := p.lines[i].text
	if st.comment != nil {
		p.commentText(st, i, t, 0)
		p.countLab(st, i, t)
		return i
	}
	if t == "???" {
		if st.lab != nil {
			p.endSegment(st, i, "the speaker notes (???)")
		}
		st.notes = true
		return i
	}
	if isLabOpener(t) {
		if st.lab == nil {
			p.openLab(st, i)
			return i
		}
		p.diag(i, 1, SeverityWarning, "lab opened inside another lab (opened at line %d)", p.lines[st.labIdx].num)
		p.countLab(st, i, t)
		return i
	}
	if end := p.fenceEnd[i]; end > i {
		p.visibleFence(st, i, end)
		return end
	}
	if st.sb.Title == "" && !st.notes {
		p.title(st, i)
	}
	if k := strings.Index(t, "<!--"); k >= 0 {
		p.openComment(st, i, k)
	}
	p.countLab(st, i, t)
	return i
}

func (p *chapterParser) openLab(st *scanState, i int) {
	st.lab = &Lab{Pos: p.pos(i, 1), Steps: []Step{}}
	st.labIdx = i
	st.depth = 1
	st.labOff = st.notes
	if st.notes {
		p.diag(i, 1, SeverityWarning, "lab in speaker notes does not run")
	}
	if !st.labOff && !st.sb.dropped {
		// A new lab ends the search for the previous one's output.
		p.pending = nil
	}
}

// countLab updates the lab's bracket depth with line i and closes the lab
// when it reaches zero.
func (p *chapterParser) countLab(st *scanState, i int, t string) {
	if st.lab == nil {
		return
	}
	st.depth += countBrackets(t)
	if st.depth <= 0 {
		p.closeLab(st)
	}
}

func (p *chapterParser) closeLab(st *scanState) {
	lab := st.lab
	st.lab = nil
	if st.labOff || st.sb.dropped {
		return
	}
	p.lintLab(lab)
	st.sb.labs = append(st.sb.labs, lab)
	p.pending, p.pendingSlide = lab, st.sb.Number
}

// visibleFence handles a fence shown on the slide, lines open..end.
func (p *chapterParser) visibleFence(st *scanState, open, end int) {
	f, _ := fenceOpen(p.lines[open].text)
	if n, ok := p.fenceRun[open]; ok {
		f.info = strings.Repeat(string(f.char), f.n-n) + f.info
		f.n = n
	}
	if f.trailing {
		p.diag(open, f.indent+f.n+len(f.info)+1, SeverityWarning, "trailing blanks after the fence's info string %q", f.info)
	}
	if c, _ := fenceClose(p.lines[end].text); c.indent != f.indent && st.lab != nil {
		p.diag(end, c.indent+1, SeverityWarning,
			"closing fence is indented %d, its opener (line %d) %d: Markdown renderers may end the list item here",
			c.indent, p.lines[open].num, f.indent)
	}
	body := make([]string, 0, end-open-1)
	for k := open + 1; k < end; k++ {
		body = append(body, p.lines[k].text)
	}
	lab, labRuns := st.lab, st.lab != nil && !st.labOff && !st.sb.dropped
	lang := fenceLang(f.info)
	// Brackets in the fence still count for remark.
	for k := open; k <= end && st.lab != nil; k++ {
		st.depth += countBrackets(p.lines[k].text)
		if st.depth <= 0 {
			p.diag(k, 1, SeverityWarning, "a ']' inside this code block closes the lab opened at line %d (unbalanced brackets)", p.lines[st.labIdx].num)
			p.closeLab(st)
		}
	}
	switch {
	case lab != nil:
		if !labRuns {
			return
		}
		switch lang {
		case "bash":
			p.commandStep(lab, open, f, body)
		case "sh", "shell", "console", "shell-session", "zsh":
			p.diag(open, f.indent+1, SeverityWarning, "```%s fence in a lab is not run: only ```bash is", lang)
		}
	case f.info == "" && !st.notes && !st.sb.dropped && p.pending != nil:
		dist := st.sb.Number - p.pendingSlide
		if dist > maxExpectedDistance || p.showsFile(open, end) {
			p.pending = nil
			return
		}
		p.pending.Expected = &Expected{Pos: p.pos(open, f.indent+1), Text: dedent(body), Distance: dist}
		p.pending = nil
	}
}

// showsFile says whether the fence between lines open and end holds only
// the text of an @@INCLUDE: a file the slides show ("Here is the file that
// we will use"), not a command's output.
func (p *chapterParser) showsFile(open, end int) bool {
	if end-open < 2 {
		return false
	}
	for k := open + 1; k < end; k++ {
		if !p.lines[k].included {
			return false
		}
	}
	return true
}

func (p *chapterParser) commandStep(lab *Lab, open int, f fence, body []string) {
	text := strings.ReplaceAll(dedent(body), "`", "")
	if strings.TrimSpace(text) == "" {
		p.diag(open, f.indent+1, SeverityWarning, "empty ```bash block in a lab")
		return
	}
	lines, changed := stripTranscript(strings.Split(text, "\n"))
	p.lintTranscript(open, changed)
	text = strings.Join(lines, "\n")
	if strings.TrimSpace(text) == "" {
		return
	}
	lab.Steps = append(lab.Steps, Step{
		Kind:         KindCommand,
		Pos:          p.pos(open, f.indent+1),
		Text:         text,
		Placeholders: p.placeholders(text),
	})
}

// lintTranscript reports the first prompt and the first output line of a
// bash block that the run leaves out (see stripTranscript).
func (p *chapterParser) lintTranscript(open int, changed []transcriptLine) {
	var prompt, output *transcriptLine
	for i := range changed {
		c := &changed[i]
		if c.prompt != "" && prompt == nil {
			prompt = c
		}
		if c.prompt == "" && output == nil {
			output = c
		}
	}
	if prompt != nil {
		i := open + 1 + prompt.index
		p.diag(i, leadingBlanks(p.lines[i].text)+1, SeverityWarning,
			"bash block is a terminal transcript: this line starts with the shell prompt %q, which a person does not type; run strips it", prompt.prompt)
	}
	if output != nil {
		i := open + 1 + output.index
		p.diag(i, leadingBlanks(p.lines[i].text)+1, SeverityWarning,
			"this line of the bash block is a command's output, not a command; run does not type it (show output in a plain fence after the lab)")
	}
}

// title sets the slide's title if line i (or i-1 and i, setext) is a heading.
func (p *chapterParser) title(st *scanState, i int) {
	t := p.lines[i].text
	ind := 0
	for ind < len(t) && ind < 4 && t[ind] == ' ' {
		ind++
	}
	var src string
	switch {
	case ind < 4 && ind < len(t) && t[ind] == '#':
		src = t
	case ind < 4 && ind < len(t) && (t[ind] == '=' && strings.Trim(t, "= \t") == "" ||
		t[ind] == '-' && strings.Count(t, "-") >= 3 && strings.Trim(t, "- \t") == "") &&
		i > 0 && strings.TrimSpace(p.lines[i-1].text) != "" && p.fenceEnd[i-1] < 0:
		// Setext: `---` alone is a separator (never seen here), but
		// `----` or ` ---` under a paragraph makes it a heading.
		src = p.lines[i-1].text + "\n" + t
	default:
		return
	}
	// Bound the goldmark calls per slide: a slide of a million "#foo"
	// lines (none a heading) must stay cheap.
	if st.titleTries++; st.titleTries > 20 {
		return
	}
	if title, ok := plainATX(src); ok {
		st.sb.Title = title
		return
	}
	if p.md == nil {
		p.md = goldmarkParser()
	}
	st.sb.Title = headingText(p.md, []byte(src))
}

// lintLab reports what is wrong in a finished lab as a whole.
func (p *chapterParser) lintLab(lab *Lab) {
	p.lintNeverReturns(lab)
	supplied := false
	for _, s := range lab.Steps {
		switch s.Kind {
		case KindCopy, KindPaste, KindCopyPaste, KindKeys:
			supplied = true
		}
	}
	if supplied {
		return
	}
	for _, s := range lab.Steps {
		if s.Kind == KindCommand && len(s.Placeholders) > 0 {
			ph := s.Placeholders[0].Text
			pos := p.placeholderPos(s, ph)
			p.diags = append(p.diags, Diagnostic{Pos: pos, Severity: SeverityWarning,
				Message: fmt.Sprintf("placeholder %q: run will type in its place the latest text on the screen that fits it, "+
					"and fail the step if none does; a copy directive before the command says which text to use", ph),
				Source: p.sourceAt(pos.Line)})
		}
	}
}

// placeholderPos is where a command's placeholder is written (the caret
// goes under it), or the command's own place if it cannot be found.
func (p *chapterParser) placeholderPos(s Step, ph string) Pos {
	for line := s.Pos.Line; line <= s.Pos.Line+strings.Count(s.Text, "\n")+2; line++ {
		if i := strings.Index(p.sourceAt(line), ph); i >= 0 {
			return Pos{File: s.Pos.File, Line: line, Col: i + 1}
		}
	}
	return s.Pos
}

// lintNeverReturns warns about a command that does not return by itself
// with no wait or key after it: a replay can only guess when to look at it.
func (p *chapterParser) lintNeverReturns(lab *Lab) {
	for i, s := range lab.Steps {
		if s.Kind != KindCommand {
			continue
		}
		lines := strings.Split(strings.TrimRight(s.Text, "\n"), "\n")
		last := lines[len(lines)-1]
		if !NeverReturns(last) {
			continue
		}
		if i+1 < len(lab.Steps) && lab.Steps[i+1].Kind.TakesOver() {
			continue
		}
		p.diags = append(p.diags, Diagnostic{Pos: s.Pos, Severity: SeverityWarning,
			Message: fmt.Sprintf("%q does not return by itself and no wait or key directive follows it: a replay runs it in a terminal of its own and stops it at the end of the lab (add ```wait TEXT``` and ```key ^C``` to check what it shows)", strings.TrimSpace(last)),
			Source:  p.sourceAt(s.Pos.Line)})
	}
}

func (p *chapterParser) sourceAt(num int) string {
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i].num >= num })
	if i < len(p.lines) && p.lines[i].num == num {
		return p.lines[i].text
	}
	return ""
}

// chapter assembles the result.
func (p *chapterParser) chapter() *Chapter {
	ch := &Chapter{File: p.file, Slides: []Slide{}}
	for _, sb := range p.slides {
		if sb.dropped {
			continue
		}
		s := sb.Slide
		for _, l := range sb.labs {
			s.Labs = append(s.Labs, *l)
		}
		ch.Slides = append(ch.Slides, s)
	}
	for _, s := range p.slides {
		if !s.dropped && s.Title != "" {
			ch.Title = s.Title
			break
		}
	}
	return ch
}
