package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/report"
)

// runFlags are `labrun run`'s options.
type runFlags struct {
	cluster     string
	keepCluster bool
	namespace   string
	kubectl     string
	timeout     time.Duration
	failFast    bool
	keepSandbox bool
	typeDelay   time.Duration
	seed        int64
	nodes       int
	quiet       bool
	verbose     bool
	color       string
	reports     []string
	chapter     string
	slide       string
	from, to    string
}

func newRunCmd(st streams) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Replay the labs of chapters (.md) or decks (.yml) and check them",
		Long: `Replay every lab step of the given chapters or deck manifests in a real
terminal, against a fresh cluster (the built-in fake one by default), and
check exit statuses, waited-for text and the expected output the slides show.

Exit status: 0 when every step passed (or was skipped for a stated reason),
1 when a step failed, 2 on a usage error, unreadable input or no cluster.`,
		Example: `  labrun run fixtures/demo/pingpong.md
  labrun run --timeout 2m --fail-fast slides/kube-fullday.yml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, st, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "fake", "cluster to run against: fake (built in), builtin (the upstream control plane with simulated nodes), kind (created and deleted), kind:NAME (reused), kubeconfig[:CONTEXT] (current or named context, in a fresh namespace)")
	fl.BoolVar(&f.keepCluster, "keep-cluster", false, "keep the kind cluster the run created, and print how to reach it")
	fl.StringVar(&f.namespace, "namespace", "", "with --cluster kubeconfig: work in this namespace (created if missing) and keep it")
	fl.StringVar(&f.kubectl, "kubectl", "", "kubectl to use (default: kubectl on PATH, else bin/kubectl beside labrun)")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "time limit for each step (longwait gets ten times as much)")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first failed step")
	fl.BoolVar(&f.keepSandbox, "keep-sandbox", false, "keep the temporary HOME and cluster files, and print where")
	fl.DurationVar(&f.typeDelay, "type-delay", 0, "delay between typed characters, to look like a person in demos (e.g. 40ms)")
	fl.Int64Var(&f.seed, "seed", 0, "make the fake cluster's generated names reproducible (0: random)")
	fl.IntVar(&f.nodes, "nodes", 3, "number of nodes of the fake cluster (node1…nodeN)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only failures and the summary")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also print the output of passing steps")
	fl.StringArrayVar(&f.reports, "report", nil, "also write a report: json=FILE or junit=FILE (repeatable)")
	fl.StringVar(&f.chapter, "chapter", "", "run only chapters whose path contains this text")
	fl.StringVar(&f.slide, "slide", "", "run only slides N or N-M of each chapter (numbers as `labrun list` shows them)")
	fl.StringVar(&f.from, "from", "", "start at the first slide whose title contains this text")
	fl.StringVar(&f.to, "to", "", "stop after the first slide (from --from on) whose title contains this text")
	fl.StringVar(&f.color, "color", "auto", "colours: auto (on a terminal, unless NO_COLOR is set), always, never")
	return cmd
}

func runRun(cmd *cobra.Command, st streams, f runFlags, args []string) error {
	reports, err := parseReports(f.reports)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	deck, diags, err := loadDecks(args)
	if err != nil {
		return err
	}
	printDiagnostics(st.err, diags)
	sel := executor.Selection{Chapter: f.chapter, From: f.from, To: f.to}
	if f.slide != "" {
		if sel.SlideFrom, sel.SlideTo, err = executor.ParseSlideRange(f.slide); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	deck, left, err := executor.Select(deck, sel)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if left > 0 {
		fmt.Fprintf(st.err, "labrun: %d labs left out by %s; their steps, hidden setup included, do not run\n", left, sel)
	}
	color, err := useColor(f.color, st.out)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	live, width := terminal(st.out)
	sink := report.NewConsole(st.out, report.ConsoleOptions{Color: color, Quiet: f.quiet, Verbose: f.verbose, Live: live, Width: width})
	defer sink.Close()
	res, err := executor.Run(cmd.Context(), deck, executor.Options{
		Cluster: f.cluster, KeepCluster: f.keepCluster, Namespace: f.namespace, Kubectl: f.kubectl, Timeout: f.timeout, FailFast: f.failFast,
		KeepSandbox: f.keepSandbox, TypeDelay: f.typeDelay, Seed: f.seed, Nodes: f.nodes,
		Sink: sink, Log: st.err,
	})
	var se *executor.SetupError
	if errors.As(err, &se) {
		return &exitError{exitUsage, err}
	}
	if err != nil {
		return &exitError{exitUsage, err}
	}
	sink.Close()
	githubAnnotations(st.out, res)
	if err := writeReports(reports, res); err != nil {
		return &exitError{exitUsage, err}
	}
	if res.Status != report.Passed {
		return &exitError{code: exitFailed}
	}
	return nil
}

// useColor decides on ANSI colours: never for NO_COLOR or a pipe, unless forced.
func useColor(mode string, w any) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if os.Getenv("NO_COLOR") != "" {
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
