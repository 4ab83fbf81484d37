package executor

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/warm"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// WatchOptions configure Watch.
type WatchOptions struct {
	// Paths are the files to watch: the chapters and manifests loaded.
	Paths []string
	// Load reads the deck again after a save.
	Load func() (*parser.Deck, []parser.Diagnostic, error)
	// Run is the options of each replay. Its Sink is asked for anew by
	// NewSink before each one, and Prepare is set by Watch.
	Run     Options
	NewSink func() report.Sink
	// Round is told about each replay before it starts (from is "" for the
	// whole deck) and after it ends (res nil when it was cut short by a save).
	Started func(round int, from string, prepared int)
	Ended   func(round int, res *report.Run, err error)
	// Reset is told, after each replay on a warm cluster (see KeepsWarm),
	// what putting the cluster back undid, or why it could not (a fresh
	// cluster then replaces it).
	Reset func(round int, did string, err error)
	// Diagnostics receives the problems of a deck read after a save.
	Diagnostics func([]parser.Diagnostic)
	// Poll is how often the files are looked at (default 200 ms). Polling
	// sees saves by rename, as editors do them, on every file system.
	Poll time.Duration
}

// Watch replays the deck, then, each time a file is saved, replays it again
// from the first slide that changed, until ctx ends. Each replay gets fresh
// shells and a fresh sandbox; the state of the slides before the change is
// rebuilt by replaying their labs quickly and quietly first (as --prepare
// does), since the last replay went past them and a shell's state (its
// directory, variables, jobs, files) cannot be saved and put back. A save
// during a replay cuts it short and starts the next.
//
// A cluster labrun starts itself and that takes seconds to do so (see
// KeepsWarm) is started once and kept warm: every replay runs on it, and
// after each one warm.Baseline.Reset puts it back as it was when it had
// started, so the next replay sees what a fresh cluster would show. Other
// clusters are opened by each replay as run does.
func Watch(ctx context.Context, o WatchOptions) error {
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	deck, diags, err := o.Load()
	if err != nil {
		return err
	}
	if o.Diagnostics != nil && len(diags) > 0 {
		o.Diagnostics(diags)
	}
	var w *warmCluster
	if KeepsWarm(o.Run.Cluster) {
		if w, err = startWarm(ctx, o.Run); err != nil {
			return err
		}
		defer w.close(ctx)
	}
	stamp, _ := fingerprint(o.Paths)
	var prev *parser.Deck // the deck of the last replay
	for round := 1; ; round++ {
		selected, before, from := deck, (*parser.Deck)(nil), ""
		if prev != nil {
			ci, si, ok := firstChange(prev, deck)
			if !ok {
				selected = nil
			} else {
				selected, before = splitAt(deck, ci, si)
				sl := deck.Chapters[ci].Slides[si]
				from = fmt.Sprintf("%s slide %d (%s)", deck.Chapters[ci].File, sl.Number, sl.Title)
			}
		}
		prev = deck
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		if selected != nil && countLabs(selected) > 0 {
			opts := o.Run
			opts.Prepare = before
			if w != nil {
				opts.Warm = w.cl
			}
			if o.NewSink != nil {
				opts.Sink = o.NewSink()
			}
			if o.Started != nil {
				o.Started(round, from, countLabs(before))
			}
			go func() {
				defer close(done)
				res, err := Run(runCtx, selected, opts)
				if runCtx.Err() != nil && ctx.Err() == nil {
					res = nil // cut short by a save
				}
				if o.Ended != nil {
					o.Ended(round, res, err)
				}
				// Put the cluster back now, while the author reads and edits,
				// so that the next save finds it ready.
				if w != nil && ctx.Err() == nil {
					did, err := w.reset(ctx)
					if o.Reset != nil {
						o.Reset(round, did, err)
					}
				}
			}()
		} else {
			close(done)
			if o.Ended != nil {
				o.Ended(round, nil, errors.New("no lab changed: nothing to replay"))
			}
		}
		// Wait for a save (a changed fingerprint that holds for one more poll,
		// so a half-written file is not read) or the end.
		changed := false
		tick := time.NewTicker(o.Poll)
		for !changed {
			select {
			case <-ctx.Done():
				tick.Stop()
				cancel()
				<-done
				return nil
			case <-tick.C:
				now, complete := fingerprint(o.Paths)
				if now == stamp || !complete {
					continue
				}
				time.Sleep(o.Poll / 2)
				if again, _ := fingerprint(o.Paths); again != now {
					continue
				}
				stamp = now
				changed = true
			}
		}
		tick.Stop()
		cancel()
		<-done
		nd, diags, err := o.Load()
		if o.Diagnostics != nil && len(diags) > 0 {
			o.Diagnostics(diags)
		}
		if err != nil || nd == nil {
			if o.Ended != nil {
				o.Ended(round, nil, fmt.Errorf("reading the deck after the save: %w", err))
			}
			continue
		}
		deck = nd
	}
}

// fingerprint is a hash of the watched files' contents, and whether each
// file was there with something in it: a file missing (in the middle of a
// save by rename) or empty (truncated by a save in place that has not
// written yet, which on a loaded machine can last longer than a poll) is
// not a save to replay.
func fingerprint(paths []string) (sum [32]byte, complete bool) {
	h := sha256.New()
	complete = true
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			fmt.Fprintf(h, "missing %s\n", p)
			complete = false
			continue
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
	}
	copy(sum[:], h.Sum(nil))
	return sum, complete
}

