package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Sink receives results while a run goes on, so people see progress.
type Sink interface {
	ChapterStarted(c ChapterResult)
	StepDone(lab LabResult, s StepResult)
	LabDone(l LabResult)
	ChapterDone(c ChapterResult)
	RunDone(r *Run)
}

// StepStarter is an optional extension of Sink: a sink that implements it
// hears of each step just before it runs (the result holds File, Line, Kind,
// Command and Pane), so it can show that something is going on during long
// steps. Callers check for it with a type assertion; Sink stays as it is.
type StepStarter interface {
	StepStarted(s StepResult)
}

// ConsoleOptions shapes the console output.
type ConsoleOptions struct {
	Color   bool // ANSI colours (off for NO_COLOR and non-terminals)
	Quiet   bool // only failures and the summary
	Verbose bool // also the output of passing steps
	// Live shows, on a terminal only, a spinner line with the running step
	// and its elapsed time, redrawn in place and erased when the step is done.
	// It writes carriage returns and erase-line sequences, so never set it
	// for a pipe or a file. A live Console must be closed.
	Live bool
	// Width is the terminal's width in columns, so the live line never wraps
	// (0 means 80).
	Width int
}

// Console prints one line per step and a summary, for people. Its methods
// are safe for concurrent use.
type Console struct {
	w    io.Writer
	opts ConsoleOptions
	// tick is the live line's redraw period; steps shorter than delay never
	// show it, so fast steps do not flicker.
	tick, delay time.Duration

	mu      sync.Mutex
	spin    *spinner // the running step's live line; nil when none
	drawn   bool     // a live line is on screen and must be erased first
	closed  bool
	lastLab string // file:line of the lab whose heading was printed last
}

// spinner is the live line of one running step, drawn by its own goroutine.
type spinner struct {
	label string
	start time.Time
	stop  chan struct{} // closed to stop the goroutine
	done  chan struct{} // closed by the goroutine when it is gone
}

// NewConsole returns a Sink (and StepStarter) that writes to w.
func NewConsole(w io.Writer, opts ConsoleOptions) *Console {
	if opts.Width <= 0 {
		opts.Width = 80
	}
	return &Console{w: w, opts: opts, tick: 100 * time.Millisecond, delay: 300 * time.Millisecond}
}

var (
	_ Sink        = (*Console)(nil)
	_ StepStarter = (*Console)(nil)
	_ io.Closer   = (*Console)(nil)
)

// ANSI SGR codes used by the console.
const (
	sgrBold   = "1"
	sgrDim    = "2"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
	sgrCyan   = "36"
)

