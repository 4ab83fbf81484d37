package main

// The regression user's commands: compare two reports, merge the reports
// of shards, replay a deck at a git revision, compare two revisions, and
// bisect to the commit that broke a step.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/regress"
	"github.com/labrun/labrun/report"
)

func addRegressionFlags(fl *pflag.FlagSet, f *runFlags) {
	fl.StringVar(&f.gitRef, "git", "", "replay the deck and its materials as they were at this git revision (a temporary worktree, removed afterwards)")
	fl.StringVar(&f.shard, "shard", "", "run only shard I of N of the chapters (I/N, e.g. 2/4), for CI matrices")
	fl.StringVar(&f.durations, "durations", "", "with --shard: balance shards by the chapter durations of this earlier JSON report")
	fl.IntVarP(&f.jobs, "jobs", "j", 1, "replay this many decks (or, with --standalone, chapters) at once, each on its own cluster")
	fl.BoolVar(&f.standalone, "standalone", false, "treat each chapter as standalone: with -j, chapters run side by side, each on its own cluster")
	fl.StringVar(&f.update, "update", "", "rewrite the expected output of steps that failed on it from what the run saw; shows the diff and asks (--update=yes applies without asking)")
	fl.Lookup("update").NoOptDefVal = "ask"
	// What a -j run on the built-in cluster gives each unit's own process.
	fl.IntVar(&f.unit, "unit", 0, "replay only unit `N` (from 1) of what -j would run side by side")
	fl.StringVar(&f.unitReport, "unit-report", "", "write the unit's JSON report to `FILE`")
	_ = fl.MarkHidden("unit")
	_ = fl.MarkHidden("unit-report")
}

// unitFlags are the flags given to a run that each of its units' own
// processes gets as well: all but those the parent alone acts on
// (-j, the reports, --update, --git whose checkout the parent made, and
// --color, which the parent decides since a unit writes to a pipe).
func unitFlags(fs *pflag.FlagSet) []string {
	parentOnly := map[string]bool{"jobs": true, "report": true, "update": true, "git": true, "color": true, "unit": true, "unit-report": true}
	var out []string
	fs.Visit(func(fl *pflag.Flag) {
		if parentOnly[fl.Name] {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+fl.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+fl.Name+"="+fl.Value.String())
	})
	return out
}

// updateExpected rewrites the expected-output blocks of steps that failed
// on their output, after showing the change, asking first unless told yes.
func updateExpected(st streams, res *report.Run, mode string) error {
	if mode != "ask" && mode != "yes" {
		return fmt.Errorf("--update=%s: want --update (ask first) or --update=yes", mode)
	}
	edits, err := executor.PlanUpdates(res)
	if err != nil {
		return fmt.Errorf("--update: %w", err)
	}
	if len(edits) == 0 {
		fmt.Fprintln(st.err, "labrun: --update: no expected output to change")
		return nil
	}
	for _, e := range edits {
		fmt.Fprint(st.out, e.Diff())
	}
	if mode == "ask" {
		in, ok := st.in.(*os.File)
		if !ok || !term.IsTerminal(int(in.Fd())) {
			fmt.Fprintf(st.err, "labrun: --update: %d block%s not changed: not asking without a terminal; use --update=yes to apply\n", len(edits), pluralSuffix(len(edits)))
			return nil
		}
		fmt.Fprintf(st.err, "Apply %d change%s? [y/N] ", len(edits), pluralSuffix(len(edits)))
		var answer string
		fmt.Fscanln(st.in, &answer)
		if !strings.EqualFold(answer, "y") && !strings.EqualFold(answer, "yes") {
			fmt.Fprintln(st.err, "labrun: nothing changed")
			return nil
		}
	}
	if err := executor.ApplyUpdates(edits); err != nil {
		return fmt.Errorf("--update: %w", err)
	}
	fmt.Fprintf(st.err, "labrun: updated %d expected-output block%s\n", len(edits), pluralSuffix(len(edits)))
	return nil
}

