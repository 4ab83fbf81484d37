package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/report"
)

// runFlags are `labrun run`'s options.
type runFlags struct {
	cluster     string
	keepCluster bool
	// controlPlane is a directory of separate control-plane binaries.
	controlPlane string
	namespace    string
	kubeconfig   string
	kubectl      string
	timeout      time.Duration
	failFast     bool
	keepSandbox  bool
	typeDelay    time.Duration
	nodes        int
	quiet        bool
	verbose      bool
	color        string
	reports      []string
	chapter      string
	slide        string
	from, to     string
	strict       bool
	repo         string
	allowEmpty   bool
	authorFlags
	// Regression runs: replay the deck as it was at a git revision, one
	// shard of its chapters, several units at once; rewrite expectations.
	gitRef     string
	shard      string
	durations  string
	jobs       int
	standalone bool
	update     string // "", "ask" or "yes"
	slideSet   bool   // --slide was given, even empty (which is refused)
	// A unit of a -j run on the built-in cluster, in a labrun process of
	// its own: which unit (from 1), where its JSON report goes, and the
	// flags the parent passes on to each unit.
	unit       int
	unitReport string
	unitArgs   []string
}

func newRunCmd(st streams) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Replay the labs of chapters (.md) or decks (.yml) and check them",
		Long: `Replay every lab step of the given chapters or deck manifests in a real
terminal, against a fresh cluster (by default the built-in one: the real
Kubernetes control plane, bin/labrun-k8s, with labrun's simulated nodes), and
check exit statuses, waited-for text and the expected output the slides show.

Under GitHub Actions (GITHUB_ACTIONS=true) it also folds each chapter into a
log group, annotates failed steps at their slide's line, and appends a
summary to $GITHUB_STEP_SUMMARY.

Exit status: 0 when every step passed (or was skipped, left to the person
or not verified, each for a stated reason), 1 when a step failed, 2 on a
usage error, unreadable input or no cluster, 130 when interrupted (Ctrl-C).`,
		Example: `  labrun run fixtures/demo/pingpong.md
  labrun run --timeout 2m --fail-fast slides/kube-fullday.yml
  labrun run -q --report junit=junit.xml --report json=run.json k8s/kubectl-run.md
  labrun run --slide 3,5-7 k8s/kubectl-run.md`,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, st, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "builtin", "cluster to run against: builtin (the real control plane with labrun's simulated nodes, built in), kind (created and deleted), kind:NAME (reused), kubeconfig[:CONTEXT] (current or named context, in a fresh namespace)")
	fl.BoolVar(&f.keepCluster, "keep-cluster", false, "keep the kind cluster the run created, and print how to reach it")
	fl.StringVar(&f.controlPlane, "control-plane", "", "with --cluster builtin: use the kube-apiserver, kube-controller-manager, kube-scheduler and etcd binaries in this `DIR` instead of labrun-k8s")
	fl.StringVar(&f.namespace, "namespace", "", "with --cluster kubeconfig: work in this namespace (created if missing) and keep it")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "with --cluster kubeconfig: read the context from this `FILE` (default: $KUBECONFIG or ~/.kube/config, as kubectl does)")
	fl.StringVar(&f.kubectl, "kubectl", "", "kubectl to use (default: kubectl on PATH, else bin/kubectl beside labrun)")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "time limit for each step (longwait gets ten times as much)")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first failed step")
	fl.BoolVar(&f.keepSandbox, "keep-sandbox", false, "keep the temporary HOME and cluster files, and print where")
	fl.DurationVar(&f.typeDelay, "type-delay", 0, "delay between typed characters, to look like a person in demos (e.g. 40ms)")
	fl.IntVar(&f.nodes, "nodes", 3, "number of nodes of the built-in cluster (node1…nodeN)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only failures and the summary")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also print the output of passing steps")
	fl.StringArrayVar(&f.reports, "report", nil, "write a report as well: `FORMAT=FILE`, FORMAT json, junit or html (repeatable)")
	fl.StringVar(&f.chapter, "chapter", "", "run only chapters whose path contains this text")
	fl.StringVar(&f.slide, "slide", "", "run only these `SLIDES` of each chapter: N, N-M, N- or a list such as 3,5-7 (numbers as labrun list shows them)")
	fl.StringVar(&f.from, "from", "", "start at the first slide whose title contains this text")
	fl.StringVar(&f.to, "to", "", "stop after the first slide (from --from on) whose title contains this text")
	fl.BoolVar(&f.strict, "strict", false, "fail the run when a step was skipped (a program not installed, ssh), not verified or left to the person")
	fl.StringVar(&f.repo, "repo", "", "serve the git checkout `DIR` to clones of the deck's repository (default: the checkout holding the deck, as it is on disk)")
	fl.BoolVar(&f.allowEmpty, "allow-empty", false, "exit 0 even when there is nothing to replay")
	fl.StringVar(&f.color, "color", "auto", "colours: auto (on a terminal, unless NO_COLOR is set), always, never")
	f.authorFlags.add(cmd, true)
	addRegressionFlags(fl, &f)
	_ = cmd.RegisterFlagCompletionFunc("cluster", completeCluster)
	_ = cmd.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("report", completeReport)
	return cmd
}

