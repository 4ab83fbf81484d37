// Package executor replays the steps of a parsed deck in tmux-like panes
// against a cluster, checks what the slides promise, and produces results.
package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/open"
	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/internal/proc"
	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
	"github.com/labrun/labrun/tmux"
)

// Options configure a run. The zero value is usable: the built-in cluster,
// host or bundled kubectl, 60 s per step.
type Options struct {
	// Cluster is "builtin" (default: the real control plane with labrun's
	// simulated nodes), "kind" (a cluster created for the run), "kind:NAME"
	// (an existing kind cluster, left in place), "kubeconfig" or
	// "kubeconfig:CONTEXT" (an existing cluster, in a namespace of the
	// run's); see open.Spec.
	Cluster string
	// KeepCluster keeps a kind cluster the run created.
	KeepCluster bool
	// ControlPlane is a directory of kube-apiserver, kube-controller-manager,
	// kube-scheduler and etcd binaries for the built-in cluster, instead of
	// labrun-k8s.
	ControlPlane string
	// Namespace names the namespace a kubeconfig run uses (and keeps).
	Namespace string
	// Kubeconfig is the file a kubeconfig run reads its context from; ""
	// means $KUBECONFIG or ~/.kube/config, as kubectl chooses.
	Kubeconfig string
	// Kubectl is the kubectl to use; "" finds one (see cluster.Tools.Kubectl).
	Kubectl string
	// Warm is a cluster already running that the run uses instead of
	// starting one, and leaves running (labrun watch keeps one for all its
	// replays; see watch.go). Cluster still names its mode in the report.
	Warm cluster.Cluster
	// Shell is the bash to run in panes; "" looks it up on PATH.
	Shell string
	// Timeout bounds each step; longwait gets ten times as much.
	Timeout time.Duration
	// FailFast stops the run at the first failed step.
	FailFast bool
	// KeepSandbox keeps the temporary HOME and cluster files for a post-mortem.
	KeepSandbox bool
	// TypeDelay slows typing down to look like a person in demos.
	TypeDelay time.Duration
	// Cols and Rows size the terminal; default 120×40.
	Cols, Rows int
	// Nodes is the built-in cluster's node count (default 3).
	Nodes int
	// Sink receives results as they come; nil discards them.
	Sink report.Sink
	// Log receives diagnostics about labrun itself (nil: discarded).
	Log io.Writer
	// Strict fails the run when a step was skipped, left to the person or
	// not verified: for CI machines that should have every tool.
	Strict bool
	// Repo is the checkout a clone of the deck's repository gets; "" means
	// the one holding the deck (see repo.go).
	Repo string
	// Hints explains failed steps from the run's history (nil: no hints).
	Hints *content.Hinter

	// Author features (authors.go). Record is a directory for asciicasts,
	// one per chapter and pane. Screens keeps each slide's markdown and the
	// window after each step in the results, for the HTML report. Stepper,
	// if set, is asked before each step. Prepare is replayed quietly first.
	Record  string
	Screens bool
	Stepper Stepper
	Prepare *parser.Deck
}