// shardDeck keeps the chapters of f's shard.
func shardDeck(deck *parser.Deck, f runFlags) (*parser.Deck, error) {
	if f.shard == "" {
		if f.durations != "" {
			return nil, fmt.Errorf("--durations goes with --shard")
		}
		return deck, nil
	}
	s, err := executor.ParseShard(f.shard)
	if err != nil {
		return nil, err
	}
	var durations map[string]time.Duration
	if f.durations != "" {
		prev, err := report.ReadRun(f.durations)
		if err != nil {
			return nil, fmt.Errorf("--durations: %w", err)
		}
		durations = map[string]time.Duration{}
		for _, ch := range prev.Chapters {
			durations[ch.File] = ch.Duration
		}
	}
	return executor.ShardDeck(deck, s, durations)
}

// replayAt replays the decks as they were at f.gitRef.
func replayAt(ctx context.Context, st streams, f runFlags, args []string, reports []reportSpec) (*report.Run, error) {
	co, paths, err := checkout(ctx, f.gitRef, args)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	defer co.Close()
	fmt.Fprintf(st.err, "labrun: replaying %s at %s (%.12s)\n", strings.Join(args, " "), f.gitRef, co.Rev)
	ref := f.gitRef
	f.gitRef = ""
	res, err := replay(ctx, st, f, paths, reports)
	if res != nil {
		relocate(res, co, args)
		res.Notes = append(res.Notes, fmt.Sprintf("replayed at git revision %s (%s)", ref, co.Rev))
	}
	return res, err
}

// relocate names the files of a run made in a checkout by the paths the
// user gave (as args spells them), so reports of two revisions name the
// same chapter the same way.
func relocate(res *report.Run, co *regress.Checkout, args []string) {
	base := filepath.Dir(args[0])
	inCheckout, err := co.Path(base)
	if err != nil {
		return
	}
	fix := func(p *string) {
		if rel, err := filepath.Rel(inCheckout, *p); err == nil && !strings.HasPrefix(rel, "..") {
			*p = filepath.Join(base, rel)
		}
	}
	for ci := range res.Chapters {
		ch := &res.Chapters[ci]
		fix(&ch.File)
		for li := range ch.Labs {
			lab := &ch.Labs[li]
			fix(&lab.File)
			for si := range lab.Steps {
				fix(&lab.Steps[si].File)
				if lab.Steps[si].ExpectedFile != "" {
					fix(&lab.Steps[si].ExpectedFile)
				}
			}
		}
	}
}

// checkout opens a worktree of the repository holding args[0] at ref and
// maps every path of args into it.
func checkout(ctx context.Context, ref string, args []string) (*regress.Checkout, []string, error) {
	repo, err := regress.Root(ctx, args[0])
	if err != nil {
		return nil, nil, err
	}
	co, err := regress.Open(ctx, repo, ref)
	if err != nil {
		return nil, nil, err
	}
	paths := make([]string, len(args))
	for i, a := range args {
		if paths[i], err = co.Path(a); err != nil {
			co.Close()
			return nil, nil, err
		}
	}
	return co, paths, nil
}

// parallelUnits splits deck into what can run side by side: its chapters
// when they stand alone, else the decks args name (a chapter two of them
// share runs with the first).
func parallelUnits(deck *parser.Deck, args []string, standalone bool) []*parser.Deck {
	var units []*parser.Deck
	if standalone {
		for _, ch := range deck.Chapters {
			units = append(units, &parser.Deck{File: ch.File, Title: ch.Title, Chapters: []parser.Chapter{ch}})
		}
		return units
	}
	owner := map[string]int{}
	for i, a := range args {
		d, _ := parser.Load(a, os.ReadFile)
		if d == nil {
			continue
		}
		for _, ch := range d.Chapters {
			if _, ok := owner[ch.File]; !ok {
				owner[ch.File] = i
			}
		}
	}
	byArg := map[int]*parser.Deck{}
	for _, ch := range deck.Chapters {
		i := owner[ch.File]
		u := byArg[i]
		if u == nil {
			u = &parser.Deck{File: args[i]}
			byArg[i] = u
			units = append(units, u)
		}
		u.Chapters = append(u.Chapters, ch)
	}
	return units
}

