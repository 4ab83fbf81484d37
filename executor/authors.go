package executor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
	"github.com/labrun/labrun/tmux"
)

// authors holds what the author features add to a run: the recorder, the
// stepper, the slide sources for the HTML report. The lab loop calls it
// through a few hooks (see executor.go: lab, chapter, Run).
type authors struct {
	opts     Options
	rec      *tmux.Recorder
	sources  map[string][]string // file → lines, read once
	chapters int
	asking   bool // the stepper is asked before each step (false after `c`)
}

func newAuthors(opts Options) (*authors, error) {
	a := &authors{opts: opts, sources: map[string][]string{}, asking: opts.Stepper != nil}
	if opts.Record != "" {
		rec, err := tmux.NewRecorder(opts.Record)
		if err != nil {
			return nil, err
		}
		a.rec = rec
	}
	return a, nil
}

// tap is the mux's Options.Tap: the recorder's, or nil.
func (a *authors) tap() func(pane, cols, rows int, b []byte) {
	if a.rec == nil {
		return nil
	}
	return a.rec.Tap
}

// close finishes the recordings; it may be called again.
func (a *authors) close() error {
	if a.rec == nil {
		return nil
	}
	rec := a.rec
	a.rec = nil
	return rec.Close()
}

// chapter starts the casts of a chapter: NN-name.paneN.cast.
func (a *authors) chapter(mux *tmux.Mux, ch parser.Chapter) error {
	a.chapters++
	if a.rec == nil {
		return nil
	}
	name := strings.TrimSuffix(filepath.Base(ch.File), filepath.Ext(ch.File))
	return a.rec.Chapter(mux, fmt.Sprintf("%02d-%s", a.chapters, name))
}

// slide is called as a lab starts: the stepper asks again (`c` lasts one
// lab), and the slide's markdown is kept for the HTML report if wanted.
func (a *authors) slide(lr *report.LabResult, sl parser.Slide) {
	a.asking = a.opts.Stepper != nil
	if !a.opts.Screens {
		return
	}
	lr.SlideLine = sl.Pos.Line
	lr.SlideSource = a.slideSource(sl.Pos)
}

// slideSource reads a slide from its first line to the `---` that ends it
// (increments, `--`, belong to it), outside code fences.
func (a *authors) slideSource(pos parser.Pos) string {
	lines, ok := a.sources[pos.File]
	if !ok {
		b, err := os.ReadFile(pos.File)
		if err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(make([]byte, 1<<20), 1<<24)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
		}
		a.sources[pos.File] = lines
	}
	if pos.Line < 1 || pos.Line > len(lines) {
		return ""
	}
	start := pos.Line - 1
	if strings.TrimSpace(lines[start]) == "---" {
		start++
	}
	fence := ""
	var out []string
	for _, l := range lines[start:] {
		t := strings.TrimSpace(l)
		if fence == "" && t == "---" {
			break
		}
		if fence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
			fence = t[:3]
		} else if fence != "" && strings.HasPrefix(t, fence) {
			fence = ""
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n ")
}

// step runs step i of a lab, asking the stepper first when there is one,
// marking the recordings, and keeping the window for the HTML report. `r`
// runs the previous step again and replaces its result in lr.
func (a *authors) step(ctx context.Context, st *labState, lr *report.LabResult, sl parser.Slide, i int) report.StepResult {
	step := st.lab.Steps[i]
	for a.asking && a.opts.Stepper != nil {
		var prev *report.StepResult
		if n := len(lr.Steps); n > 0 && i > 0 {
			prev = &lr.Steps[n-1]
		}
		act := a.opts.Stepper.Before(ctx, StepPoint{Chapter: lr.File, Slide: sl, SlideSource: a.slideSource(sl.Pos),
			Lab: st.lab, Index: i, Previous: prev})
		switch act {
		case ActionRun:
		case ActionSkip:
			res := report.StepResult{File: step.Pos.File, Line: step.Pos.Line, Kind: string(step.Kind), Command: step.Text,
				Pane: st.r.mux.Active().Index(), Status: report.Skipped, Reason: "skipped by the author (s)"}
			return res
		case ActionContinue:
			a.asking = false
		case ActionQuit:
			st.r.stop = true
			return report.StepResult{File: step.Pos.File, Line: step.Pos.Line, Kind: string(step.Kind), Command: step.Text,
				Status: report.Skipped, Reason: "the author quit (q)"}
		case ActionAgain:
			if prev == nil {
				continue
			}
			again := a.run(ctx, st, i-1)
			lr.Steps[len(lr.Steps)-1] = again
			lr.Status = report.Passed // the lab's status follows its latest results
			for _, sr := range lr.Steps {
				if sr.Status == report.Failed || sr.Status == report.Error {
					lr.Status = report.Failed
				}
			}
			st.r.opts.Sink.StepDone(*lr, again)
			continue
		}
		break
	}
	return a.run(ctx, st, i)
}

