package tmux

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A terminal of its own starts where the lab is, with its variables, runs
// beside the window without joining its layout, and closes with Kill.
func TestTerminal(t *testing.T) {
	ctx := testCtx(t)
	m := newMux(t, Options{})
	p := m.Active()
	dir := filepath.Join(t.TempDir(), "lab")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, p, "cd "+dir+"\nNOTEXPORTED=kept\nexport SHARED=yes")
	tp, err := m.Terminal(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Name() != "terminal 2" || len(m.Panes()) != 1 || m.Active() != p {
		t.Fatalf("terminal %q joined the window: %d panes, active %s", tp.Name(), len(m.Panes()), m.Active().Name())
	}
	if cols, rows := tp.Size(); cols != 120 || rows != 40 {
		t.Errorf("terminal size %dx%d, want the window's 120x40", cols, rows)
	}
	r, err := tp.Run(ctx, `echo "$PWD $NOTEXPORTED $SHARED $LABRUN_PANE"`)
	if err != nil {
		t.Fatal(err)
	}
	if want := dir + " kept yes 1\n"; r.Output != want {
		t.Errorf("terminal sees %q, want %q", r.Output, want)
	}
	if err := tp.Start(ctx, "sleep 1000"); err != nil {
		t.Fatal(err)
	}
	if err := m.Kill(ctx, tp); err != nil {
		t.Fatal(err)
	}
	if tp.Alive() || !p.Alive() {
		t.Errorf("after Kill: terminal alive %v, pane 0 alive %v", tp.Alive(), p.Alive())
	}
}

// AtPrompt is true only at an idle prompt with nothing typed: the one place
// where ^D would close the terminal.
func TestAtPrompt(t *testing.T) {
	ctx := testCtx(t)
	p := newMux(t, Options{}).Active()
	if !p.AtPrompt() {
		t.Fatal("a fresh shell is not at its prompt")
	}
	if err := p.Type(ctx, "echo half-typed"); err != nil {
		t.Fatal(err)
	}
	if p.AtPrompt() {
		t.Error("AtPrompt with text typed on the line")
	}
	q := newMux(t, Options{}).Active()
	if err := q.Start(ctx, "sleep 1000"); err != nil {
		t.Fatal(err)
	}
	if q.AtPrompt() {
		t.Error("AtPrompt while sleep runs")
	}
}

// A wait ends when the command is back at its prompt (fail fast), and
// finds text that scrolled off the screen in what the command printed.
func TestWaitTextOrPrompt(t *testing.T) {
	ctx := testCtx(t)
	p := newMux(t, Options{Rows: 10}).Active()
	if err := p.Start(ctx, "no-such-server-here --listen 8080"); err != nil {
		t.Fatal(err)
	}
	shown, err := p.WaitTextOrPrompt(ctx, "Listening")
	if err != nil || shown {
		t.Fatalf("shown %v, err %v; want back at the prompt without the text", shown, err)
	}
	if r, _ := p.WaitPrompt(ctx); len(r.Statuses) != 1 || r.Statuses[0] != 127 {
		t.Errorf("statuses %v, want [127]", r.Statuses)
	}
	if err := p.Start(ctx, "echo Listening on 8080; seq 30"); err != nil {
		t.Fatal(err)
	}
	shown, err = p.WaitTextOrPrompt(ctx, "Listening on 8080")
	if err != nil || !shown {
		t.Errorf("text that scrolled away: shown %v, err %v\n%s", shown, err, p.Screen())
	}
}

// WaitInteractive tells a program that reads keys (raw mode) from one that
// went back to the prompt, however long either takes to get there.
func TestWaitInteractive(t *testing.T) {
	ctx := testCtx(t)
	p := newMux(t, Options{}).Active()
	if err := p.Start(ctx, "sleep 1; false"); err != nil {
		t.Fatal(err)
	}
	r, started, err := p.WaitInteractive(ctx, 200*time.Millisecond)
	if err != nil || started || len(r.Statuses) != 1 || r.Statuses[0] != 1 {
		t.Errorf("slow failure: started %v, statuses %v, err %v", started, r.Statuses, err)
	}
	if err := p.Start(ctx, "sleep 1; bash --norc --noprofile"); err != nil {
		t.Fatal(err)
	}
	if _, started, err = p.WaitInteractive(ctx, 200*time.Millisecond); err != nil || !started {
		t.Errorf("a shell reading keys: started %v, err %v\n%s", started, err, p.Screen())
	}
	if err := p.Type(ctx, "exit\r"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitPrompt(ctx); err != nil || !strings.Contains(p.Screen(), "exit") {
		t.Errorf("back from the inner shell: %v\n%s", err, p.Screen())
	}
}
