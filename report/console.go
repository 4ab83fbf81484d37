package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labrun/labrun/internal/text"
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
	// GitHub folds each chapter into a ::group:: of the GitHub Actions log.
	GitHub bool
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
	case Interrupted:
		return c.paint(sgrRed+";"+sgrBold, "STOP")
	case Manual:
		return c.paint(sgrCyan, "hand")
	case NotVerified:
		return c.paint(sgrYellow, "n/v ")
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

// ChapterStarted prints the chapter heading (and opens its GitHub group).
func (c *Console) ChapterStarted(ch ChapterResult) {
	title := ch.File
	if ch.Title != "" {
		title = ch.Title + " (" + ch.File + ")"
	}
	var b strings.Builder
	if c.opts.GitHub {
		b.WriteString("::group::" + ghData(clean(title)) + "\n")
	}
	if !c.opts.Quiet {
		b.WriteString(c.paint(sgrBold, "=== "+clean(title)) + "\n")
	}
	c.emit(b.String())
}

// StepDone prints the step's line and, on failure, what went wrong.
func (c *Console) StepDone(lab LabResult, s StepResult) {
	c.stopSpinner()
	failed := s.Status.Bad()
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
	if s.Cause != "" && s.Status != Passed {
		b.WriteString(c.paintLines(sgrDim, indent("("+clean(s.Cause)+")", pad)))
	}
	if s.Hint != "" && s.Status != Passed {
		b.WriteString(c.paintLines(sgrCyan, indent("hint: "+clean(s.Hint), pad)))
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

// details shows what a person needs to fix a failed step, and no more: the
// exit statuses, the diff (or the last lines of the output), and the screen
// where it says more than those, or for a full-screen program whose output
// flattened into a stream means nothing (-v shows everything).
func (c *Console) details(b *strings.Builder, s StepResult, pad string) {
	if nonZero(s.ExitStatuses) {
		fmt.Fprintf(b, "%sexit statuses: %s\n", pad, strings.Trim(fmt.Sprint(s.ExitStatuses), "[]"))
	}
	// Only a command typed into the pane draws on it (hide runs elsewhere).
	full := s.Kind == "command" && FullScreen(s.Command) && s.Screen != ""
	actual := collapseRepeats(trimBlankLines(clean(s.Actual)))
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
	case actual != "" && (!full || c.opts.Verbose):
		n := outputLines
		if c.opts.Verbose {
			n = verboseOutputLines
		}
		fmt.Fprintf(b, "%soutput:\n", pad)
		b.WriteString(indent(lastLines(actual, n), pad+"| "))
	}
	if s.Screen == "" {
		return
	}
	screen := collapseRepeats(trimScreen(clean(s.Screen)))
	switch {
	case full:
		c.frame(b, fmt.Sprintf("screen of pane %d (a full-screen program: its raw output is left out)", s.Pane), screen, pad)
	case c.opts.Verbose:
		c.frame(b, fmt.Sprintf("screen of pane %d", s.Pane), screen, pad)
	case screenSaysMore(screen, clean(s.Diff)+"\n"+actual, s.Command):
		// The bottom of the screen is where the news is.
		c.frame(b, fmt.Sprintf("screen of pane %d", s.Pane), lastLines(screen, screenLines), pad)
	}
}

// How many of a failed step's last output and screen lines the console
// shows (-v: all of the screen).
const (
	outputLines        = 10
	verboseOutputLines = 200
	screenLines        = 15
)

// fullScreenPrograms draw on the whole screen, so their output read as a
// stream is noise: watch redraws, pagers and editors move the cursor.
var fullScreenPrograms = map[string]bool{
	"watch": true, "top": true, "htop": true, "less": true, "more": true, "most": true, "man": true,
	"vi": true, "vim": true, "nvim": true, "nano": true, "emacs": true, "k9s": true, "tmux": true, "screen": true,
}

// FullScreen reports whether a command runs a full-screen program (watch,
// top, a pager, an editor, kubectl edit) in any part of a pipeline or list.
func FullScreen(command string) bool {
	for _, seg := range strings.FieldsFunc(command, func(r rune) bool {
		return r == '|' || r == ';' || r == '&' || r == '\n' || r == '(' || r == ')'
	}) {
		words := strings.Fields(seg)
		for len(words) > 0 && (strings.Contains(words[0], "=") || words[0] == "sudo" || words[0] == "exec" || words[0] == "time") {
			words = words[1:]
		}
		if len(words) == 0 {
			continue
		}
		name := words[0][strings.LastIndex(words[0], "/")+1:]
		if fullScreenPrograms[name] || (name == "kubectl" && slices.Contains(words[1:], "edit")) {
			return true
		}
	}
	return false
}

// screenSaysMore reports whether a screen shows anything beyond what the
// reader already has: the output (or diff), the command typed at a prompt,
// and bare prompts. Only the screen from where the command was typed
// counts: what earlier steps left above it is not this step's news.
func screenSaysMore(screen, shown, command string) bool {
	lines := strings.Split(screen, "\n")
	for i := range lines {
		lines[i] = stripPrompt(lines[i])
	}
	if first := strings.TrimSpace(text.FirstLine(strings.TrimLeft(command, "\n"))); first != "" {
		for i := len(lines) - 1; i >= 0; i-- {
			if lines[i] == first {
				lines = lines[i:]
				break
			}
		}
	}
	for _, l := range lines {
		switch {
		case l == "", l == "$", l == "#", l == ">", l == "^C":
		case strings.Contains(shown, l), strings.Contains(command, l):
		case strings.HasSuffix(l, "$") || strings.HasSuffix(l, "#"):
			// a prompt of its own (user@host:~$)
		default:
			return true
		}
	}
	return false
}

// stripPrompt is a screen line without a shell prompt before it ("$ ",
// "# ", "> ", "[node1] ~# "), trimmed.
func stripPrompt(l string) string {
	l = strings.TrimSpace(l)
	for _, p := range []string{"$ ", "# ", "> "} {
		if i := strings.Index(l, p); i >= 0 && i < 40 {
			return strings.TrimSpace(l[i+len(p):])
		}
	}
	return l
}

// collapseRepeats writes a run of identical lines (a loop printing the same
// error) as the line once and how many more times it came.
func collapseRepeats(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		out = append(out, lines[i])
		switch n := j - i - 1; {
		case n == 1:
			out = append(out, lines[i])
		case n > 1 && strings.TrimSpace(lines[i]) != "":
			out = append(out, fmt.Sprintf("[the same line %d more times]", n))
		case n > 1:
			out = append(out, lines[i])
		}
		i = j
	}
	return strings.Join(out, "\n")
}