// run runs one step with its marker, live view and window capture.
func (a *authors) run(ctx context.Context, st *labState, i int) report.StepResult {
	step := st.lab.Steps[i]
	if a.rec != nil {
		a.rec.Marker(fmt.Sprintf("%s:%d %s", filepath.Base(step.Pos.File), step.Pos.Line, text.FirstLine(step.Text)))
	}
	var stop func()
	if a.opts.Stepper != nil {
		stop = a.opts.Stepper.Running(ctx, st.r.mux.StyledWindow)
	}
	res := st.step(ctx, i, step)
	if stop != nil {
		stop()
	}
	if a.opts.Screens {
		res.Window = st.r.mux.StyledWindow()
	}
	if a.opts.Stepper != nil {
		a.opts.Stepper.Done(res)
	}
	return res
}

// prepare replays labs quickly and quietly so that the selected part of a
// deck starts from the state the earlier labs build: every step runs
// (commands, hidden setup, panes), nothing is reported, failures only
// counted in a note.
func (a *authors) prepare(ctx context.Context, r *runner) {
	deck := a.opts.Prepare
	if deck == nil {
		return
	}
	saved, savedFF := r.opts.Sink, r.opts.FailFast
	r.opts.Sink, r.opts.FailFast = nopSink{}, false
	r.mux.Quick(true)
	defer func() {
		r.opts.Sink, r.opts.FailFast = saved, savedFF
		r.mux.Quick(false)
	}()
	labs, failed := 0, 0
	for _, ch := range deck.Chapters {
		for _, sl := range ch.Slides {
			for _, lab := range sl.Labs {
				if ctx.Err() != nil {
					return
				}
				labs++
				st := &labState{r: r, lab: lab, last: lastCommand(lab.Steps)}
				results := make([]report.StepResult, 0, len(lab.Steps))
				for i, step := range lab.Steps {
					results = append(results, st.step(ctx, i, step))
				}
				// As after any lab: its terminals closed, a shell in a pod
				// left, so the next lab starts at node1's prompt.
				st.endLab(ctx, results)
				for _, res := range results {
					if res.Status.Bad() {
						failed++
					}
				}
			}
		}
	}
	note := fmt.Sprintf("prepared: replayed the %d labs before the selection quietly, without checks", labs)
	if failed > 0 {
		note += fmt.Sprintf(" (%d of their steps failed: the selection may not start from the state the deck builds)", failed)
	}
	r.notes = append(r.notes, note)
}

// Action is what the author chose before a step.
type Action int

const (
	ActionRun      Action = iota // Enter: run the step
	ActionSkip                   // s: skip it
	ActionAgain                  // r: run the previous step again
	ActionContinue               // c: run to the end of the lab without asking
	ActionQuit                   // q: stop the run (cluster and processes are cleaned up)
)

// StepPoint is where a stepped run is: the step about to run and its slide.
type StepPoint struct {
	Chapter     string
	Slide       parser.Slide
	SlideSource string
	Lab         parser.Lab
	Index       int
	// Previous is the result of the step just run in this lab, if any.
	Previous *report.StepResult
}

// Stepper drives a run step by step (labrun step, run --step).
type Stepper interface {
	// Before is asked before each step of a lab, until it answers
	// ActionContinue; it should return ActionQuit when ctx is done.
	Before(ctx context.Context, at StepPoint) Action
	// Running is called as a step starts, with a function that renders the
	// window; the returned function is called when the step is over.
	Running(ctx context.Context, window func() string) (stop func())
	// Done gets the step's result.
	Done(res report.StepResult)
}

// SplitPrepare is Select for a run that prepares: it returns the selected
// part of deck, the part before it (the labs --prepare replays quietly
// first), and how many labs the selection left out.
func SplitPrepare(deck *parser.Deck, sel Selection) (selected, before *parser.Deck, left int, err error) {
	selected, left, err = Select(deck, sel)
	if err != nil || sel.Empty() {
		return selected, nil, left, err
	}
	// The first kept slide, by file and line; everything before it is prepared.
	first := selected.Chapters[0]
	firstPos := first.Slides[0].Pos
	before = &parser.Deck{File: deck.File, Title: deck.Title}
	for _, ch := range deck.Chapters {
		c := ch
		c.Slides = nil
		done := false
		for _, sl := range ch.Slides {
			if ch.File == first.File && sl.Pos == firstPos {
				done = true
				break
			}
			c.Slides = append(c.Slides, sl)
		}
		if len(c.Slides) > 0 {
			before.Chapters = append(before.Chapters, c)
		}
		if done {
			break
		}
	}
	return selected, before, left, nil
}
