// Package report holds the results of a run and renders them for people
// (console) and for CI (JSON, JUnit XML, GitHub annotations). It knows
// nothing of terminals or clusters: the executor fills a Run as it goes.
package report

import (
	"iter"
	"time"
)

// Status of a step, lab or run.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	// Error means labrun could not try the step at all (bad input, no shell).
	Error Status = "error"
	// Manual is a step the slide leaves to the person (an editor opened with
	// no keys after it): neither passed nor failed, and counted apart.
	Manual Status = "manual"
	// NotVerified is a step that was not tried because something it depends
	// on could not run here (a missing tool earlier in the chapter); Reason
	// says what.
	NotVerified Status = "not_verified"
	// Interrupted is the step that was running when the run was cancelled
	// (Ctrl-C), and the run itself.
	Interrupted Status = "interrupted"
)

// Verified reports whether a status says the step was checked and held.
// Only Passed does: nothing unverified counts as passed.
func (s Status) Verified() bool { return s == Passed }

// Bad reports whether a status fails a run (without --strict).
func (s Status) Bad() bool { return s == Failed || s == Error || s == Interrupted }

// Run is one replay of a deck, with what a reader needs to reproduce it.
type Run struct {
	// Deck is the chapters (.md) and deck manifests (.yml) named on the
	// command line, in order.
	Deck []string `json:"deck"`
	// CommandLine is labrun's arguments, program name first.
	CommandLine []string `json:"command_line,omitempty"`
	// Version is labrun's module version: a release tag, or "(devel)" for a
	// build from a checkout.
	Version string `json:"labrun_version,omitempty"`
	// Commit is the git revision labrun was built from, with "+dirty" when
	// the checkout had local changes; empty when the build did not record it.
	Commit string `json:"labrun_commit,omitempty"`
	// Cluster is the --cluster mode: builtin, kind, kind:NAME, kubeconfig[:CONTEXT].
	Cluster string `json:"cluster"`
	// Kubectl is the path of the kubectl the labs ran.
	Kubectl        string `json:"kubectl,omitempty"`
	KubectlVersion string `json:"kubectl_version,omitempty"`
	ServerVersion  string `json:"server_version,omitempty"`
	// Timeout is each step's time limit (--timeout; longwait gets ten times it).
	Timeout  time.Duration   `json:"timeout_ns"`
	Started  time.Time       `json:"started"`
	Duration time.Duration   `json:"duration_ns"`
	Status   Status          `json:"status"`
	Chapters []ChapterResult `json:"chapters"`
	// Notes are run-level remarks (a shell replaced, a cluster kept).
	Notes []string `json:"notes,omitempty"`
}

// ChapterResult groups the labs of one chapter.
type ChapterResult struct {
	File     string        `json:"file"`
	Title    string        `json:"title,omitempty"`
	Status   Status        `json:"status"`
	Duration time.Duration `json:"duration_ns"`
	Labs     []LabResult   `json:"labs"`
	// Problems are the content problems lint's checks found in this chapter
	// before the run (a missing repository file, a typo, a removed flag).
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is one content problem found before the run, at file:line:col.
type Problem struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col,omitempty"`
	Severity string `json:"severity"`
	// Check names the check that found it: path, include, typo, kubectl-flag, kubectl-command.
	Check   string `json:"check,omitempty"`
	Message string `json:"message"`
	// Fix is the likely fix (the existing file, the command meant), when known.
	Fix string `json:"fix,omitempty"`
}

// LabResult is one `.lab[` section. A lab the run never reached because it
// was interrupted has status Interrupted and no steps (see NotRun).
type LabResult struct {
	File       string        `json:"file"`
	Line       int           `json:"line"`
	Slide      int           `json:"slide"`
	SlideTitle string        `json:"slide_title,omitempty"`
	Status     Status        `json:"status"`
	Duration   time.Duration `json:"duration_ns"`
	Steps      []StepResult  `json:"steps"`

	// SlideSource is the slide's markdown (increments included) and
	// SlideLine its first line in File, for the HTML report to show beside
	// the terminal; they are not part of the JSON report.
	SlideSource string `json:"-"`
	SlideLine   int    `json:"-"`
}

// NotRun reports whether the lab never started: the run was interrupted
// before it.
func (l LabResult) NotRun() bool { return l.Status == Interrupted && len(l.Steps) == 0 }

// neverStarted tells a chapter an interrupted run never reached.
func neverStarted(ch ChapterResult) bool {
	for _, l := range ch.Labs {
		if !l.NotRun() {
			return false
		}
	}
	return ch.Status == Interrupted
}

// labs are the run's labs, every chapter's, in order.
func (r *Run) labs() []LabResult {
	var labs []LabResult
	for _, ch := range r.Chapters {
		labs = append(labs, ch.Labs...)
	}
	return labs
}

// Place is where a step stands in its run: its chapter and its lab.
type Place struct {
	Chapter *ChapterResult
	Lab     *LabResult
}

// Steps yields the run's steps in order, each with its chapter and lab, so
// that whoever reads a run's steps (a report format, a comparison, a test)
// walks the tree one way. The pointers are into r.
func (r *Run) Steps() iter.Seq2[Place, *StepResult] {
	return func(yield func(Place, *StepResult) bool) {
		if r == nil {
			return
		}
		for ci := range r.Chapters {
			ch := &r.Chapters[ci]
			for li := range ch.Labs {
				lab := &ch.Labs[li]
				for si := range lab.Steps {
					if !yield(Place{ch, lab}, &lab.Steps[si]) {
						return
					}
				}
			}
		}
	}
}

// StepResult is the outcome of one step.
type StepResult struct {
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Kind     string        `json:"kind"`
	Command  string        `json:"command"`
	Pane     int           `json:"pane"`
	Status   Status        `json:"status"`
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// ExitStatuses are the exit statuses of the commands a block ran, in order.
	ExitStatuses []int `json:"exit_statuses,omitempty"`
	// Expected is the expected-output block checked against this step, if any.
	Expected     string `json:"expected,omitempty"`
	ExpectedFile string `json:"expected_file,omitempty"`
	ExpectedLine int    `json:"expected_line,omitempty"`
	Actual       string `json:"actual,omitempty"`
	Diff         string `json:"diff,omitempty"`
	// Screen is the active pane's screen when the step failed.
	Screen string `json:"screen,omitempty"`
	// Substituted records placeholders filled in, as "placeholder → value".
	Substituted []string `json:"substituted,omitempty"`
	// Hint is one line naming the probable cause of a failure and the place
	// to fix it ("created at kubectlexpose.md:52"), when labrun knows one.
	Hint string `json:"hint,omitempty"`
	// Cause names an earlier event this step's failure follows from ("after
	// pane 0 was replaced at x.md:216"), so one cause reads as one failure.
	Cause string `json:"cause,omitempty"`
	// Window is the whole terminal window after the step, panes laid out as
	// tmux would, colours as ANSI SGR sequences (for the HTML report).
	Window string `json:"-"`
}