// trimBlankLines drops the blank lines at the start and end of s.
func trimBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
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
		if l != "" {
			l = " " + l
		}
		b.WriteString(pad + c.paint(sgrDim, "│") + l + "\n")
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
// already said it all. A lab the run never reached shows only in the summary.
func (c *Console) LabDone(l LabResult) {
	if c.opts.Quiet || len(l.Steps) > 0 || l.NotRun() {
		return
	}
	var b strings.Builder
	if key := loc(l.File, l.Line); c.newLab(key) {
		b.WriteString(c.paint(sgrDim, "    "+clean(labHeading(l))+"  ("+key+")") + "\n")
	}
	fmt.Fprintf(&b, "%s %s  %s\n", c.mark(Skipped), loc(l.File, l.Line), "nothing to replay in this lab")
	c.emit(b.String())
}

// ChapterDone prints the chapter's summary (and closes its GitHub group).
func (c *Console) ChapterDone(ch ChapterResult) {
	var b strings.Builder
	if !c.opts.Quiet {
		fmt.Fprintf(&b, "--- %s: %s  %s in %s\n\n", ch.File, c.statusWord(ch.Status),
			chapterCounts(ch), FormatDuration(ch.Duration))
	}
	if c.opts.GitHub {
		b.WriteString("::endgroup::\n")
	}
	c.emit(b.String())
}

func chapterCounts(ch ChapterResult) string {
	if len(ch.Labs) == 0 {
		return "no labs"
	}
	if neverStarted(ch) {
		return text.Plural(len(ch.Labs), "lab") + ", not run"
	}
	return labCount(ch.Labs) + ", " + StepCounts(ch.Labs).String()
}

// labCount reads "4 labs", or "4 labs (2 not run)" after an interruption.
func labCount(labs []LabResult) string {
	notRun := notRunLabs(labs)
	if notRun == 0 {
		return text.Plural(len(labs), "lab")
	}
	return fmt.Sprintf("%s (%d not run)", text.Plural(len(labs), "lab"), notRun)
}

// notRunLabs counts the labs an interrupted run never reached.
func notRunLabs(labs []LabResult) int {
	n := 0
	for _, l := range labs {
		if l.NotRun() {
			n++
		}
	}
	return n
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
	labs := r.labs()
	var failures []string
	for _, s := range r.Steps() {
		if s.Status.Bad() {
			failures = append(failures, fmt.Sprintf("  %s %s  %s%s: %s\n", c.mark(s.Status),
				loc(s.File, s.Line), paneTag(s.Pane), clean(StepLabel(*s)), text.FirstLine(clean(s.Reason))))
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
	fmt.Fprintf(&b, "%s %s, %s, %s in %s\n", c.statusWord(r.Status),
		text.Plural(len(r.Chapters), "chapter"), labCount(labs), StepCounts(labs), FormatDuration(r.Duration))
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
	case Interrupted:
		return c.paint(sgrRed+";"+sgrBold, "STOP")
	default:
		return c.paint(sgrRed+";"+sgrBold, "FAIL")
	}
}

// Counts are the steps of some labs by status.
type Counts struct {
	Passed, Failed, Errors, Skipped, Manual, NotVerified, Interrupted int
}

// StepCounts counts the steps of labs by status.
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
			case Manual:
				n.Manual++
			case NotVerified:
				n.NotVerified++
			case Interrupted:
				n.Interrupted++
			default:
				n.Failed++
			}
		}
	}
	return n
}

// Total is the number of steps counted.
func (n Counts) Total() int {
	return n.Passed + n.Failed + n.Errors + n.Skipped + n.Manual + n.NotVerified + n.Interrupted
}

// String reads "7 steps: 3 passed, 1 failed, 1 manual, 2 not verified",
// leaving out zeros (but never the passed count).
func (n Counts) String() string {
	if n.Total() == 0 {
		return "no steps"
	}
	parts := []string{fmt.Sprintf("%d passed", n.Passed)}
	add := func(k int, s string) {
		if k > 0 {
			parts = append(parts, s)
		}
	}
	add(n.Failed, fmt.Sprintf("%d failed", n.Failed))
	add(n.Errors, text.Plural(n.Errors, "error"))
	add(n.Interrupted, fmt.Sprintf("%d interrupted", n.Interrupted))
	add(n.Skipped, fmt.Sprintf("%d skipped", n.Skipped))
	add(n.Manual, fmt.Sprintf("%d manual", n.Manual))
	add(n.NotVerified, fmt.Sprintf("%d not verified", n.NotVerified))
	return text.Plural(n.Total(), "step") + ": " + strings.Join(parts, ", ")
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

func nonZero(xs []int) bool {
	for _, x := range xs {
		if x != 0 {
			return true
		}
	}
	return false
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

// clean removes escape sequences and control characters from text that
// came from a pane (see text.Strip).
func clean(s string) string { return text.Strip(s) }