// completeCluster offers the --cluster modes.
func completeCluster(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{
		cobra.CompletionWithDesc("builtin", "the built-in cluster (default): the real control plane with labrun's simulated nodes"),
		cobra.CompletionWithDesc("kind", "a kind cluster created and deleted"),
		cobra.CompletionWithDesc("kind:", "an existing kind cluster, by name"),
		cobra.CompletionWithDesc("kubeconfig", "the current context of your kubeconfig"),
		cobra.CompletionWithDesc("kubeconfig:", "a context of your kubeconfig, by name"),
	}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeReport offers json= and junit=, then file names after the '='.
func completeReport(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.Contains(toComplete, "=") {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return []cobra.Completion{"json=", "junit=", "html="}, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// validate refuses flag values a run cannot honour, before anything starts.
func (f runFlags) validate() error {
	if f.timeout <= 0 {
		return fmt.Errorf("--timeout %s: each step needs a time limit above zero, such as 60s or 2m", f.timeout)
	}
	if f.typeDelay < 0 {
		return fmt.Errorf("--type-delay %s: want zero or a positive duration, such as 40ms", f.typeDelay)
	}
	if f.nodes < 1 {
		return fmt.Errorf("--nodes %d: the built-in cluster needs at least one node", f.nodes)
	}
	return nil
}

func runRun(cmd *cobra.Command, st streams, f runFlags, args []string) error {
	if err := f.validate(); err != nil {
		return &usageError{cmd.CommandPath(), err}
	}
	reports, err := parseReports(f.reports)
	if err != nil {
		return &usageError{cmd.CommandPath(), err}
	}
	f.slideSet = cmd.Flags().Changed("slide")
	f.unitArgs = unitFlags(cmd.Flags())
	if f.unitReport != "" {
		reports = append(reports, reportSpec{"json", f.unitReport})
	}
	res, err := replay(cmd.Context(), st, f, args, reports)
	if err != nil || res == nil {
		return err
	}
	if st.env("GITHUB_ACTIONS") == "true" {
		if err := writeGitHub(st, res); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	if err := writeReports(reports, res); err != nil {
		return &exitError{exitUsage, err}
	}
	if f.update != "" {
		if err := updateExpected(st, res, f.update); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	switch {
	case res.Status == report.Interrupted:
		return &exitError{code: exitSignals}
	case res.Status.Bad():
		return &exitError{code: exitFailed}
	}
	if ran(res) == 0 && !f.allowEmpty {
		return &exitError{exitUsage, fmt.Errorf("nothing to replay: no step ran (see the reasons above; --allow-empty to accept that)")}
	}
	return nil
}

// replay loads, checks, selects and replays the decks args name as f says
// (at f.gitRef when set), printing progress to st.out. It returns a nil run
// with a nil error when the author stepped through instead (--step).
func replay(ctx context.Context, st streams, f runFlags, args []string, reports []reportSpec) (*report.Run, error) {
	if f.gitRef != "" {
		return replayAt(ctx, st, f, args, reports)
	}
	color, err := useColor(f.color, st.out, st.env)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	sel := executor.Selection{Chapter: f.chapter, From: f.from, To: f.to}
	if f.slideSet || f.slide != "" {
		if sel.Slides, err = executor.ParseSlides(f.slide); err != nil {
			return nil, &exitError{exitUsage, err}
		}
	}
	deck, diags, err := loadDecks(args)
	if err != nil {
		return nil, err
	}
	// A unit of a -j run: the parent has said all this already.
	notes := st.err
	if f.unit > 0 {
		notes = io.Discard
	}
	errs := printDiagnostics(notes, diags)
	github := st.env("GITHUB_ACTIONS") == "true"
	if github {
		githubDiagnostics(st.out, diags)
	}
	if errs > 0 {
		return nil, &exitError{exitUsage, fmt.Errorf("the input has %s (shown above); nothing was run", text.Plural(errs, "error"))}
	}
	// Content rot is found before the cluster starts; the run still goes on,
	// and a failure it causes says so in its hint.
	findings, repo := checkContent(ctx, args, deck, f.kubectl, st)
	printDiagnostics(notes, content.Diagnostics(findings))
	hints := content.NewHinter(content.Facts{Findings: findings, Deck: deck, Repo: repo, Installed: installed})
	deck, before, left, err := executor.SplitPrepare(deck, sel)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	if f.step {
		return nil, runStep(ctx, st, f, deck, before, reports)
	}
	if left > 0 && f.prepare {
		fmt.Fprintf(notes, "labrun: %s left out by %s; those before it are replayed quietly first (--prepare)\n", text.Plural(left, "lab"), sel)
	} else if left > 0 {
		fmt.Fprintf(notes, "labrun: %s left out by %s; their steps, hidden setup included, do not run\n", text.Plural(left, "lab"), sel)
	}
	if deck, err = shardDeck(deck, f); err != nil {
		return nil, &exitError{exitUsage, err}
	}
	if f.unit > 0 {
		units := parallelUnits(deck, args, f.standalone)
		if f.unit > len(units) {
			return nil, &exitError{exitUsage, fmt.Errorf("--unit %d: the run has %d units", f.unit, len(units))}
		}
		deck, f.jobs, f.standalone = units[f.unit-1], 1, false
	}
	if n := countSteps(deck); n == 0 && !f.allowEmpty {
		return nil, &exitError{exitUsage, fmt.Errorf("nothing to replay: %s has no lab steps (--allow-empty to accept that)", deck.File)}
	}
	var res *report.Run
	// Standalone chapters each get a cluster of their own, side by side or
	// (-j 1) one after the other.
	if f.jobs > 1 || f.standalone {
		res, err = replayParallel(ctx, st, f, deck, args, color, hints)
	} else {
		live, width := terminal(st.out)
		sink := report.NewConsole(st.out, report.ConsoleOptions{Color: color, Quiet: f.quiet, Verbose: f.verbose, Live: live, Width: width, GitHub: github})
		defer sink.Close()
		opts := f.options(sink, st.err, hints)
		opts.Screens, opts.Prepare = wantScreens(reports), f.prepared(before)
		res, err = executor.Run(ctx, deck, opts)
		sink.Close()
	}
	if err != nil {
		// The run never started (a *executor.SetupError): no kubectl, no
		// shell, no cluster; or it was interrupted while setting up.
		if ctx.Err() != nil {
			return nil, &exitError{exitSignals, fmt.Errorf("interrupted before the labs started: %w", err)}
		}
		return nil, &exitError{exitUsage, err}
	}
	b := readBuild()
	res.Deck, res.CommandLine, res.Version, res.Commit = args, st.argv, b.version, b.commit
	attachProblems(res, findings)
	return res, nil
}

// options are the executor's options for f, results going to sink.
func (f runFlags) options(sink report.Sink, log io.Writer, hints *content.Hinter) executor.Options {
	return executor.Options{
		Cluster: f.cluster, KeepCluster: f.keepCluster, ControlPlane: f.controlPlane, Namespace: f.namespace, Kubeconfig: f.kubeconfig, Kubectl: f.kubectl, Timeout: f.timeout, FailFast: f.failFast,
		KeepSandbox: f.keepSandbox, TypeDelay: f.typeDelay, Nodes: f.nodes,
		Sink: sink, Log: log, Strict: f.strict, Repo: f.repo, Hints: hints, Record: f.record,
	}
}

// installed says whether a program is on PATH, as the lab shell's PATH
// extends this one.
func installed(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// useColor decides on ANSI colours: never for NO_COLOR or a pipe, unless forced.
func useColor(mode string, w any, getenv func(string) string) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if getenv("NO_COLOR") != "" {
			return false, nil
		}
		if f, ok := w.(*os.File); ok {
			return term.IsTerminal(int(f.Fd())), nil
		}
		return false, nil
	}
	return false, fmt.Errorf("--color %q: want auto, always or never", mode)
}

// terminal says whether w is a terminal, and how wide: the live progress
// line is only drawn there.
func terminal(w any) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return true, 80
	}
	return true, width
}