// replayParallel replays units of deck side by side, each on a cluster of
// its own: its chapters with --standalone, else the decks it was made of.
// Each unit's console output is kept together and printed when it ends.
func replayParallel(ctx context.Context, st streams, f runFlags, deck *parser.Deck, args []string, color bool, hints *content.Hinter) (*report.Run, error) {
	units := parallelUnits(deck, args, f.standalone)
	if len(units) < 2 && f.jobs > 1 {
		fmt.Fprintf(st.err, "labrun: -j %d: only one deck to replay (give several files, or --standalone to run chapters side by side)\n", f.jobs)
	}
	jobs := f.jobs
	if jobs > 1 && ownProcess(f.cluster) && network.FallbackReason() != "" {
		// The network fallback's loopback addresses hold one cluster.
		fmt.Fprintf(st.err, "labrun: -j %d: in the network fallback this machine holds one built-in cluster at a time, so the units run one after another\n", jobs)
		jobs = 1
	}
	results := make([]*report.Run, len(units))
	errs := make([]error, len(units))
	var mu sync.Mutex // one unit's output at a time
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	start := time.Now()
	for i, u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			var out, log bytes.Buffer
			if ownProcess(f.cluster) {
				results[i], errs[i] = replayUnitProcess(ctx, f, i+1, args, color, &out, &log)
			} else {
				sink := report.NewConsole(&out, report.ConsoleOptions{Color: color, Quiet: f.quiet, Verbose: f.verbose})
				results[i], errs[i] = executor.Run(ctx, u, f.options(sink, &log, hints))
				sink.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(st.out, "── %s ──\n", u.File)
			st.out.Write(out.Bytes())
			st.err.Write(log.Bytes())
		}()
	}
	wg.Wait()
	all := &report.Run{Deck: args, Cluster: f.cluster, Started: start, Status: report.Passed}
	for i, r := range results {
		if errs[i] != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("%s: %w", units[i].File, errs[i])}
		}
		all.Chapters = append(all.Chapters, r.Chapters...)
		for _, n := range r.Notes {
			if !slices.Contains(all.Notes, n) { // the fallback's, say, is every unit's
				all.Notes = append(all.Notes, n)
			}
		}
		if r.Status != report.Passed && all.Status == report.Passed {
			all.Status = r.Status
		}
		all.Kubectl = r.Kubectl
	}
	all.Duration = time.Since(start)
	// Each unit printed its own summary; the run's is the sum of them.
	fmt.Fprintf(st.out, "── all %d ──\n", len(units))
	sum := report.NewConsole(st.out, report.ConsoleOptions{Color: color, Quiet: f.quiet, Verbose: f.verbose})
	sum.RunDone(all)
	sum.Close()
	return all, nil
}

// ownProcess says whether each unit of a -j run replays in a labrun
// process of its own: a network namespace holds one built-in cluster, and
// each such process makes a namespace of its own. Units on kind or a
// kubeconfig's cluster share this process.
func ownProcess(cluster string) bool {
	return cluster == "" || cluster == "builtin"
}

