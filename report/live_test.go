package report

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// notifyBuffer is a writer the spinner goroutine and the test share: it
// signals every write, so the test waits for output instead of sleeping.
type notifyBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func newNotifyBuffer() *notifyBuffer { return &notifyBuffer{wrote: make(chan struct{}, 1)} }

func (n *notifyBuffer) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case n.wrote <- struct{}{}:
	default:
	}
	return n.b.Write(p)
}

func (n *notifyBuffer) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b.String()
}

// waitFor waits until the output holds want, or fails at the deadline.
func (n *notifyBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !strings.Contains(n.String(), want) {
		select {
		case <-n.wrote:
		case <-ctx.Done():
			t.Fatalf("no %q in the output after 10s:\n%q", want, n.String())
		}
	}
}

func liveConsole(w *notifyBuffer, opts ConsoleOptions) *Console {
	opts.Live = true
	c := NewConsole(w, opts)
	c.tick, c.delay = time.Millisecond, 0
	return c
}

var longStep = StepResult{File: "k8s/kubectl-run.md", Line: 42, Kind: "longwait", Command: "Running", Pane: 1}

func TestLiveLineDrawnThenErased(t *testing.T) {
	w := newNotifyBuffer()
	c := liveConsole(w, ConsoleOptions{})
	defer c.Close()
	c.StepStarted(longStep)
	w.waitFor(t, "k8s/kubectl-run.md:42  [pane 1] longwait Running  0.")
	if !strings.HasPrefix(w.String(), "\r\x1b[2K") {
		t.Errorf("the live line does not start by erasing the line: %q", w.String())
	}

	sp := c.spin
	done := longStep
	done.Status, done.Duration = Passed, 2*time.Second
	c.StepDone(LabResult{File: "k8s/kubectl-run.md", Line: 40, Slide: 5}, done)
	out := w.String()
	i := strings.LastIndex(out, "\r\x1b[2K")
	if j := strings.Index(out, "    slide 5"); i < 0 || j < i {
		t.Fatalf("the step's line is not written after the live line was erased: %q", out)
	}
	if strings.Contains(out[i:], "⠋") || strings.Contains(out[i:], "0.0s") {
		t.Errorf("a live line was drawn after StepDone: %q", out[i:])
	}
	if c.spin != nil {
		t.Errorf("the spinner is still set after StepDone")
	}
	select {
	case <-sp.done:
	default:
		t.Error("StepDone returned with the spinner goroutine still running")
	}
}

func TestLiveLineFitsTheWidth(t *testing.T) {
	w := newNotifyBuffer()
	c := liveConsole(w, ConsoleOptions{Width: 30})
	defer c.Close()
	st := longStep
	st.Kind, st.Command = "command", strings.Repeat("x", 200)
	c.StepStarted(st)
	w.waitFor(t, "…")
	c.StepDone(LabResult{}, StepResult{Status: Passed})
	for _, line := range strings.Split(w.String(), "\r\x1b[2K") {
		if line == "" || strings.Contains(line, "\n") {
			continue
		}
		if n := len([]rune(line)); n >= 30 {
			t.Errorf("live line of %d columns on a 30-column terminal: %q", n, line)
		}
	}
}

func TestLiveCloseStopsTheGoroutine(t *testing.T) {
	w := newNotifyBuffer()
	c := liveConsole(w, ConsoleOptions{Color: true})
	c.StepStarted(longStep)
	sp := c.spin
	w.waitFor(t, "longwait Running")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sp.done:
	default:
		t.Fatal("Close returned with the spinner goroutine still running")
	}
	if !strings.HasSuffix(w.String(), "\r\x1b[2K") {
		t.Errorf("Close left the live line on screen: %q", w.String())
	}
	// After Close, StepStarted starts nothing.
	c.StepStarted(longStep)
	if c.spin != nil {
		t.Error("StepStarted after Close started a spinner")
	}
	_ = c.Close() // twice is fine
}

func TestNoLiveLineOnAPipe(t *testing.T) {
	var b bytes.Buffer
	c := NewConsole(&b, ConsoleOptions{})
	c.tick, c.delay = time.Millisecond, 0
	c.StepStarted(longStep)
	if c.spin != nil {
		t.Fatal("a spinner started without Live")
	}
	c.StepDone(LabResult{}, StepResult{File: "a.md", Line: 1, Kind: "command", Command: "true", Status: Passed})
	_ = c.Close()
	if strings.ContainsAny(b.String(), "\r\x1b") {
		t.Errorf("control characters on a pipe: %q", b.String())
	}
}

// Fast steps never show the live line (the delay), yet the output is the
// same as without Live: the pipe goldens hold for a terminal too.
func TestLiveFastStepsLeaveNoTrace(t *testing.T) {
	r := sampleRun()
	var live bytes.Buffer
	c := NewConsole(&live, ConsoleOptions{Live: true})
	c.delay = time.Hour
	Replay(c, r)
	_ = c.Close()
	if want := render(r, ConsoleOptions{}); live.String() != want {
		t.Errorf("live console output differs from the plain one:\n%q\nwant\n%q", live.String(), want)
	}
}

// Many steps started and finished while the spinner redraws every
// millisecond, from several goroutines: the race detector checks the locking.
func TestLiveConcurrentUse(t *testing.T) {
	w := newNotifyBuffer()
	c := liveConsole(w, ConsoleOptions{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				st := StepResult{File: "x.md", Line: g*100 + i, Kind: "command", Command: "sleep 1", Status: Passed}
				c.StepStarted(st)
				c.StepDone(LabResult{File: "x.md", Line: g}, st)
			}
		}()
	}
	wg.Wait()
	_ = c.Close()
	if c.spin != nil {
		t.Error("a spinner outlived Close")
	}
}
