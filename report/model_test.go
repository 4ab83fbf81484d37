package report

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Steps walks every step once, in the run's order, each with the chapter
// and lab it stands in, passes labs without steps by, and stops when the
// loop does.
func TestRunSteps(t *testing.T) {
	r := &Run{Chapters: []ChapterResult{
		{File: "a.md", Labs: []LabResult{
			{Line: 10, Steps: []StepResult{{Line: 11}, {Line: 12}}},
			{Line: 20}, // nothing to replay
			{Line: 30, Steps: []StepResult{{Line: 31}}},
		}},
		{File: "b.md"}, // no labs
		{File: "c.md", Labs: []LabResult{{Line: 5, Steps: []StepResult{{Line: 6}}}}},
	}}
	var got []string
	for at, st := range r.Steps() {
		got = append(got, fmt.Sprintf("%s lab %d step %d", at.Chapter.File, at.Lab.Line, st.Line))
	}
	want := []string{"a.md lab 10 step 11", "a.md lab 10 step 12", "a.md lab 30 step 31", "c.md lab 5 step 6"}
	if !slices.Equal(got, want) {
		t.Errorf("Steps yielded %q, want %q", got, want)
	}

	// The pointers are the run's own: a change through one shows in the run.
	for _, st := range r.Steps() {
		st.Status = Passed
	}
	if r.Chapters[2].Labs[0].Steps[0].Status != Passed {
		t.Error("a step changed through Steps is unchanged in the run")
	}

	n := 0
	for range r.Steps() {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("the loop went on to %d steps after a break", n)
	}

	var none *Run
	for at, st := range none.Steps() {
		t.Errorf("a nil run yielded %v %v", at, st)
	}
}

// Compare matches steps by chapter, slide title, kind and command, never by
// line, and tells identical steps apart by their order.
func TestCompare(t *testing.T) {
	step := func(line int, cmd string, s Status, d time.Duration) StepResult {
		return StepResult{File: "a.md", Line: line, Kind: "command", Command: cmd, Status: s, Duration: d}
	}
	lab := func(title string, steps ...StepResult) LabResult {
		return LabResult{File: "a.md", SlideTitle: title, Steps: steps}
	}
	run := func(labs ...LabResult) *Run { return &Run{Chapters: []ChapterResult{{File: "a.md", Labs: labs}}} }
	base := run(
		lab("Pods", step(10, "kubectl get pods", Passed, time.Second), step(11, "kubectl get pods", Passed, time.Second)),
		lab("Pods", step(20, "kubectl get pods", Failed, time.Second)),
		lab("Gone", step(30, "echo old", Passed, time.Second)),
		lab("Slow", step(40, "sleep 1", Passed, time.Second)),
	)
	// The same steps, moved down the file: the second identical step of the
	// first slide now fails, the third one (on a slide of the same title)
	// is fixed.
	head := run(
		lab("Pods", step(110, "kubectl  get pods", Passed, time.Second), step(111, "kubectl get pods", Failed, time.Second)),
		lab("Pods", step(120, "kubectl get pods", Passed, time.Second)),
		lab("New", step(130, "echo new", Error, time.Second)),
		lab("Slow", step(140, "sleep 1", Passed, 5*time.Second)),
	)
	c := Compare(base, head, CompareOptions{})
	where := func(list []StepChange) []string {
		var s []string
		for _, ch := range list {
			s = append(s, fmt.Sprintf("%s %s #%d", ch.Where(), ch.Key.Slide, ch.Key.Nth))
		}
		return s
	}
	for _, tc := range []struct {
		what      string
		got, want []string
	}{
		{"newly failing", where(c.NewlyFailing), []string{"a.md:111 Pods #1", "a.md:130 New #0"}},
		{"fixed", where(c.Fixed), []string{"a.md:120 Pods #2"}},
		{"new", where(c.New), []string{"a.md:130 New #0"}},
		{"gone", where(c.Gone), []string{"a.md:30 Gone #0"}},
		{"slower", where(c.Slower), []string{"a.md:140 Slow #0"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
		}
	}
	if c.Unchanged != 2 || !c.Regressed() {
		t.Errorf("unchanged %d, regressed %v; want 2 and true", c.Unchanged, c.Regressed())
	}
}