// firstChange finds the first slide of b that differs from a's (its text,
// labs or place), or the first new one.
func firstChange(a, b *parser.Deck) (ci, si int, ok bool) {
	for ci = range b.Chapters {
		if ci >= len(a.Chapters) || a.Chapters[ci].File != b.Chapters[ci].File {
			return ci, 0, len(b.Chapters[ci].Slides) > 0
		}
		as, bs := a.Chapters[ci].Slides, b.Chapters[ci].Slides
		for si = range bs {
			if si >= len(as) || !sameSlide(as[si], bs[si]) {
				return ci, si, true
			}
		}
	}
	return 0, 0, false
}

func sameSlide(a, b parser.Slide) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// splitAt cuts deck before slide si of chapter ci.
func splitAt(deck *parser.Deck, ci, si int) (from, before *parser.Deck) {
	from = &parser.Deck{File: deck.File, Title: deck.Title}
	before = &parser.Deck{File: deck.File, Title: deck.Title}
	for i, ch := range deck.Chapters {
		switch {
		case i < ci:
			before.Chapters = append(before.Chapters, ch)
		case i > ci:
			from.Chapters = append(from.Chapters, ch)
		default:
			b, f := ch, ch
			b.Slides = ch.Slides[:si]
			f.Slides = ch.Slides[si:]
			if len(b.Slides) > 0 {
				before.Chapters = append(before.Chapters, b)
			}
			from.Chapters = append(from.Chapters, f)
		}
	}
	if len(before.Chapters) == 0 {
		before = nil
	}
	return from, before
}

func countLabs(d *parser.Deck) int {
	if d == nil {
		return 0
	}
	n := 0
	for _, ch := range d.Chapters {
		for _, sl := range ch.Slides {
			n += len(sl.Labs)
		}
	}
	return n
}

// KeepsWarm tells whether Watch keeps the cluster --cluster names warm: the
// built-in cluster and a kind cluster created for the watch, which labrun
// owns and which take seconds to start. An existing cluster (kind:NAME,
// kubeconfig) is not labrun's to reset: each replay opens those as run does.
func KeepsWarm(mode string) bool { return mode == "builtin" || mode == "kind" }

// warmCluster is the cluster Watch lends to every replay, with what it
// held once started.
type warmCluster struct {
	opts Options
	dir  string
	cl   cluster.Cluster
	base *warm.Baseline
}

// startWarm starts the cluster opts name in a directory of its own and
// records what it holds.
func startWarm(ctx context.Context, opts Options) (*warmCluster, error) {
	opts.defaults()
	kubectl, err := cluster.FindKubectl(opts.Kubectl)
	if err != nil {
		return nil, err
	}
	opts.Kubectl = kubectl
	dir, err := os.MkdirTemp("", "labrun-watch-")
	if err != nil {
		return nil, err
	}
	w := &warmCluster{opts: opts, dir: dir}
	if err := w.start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return w, nil
}

func (w *warmCluster) start(ctx context.Context) error {
	cl, err := startCluster(ctx, w.opts, w.dir)
	if err != nil {
		return err
	}
	base, err := warm.Record(ctx, cl.Kubeconfig())
	if err != nil {
		w.stop(ctx, cl)
		return err
	}
	w.cl, w.base = cl, base
	return nil
}

// reset puts the cluster back as it started; when it cannot, a fresh
// cluster replaces it, and the error says why.
func (w *warmCluster) reset(ctx context.Context) (string, error) {
	if w.cl == nil { // the last fresh start failed: try again
		return "", w.start(ctx)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	did, err := w.base.Reset(rctx)
	if err == nil || ctx.Err() != nil {
		return did, err
	}
	w.stop(ctx, w.cl)
	w.cl = nil
	if serr := w.start(ctx); serr != nil {
		return did, fmt.Errorf("%w; and starting a fresh cluster instead: %w", err, serr)
	}
	return did, fmt.Errorf("%w; a fresh cluster replaces it", err)
}

func (w *warmCluster) stop(ctx context.Context, cl cluster.Cluster) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := cl.Close(cctx); err != nil {
		fmt.Fprintf(w.opts.Log, "labrun: stopping the cluster: %v\n", err)
	}
}

// close stops the cluster and removes its directory.
func (w *warmCluster) close(ctx context.Context) {
	if w.cl != nil {
		w.stop(ctx, w.cl)
	}
	if err := os.RemoveAll(w.dir); err != nil {
		fmt.Fprintf(w.opts.Log, "labrun: removing the cluster's directory: %v\n", err)
	}
}

// borrowed is a warm cluster as one replay sees it: with a kubeconfig of
// the replay's own (a lab's `kubectl config set-context` ends with the
// replay) and a Close that leaves the cluster running.
type borrowed struct {
	cluster.Cluster
	kubeconfig string
}

func borrow(cl cluster.Cluster, dir string) (cluster.Cluster, error) {
	b, err := os.ReadFile(cl.Kubeconfig())
	if err != nil {
		return nil, fmt.Errorf("the warm cluster's kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return borrowed{cl, path}, nil
}

func (b borrowed) Kubeconfig() string        { return b.kubeconfig }
func (borrowed) Close(context.Context) error { return nil }
