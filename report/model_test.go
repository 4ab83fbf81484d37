package report

import (
	"fmt"
	"slices"
	"testing"
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
