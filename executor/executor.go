// Package executor replays the steps of a parsed deck in tmux-like panes
// against a cluster, checks what the slides promise, and produces results.
package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/builtin"
	"github.com/labrun/labrun/cluster/fake"
	"github.com/labrun/labrun/cluster/kind"
	"github.com/labrun/labrun/cluster/kubeconfig"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
	"github.com/labrun/labrun/tmux"
)

// Options configure a run. The zero value is usable: fake cluster, host or
// bundled kubectl, 60 s per step.
type Options struct {
	// Cluster is "fake" (default), "kind" (a cluster created for the run),
	// "kind:NAME" (an existing kind cluster, left in place), "kubeconfig"
	// or "kubeconfig:CONTEXT" (an existing cluster, in a namespace of the run's).
	Cluster string
	// KeepCluster keeps a kind cluster the run created.
	KeepCluster bool
	// Namespace names the namespace a kubeconfig run uses (and keeps).
	Namespace string
	// Kubectl is the kubectl to use; "" finds one (see cluster.Tools.Kubectl).
	Kubectl string
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
	// Seed makes the fake cluster's generated names reproducible (0: random).
	Seed int64
	// Nodes is the fake cluster's node count (default 3).
	Nodes int
	// Sink receives results as they come; nil discards them.
	Sink report.Sink
	// Log receives diagnostics about labrun itself (nil: discarded).
	Log io.Writer
	// ClusterLog receives the fake cluster's request log (nil: discarded).
	ClusterLog io.Writer
}

func (o *Options) defaults() {
	if o.Cluster == "" {
		o.Cluster = "fake"
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
	res = &report.Run{Deck: deck.File, Cluster: opts.Cluster, Started: start, Status: report.Passed}

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

	cl, err := startCluster(ctx, opts, sb)
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

	r := &runner{opts: opts, sb: sb, cluster: cl, env: sb.env(cl.Kubeconfig())}
	mux, err := tmux.New(ctx, tmux.Options{
		Shell: opts.Shell, Env: r.env, Dir: sb.home, StateDir: sb.state,
		Cols: opts.Cols, Rows: opts.Rows, TypeDelay: opts.TypeDelay,
	})
	if err != nil {
		return nil, &SetupError{fmt.Errorf("starting the lab shell: %w", err)}
	}
	r.mux = mux
	defer mux.Close()

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
		res.Status = report.Failed
		res.Notes = append(res.Notes, "interrupted: "+context.Cause(ctx).Error())
	}
	res.Notes = append(res.Notes, r.notes...)
	if opts.KeepSandbox {
		res.Notes = append(res.Notes, "sandbox kept in "+sb.root+" (HOME is its home/, the cluster's files its cluster/)")
	}
	res.Duration = time.Since(start)
	opts.Sink.RunDone(res)
	return res, nil
}

func startCluster(ctx context.Context, opts Options, sb *sandbox) (cluster.Cluster, error) {
	mode, name, _ := strings.Cut(opts.Cluster, ":")
	switch mode {
	case "fake":
		s, err := fake.Start(ctx, fake.Options{Dir: sb.kube, Seed: opts.Seed, Nodes: opts.Nodes, Log: opts.ClusterLog})
		if err != nil {
			return nil, fmt.Errorf("starting the fake cluster: %w", err)
		}
		return s, nil
	case "builtin":
		c, err := builtin.Start(ctx, builtin.Options{Dir: sb.kube, Nodes: opts.Nodes, Log: opts.ClusterLog})
		if err != nil {
			return nil, fmt.Errorf("starting the built-in cluster: %w", err)
		}
		return c, nil
	case "kind":
		c, err := kind.Create(ctx, kind.Options{Dir: sb.kube, Name: name, Keep: opts.KeepCluster,
			Kubectl: opts.Kubectl, Log: opts.Log})
		if err != nil {
			return nil, fmt.Errorf("kind cluster: %w", err)
		}
		return c, nil
	case "kubeconfig":
		c, err := kubeconfig.Open(ctx, kubeconfig.Options{Dir: sb.kube, Context: name,
			Namespace: opts.Namespace, Kubectl: opts.Kubectl, Log: opts.Log})
		if err != nil {
			return nil, fmt.Errorf("kubeconfig cluster: %w", err)
		}
		return c, nil
	default:
		return nil, fmt.Errorf("unknown cluster %q (want fake, builtin, kind, kind:NAME, kubeconfig or kubeconfig:CONTEXT)", opts.Cluster)
	}
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
	cl, err := startCluster(ctx, opts, sb)
	if err != nil {
		return "", err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		cl.Close(cctx)
	}()
	out, err := cluster.Command{Name: kubectl, Args: []string{"version", "-o", "json"},
		Env: sb.env(cl.Kubeconfig())}.Output(ctx)
	if err != nil {
		return "", err
	}
	var v struct {
		Server struct {
			GitVersion string `json:"gitVersion"`
		} `json:"serverVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Server.GitVersion == "" {
		return "", fmt.Errorf("kubectl version: no server version in %q", firstLine(string(out)))
	}
	return v.Server.GitVersion, nil
}

// runner holds the state of one run.
type runner struct {
	opts    Options
	sb      *sandbox
	cluster cluster.Cluster
	env     []string
	mux     *tmux.Mux
	stop    bool // --fail-fast tripped
	notes   []string
}

func (r *runner) chapter(ctx context.Context, ch parser.Chapter) report.ChapterResult {
	start := time.Now()
	cr := report.ChapterResult{File: ch.File, Title: ch.Title, Status: report.Passed}
	r.opts.Sink.ChapterStarted(cr)
	labs := 0
	for _, sl := range ch.Slides {
		for _, lab := range sl.Labs {
			labs++
			lr := r.lab(ctx, sl, lab)
			cr.Labs = append(cr.Labs, lr)
			if lr.Status == report.Failed || lr.Status == report.Error {
				cr.Status = report.Failed
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
	r.opts.Sink.ChapterDone(cr)
	return cr
}

func (r *runner) lab(ctx context.Context, sl parser.Slide, lab parser.Lab) report.LabResult {
	start := time.Now()
	lr := report.LabResult{File: lab.Pos.File, Line: lab.Pos.Line, Slide: sl.Number, SlideTitle: sl.Title, Status: report.Passed}
	st := &labState{r: r, lab: lab, last: lastCommand(lab.Steps)}
	for i, step := range lab.Steps {
		if ctx.Err() != nil {
			break
		}
		sr := st.step(ctx, i, step)
		lr.Steps = append(lr.Steps, sr)
		r.opts.Sink.StepDone(lr, sr)
		if sr.Status == report.Failed || sr.Status == report.Error {
			lr.Status = report.Failed
			if r.opts.FailFast {
				r.stop = true
				break
			}
		}
	}
	if len(lr.Steps) == 0 {
		lr.Status = report.Skipped
	}
	lr.Duration = time.Since(start)
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
