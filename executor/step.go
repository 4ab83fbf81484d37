package executor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// TermStepper is the Stepper of `labrun step`: before each step it shows
// where the run is (chapter, slide, the slide's text, the step), reads one
// key, and while the step runs it draws the panes live. On a terminal it
// reads single keys and redraws; otherwise it prints plain prompts and
// reads lines, so it can be scripted.
type TermStepper struct {
	in    io.Reader
	lines *bufio.Reader
	out   io.Writer
	fd    int  // the input terminal's descriptor, when tty
	tty   bool // in is a terminal: single keys, live panes
	cols  int
	rows  int

	mu   sync.Mutex // serialises writes to out
	slot int        // the last slide shown, to show a new one in full
	ran  bool       // a step's result is on the screen
}

// NewTermStepper reads keys from in and draws on out, cols×rows (0: the
// terminal's size, or 80×24).
func NewTermStepper(in io.Reader, out io.Writer) *TermStepper {
	s := &TermStepper{in: in, out: out, cols: 80, rows: 24, fd: -1}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		s.tty, s.fd = true, int(f.Fd())
		if of, ok := out.(*os.File); ok {
			if c, r, err := term.GetSize(int(of.Fd())); err == nil && c > 0 && r > 0 {
				s.cols, s.rows = c, r
			}
		}
	} else {
		s.lines = bufio.NewReader(in)
	}
	return s
}

// Interactive says whether keys come from a terminal (live panes shown).
func (s *TermStepper) Interactive() bool { return s.tty }

// WindowSize is the size to give the lab's window: the terminal less the
// lines the stepper writes below it.
func (s *TermStepper) WindowSize() (cols, rows int) {
	return s.cols, max(s.rows-3, 5)
}

const (
	sgrBold  = "\x1b[1m"
	sgrDim   = "\x1b[2m"
	sgrCyan  = "\x1b[36m"
	sgrRed   = "\x1b[31m"
	sgrGreen = "\x1b[32m"
	sgrReset = "\x1b[0m"
)

func (s *TermStepper) style(code, text string) string {
	if !s.tty {
		return text
	}
	return code + text + sgrReset
}

// Before shows the step about to run and asks what to do.
func (s *TermStepper) Before(ctx context.Context, at StepPoint) Action {
	step := at.Lab.Steps[at.Index]
	newSlide := at.Index == 0 || s.slot != at.Slide.Pos.Line
	if newSlide && s.ran && s.tty {
		// Leave the last step's screen up until the author has read it.
		s.say(s.style(sgrBold, s.cut(fmt.Sprintf("end of the lab  [Enter] next: slide %d: %s  [q]uit ", at.Slide.Number, at.Slide.Title), false)))
		for {
			k, err := s.key(ctx)
			if err != nil || k == 'q' || k == 3 || k == 4 {
				s.say("q\n")
				return ActionQuit
			}
			if k == '\r' || k == '\n' {
				break
			}
		}
	}
	s.mu.Lock()
	s.ran = false
	var b strings.Builder
	s.slot = at.Slide.Pos.Line
	nl := "\n"
	if newSlide || !s.tty {
		if s.tty {
			b.WriteString("\x1b[H\x1b[2J")
		}
		fmt.Fprintf(&b, "%s  %s%s", s.style(sgrDim, filepath.Base(at.Chapter)),
			s.style(sgrBold, fmt.Sprintf("slide %d: %s", at.Slide.Number, at.Slide.Title)), nl)
		// The slide, cut to what leaves room for the steps and the prompt.
		room := s.rows - len(at.Lab.Steps) - 5
		if !s.tty {
			room = 1 << 30
		}
		text := s.terminalSlide(at.SlideSource)
		if len(text) > room {
			text = append(text[:max(room-1, 0)], s.style(sgrDim, fmt.Sprintf("… %d more lines", len(text)-room+1)))
		}
		for _, l := range text {
			b.WriteString(l + nl)
		}
		b.WriteString(strings.Repeat("─", min(s.cols, 80)) + nl)
		for i, st := range at.Lab.Steps {
			mark := "  "
			if i == at.Index {
				mark = "› "
			}
			line := mark + stepLabel(st)
			if i != at.Index {
				line = s.style(sgrDim, line)
			}
			b.WriteString(s.cut(line, i != at.Index) + nl)
		}
	} else {
		fmt.Fprintf(&b, "› %s%s", s.cut(stepLabel(step), false), nl)
	}
	prompt := fmt.Sprintf("step %d/%d %s:%d  [Enter] run  s skip  r again  c continue  q quit ",
		at.Index+1, len(at.Lab.Steps), filepath.Base(step.Pos.File), step.Pos.Line)
	b.WriteString(s.style(sgrBold, s.cut(prompt, false)))
	io.WriteString(s.out, b.String())
	s.mu.Unlock()

	for {
		k, err := s.key(ctx)
		if err != nil {
			s.say("\n")
			return ActionQuit
		}
		switch k {
		case '\r', '\n':
			s.say("\n")
			return ActionRun
		case 's':
			s.say("s\n")
			return ActionSkip
		case 'r':
			if at.Previous == nil {
				continue // nothing ran yet in this lab
			}
			s.say("r\n")
			return ActionAgain
		case 'c':
			s.say("c\n")
			return ActionContinue
		case 'q', 3, 4: // q, ^C, ^D
			s.say("q\n")
			return ActionQuit
		}
	}
}

