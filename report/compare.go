package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/labrun/labrun/internal/text"
)

// Comparing two runs answers the regression user's question, "what changed?".
// Steps are matched by what a reader would call the same step (chapter,
// slide title, step kind and command text), never by line numbers: a slide
// that moved is the same slide. Identical steps on one slide are told apart
// by their order.

// StepKey names a step across edits of the slides.
type StepKey struct {
	Chapter string `json:"chapter"`
	Slide   string `json:"slide"`
	Kind    string `json:"kind"`
	Command string `json:"command"`
	// Nth tells apart identical steps on one slide (0 for the first).
	Nth int `json:"nth,omitempty"`
}

func (k StepKey) String() string {
	cmd := firstLineOf(k.Command)
	if k.Kind != "command" {
		cmd = k.Kind + " " + cmd
	}
	s := fmt.Sprintf("%s › %s › %s", k.Chapter, k.Slide, cmd)
	if k.Nth > 0 {
		s += fmt.Sprintf(" (#%d)", k.Nth+1)
	}
	return s
}

// StepChange is one step that differs between the two runs.
type StepChange struct {
	Key  StepKey     `json:"key"`
	Base *StepResult `json:"base,omitempty"`
	Head *StepResult `json:"head,omitempty"`
}

// Where is the step's place in the newer run, or the older one when gone.
func (c StepChange) Where() string {
	s := c.Head
	if s == nil {
		s = c.Base
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// Comparison is what changed from a base run to a head run.
type Comparison struct {
	// NewlyFailing steps passed (or did not exist) in base and fail in head.
	NewlyFailing []StepChange `json:"newly_failing"`
	// Fixed steps failed in base and pass in head.
	Fixed []StepChange `json:"fixed"`
	// New and Gone steps exist in only one of the runs.
	New  []StepChange `json:"new"`
	Gone []StepChange `json:"gone"`
	// Slower steps took longer in head by more than the threshold.
	Slower []StepChange `json:"slower"`
	// Unchanged counts the steps with the same status in both.
	Unchanged int `json:"unchanged"`
}

// CompareOptions set what counts as slower: both the ratio and the absolute
// growth must be exceeded, so that a 2 ms step taking 5 ms is not news.
type CompareOptions struct {
	SlowerRatio float64       // default 1.5
	SlowerBy    time.Duration // default 1 s
}

// Compare matches the steps of base and head and sorts out what changed.
func Compare(base, head *Run, opts CompareOptions) Comparison {
	if opts.SlowerRatio <= 0 {
		opts.SlowerRatio = 1.5
	}
	if opts.SlowerBy <= 0 {
		opts.SlowerBy = time.Second
	}
	b, bOrder := keyedSteps(base)
	h, hOrder := keyedSteps(head)
	var c Comparison
	for _, k := range hOrder {
		hs := h[k]
		bs, ok := b[k]
		if !ok {
			c.New = append(c.New, StepChange{Key: k, Head: hs})
			if hs.Status.Bad() {
				c.NewlyFailing = append(c.NewlyFailing, StepChange{Key: k, Head: hs})
			}
			continue
		}
		switch {
		case hs.Status.Bad() && !bs.Status.Bad():
			c.NewlyFailing = append(c.NewlyFailing, StepChange{Key: k, Base: bs, Head: hs})
		case bs.Status.Bad() && hs.Status == Passed:
			c.Fixed = append(c.Fixed, StepChange{Key: k, Base: bs, Head: hs})
		default:
			c.Unchanged++
			if bs.Status == Passed && hs.Status == Passed && bs.Duration > 0 &&
				float64(hs.Duration) > float64(bs.Duration)*opts.SlowerRatio &&
				hs.Duration-bs.Duration > opts.SlowerBy {
				c.Slower = append(c.Slower, StepChange{Key: k, Base: bs, Head: hs})
			}
		}
	}
	for _, k := range bOrder {
		if _, ok := h[k]; !ok {
			c.Gone = append(c.Gone, StepChange{Key: k, Base: b[k]})
		}
	}
	return c
}

// keyedSteps indexes a run's steps by key, keeping the run's order.
func keyedSteps(r *Run) (map[StepKey]*StepResult, []StepKey) {
	m := map[StepKey]*StepResult{}
	var order []StepKey
	for at, st := range r.Steps() {
		k := StepKey{Chapter: at.Chapter.File, Slide: at.Lab.SlideTitle, Kind: st.Kind, Command: strings.Join(strings.Fields(st.Command), " ")}
		for m[k] != nil {
			k.Nth++
		}
		m[k] = st
		order = append(order, k)
	}
	return m, order
}

// Regressed says whether anything newly fails: the exit status of compare.
func (c Comparison) Regressed() bool { return len(c.NewlyFailing) > 0 }

// WriteText writes the comparison for people, most important first.
func (c Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	section := func(title string, list []StepChange, detail func(StepChange) string) {
		if len(list) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s (%d):\n", title, len(list))
		for _, ch := range list {
			fmt.Fprintf(&b, "  %s  %s", ch.Where(), ch.Key)
			if d := detail(ch); d != "" {
				fmt.Fprintf(&b, "\n      %s", d)
			}
			b.WriteString("\n")
		}
	}
	section("newly failing", c.NewlyFailing, failureDetail)
	section("fixed", c.Fixed, func(StepChange) string { return "" })
	section("slower", c.Slower, slowerDetail)
	section("new", c.New, statusDetail)
	section("gone", c.Gone, func(StepChange) string { return "" })
	fmt.Fprintf(&b, "%s\n", c.summary())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the comparison as a pull-request comment.
func (c Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	icon := "✅"
	if c.Regressed() {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s labrun: %s\n\n", icon, c.summary())
	table := func(title string, list []StepChange, detail func(StepChange) string) {
		if len(list) == 0 {
			return
		}
		fmt.Fprintf(&b, "**%s** (%d)\n\n| where | step | detail |\n|---|---|---|\n", title, len(list))
		for _, ch := range list {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", ch.Where(), mdCell(ch.Key.String()), mdCell(detail(ch)))
		}
		b.WriteString("\n")
	}
	table("Newly failing", c.NewlyFailing, failureDetail)
	table("Fixed", c.Fixed, func(StepChange) string { return "" })
	table("Slower", c.Slower, slowerDetail)
	table("New", c.New, statusDetail)
	table("Gone", c.Gone, func(StepChange) string { return "" })
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the comparison for programs.
func (c Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

func (c Comparison) summary() string {
	return fmt.Sprintf("%d newly failing, %d fixed, %d slower, %d new, %d gone, %d unchanged",
		len(c.NewlyFailing), len(c.Fixed), len(c.Slower), len(c.New), len(c.Gone), c.Unchanged)
}

func failureDetail(c StepChange) string {
	if c.Head == nil {
		return ""
	}
	d := string(c.Head.Status)
	if c.Head.Reason != "" {
		d += ": " + firstLineOf(c.Head.Reason)
	}
	return d
}

func slowerDetail(c StepChange) string {
	return fmt.Sprintf("%s → %s", FormatDuration(c.Base.Duration), FormatDuration(c.Head.Duration))
}

func statusDetail(c StepChange) string {
	if c.Head == nil {
		return ""
	}
	return string(c.Head.Status)
}

func firstLineOf(s string) string { return text.FirstLine(strings.TrimSpace(s)) }

// ReadRun reads a JSON report written by --report json=FILE.
func ReadRun(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a labrun JSON report: %w", path, err)
	}
	if r.Chapters == nil && r.Status == "" {
		return nil, fmt.Errorf("%s: not a labrun JSON report: no status and no chapters", path)
	}
	return &r, nil
}

// Merge combines the reports of shards of one deck into one run: chapters
// in the order the shards list them (each shard keeps deck order), totals
// and status recomputed, the longest shard's duration as the wall time.
func Merge(runs []*Run) (*Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	out := *runs[0]
	out.Chapters = nil
	out.Notes = nil
	out.Status = Passed
	seen := map[string]bool{}
	for _, r := range runs {
		if r.Started.Before(out.Started) && !r.Started.IsZero() {
			out.Started = r.Started
		}
		out.Duration = max(out.Duration, r.Duration)
		for _, ch := range r.Chapters {
			if seen[ch.File] {
				return nil, fmt.Errorf("chapter %s is in more than one report: were the shards of one run?", ch.File)
			}
			seen[ch.File] = true
			out.Chapters = append(out.Chapters, ch)
		}
		out.Notes = append(out.Notes, r.Notes...)
		if rank(r.Status) > rank(out.Status) {
			out.Status = r.Status
		}
	}
	return &out, nil
}

// rank orders run statuses by how bad they are, for merging.
func rank(s Status) int {
	switch s {
	case Passed, Skipped, Manual, NotVerified:
		return 0
	case Failed:
		return 2
	case Error:
		return 3
	case Interrupted:
		return 4
	}
	return 1
}