func (c *Console) paint(code, s string) string {
	if !c.opts.Color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (c *Console) mark(s Status) string {
	switch s {
	case Passed:
		return c.paint(sgrGreen, "ok  ")
	case Failed:
		return c.paint(sgrRed+";"+sgrBold, "FAIL")
	case Error:
		return c.paint(sgrRed+";"+sgrBold, "ERR ")
	default:
		return c.paint(sgrYellow, "skip")
	}
}

// emit writes one piece of output whole, erasing the live line first.
func (c *Console) emit(s string) {
	if s == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	_, _ = io.WriteString(c.w, s)
}

// StepStarted shows the live line for the step about to run (Live only).
func (c *Console) StepStarted(s StepResult) {
	if !c.opts.Live {
		return
	}
	c.stopSpinner() // a step that never got its StepDone
	sp := &spinner{
		label: loc(s.File, s.Line) + "  " + paneTag(s.Pane) + clean(StepLabel(s)),
		start: time.Now(),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.spin = sp
	go c.animate(sp)
}

// spinnerFrames are drawn in turn, one per tick.
const spinnerFrames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

func (c *Console) animate(sp *spinner) {
	defer close(sp.done)
	t := time.NewTicker(c.tick)
	defer t.Stop()
	frames := []rune(spinnerFrames)
	for n := 0; ; {
		select {
		case <-sp.stop:
			return
		case <-t.C:
		}
		elapsed := time.Since(sp.start)
		if elapsed < c.delay {
			continue
		}
		c.mu.Lock()
		if c.spin == sp {
			c.drawLocked(sp, frames[n%len(frames)], elapsed)
			n++
		}
		c.mu.Unlock()
	}
}

// drawLocked redraws the live line in place, cut to the terminal's width.
func (c *Console) drawLocked(sp *spinner, frame rune, elapsed time.Duration) {
	secs := fmt.Sprintf("  %.1fs", elapsed.Seconds())
	room := c.opts.Width - 1 - 2 - len(secs) // frame, space, the time; one column spare
	label := truncate(sp.label, room)
	_, _ = io.WriteString(c.w, "\r\x1b[2K"+c.paint(sgrCyan, string(frame))+" "+label+c.paint(sgrDim, secs))
	c.drawn = true
}

func (c *Console) clearLocked() {
	if c.drawn {
		_, _ = io.WriteString(c.w, "\r\x1b[2K")
		c.drawn = false
	}
}

// stopSpinner stops the live line's goroutine, waits for it and erases the
// line. It must not hold mu while waiting: the goroutine takes mu to draw.
func (c *Console) stopSpinner() {
	c.mu.Lock()
	sp := c.spin
	c.spin = nil
	c.mu.Unlock()
	if sp == nil {
		return
	}
	close(sp.stop)
	<-sp.done
	c.mu.Lock()
	c.clearLocked()
	c.mu.Unlock()
}

// Close stops the live line, if any, and erases it. Later StepStarted calls
// show nothing. It always returns nil.
func (c *Console) Close() error {
	c.stopSpinner()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.clearLocked()
	return nil
}

// ChapterStarted prints the chapter heading.
func (c *Console) ChapterStarted(ch ChapterResult) {
	if c.opts.Quiet {
		return
	}
	title := ch.File
	if ch.Title != "" {
		title = ch.Title + " (" + ch.File + ")"
	}
	c.emit(c.paint(sgrBold, "=== "+clean(title)) + "\n")
}

// StepDone prints the step's line and, on failure, what went wrong.
func (c *Console) StepDone(lab LabResult, s StepResult) {
	c.stopSpinner()
	failed := s.Status == Failed || s.Status == Error
	if c.opts.Quiet && !failed {
		return
	}
	var b strings.Builder
	if key := loc(lab.File, lab.Line); !c.opts.Quiet && c.newLab(key) {
		b.WriteString(c.paint(sgrDim, "    "+clean(labHeading(lab))+"  ("+key+")") + "\n")
	}
	fmt.Fprintf(&b, "%s %s  %s%s  %s\n", c.mark(s.Status), loc(s.File, s.Line),
		paneTag(s.Pane), clean(StepLabel(s)), c.paint(sgrDim, FormatDuration(s.Duration)))
	const pad = "     "
	if s.Reason != "" && s.Status != Passed {
		color := sgrYellow
		if failed {
			color = sgrRed
		}
		b.WriteString(c.paintLines(color, indent(clean(s.Reason), pad)))
	}
	for _, sub := range s.Substituted {
		fmt.Fprintf(&b, "%splaceholder %s\n", pad, clean(sub))
	}
	switch {
	case failed:
		c.details(&b, s, pad)
	case c.opts.Verbose && s.Actual != "":
		b.WriteString(c.paintLines(sgrDim, indent(clean(s.Actual), pad+"| ")))
	}
	if c.opts.Quiet {
		b.WriteString("\n") // failures only: a blank line keeps them apart
	}
	c.emit(b.String())
}

// labHeading names a lab by its slide, as a person finds it in the deck.
func labHeading(lab LabResult) string {
	if lab.SlideTitle == "" {
		return fmt.Sprintf("slide %d", lab.Slide)
	}
	return fmt.Sprintf("slide %d: %s", lab.Slide, lab.SlideTitle)
}

// newLab tells whether key differs from the lab seen last, and remembers it.
func (c *Console) newLab(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if key == c.lastLab {
		return false
	}
	c.lastLab = key
	return true
}

// details shows a failed step's exit statuses, diff (or output) and screen.
func (c *Console) details(b *strings.Builder, s StepResult, pad string) {
	if nonZero(s.ExitStatuses) {
		fmt.Fprintf(b, "%sexit statuses: %s\n", pad, strings.Trim(fmt.Sprint(s.ExitStatuses), "[]"))
	}
	switch {
	case s.Diff != "":
		fmt.Fprintf(b, "%sexpected output at %s (-) against the actual output of %s (+):\n", pad,
			loc(orDefault(s.ExpectedFile, s.File), s.ExpectedLine), loc(s.File, s.Line))
		for _, l := range strings.Split(strings.TrimRight(clean(s.Diff), "\n"), "\n") {
			switch {
			case strings.HasPrefix(l, "-"):
				l = c.paint(sgrRed, l)
			case strings.HasPrefix(l, "+"):
				l = c.paint(sgrGreen, l)
			case strings.HasPrefix(l, "@@"):
				l = c.paint(sgrCyan, l)
			}
			b.WriteString(pad + l + "\n")
		}
	case s.Actual != "":
		fmt.Fprintf(b, "%soutput:\n", pad)
		b.WriteString(indent(lastLines(clean(s.Actual), 20), pad+"| "))
	}
	if s.Screen != "" {
		c.frame(b, fmt.Sprintf("screen of pane %d", s.Pane), trimScreen(clean(s.Screen)), pad)
	}
}

// frame draws text in a box open on the right (wide characters make a right
// edge unreliable), so a screen stands apart from labrun's own words.
func (c *Console) frame(b *strings.Builder, title, text, pad string) {
	lines := strings.Split(text, "\n")
	width := utf8.RuneCountInString(title) + 3
	for _, l := range lines {
		width = max(width, utf8.RuneCountInString(l)+1)
	}
	width = min(width, 160)
	top := "┌─ " + title + " " + strings.Repeat("─", max(1, width-utf8.RuneCountInString(title)-3))
	b.WriteString(pad + c.paint(sgrDim, top) + "\n")
	for _, l := range lines {
		b.WriteString(pad + c.paint(sgrDim, "│") + " " + l + "\n")
	}
	b.WriteString(pad + c.paint(sgrDim, "└"+strings.Repeat("─", width)) + "\n")
}

// paintLines paints each line on its own, so that colours survive a pager
// or a CI log viewer that resets them at line ends.
func (c *Console) paintLines(code, s string) string {
	if !c.opts.Color {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		lead := len(body) - len(strings.TrimLeft(body, " "))
		lines[i] = body[:lead] + c.paint(code, body[lead:]) + l[len(body):]
	}
	return strings.Join(lines, "")
}

// LabDone says so when a lab had no step at all; otherwise its steps
// already said it all.
func (c *Console) LabDone(l LabResult) {
	if c.opts.Quiet || len(l.Steps) > 0 {
		return
	}
	var b strings.Builder
	if key := loc(l.File, l.Line); c.newLab(key) {
		b.WriteString(c.paint(sgrDim, "    "+clean(labHeading(l))+"  ("+key+")") + "\n")
	}
	fmt.Fprintf(&b, "%s %s  %s\n", c.mark(Skipped), loc(l.File, l.Line), "nothing to replay in this lab")
	c.emit(b.String())
}

// ChapterDone prints the chapter's summary.
func (c *Console) ChapterDone(ch ChapterResult) {
	if c.opts.Quiet {
		return
	}
	c.emit(fmt.Sprintf("--- %s: %s  %s in %s\n\n", ch.File, c.statusWord(ch.Status),
		chapterCounts(ch), FormatDuration(ch.Duration)))
}

func chapterCounts(ch ChapterResult) string {
	if len(ch.Labs) == 0 {
		return "no labs"
	}
	return fmt.Sprintf("%d lab%s, %s", len(ch.Labs), plural(len(ch.Labs)), StepCounts(ch.Labs))
}

// RunDone prints the notes, a recap of the failed steps, a line per chapter
// when there are several, and the total.
func (c *Console) RunDone(r *Run) {
	c.stopSpinner()
	if r == nil {
		return
	}
	var b strings.Builder
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", clean(n))
	}
	var labs []LabResult
	for _, ch := range r.Chapters {
		labs = append(labs, ch.Labs...)
	}
	var failures []string
	for _, l := range labs {
		for _, s := range l.Steps {
			if s.Status == Failed || s.Status == Error {
				failures = append(failures, fmt.Sprintf("  %s %s  %s%s: %s\n", c.mark(s.Status),
					loc(s.File, s.Line), paneTag(s.Pane), clean(StepLabel(s)), firstLine(clean(s.Reason))))
			}
		}
	}
	if len(failures) > 0 {
		b.WriteString(c.paint(sgrBold, "failed steps:") + "\n" + strings.Join(failures, ""))
	}
	if len(r.Chapters) > 1 {
		b.WriteString(c.paint(sgrBold, "chapters:") + "\n")
		width := 0
		for _, ch := range r.Chapters {
			width = max(width, utf8.RuneCountInString(ch.File))
		}
		for _, ch := range r.Chapters {
			fmt.Fprintf(&b, "  %s %s%s  %s in %s\n", c.statusWord(ch.Status), ch.File,
				strings.Repeat(" ", width-utf8.RuneCountInString(ch.File)), chapterCounts(ch), FormatDuration(ch.Duration))
		}
	}
	fmt.Fprintf(&b, "%s %d chapter%s, %d lab%s, %s in %s\n", c.statusWord(r.Status),
		len(r.Chapters), plural(len(r.Chapters)), len(labs), plural(len(labs)), StepCounts(labs), FormatDuration(r.Duration))
	c.emit(b.String())
}

func (c *Console) statusWord(s Status) string {
	switch s {
	case Passed:
		return c.paint(sgrGreen+";"+sgrBold, "PASS")
	case Skipped:
		return c.paint(sgrYellow+";"+sgrBold, "SKIP")
	case Error:
		return c.paint(sgrRed+";"+sgrBold, "ERR ")
	default:
		return c.paint(sgrRed+";"+sgrBold, "FAIL")
	}
}

// Counts are the steps of some labs by status.
type Counts struct {
	Passed, Failed, Errors, Skipped int
}

// StepCounts counts the steps of labs by status; unlike CountSteps it keeps
// errors apart from failures.
func StepCounts(labs []LabResult) Counts {
	var n Counts
	for _, l := range labs {
		for _, s := range l.Steps {
			switch s.Status {
			case Passed:
				n.Passed++
			case Skipped:
				n.Skipped++
			case Error:
				n.Errors++
			default:
				n.Failed++
			}
		}
	}
	return n
}

// Total is the number of steps counted.
func (n Counts) Total() int { return n.Passed + n.Failed + n.Errors + n.Skipped }

// String reads "5 steps: 3 passed, 1 failed, 1 skipped", leaving out zeros.
func (n Counts) String() string {
	if n.Total() == 0 {
		return "no steps"
	}
	parts := []string{fmt.Sprintf("%d passed", n.Passed)}
	if n.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n.Failed))
	}
	if n.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d error%s", n.Errors, plural(n.Errors)))
	}
	if n.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", n.Skipped))
	}
	return fmt.Sprintf("%d step%s: %s", n.Total(), plural(n.Total()), strings.Join(parts, ", "))
}

