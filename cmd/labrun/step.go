package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// authorFlags are the author features `run`, `step` and `watch` share.
type authorFlags struct {
	record  string
	prepare bool
	step    bool
}

func (a *authorFlags) add(cmd *cobra.Command, withStep bool) {
	fl := cmd.Flags()
	fl.StringVar(&a.record, "record", "", "record an asciicast (asciinema v2) per chapter and pane into this directory, with a marker at each step")
	fl.BoolVar(&a.prepare, "prepare", false, "with --slide/--from: first replay the earlier labs quickly and quietly (no checks), so the selection starts from the state the deck builds")
	if withStep {
		fl.BoolVar(&a.step, "step", false, "step through the labs: show each slide and step, run it on Enter (s skip, r run again, c continue the lab, q quit)")
	}
}

// prepared is the part of the deck --prepare replays first, if asked.
func (a *authorFlags) prepared(before *parser.Deck) *parser.Deck {
	if !a.prepare || before == nil || len(before.Chapters) == 0 {
		return nil
	}
	return before
}

func newStepCmd(st streams) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "step FILE...",
		Short: "Step through the labs of a chapter, one step at a time",
		Long: `Replay the labs like run, but before each step show the chapter, the slide
(its text rendered for the terminal) and the step, and wait for a key:
Enter runs it, s skips it, r runs the previous step again, c runs the rest
of the lab without asking, q quits (the cluster and every process go).
While a step runs its panes are drawn live, laid out as tmux would.

Start anywhere with --slide or --from; add --prepare to replay the labs
before it quickly and quietly first. Without a terminal on stdin, plain
prompts are printed and one line is read per answer.`,
		Example: `  labrun step --slide 4 --prepare /work/shared/seed/kubectl-run.md
  printf '\n\ns\nq\n' | labrun step fixtures/authors/hello.md`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.step = true
			if f.slide != "" && !strings.Contains(f.slide, "-") {
				f.slide += "-" // step starts at slide N and goes on
			}
			return runRun(cmd, st, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "builtin", "cluster to run against: builtin (default), kind, kind:NAME, kubeconfig[:CONTEXT]")
	fl.StringVar(&f.controlPlane, "control-plane", "", "with --cluster builtin: use the control-plane binaries in this `DIR`, as for labrun run")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "with --cluster kubeconfig: read the context from this `FILE`, as for labrun run")
	fl.StringVar(&f.kubectl, "kubectl", "", "kubectl to use (default: kubectl on PATH, else bin/kubectl beside labrun)")
	fl.DurationVar(&f.timeout, "timeout", 60e9, "time limit for each step (longwait gets ten times as much)")
	fl.DurationVar(&f.typeDelay, "type-delay", 0, "delay between typed characters (e.g. 40ms)")
	fl.StringArrayVar(&f.reports, "report", nil, "also write a report: json=FILE, junit=FILE or html=FILE (repeatable)")
	fl.StringVar(&f.chapter, "chapter", "", "only chapters whose path contains this text")
	fl.StringVar(&f.slide, "slide", "", "start at slide N (or run only N-M)")
	fl.StringVar(&f.from, "from", "", "start at the first slide whose title contains this text")
	fl.StringVar(&f.to, "to", "", "stop after the first slide whose title contains this text")
	f.authorFlags.add(cmd, false)
	f.nodes, f.color = 3, "auto"
	return cmd
}

// runStep replays deck through a TermStepper on the command's streams.
func runStep(ctx context.Context, st streams, f runFlags, deck, before *parser.Deck, reports []reportSpec) error {
	stepper := executor.NewTermStepper(st.in, st.out)
	cols, rows := stepper.WindowSize()
	if !stepper.Interactive() {
		cols, rows = 0, 0 // the default window; nothing is drawn
	}
	res, err := executor.Run(ctx, deck, executor.Options{
		Cluster: f.cluster, ControlPlane: f.controlPlane, Kubeconfig: f.kubeconfig, Kubectl: f.kubectl, Timeout: f.timeout, TypeDelay: f.typeDelay,
		Nodes: f.nodes, Log: st.err, Cols: cols, Rows: rows,
		Record: f.record, Screens: wantScreens(reports), Prepare: f.prepared(before), Stepper: stepper,
	})
	if err != nil { // the run never started (a *executor.SetupError)
		return &exitError{exitUsage, err}
	}
	counts := map[report.Status]int{}
	for _, ch := range res.Chapters {
		for _, lab := range ch.Labs {
			for _, s := range lab.Steps {
				counts[s.Status]++
			}
		}
	}
	fmt.Fprintf(st.out, "\n%d passed, %d failed, %d skipped\n", counts[report.Passed],
		counts[report.Failed]+counts[report.Error]+counts[report.Interrupted], counts[report.Skipped])
	for _, n := range res.Notes {
		fmt.Fprintf(st.out, "note: %s\n", n)
	}
	if err := writeReports(reports, res); err != nil {
		return &exitError{exitUsage, err}
	}
	if res.Status != report.Passed {
		return &exitError{code: exitFailed}
	}
	return nil
}