// replayUnitProcess replays unit n of the run in a labrun process of its
// own (this program, the run's flags, --unit n) writing its console
// output to out and its log to log, and returns the report it wrote.
// When ctx ends the process gets an interrupt, as from Ctrl-C, and time to
// stop its cluster.
func replayUnitProcess(ctx context.Context, f runFlags, n int, args []string, color bool, out, log io.Writer) (*report.Run, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find this program to run the unit in a process of its own: %w", err)
	}
	tmp, err := os.MkdirTemp("", "labrun-unit-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rep := filepath.Join(tmp, "run.json")
	colors := "never"
	if color {
		colors = "always"
	}
	argv := append([]string{"run"}, f.unitArgs...)
	argv = append(argv, "--color="+colors, "--unit="+strconv.Itoa(n), "--unit-report="+rep, "--")
	cmd := exec.CommandContext(ctx, exe, append(argv, args...)...)
	cmd.Env = unitEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = out, log
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 2 * time.Minute // its cluster's shutdown, then it is killed
	runErr := cmd.Run()
	r, err := report.ReadRun(rep)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("its labrun process ended (%v) without a report (its output is above)", runErr)
	}
	return r, nil
}

// unitEnv is the environment of a unit's process: this one's, less what
// would tell it that it already runs in a network namespace of labrun's,
// so that it makes one of its own (unless none can be made: then it runs
// in the network fallback, as this one does).
func unitEnv(env []string) []string { return network.ChildEnv(env) }