// CountSteps counts passed, failed (or errored) and skipped steps.
func CountSteps(labs []LabResult) (passed, failed, skipped int) {
	n := StepCounts(labs)
	return n.Passed, n.Failed + n.Errors, n.Skipped
}

// StepLabel is the one-line description of a step: the command's first line
// (backslash continuations joined, " …" when more lines follow), or the
// directive and its argument.
func StepLabel(s StepResult) string {
	first, rest, more := strings.Cut(joinContinuations(strings.TrimLeft(s.Command, "\n")), "\n")
	first = strings.TrimSpace(first)
	if more && strings.TrimSpace(rest) != "" {
		first += " …"
	}
	if s.Kind == "command" {
		return "$ " + first
	}
	return strings.TrimSpace(s.Kind + " " + first)
}

// joinContinuations joins lines ended by a backslash to the next one, as the
// shell reads them.
func joinContinuations(s string) string {
	if !strings.Contains(s, "\\\n") {
		return s
	}
	lines := strings.Split(s, "\n")
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			l = strings.TrimLeft(l, " \t")
		}
		if strings.HasSuffix(l, "\\") && i < len(lines)-1 {
			b.WriteString(strings.TrimRight(strings.TrimSuffix(l, "\\"), " \t") + " ")
			continue
		}
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func paneTag(p int) string {
	if p == 0 {
		return ""
	}
	return fmt.Sprintf("[pane %d] ", p)
}

// FormatDuration rounds durations the way people read them.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Round(time.Second)
	if d < time.Hour {
		return fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return fmt.Sprintf("%dh%02dm%02ds", d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func nonZero(xs []int) bool {
	for _, x := range xs {
		if x != 0 {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	return fmt.Sprintf("[%d lines above]\n", len(lines)-n) + strings.Join(lines[len(lines)-n:], "\n")
}

// trimScreen drops trailing spaces on each line and the blank lines below
// the last written one: a 40-row screen is mostly empty.
func trimScreen(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// truncate cuts s to n columns (runes), marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// clean removes what would corrupt a terminal from text that came from a
// pane: escape sequences (CSI, OSC and two-byte ones) and control
// characters other than newline and tab; invalid UTF-8 becomes U+FFFD.
func clean(s string) string {
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			// dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsCleaning(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// escapeLen is the length of the escape sequence at the start of s (which
// starts with ESC): CSI runs to a final byte in @–~, OSC to BEL or ESC \.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return len(s)
	case ']':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	return 2
}