func (o *Options) defaults() {
	if o.Cluster == "" {
		o.Cluster = "builtin"
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Cols <= 0 {
		o.Cols = 120
	}
	if o.Rows <= 0 {
		o.Rows = 40
	}
	if o.Sink == nil {
		o.Sink = nopSink{}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// SetupError means the run could not start (no kubectl, no shell, no
// cluster): a usage or environment problem, not a lab failure.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// Run replays every lab of deck. It returns an error only when the run could
// not take place at all (a *SetupError); lab failures are in the result.
func Run(ctx context.Context, deck *parser.Deck, opts Options) (res *report.Run, err error) {
	opts.defaults()
	start := time.Now()
	res = &report.Run{Deck: []string{deck.File}, Cluster: opts.Cluster, Timeout: opts.Timeout,
		Started: start, Status: report.Passed}

	kubectl, err := cluster.FindKubectl(opts.Kubectl)
	if err != nil {
		return nil, &SetupError{err}
	}
	res.Kubectl = kubectl
	opts.Kubectl = kubectl

	sb, err := newSandbox()
	if err != nil {
		return nil, &SetupError{err}
	}
	defer func() {
		if opts.KeepSandbox {
			return
		}
		if rerr := sb.remove(); rerr != nil {
			fmt.Fprintf(opts.Log, "labrun: removing the sandbox: %v\n", rerr)
		}
	}()
	if err := sb.link("kubectl", kubectl); err != nil {
		return nil, &SetupError{err}
	}
	if note, err := serveRepo(ctx, sb, deck, opts.Repo); err != nil {
		return nil, &SetupError{err}
	} else if note != "" {
		res.Notes = append(res.Notes, note)
	}

	var cl cluster.Cluster
	if opts.Warm != nil {
		cl, err = borrow(opts.Warm, sb.kube)
	} else {
		cl, err = startCluster(ctx, opts, sb.kube)
	}
	if err != nil {
		return nil, &SetupError{err}
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := cl.Close(cctx); cerr != nil {
			fmt.Fprintf(opts.Log, "labrun: stopping the cluster: %v\n", cerr)
		}
	}()

	au, err := newAuthors(opts)
	if err != nil {
		return nil, &SetupError{err}
	}
	defer au.close() // when the shells do not start
	r := &runner{opts: opts, sb: sb, cluster: cl, env: withCluster(sb.env(cl.Kubeconfig()), cl), au: au}
	if n, ok := cl.(interface{ Note() string }); ok && n.Note() != "" {
		res.Notes = append(res.Notes, n.Note())
	}
	// A reader reproducing the run needs both versions; not knowing them
	// does not stop the run.
	res.KubectlVersion, res.ServerVersion, _ = versions(ctx, kubectl, r.env)
	mux, err := tmux.New(ctx, tmux.Options{
		Shell: opts.Shell, Env: r.env, Dir: sb.home, StateDir: sb.state,
		Cols: opts.Cols, Rows: opts.Rows, TypeDelay: opts.TypeDelay, Tap: au.tap(),
	})
	if err != nil {
		return nil, &SetupError{fmt.Errorf("starting the lab shell: %w", err)}
	}
	r.mux = mux
	defer mux.Close()
	// The casts end with the last step, before the shells are ended.
	defer func() {
		if cerr := au.close(); cerr != nil {
			res.Notes = append(res.Notes, cerr.Error())
		}
	}()
	if r.gate, err = newGate(ctx, deck, r.env); err != nil {
		return nil, &SetupError{err}
	}

	au.prepare(ctx, r)
	for _, ch := range deck.Chapters {
		cr := r.chapter(ctx, ch)
		res.Chapters = append(res.Chapters, cr)
		if cr.Status == report.Failed || cr.Status == report.Error {
			res.Status = report.Failed
		}
		if r.stop || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		res.Status = report.Interrupted
		res.Chapters = notRun(deck, res.Chapters)
	}
	res.Notes = append(res.Notes, r.notes...)
	res.Notes = append(res.Notes, r.gate.notes()...)
	if opts.Strict {
		strict(res)
	}
	if opts.KeepSandbox {
		res.Notes = append(res.Notes, "sandbox kept in "+sb.root+" (HOME is its home/, the cluster's files its cluster/)")
	}
	res.Duration = time.Since(start)
	opts.Sink.RunDone(res)
	return res, nil
}

func startCluster(ctx context.Context, opts Options, dir string) (cluster.Cluster, error) {
	return open.Cluster(ctx, open.Spec{Mode: opts.Cluster, Dir: dir, Kubectl: opts.Kubectl,
		Nodes: opts.Nodes, Keep: opts.KeepCluster, Namespace: opts.Namespace, Kubeconfig: opts.Kubeconfig,
		ControlPlaneDir: opts.ControlPlane, Log: opts.Log})
}

// ServerVersion starts the cluster opts names (in a sandbox of its own),
// asks it for its version with kubectl, and stops it again.
func ServerVersion(ctx context.Context, opts Options) (string, error) {
	opts.defaults()
	kubectl, err := cluster.FindKubectl(opts.Kubectl)
	if err != nil {
		return "", err
	}
	opts.Kubectl = kubectl
	sb, err := newSandbox()
	if err != nil {
		return "", err
	}
	defer sb.remove()
	cl, err := startCluster(ctx, opts, sb.kube)
	if err != nil {
		return "", err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		cl.Close(cctx)
	}()
	_, server, err := versions(ctx, kubectl, sb.env(cl.Kubeconfig()))
	if err != nil {
		return "", err
	}
	if server == "" {
		return "", errors.New("kubectl version: no server version")
	}
	return server, nil
}

// versions asks kubectl for its own version and the server's.
func versions(ctx context.Context, kubectl string, env []string) (client, server string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := proc.Command{Name: kubectl, Args: []string{"version", "-o", "json"}, Env: env}.Output(ctx)
	if err != nil {
		return "", "", err
	}
	var v struct {
		Client struct {
			GitVersion string `json:"gitVersion"`
		} `json:"clientVersion"`
		Server struct {
			GitVersion string `json:"gitVersion"`
		} `json:"serverVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return "", "", fmt.Errorf("kubectl version: %w in %q", err, text.FirstLine(string(out)))
	}
	return v.Client.GitVersion, v.Server.GitVersion, nil
}

// notRun adds to the chapters a run did the labs it never reached, as
// interrupted labs without steps, so a summary counts them.
func notRun(deck *parser.Deck, done []report.ChapterResult) []report.ChapterResult {
	reached := map[string]bool{}
	for _, ch := range done {
		for _, l := range ch.Labs {
			reached[fmt.Sprintf("%s:%d", l.File, l.Line)] = true
		}
	}
	for i, ch := range deck.Chapters {
		if i >= len(done) {
			done = append(done, report.ChapterResult{File: ch.File, Title: ch.Title, Status: report.Interrupted})
		}
		for _, sl := range ch.Slides {
			for _, lab := range sl.Labs {
				if !reached[fmt.Sprintf("%s:%d", lab.Pos.File, lab.Pos.Line)] {
					done[i].Labs = append(done[i].Labs, report.LabResult{File: lab.Pos.File, Line: lab.Pos.Line,
						Slide: sl.Number, SlideTitle: sl.Title, Status: report.Interrupted})
				}
			}
		}
	}
	return done
}

// runner holds the state of one run.
type runner struct {
	opts    Options
	sb      *sandbox
	cluster cluster.Cluster
	env     []string
	gate    *gate // what cannot run here (tools.go)
	mux     *tmux.Mux
	stop    bool // --fail-fast tripped
	notes   []string
	// lost names the last event of the chapter that lost state (a shell
	// replaced, a program that did not start), and unset the variables
	// failed steps should have set: later failures name them as causes.
	lost  string
	unset map[string]string
	// created is the resource the chapter created most recently: the
	// slides talk about it, and placeholders pick its rows (steps.go).
	created string
	au      *authors
}

func (r *runner) chapter(ctx context.Context, ch parser.Chapter) report.ChapterResult {
	start := time.Now()
	cr := report.ChapterResult{File: ch.File, Title: ch.Title, Status: report.Passed}
	r.opts.Sink.ChapterStarted(cr)
	r.lost, r.unset, r.created = "", map[string]string{}, ""
	if err := r.au.chapter(r.mux, ch); err != nil {
		r.notes = append(r.notes, err.Error())
	}
	labs := 0
	for _, sl := range ch.Slides {
		for _, lab := range sl.Labs {
			labs++
			lr := r.lab(ctx, sl, lab)
			cr.Labs = append(cr.Labs, lr)
			if lr.Status == report.Failed || lr.Status == report.Error {
				cr.Status = report.Failed
			}
			if ctx.Err() != nil {
				cr.Status = report.Interrupted
			}
			if r.stop || ctx.Err() != nil {
				cr.Duration = time.Since(start)
				r.opts.Sink.ChapterDone(cr)
				return cr
			}
		}
	}
	if labs == 0 {
		cr.Status = report.Skipped
	}
	cr.Duration = time.Since(start)
	cr.Status = rollUpLabs(cr.Status, cr.Labs)
	r.opts.Sink.ChapterDone(cr)
	return cr
}

func (r *runner) lab(ctx context.Context, sl parser.Slide, lab parser.Lab) report.LabResult {
	start := time.Now()
	lr := report.LabResult{File: lab.Pos.File, Line: lab.Pos.Line, Slide: sl.Number, SlideTitle: sl.Title, Status: report.Passed}
	r.au.slide(&lr, sl)
	st := &labState{r: r, lab: lab, last: lastCommand(lab.Steps)}
	// A step that opened terminals is reported when they close, at the end
	// of the lab: what they show counts for it.
	held := map[int]bool{}
	for i, step := range lab.Steps {
		if sr, skip := r.gate.hold(step, st.typedIntoProgram(step)); skip && ctx.Err() == nil {
			// Skipped or not verified: this machine cannot run it.
			lr.Steps = append(lr.Steps, sr)
			r.opts.Sink.StepDone(lr, sr)
			continue
		}
		if ctx.Err() != nil {
			break
		}
		n := len(st.terms)
		sr := r.au.step(ctx, st, &lr, sl, i)
		r.opts.Hints.Explain(&sr)
		lr.Steps = append(lr.Steps, sr)
		if len(st.terms) > n && sr.Status == report.Passed {
			held[i] = true
		} else {
			r.opts.Sink.StepDone(lr, sr)
		}
		if sr.Status == report.Interrupted {
			lr.Status = report.Interrupted
		}
		if sr.Status == report.Failed || sr.Status == report.Error {
			lr.Status = report.Failed
			if r.opts.FailFast {
				r.stop = true
				break
			}
		}
		if r.stop {
			break
		}
	}
	st.endLab(ctx, lr.Steps)
	for i := range lr.Steps {
		if !held[i] {
			continue
		}
		r.opts.Hints.Explain(&lr.Steps[i])
		if s := lr.Steps[i].Status; s == report.Failed || s == report.Error {
			lr.Status = report.Failed
		}
		r.opts.Sink.StepDone(lr, lr.Steps[i])
	}
	if len(lr.Steps) == 0 {
		lr.Status = report.Skipped
	}
	lr.Duration = time.Since(start)
	lr.Status = rollUp(lr.Status, lr.Steps)
	r.opts.Sink.LabDone(lr)
	return lr
}

// lastCommand is the index of the lab's last command step, the one its
// expected output belongs to (-1 when the lab types nothing).
func lastCommand(steps []parser.Step) int {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Kind == parser.KindCommand {
			return i
		}
	}
	return -1
}

type nopSink struct{}

func (nopSink) ChapterStarted(report.ChapterResult)          {}
func (nopSink) StepDone(report.LabResult, report.StepResult) {}
func (nopSink) LabDone(report.LabResult)                     {}
func (nopSink) ChapterDone(report.ChapterResult)             {}
func (nopSink) RunDone(*report.Run)                          {}

// withCluster adds to a lab shell's environment what the cluster asks for
// (the built-in cluster's network fallback: applets ahead of the host's on
// PATH, after the sandbox's own bin, and the address map they read).
func withCluster(env []string, cl cluster.Cluster) []string {
	le, ok := cl.(interface{ LabEnv() (path, env []string) })
	if !ok {
		return env
	}
	path, extra := le.LabEnv()
	if len(path) > 0 {
		for i, e := range env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				dirs := filepath.SplitList(v)
				if len(dirs) > 0 {
					dirs = append(dirs[:1:1], append(path, dirs[1:]...)...)
				}
				env[i] = "PATH=" + strings.Join(dirs, string(os.PathListSeparator))
			}
		}
	}
	return append(env, extra...)
}