func newCompareCmd(st streams) *cobra.Command {
	var format string
	var opts report.CompareOptions
	cmd := &cobra.Command{
		Use:   "compare BASE.json HEAD.json",
		Short: "Say which steps newly fail, were fixed, are new, gone or slower between two runs",
		Long: `Compare two JSON reports (--report json=FILE) step by step. Steps are
matched by chapter, slide title and command text, not by line numbers, so a
slide that moved is still the same slide.

Exit status: 1 when a step newly fails, 0 otherwise, 2 on unreadable input.`,
		Example: `  labrun compare base.json head.json
  labrun compare --format markdown base.json head.json > comment.md`,
		Args: exactArgs(2, "compare needs two JSON reports: BASE.json HEAD.json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, err := report.ReadRun(args[0])
			if err != nil {
				return &exitError{exitUsage, err}
			}
			head, err := report.ReadRun(args[1])
			if err != nil {
				return &exitError{exitUsage, err}
			}
			return printComparison(st.out, report.Compare(base, head, opts), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: text, markdown (for a pull-request comment) or json")
	cmd.Flags().Float64Var(&opts.SlowerRatio, "slower-ratio", 1.5, "a step is slower when it takes this many times as long…")
	cmd.Flags().DurationVar(&opts.SlowerBy, "slower-by", time.Second, "…and at least this much longer")
	return cmd
}

func printComparison(w io.Writer, c report.Comparison, format string) error {
	var err error
	switch format {
	case "text":
		err = c.WriteText(w)
	case "markdown", "md":
		err = c.WriteMarkdown(w)
	case "json":
		err = c.WriteJSON(w)
	default:
		return &exitError{exitUsage, fmt.Errorf("--format %q: want text, markdown or json", format)}
	}
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if c.Regressed() {
		return &exitError{code: exitFailed}
	}
	return nil
}

func newMergeCmd(st streams) *cobra.Command {
	var outputs []string
	cmd := &cobra.Command{
		Use:   "merge -o FORMAT=FILE REPORT...",
		Short: "Combine the JSON or JUnit reports of shards into one",
		Long: `Combine the reports that the shards of one run wrote (--shard I/N) into one
report with the same totals as a single run. JSON inputs can be written as
json or junit; JUnit inputs as junit.`,
		Example: `  labrun merge -o json=all.json -o junit=all.xml shard-*.json
  labrun merge -o junit=all.xml shard-*.xml`,
		Args: minArgs(1, "merge needs the reports to combine"),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := parseReports(outputs)
			if err != nil || len(specs) == 0 {
				if err == nil {
					err = fmt.Errorf("say where to write the merged report: -o json=FILE or -o junit=FILE")
				}
				return &exitError{exitUsage, err}
			}
			return mergeReports(args, specs)
		},
	}
	cmd.Flags().StringArrayVarP(&outputs, "output", "o", nil, "where to write: json=FILE or junit=FILE (repeatable)")
	return cmd
}

func mergeReports(inputs []string, specs []reportSpec) error {
	data := map[string][]byte{}
	xmlIn := 0
	for _, p := range inputs {
		b, err := os.ReadFile(p)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		data[p] = b
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
			xmlIn++
		}
	}
	if xmlIn > 0 && xmlIn < len(inputs) {
		return &exitError{exitUsage, fmt.Errorf("merge takes all JSON or all JUnit reports, not a mix")}
	}
	if xmlIn > 0 {
		for _, s := range specs {
			if s.format != "junit" {
				return &exitError{exitUsage, fmt.Errorf("-o %s=%s: JUnit inputs merge into junit only (merge the JSON reports for JSON)", s.format, s.path)}
			}
			var buf bytes.Buffer
			if err := report.MergeJUnit(&buf, data, inputs); err != nil {
				return &exitError{exitUsage, err}
			}
			if err := writeFileAtomic(s.path, buf.Bytes(), 0o644); err != nil {
				return &exitError{exitUsage, err}
			}
		}
		return nil
	}
	var runs []*report.Run
	for _, p := range inputs {
		r, err := report.ReadRun(p)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		runs = append(runs, r)
	}
	merged, err := report.Merge(runs)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if err := writeReports(specs, merged); err != nil {
		return &exitError{exitUsage, err}
	}
	return nil
}

func newRegressCmd(st streams) *cobra.Command {
	var f runFlags
	var format string
	cmd := &cobra.Command{
		Use:   "regress BASE_REF HEAD_REF DECK...",
		Short: "Replay a deck at two git revisions and compare the runs",
		Long: `Replay the deck (and the materials of its repository) as it was at BASE_REF
and at HEAD_REF, each in a temporary worktree on a fresh cluster, and compare
the runs as 'labrun compare' does.

Exit status: 1 when a step newly fails at HEAD_REF, 0 otherwise, 2 on a
usage error or when a run could not take place.`,
		Example: `  labrun regress origin/main HEAD slides/kube-fullday.yml`,
		Args:    minArgs(3, "regress needs BASE_REF HEAD_REF DECK"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var runs [2]*report.Run
			for i, ref := range args[:2] {
				g := f
				g.gitRef = ref
				r, err := replay(cmd.Context(), st, g, args[2:], nil)
				if err != nil {
					return err
				}
				runs[i] = r
			}
			return printComparison(st.out, report.Compare(runs[0], runs[1], report.CompareOptions{}), format)
		},
	}
	addReplayFlags(cmd.Flags(), &f)
	cmd.Flags().StringVar(&format, "format", "text", "comparison output: text, markdown or json")
	return cmd
}

// addReplayFlags are the run flags that regress and bisect pass on.
func addReplayFlags(fl *pflag.FlagSet, f *runFlags) {
	fl.StringVar(&f.cluster, "cluster", "builtin", "cluster to run against, as for labrun run")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "with --cluster kubeconfig: read the context from this `FILE`, as for labrun run")
	fl.StringVar(&f.controlPlane, "control-plane", "", "with --cluster builtin: the control-plane binaries in this `DIR`, as for labrun run")
	fl.StringVar(&f.kubectl, "kubectl", "", "kubectl to use")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "time limit for each step")
	fl.StringVar(&f.chapter, "chapter", "", "replay only chapters whose path contains this text")
	fl.BoolVarP(&f.quiet, "quiet", "q", true, "print only failures and the summary of each run")
	f.nodes, f.color = 3, "never"
}

// bisectTarget is what bisect judges at each commit: every step of some
// slides of a chapter, or one step found by its key (line numbers move).
type bisectTarget struct {
	Chapter   string          `json:"chapter"` // path relative to the repository
	SlideFrom int             `json:"slide_from,omitempty"`
	SlideTo   int             `json:"slide_to,omitempty"`
	Step      *report.StepKey `json:"step,omitempty"`
}