func (s *TermStepper) say(text string) {
	s.mu.Lock()
	io.WriteString(s.out, text)
	s.mu.Unlock()
}

// cut keeps a line within the terminal's width (plain text only).
func (s *TermStepper) cut(line string, styled bool) string {
	if !s.tty || styled {
		return line
	}
	r := []rune(line)
	if len(r) > s.cols-1 {
		return string(r[:s.cols-2]) + "…"
	}
	return line
}

func stepLabel(st parser.Step) string {
	text := strings.ReplaceAll(strings.TrimSpace(st.Text), "\n", " ⏎ ")
	if st.Kind == parser.KindCommand {
		return "$ " + text
	}
	label := string(st.Kind)
	if st.Directive != "" {
		label = st.Directive
	}
	return label + " " + text
}

// key reads one key (a terminal in raw mode) or the first byte of a line.
// It gives up when ctx ends (Ctrl-C while a prompt waits), leaving the
// blocked read behind: the run is ending.
func (s *TermStepper) key(ctx context.Context) (byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	type answer struct {
		b   byte
		err error
	}
	ch := make(chan answer, 1)
	if !s.tty {
		go func() {
			line, err := s.lines.ReadString('\n')
			if err != nil && line == "" {
				ch <- answer{0, err}
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				line = "\n"
			}
			ch <- answer{line[0], nil}
		}()
	} else {
		old, err := term.MakeRaw(s.fd)
		if err != nil {
			return 0, err
		}
		defer term.Restore(s.fd, old)
		go func() {
			var b [1]byte
			_, err := s.in.Read(b[:])
			ch <- answer{b[0], err}
		}()
	}
	select {
	case a := <-ch:
		return a.b, a.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

var (
	remarkClassLine = regexp.MustCompile(`^\s*\.[A-Za-z][\w-]*(\s+\.?[A-Za-z][\w-]*)*\[\s*$`)
	remarkInlineCls = regexp.MustCompile(`\.[A-Za-z][\w-]*\[([^\[\]]*)\]`)
)

// terminalSlide renders a slide's markdown for a terminal: headings bold,
// code cyan, hidden directives dim, remark's wrappers and notes left out.
func (s *TermStepper) terminalSlide(src string) []string {
	var out []string
	fence := false
	for _, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "```"):
			fence = !fence
			continue
		case fence:
			out = append(out, s.style(sgrCyan, "    "+l))
			continue
		case t == "???":
			return out
		case t == "--" || t == "]" || remarkClassLine.MatchString(l) ||
			strings.HasPrefix(t, "class:") || strings.HasPrefix(t, "name:"):
			continue
		case strings.HasPrefix(t, "<!--"):
			out = append(out, s.style(sgrDim, l))
			continue
		case strings.HasPrefix(t, "#"):
			out = append(out, s.style(sgrBold, strings.TrimLeft(t, "# ")))
			continue
		case t == "" && (len(out) == 0 || out[len(out)-1] == ""):
			continue
		}
		for remarkInlineCls.MatchString(l) {
			l = remarkInlineCls.ReplaceAllString(l, "$1")
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// Running draws the window live while the step runs (on a terminal).
func (s *TermStepper) Running(ctx context.Context, window func() string) (stop func()) {
	if !s.tty {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	draw := func() {
		lines := strings.Split(window(), "\n")
		_, rows := s.WindowSize()
		if len(lines) > rows {
			lines = lines[len(lines)-rows:]
		}
		var b strings.Builder
		b.WriteString("\x1b[H\x1b[2J")
		for _, l := range lines {
			b.WriteString(l + "\x1b[0m\x1b[K\r\n")
		}
		s.mu.Lock()
		io.WriteString(s.out, b.String())
		s.mu.Unlock()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		for {
			draw()
			select {
			case <-done:
				draw()
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// Done prints the step's outcome, with the reason and diff of a failure;
// without a terminal also what the step printed, since no pane was shown.
func (s *TermStepper) Done(res report.StepResult) {
	var b strings.Builder
	switch {
	case res.Status == report.Passed:
		fmt.Fprintf(&b, "%s %s\n", s.style(sgrGreen, "✓ passed"), res.Duration.Round(time.Millisecond))
	case res.Status.Bad():
		fmt.Fprintf(&b, "%s %s: %s\n", s.style(sgrRed, "✗ "+string(res.Status)), res.Duration.Round(time.Millisecond), res.Reason)
		if res.Diff != "" {
			b.WriteString(res.Diff)
			if !strings.HasSuffix(res.Diff, "\n") {
				b.WriteByte('\n')
			}
		}
	default:
		fmt.Fprintf(&b, "%s: %s\n", res.Status, res.Reason)
	}
	if !s.tty && res.Actual != "" {
		b.WriteString(res.Actual)
		if !strings.HasSuffix(res.Actual, "\n") {
			b.WriteByte('\n')
		}
	}
	s.mu.Lock()
	s.ran = true
	s.mu.Unlock()
	s.say(b.String())
}
