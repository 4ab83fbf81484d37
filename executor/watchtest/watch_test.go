// Package watchtest holds the tests of executor.Watch on the built-in
// cluster. They are a test binary of their own because Watch starts the
// built-in cluster it keeps warm, and a network namespace holds one: the
// executor's tests already run theirs in the test binary's namespace.
package watchtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

func TestMain(m *testing.M) { builtintest.Main(m) }

// watching runs Watch on a copy of a fixture chapter against the built-in
// cluster and hears what it does.
type watching struct {
	path string
	src  string
	mu   sync.Mutex
	ends []watchEnd
	// resets are Reset's reports, in order.
	resets []watchReset
	// started are the times the first step of each replay started.
	started map[int]time.Time
	// steps are the commands started, in order.
	steps []string
	round int
	stop  func()
	done  chan error
}

type watchEnd struct {
	res *report.Run
	err error
	at  time.Time
}

type watchReset struct {
	did string
	err error
	at  time.Time
}

// nopSink hears nothing; firstStep adds what it listens for.
type nopSink struct{}

func (nopSink) ChapterStarted(report.ChapterResult)          {}
func (nopSink) StepDone(report.LabResult, report.StepResult) {}
func (nopSink) LabDone(report.LabResult)                     {}
func (nopSink) ChapterDone(report.ChapterResult)             {}
func (nopSink) RunDone(*report.Run)                          {}

// firstStep is a sink that notes when a replay's first step starts.
type firstStep struct {
	nopSink
	w     *watching
	round int
}

func (s firstStep) StepStarted(r report.StepResult) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.steps = append(s.w.steps, r.Command)
	if _, ok := s.w.started[s.round]; !ok {
		s.w.started[s.round] = time.Now()
	}
}

// startWatching needs kubectl and labrun-k8s (skipping, or failing under
// CI, without them), and puts labrun-k8s on PATH, where labrun finds it.
func startWatching(tb testing.TB, fixture string) *watching {
	tb.Helper()
	src, err := os.ReadFile(fixture)
	if err != nil {
		tb.Fatal(err)
	}
	return startWatchingText(tb, filepath.Base(fixture), string(src))
}

func startWatchingText(tb testing.TB, name, src string) *watching {
	tb.Helper()
	if _, err := cluster.FindKubectl(""); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("kubectl is needed (CI is set): %v", err)
		}
		tb.Skipf("needs kubectl: %v", err)
	}
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(tb, err.Error())
	}
	tb.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	w := &watching{path: filepath.Join(tb.TempDir(), name), src: src,
		started: map[int]time.Time{}, done: make(chan error, 1)}
	if err := os.WriteFile(w.path, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	w.stop = cancel
	go func() {
		w.done <- executor.Watch(ctx, executor.WatchOptions{
			Paths: []string{w.path},
			Load: func() (*parser.Deck, []parser.Diagnostic, error) {
				d, diags := parser.Load(w.path, os.ReadFile)
				return d, diags, nil
			},
			Run: executor.Options{Cluster: "builtin", Timeout: 2 * time.Minute, Log: testLog{tb}},
			NewSink: func() report.Sink {
				w.mu.Lock()
				defer w.mu.Unlock()
				w.round++
				return firstStep{w: w, round: w.round}
			},
			Ended: func(_ int, res *report.Run, err error) {
				w.mu.Lock()
				defer w.mu.Unlock()
				w.ends = append(w.ends, watchEnd{res, err, time.Now()})
			},
			Reset: func(_ int, did string, err error) {
				w.mu.Lock()
				defer w.mu.Unlock()
				w.resets = append(w.resets, watchReset{did, err, time.Now()})
			},
			Poll: 100 * time.Millisecond,
		})
	}()
	tb.Cleanup(func() {
		w.stop()
		select {
		case err := <-w.done:
			if err != nil {
				tb.Errorf("watch: %v", err)
			}
		case <-time.After(2 * time.Minute):
			tb.Error("watch did not stop")
		}
	})
	return w
}

