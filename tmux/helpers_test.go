package tmux

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// testCtx is bounded by the test's own deadline (minus a margin for
// cleanup) and by a minute, so one stuck test does not starve the others.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	d := time.Now().Add(time.Minute)
	if tt, ok := t.(*testing.T); ok {
		if dl, ok := tt.Deadline(); ok && dl.Add(-5*time.Second).Before(d) {
			d = dl.Add(-5 * time.Second)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func testEnv(t testing.TB, home string) []string {
	return []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"TERM=xterm-256color",
		"LANG=C.UTF-8",
	}
}

// newMux starts a mux in temporary directories and closes it at the end,
// checking that no process of any pane's session survives.
func newMux(t testing.TB, opts Options) *Mux {
	t.Helper()
	home := t.TempDir()
	if opts.Dir == "" {
		opts.Dir = home
	}
	if opts.Env == nil {
		opts.Env = testEnv(t, home)
	}
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	m, err := New(testCtx(t), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func run(t testing.TB, p *Pane, block string) Result {
	t.Helper()
	r, err := p.Run(testCtx(t), block)
	if err != nil {
		t.Fatalf("Run(%q): %v\nscreen:\n%s", block, err, p.Screen())
	}
	return r
}

func lastLine(screen string) string {
	l := strings.Split(screen, "\n")
	return l[len(l)-1]
}