func newBisectCmd(st streams) *cobra.Command {
	var f runFlags
	var slide, step string
	cmd := &cobra.Command{
		Use:   "bisect GOOD BAD DECK (--step FILE:LINE | --slide N[-M] --chapter PATH | --chapter PATH)",
		Short: "Find the first commit where a step of a deck fails",
		Long: `Drive 'git bisect run' between GOOD and BAD in a temporary worktree (your
checkout and its bisect state are left alone), replaying at each commit only
the chapter of the step in question, up to its slide, and name the first
commit where it fails. --step is the step's place at BAD; at other commits
the step is found by chapter, slide title and command, so edits that move it
do not matter. A commit where it is absent or the run cannot start is
skipped.`,
		Example: `  labrun bisect v1.0 HEAD slides/kube.yml --step slides/k8s/expose.md:132`,
		Args:    exactArgs(3, "bisect needs GOOD BAD DECK"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBisect(cmd.Context(), st, f, args, slide, step)
		},
	}
	addReplayFlags(cmd.Flags(), &f)
	cmd.Flags().StringVar(&slide, "slide", "", "judge these slides (N or N-M) of --chapter")
	cmd.Flags().StringVar(&step, "step", "", "judge the step at FILE:LINE (as at BAD)")
	return cmd
}

// newBisectJudgeCmd is what git bisect runs at each commit.
func newBisectJudgeCmd(st streams) *cobra.Command {
	var f runFlags
	judge := &cobra.Command{
		Use:    "bisect-judge TARGET DECK",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return bisectJudge(cmd.Context(), st, f, args[0], args[1])
		},
	}
	addReplayFlags(judge.Flags(), &f)
	return judge
}

func runBisect(ctx context.Context, st streams, f runFlags, args []string, slide, step string) error {
	good, bad, deckPath := args[0], args[1], args[2]
	repo, err := regress.Root(ctx, deckPath)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	target, err := bisectTargetAt(ctx, repo, bad, deckPath, f.chapter, slide, step)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	self, err := os.Executable()
	if err != nil {
		return &exitError{exitUsage, err}
	}
	absDeck, _ := filepath.Abs(deckPath)
	relDeck, err := filepath.Rel(repo, absDeck)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	tj, _ := json.Marshal(target)
	judge := []string{self, "bisect-judge", string(tj), relDeck, "--timeout", f.timeout.String(), "--cluster", f.cluster}
	if f.kubectl != "" {
		judge = append(judge, "--kubectl", f.kubectl)
	}
	// The judge runs in each commit's checkout: paths are made absolute.
	for _, p := range []struct{ flag, path string }{{"--kubeconfig", f.kubeconfig}, {"--control-plane", f.controlPlane}} {
		if p.path == "" {
			continue
		}
		abs, err := filepath.Abs(p.path)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		judge = append(judge, p.flag, abs)
	}
	res, err := regress.Bisect(ctx, regress.BisectOptions{Repo: repo, Good: good, Bad: bad, Judge: judge, Log: st.err})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	fmt.Fprintf(st.out, "first bad commit: %s %s\n", res.Commit, res.Subject)
	return nil
}