// await waits until cond holds (under the lock), for up to 5 minutes.
func (w *watching) await(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		w.mu.Lock()
		ok := cond()
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case err := <-w.done:
			tb.Fatalf("watch ended while waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// save writes the chapter with old replaced by new, as an editor saving in
// place, and returns when it did.
func (w *watching) save(tb testing.TB, old, new string) time.Time {
	tb.Helper()
	if !strings.Contains(w.src, old) {
		tb.Fatalf("the chapter has no %q", old)
	}
	w.src = strings.Replace(w.src, old, new, 1)
	at := time.Now()
	if err := os.WriteFile(w.path, []byte(w.src), 0o644); err != nil {
		tb.Fatal(err)
	}
	return at
}

type testLog struct{ tb testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.tb.Logf("log: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// The watch's cluster is started once and kept warm: the first replay
// makes a namespace, a ClusterRole and a node label (each of which fails
// when it is there already), the cluster is put back after it, and the
// second replay, after a save on the first lab's slide, passes again.
func TestWatchKeepsTheClusterWarm(t *testing.T) {
	w := startWatching(t, "../../fixtures/authors/shop.md")
	w.await(t, "the first replay", func() bool { return len(w.ends) == 1 })
	first := w.ends[0]
	if first.err != nil || first.res.Status != report.Passed {
		t.Fatalf("first replay: %v\n%s", first.err, summary(first.res))
	}
	w.await(t, "the reset after it", func() bool { return len(w.resets) == 1 })
	r := w.resets[0]
	if r.err != nil {
		t.Fatalf("reset: %v", r.err)
	}
	for _, want := range []string{"namespaces shop", "clusterroles.rbac.authorization.k8s.io shop-reader", "put back 1 (nodes node2)"} {
		if !strings.Contains(r.did, want) {
			t.Errorf("the reset did not undo %q: %s", want, r.did)
		}
	}
	t.Logf("cluster put back %s after the first replay: %s", r.at.Sub(first.at).Round(time.Millisecond), r.did)

	saved := w.save(t, "--verb=get,list ", "--verb=get,list,watch ")
	w.await(t, "the second replay", func() bool { return len(w.ends) == 2 })
	second := w.ends[1]
	if second.err != nil || second.res.Status != report.Passed {
		t.Fatalf("second replay (the cluster was not put back?): %v\n%s", second.err, summary(second.res))
	}
	if cmd := second.res.Chapters[0].Labs[0].Steps[1].Command; !strings.Contains(cmd, "get,list,watch") {
		t.Errorf("the second replay ran %q, not the saved command", cmd)
	}
	if n := stepsRun(second.res); n != 5 {
		t.Errorf("the second replay ran %d steps, want the whole chapter's 5 from the first slide that changed", n)
	}
	w.mu.Lock()
	t.Logf("feedback after the save: first step started %s after it", w.started[2].Sub(saved).Round(time.Millisecond))
	w.mu.Unlock()
}

// A save during a replay cuts it short; the cluster is put back before
// the next replay, whose quick replay of the earlier lab makes its
// namespace again without a failure.
func TestWatchSaveCutsReplayShort(t *testing.T) {
	chapter := strings.ReplaceAll(`# Slow

---

## A namespace

.lab[

'''bash
kubectl create namespace slow
'''

]

---

## A long wait

.lab[

'''bash
sleep 120
'''

]
`, "'''", "```")
	w := startWatchingText(t, "slow.md", chapter)
	w.await(t, "the long step", func() bool { return len(w.steps) == 2 })
	saved := w.save(t, "sleep 120", "sleep 1")
	w.await(t, "the second replay", func() bool { return len(w.ends) == 2 })
	if first := w.ends[0]; first.res != nil {
		t.Errorf("the first replay was not cut short: %v\n%s", first.err, summary(first.res))
	}
	if len(w.resets) < 1 || w.resets[0].err != nil || !strings.Contains(w.resets[0].did, "namespaces slow") {
		t.Fatalf("the first replay's namespace was not deleted: %+v", w.resets)
	}
	second := w.ends[1]
	if second.err != nil || second.res.Status != report.Passed {
		t.Fatalf("second replay: %v\n%s", second.err, summary(second.res))
	}
	if notes := strings.Join(second.res.Notes, "\n"); !strings.Contains(notes, "prepared: replayed the 1 labs") || strings.Contains(notes, "failed") {
		t.Errorf("the quick replay of the first lab: %s", notes)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("feedback after a save that cut a replay short: %s to the first step after the quick replay (the reset took %s of it)",
		w.started[2].Sub(saved).Round(time.Millisecond), w.resets[0].at.Sub(w.ends[0].at).Round(time.Millisecond))
}

// BenchmarkWatchFeedback measures a save's feedback on the warm built-in
// cluster: the time from the save to the first step of the replay started
// (the deck's own steps excluded), once the previous replay's cluster was
// put back, as it is by the time an author has read its results. It also
// reports how long putting the cluster back took (reset-ms).
func BenchmarkWatchFeedback(b *testing.B) {
	w := startWatching(b, "../../fixtures/authors/shop.md")
	w.await(b, "the first replay", func() bool { return len(w.ends) == 1 })
	var feedback, reset time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w.await(b, "the reset", func() bool { return len(w.resets) == i+1 })
		w.mu.Lock()
		if err := w.resets[i].err; err != nil {
			w.mu.Unlock()
			b.Fatal(err)
		}
		reset += w.resets[i].at.Sub(w.ends[i].at)
		w.mu.Unlock()
		b.StartTimer()
		old, new := "--verb=get,list ", "--verb=get,list,watch "
		if i%2 == 1 {
			old, new = new, old
		}
		saved := w.save(b, old, new)
		w.await(b, "the first step", func() bool { _, ok := w.started[i+2]; return ok })
		b.StopTimer()
		w.mu.Lock()
		feedback += w.started[i+2].Sub(saved)
		w.mu.Unlock()
		w.await(b, "the replay's end", func() bool { return len(w.ends) == i+2 })
		if res := w.ends[i+1]; res.err != nil || res.res.Status != report.Passed {
			b.Fatalf("replay %d: %v\n%s", i+2, res.err, summary(res.res))
		}
	}
	b.ReportMetric(float64(feedback.Milliseconds())/float64(b.N), "feedback-ms")
	b.ReportMetric(float64(reset.Milliseconds())/float64(b.N), "reset-ms")
}

func stepsRun(r *report.Run) int {
	n := 0
	for _, ch := range r.Chapters {
		for _, l := range ch.Labs {
			n += len(l.Steps)
		}
	}
	return n
}

func summary(r *report.Run) string {
	if r == nil {
		return "(no result)"
	}
	var b strings.Builder
	for _, ch := range r.Chapters {
		for _, l := range ch.Labs {
			for _, s := range l.Steps {
				b.WriteString(string(s.Status) + " " + s.Command + ": " + s.Reason + "\n" + s.Actual + "\n")
			}
		}
	}
	return b.String()
}