// bisectTargetAt reads the deck as it is at rev to name what bisect judges.
func bisectTargetAt(ctx context.Context, repo, rev, deckPath, chapter, slide, step string) (*bisectTarget, error) {
	switch {
	case step != "":
		file, lineText, ok := strings.Cut(step, ":")
		line, err := strconv.Atoi(lineText)
		if !ok || err != nil {
			return nil, fmt.Errorf("--step %q: want FILE:LINE", step)
		}
		co, err := regress.Open(ctx, repo, rev)
		if err != nil {
			return nil, err
		}
		defer co.Close()
		p, err := co.Path(deckPath)
		if err != nil {
			return nil, err
		}
		deck, _ := parser.Load(p, os.ReadFile)
		if deck == nil {
			return nil, fmt.Errorf("%s: cannot read the deck at %s", deckPath, rev)
		}
		want, err := co.Path(file)
		if err != nil {
			return nil, err
		}
		for _, ch := range deck.Chapters {
			if ch.File != want && !strings.HasSuffix(ch.File, string(filepath.Separator)+filepath.Clean(file)) {
				continue
			}
			rel, _ := filepath.Rel(co.Dir, ch.File)
			for _, sl := range ch.Slides {
				for _, lab := range sl.Labs {
					nth := map[report.StepKey]int{}
					for _, s := range lab.Steps {
						k := report.StepKey{Chapter: rel, Slide: sl.Title, Kind: string(s.Kind), Command: strings.Join(strings.Fields(s.Text), " ")}
						k.Nth = nth[k]
						nth[report.StepKey{Chapter: k.Chapter, Slide: k.Slide, Kind: k.Kind, Command: k.Command}]++
						if s.Pos.Line == line {
							return &bisectTarget{Chapter: rel, SlideTo: sl.Number, Step: &k}, nil
						}
					}
				}
			}
			return nil, fmt.Errorf("--step %s: no step starts at that line at %s", step, rev)
		}
		return nil, fmt.Errorf("--step %s: %s is not a chapter of %s", step, file, deckPath)
	case chapter != "":
		t := &bisectTarget{Chapter: chapter}
		if slide != "" {
			ranges, err := executor.ParseSlides(slide)
			if err != nil {
				return nil, err
			}
			if len(ranges) != 1 {
				return nil, fmt.Errorf("--slide %q: bisect judges one slide or one range (N or N-M)", slide)
			}
			t.SlideFrom, t.SlideTo = ranges[0].From, ranges[0].To
		}
		return t, nil
	}
	return nil, fmt.Errorf("say which step to judge: --step FILE:LINE, or --chapter PATH (with --slide N)")
}

// bisectJudge replays what target needs at the current commit (git bisect
// runs it in the worktree) and exits Good, Bad or Skip.
func bisectJudge(ctx context.Context, st streams, f runFlags, targetJSON, deck string) error {
	var t bisectTarget
	if err := json.Unmarshal([]byte(targetJSON), &t); err != nil {
		return &exitError{regress.Skip, err}
	}
	f.chapter = t.Chapter
	if t.SlideTo > 0 {
		// Earlier slides of the chapter build the state the target needs.
		f.slide = fmt.Sprintf("1-%d", t.SlideTo)
	}
	res, err := replay(ctx, st, f, []string{deck}, nil)
	if err != nil || res == nil {
		fmt.Fprintf(st.err, "labrun bisect: cannot judge this commit: %v\n", err)
		return &exitError{code: regress.Skip}
	}
	verdict := regress.Skip
	for _, ch := range res.Chapters {
		for _, lab := range ch.Labs {
			if t.Step == nil && t.SlideFrom > 0 && lab.Slide < t.SlideFrom {
				continue
			}
			nth := map[report.StepKey]int{}
			for _, s := range lab.Steps {
				k := report.StepKey{Chapter: t.Chapter, Slide: lab.SlideTitle, Kind: s.Kind, Command: strings.Join(strings.Fields(s.Command), " ")}
				k.Nth = nth[k]
				nth[report.StepKey{Chapter: k.Chapter, Slide: k.Slide, Kind: k.Kind, Command: k.Command}]++
				if t.Step != nil && k != *t.Step {
					continue
				}
				switch {
				case s.Status.Bad():
					verdict = regress.Bad
				case s.Status == report.Passed && verdict == regress.Skip:
					verdict = regress.Good
				}
			}
		}
	}
	if verdict == regress.Good {
		return nil
	}
	return &exitError{code: verdict}
}

// exactArgs and minArgs say in words what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &exitError{exitUsage, fmt.Errorf("%s (got %d argument%s); see 'labrun %s --help'", what, len(args), pluralSuffix(len(args)), cmd.Name())}
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return &exitError{exitUsage, fmt.Errorf("%s; see 'labrun %s --help'", what, cmd.Name())}
		}
		return nil
	}
}

func pluralSuffix(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
