package tmux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labrun/labrun/internal/proc"
)

// Pane is one pane of the window: a shell in a pty with its own screen.
type Pane struct {
	m  *Mux
	id int // unique in the mux: names the state files

	// guarded by m.mu
	cell       *cell
	cols, rows int
	removed    bool
	lastIndex  int // the index it had when it was closed
	// terminal numbers a terminal of its own (Mux.Terminal), outside the
	// window's layout; 0 for a pane of the window.
	terminal int

	mu      sync.Mutex
	sh      *shell
	keep    bool // the shell is being replaced: its exit must not close the pane
	lastRes Result
}

// Result is what the commands of a Run (or since a Start) did.
type Result struct {
	Statuses []int  // one exit status per command line that ran, in order
	Output   string // what they printed (not the typed lines or prompts), plain text
}

// Index is the pane's position in tmux's order (it shifts when panes
// before it close); -1 once the pane is closed.
func (p *Pane) Index() int {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return p.m.indexLocked(p)
}

// Name is how messages call the pane: "pane 2", or "terminal 2" for a
// terminal of its own.
func (p *Pane) Name() string {
	if p.terminal > 0 {
		return fmt.Sprintf("terminal %d", p.terminal)
	}
	return fmt.Sprintf("pane %d", p.indexOrLast())
}

// indexOrLast is Index, or the index the pane had when it closed.
func (p *Pane) indexOrLast() int {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.removed {
		return p.lastIndex
	}
	return p.m.indexLocked(p)
}

// Size returns the pane's columns and rows.
func (p *Pane) Size() (cols, rows int) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return p.cols, p.rows
}

func (p *Pane) shell() *shell {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sh
}

// Alive says whether the pane's shell runs.
func (p *Pane) Alive() bool {
	p.m.mu.Lock()
	removed := p.removed
	p.m.mu.Unlock()
	return !removed && p.shell().alive()
}

// Busy says whether a command is running: input that should end in a
// prompt was typed and the prompt has not come yet.
func (p *Pane) Busy() bool {
	sh := p.shell()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.busyLocked()
}

// AtPrompt says whether the shell sits idle at its primary prompt with
// nothing typed on the line: a key such as ^D or ^C has nothing to end there
// (^D would close the terminal).
func (p *Pane) AtPrompt() bool {
	sh := p.shell()
	if !p.Alive() {
		return false
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return !sh.busyLocked() && !sh.lineDirty
}

// Alone says whether the shell sits at its prompt with nothing else of its
// session running (no background job): nothing left could print on the
// pane.
func (p *Pane) Alone() bool {
	sh := p.shell()
	if !p.Alive() || p.Busy() {
		return false
	}
	for _, pid := range proc.Session(sh.pid, sh.ttyNr) {
		if pid != sh.pid {
			return false
		}
	}
	return true
}

// LastStatus is $? as of the last primary prompt (for `check`).
func (p *Pane) LastStatus() int {
	sh := p.shell()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.lastStatus
}

// Screen returns the visible screen: trailing spaces trimmed, trailing empty
// lines dropped.
func (p *Pane) Screen() string {
	s, _ := p.shell().screen()
	return s
}

// State returns the shell's cwd and a file holding `export -p`, both as of
// the last prompt, so hidden steps run in the lab's environment.
func (p *Pane) State() (dir string, envFile string) {
	dir, envFile = p.shell().state()
	if dir == "" {
		dir = p.m.opts.Dir
	}
	return dir, envFile
}

// use returns the pane's shell, or a *ShellExitedError if it is gone.
func (p *Pane) use() (*shell, error) {
	sh := p.shell()
	if !p.Alive() {
		return sh, &ShellExitedError{Pane: p.indexOrLast(), Status: sh.status()}
	}
	return sh, nil
}

// fail wraps an error of a wait on sh: a shell exit is reported once the mux
// has closed the pane (so Active is already right), with the pane index.
func (p *Pane) fail(ctx context.Context, sh *shell, what string, err error) error {
	var se *ShellExitedError
	if errors.As(err, &se) {
		select {
		case <-sh.handled:
		case <-ctx.Done():
		}
		se.Pane = p.indexOrLast()
		return se
	}
	return fmt.Errorf("%s: %s: %w", p.Name(), what, err)
}

// blockLines splits a block into the lines to type. Tabs are typed as
// ^V Tab so readline inserts them instead of completing.
func blockLines(block string) []string {
	block = strings.ReplaceAll(block, "\r\n", "\n")
	block = strings.TrimSuffix(block, "\n")
	if block == "" {
		return nil
	}
	lines := strings.Split(block, "\n")
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, "\t", "\x16\t")
	}
	return lines
}

// Run types a block like a paste, line by line: after each line it waits
// for the next prompt marker, a continuation prompt (heredoc, `\`, open
// quote or loop: type the next line) or a primary prompt (a command
// finished: its status is recorded). It returns at the last line's prompt.
// If a previous command still runs, Run first waits for its prompt.
func (p *Pane) Run(ctx context.Context, block string) (Result, error) {
	sh, err := p.use()
	if err != nil {
		return Result{}, err
	}
	if err := sh.waitCond(ctx, func() bool { return !sh.busyLocked() }); err != nil {
		return Result{}, p.fail(ctx, sh, "waiting for the previous command's prompt", err)
	}
	sh.resetWindow()
	lines := blockLines(block)
	for i, line := range lines {
		sh.mu.Lock()
		seq0, cont0 := sh.seq, sh.cont
		sh.inputSeq = sh.seq
		sh.mu.Unlock()
		if err := sh.write(ctx, []byte(line+"\r")); err != nil {
			return p.collect(sh), p.fail(ctx, sh, "typing", err)
		}
		err := sh.waitCond(ctx, func() bool { return sh.seq > seq0 || sh.cont > cont0 })
		if err != nil {
			return p.collect(sh), p.fail(ctx, sh, fmt.Sprintf("waiting for the prompt after %q", line), err)
		}
		if i == len(lines)-1 && !sh.idle() {
			return p.cancelIncomplete(ctx, sh, line)
		}
	}
	return p.collect(sh), nil
}

// waitConsumed waits (briefly) until the shell has read the line typed at
// its prompt. A signal key (^C, ^Z, ^\\) makes the terminal flush input
// nobody has read yet, so sent too early it would erase the command
// instead of interrupting it; a person sees the command start first.
func (s *shell) waitConsumed(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s.waitCond(c, func() bool { return s.mode != modePrompt || s.seq > s.inputSeq })
	// A command just started (nothing printed yet) may not own the
	// terminal yet: a ^C then goes to bash, between its fork and the
	// child's tcsetpgrp, and the command never sees it. Wait until it has
	// the terminal (no event says so).
	for {
		s.mu.Lock()
		running := s.mode == modeRunning && len(s.out.buf) == 0 && s.out.dropped == 0
		s.mu.Unlock()
		if fg, err := proc.ForegroundPgrp(s.ptm); !running || err != nil || fg != s.pid {
			return
		}
		select {
		case <-c.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *shell) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.busyLocked()
}

// cancelIncomplete clears a continuation prompt with ^C (twice if bash,
// between two readline calls, lets the first one pass).
func (p *Pane) cancelIncomplete(ctx context.Context, sh *shell, line string) (Result, error) {
	res := p.collect(sh)
	ie := &IncompleteError{Pane: p.Index(), Line: line}
	if err := p.Interrupt(ctx); err != nil {
		var re *ShellReplacedError
		if !errors.As(err, &re) {
			return res, fmt.Errorf("%w; cancelling it: %v", ie, err)
		}
	}
	return res, ie
}

func (s *shell) resetWindow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = nil
	s.out.Reset()
}

// collect takes the statuses and output gathered since the last collection.
func (p *Pane) collect(sh *shell) Result {
	sh.mu.Lock()
	r := Result{Statuses: sh.statuses, Output: sh.out.Text()}
	sh.statuses = nil
	sh.out.Reset()
	sh.mu.Unlock()
	p.mu.Lock()
	p.lastRes = r
	p.mu.Unlock()
	return r
}

// Start types the block like Run but returns right after writing its last
// line (a `wait` follows: watch, logs -f). Earlier lines are waited for.
// Into a busy pane the block is typed ahead at once, as a paste would be.
func (p *Pane) Start(ctx context.Context, block string) error {
	sh, err := p.use()
	if err != nil {
		return err
	}
	lines := blockLines(block)
	if len(lines) == 0 {
		return nil
	}
	sh.mu.Lock()
	busy := sh.busyLocked()
	if busy {
		// Each typed-ahead line should end in a prompt of its own.
		sh.inputSeq = max(sh.inputSeq, sh.seq) + len(lines)
	}
	sh.mu.Unlock()
	if busy {
		if err := sh.write(ctx, []byte(strings.Join(lines, "\r")+"\r")); err != nil {
			return p.fail(ctx, sh, "typing ahead", err)
		}
		return nil
	}
	sh.resetWindow()
	for i, line := range lines {
		sh.mu.Lock()
		seq0, cont0 := sh.seq, sh.cont
		sh.inputSeq = sh.seq
		sh.mu.Unlock()
		if err := sh.write(ctx, []byte(line+"\r")); err != nil {
			return p.fail(ctx, sh, "typing", err)
		}
		if i == len(lines)-1 {
			return nil
		}
		if err := sh.waitCond(ctx, func() bool { return sh.seq > seq0 || sh.cont > cont0 }); err != nil {
			return p.fail(ctx, sh, fmt.Sprintf("waiting for the prompt after %q", line), err)
		}
	}
	return nil
}

// WaitPrompt waits for the primary prompt that follows the input typed so
// far (after Start, keys, ^C) and returns the statuses of the commands that
// finished since the last Run, Start or WaitPrompt, and their output. At an
// idle prompt it returns at once.
func (p *Pane) WaitPrompt(ctx context.Context) (Result, error) {
	sh := p.shell()
	if err := sh.waitCond(ctx, func() bool { return !sh.busyLocked() }); err != nil {
		return p.collect(sh), p.fail(ctx, sh, "waiting for the prompt", err)
	}
	return p.collect(sh), nil
}

// WaitText waits until text shows on the pane's screen (soft-wrapped lines
// count as one). It re-checks whenever the reader fed new bytes.
func (p *Pane) WaitText(ctx context.Context, text string) error {
	err := p.WaitScreen(ctx, func(screen, joined string) bool {
		return strings.Contains(screen, text) || strings.Contains(joined, text)
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%s: waiting for %q: %w", p.Name(), text, ctx.Err())
	}
	return err
}

// WaitScreen waits until ok holds for the pane's screen: the visible text,
// and the same with soft-wrapped lines joined. It re-checks whenever the
// reader fed new bytes, never on a timer.
func (p *Pane) WaitScreen(ctx context.Context, ok func(screen, joined string) bool) error {
	sh := p.shell()
	for {
		sh.mu.Lock()
		ch := sh.notify
		sh.mu.Unlock()
		if ok(sh.screen()) {
			return nil
		}
		select {
		case <-sh.readerDone:
			// nothing will change any more: one last look
			if ok(sh.screen()) {
				return nil
			}
			select {
			case <-sh.exited:
				return p.fail(ctx, sh, "", &ShellExitedError{Status: sh.status()})
			default:
			}
			select {
			case <-sh.exited:
			case <-ctx.Done():
				return fmt.Errorf("%s: %w", p.Name(), ctx.Err())
			}
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", p.Name(), ctx.Err())
		}
	}
}

// WaitTextOrPrompt waits until text shows on the screen (as WaitText) or
// the command typed with Start is back at its prompt, whichever comes
// first, and says which. Back at the prompt it also looks for text in what
// the command printed, which may have scrolled off the screen.
func (p *Pane) WaitTextOrPrompt(ctx context.Context, text string) (shown bool, err error) {
	sh := p.shell()
	atPrompt := false
	err = p.WaitScreen(ctx, func(screen, joined string) bool {
		if strings.Contains(screen, text) || strings.Contains(joined, text) {
			shown = true
			return true
		}
		sh.mu.Lock()
		atPrompt = !sh.busyLocked()
		out := ""
		if atPrompt {
			out = sh.out.Text()
		}
		sh.mu.Unlock()
		if atPrompt && strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(text), " ")) {
			shown = true
		}
		return atPrompt
	})
	if err != nil && ctx.Err() != nil {
		return false, fmt.Errorf("%s: waiting for %q: %w", p.Name(), text, ctx.Err())
	}
	return shown, err
}

// WaitPrinted is WaitTextOrPrompt for text the screen showed already before
// the command started (the same log line from an earlier command): only
// what the command printed since Start counts.
func (p *Pane) WaitPrinted(ctx context.Context, text string) (shown bool, err error) {
	sh := p.shell()
	want := strings.Join(strings.Fields(text), " ")
	err = sh.waitCond(ctx, func() bool {
		if strings.Contains(strings.Join(strings.Fields(sh.out.Text()), " "), want) {
			shown = true
			return true
		}
		return !sh.busyLocked()
	})
	if err != nil {
		return false, p.fail(ctx, sh, fmt.Sprintf("waiting for %q", text), err)
	}
	return shown, nil
}

// Settle waits until a command typed with Start is back at the prompt, or
// has printed nothing for quiet: then it is taken to be waiting for input
// (vim, a shell in a pod), and keys may be typed into it, as a person
// would once the screen stops moving.
func (p *Pane) Settle(ctx context.Context, quiet time.Duration) (Result, error) {
	sh := p.shell()
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for {
		sh.mu.Lock()
		ch := sh.notify
		busy := sh.busyLocked()
		sh.mu.Unlock()
		if !busy {
			return p.collect(sh), nil
		}
		select {
		case <-ch:
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(quiet)
		case <-timer.C:
			return p.collect(sh), nil
		case <-sh.exited:
			return p.collect(sh), p.fail(ctx, sh, "", &ShellExitedError{Status: sh.status()})
		case <-ctx.Done():
			return p.collect(sh), fmt.Errorf("%s: %w", p.Name(), ctx.Err())
		}
	}
}

// WaitOutput waits until the command typed with Start has printed
// something, or is back at its prompt: a person sees it has started.
func (p *Pane) WaitOutput(ctx context.Context) error {
	sh := p.shell()
	if err := sh.waitCond(ctx, func() bool { return !sh.busyLocked() || len(sh.out.buf) > 0 || sh.out.dropped > 0 }); err != nil {
		return p.fail(ctx, sh, "waiting for output", err)
	}
	return nil
}

// rawPoll is how often WaitInteractive looks at the terminal's mode: no
// event tells when a program switches it.
const rawPoll = 50 * time.Millisecond

// WaitInteractive waits until the command typed with Start is back at its
// prompt (started false), or has switched the terminal to reading key by
// key and printed nothing for quiet (started true): an editor, or a shell
// in a pod through kubectl exec -ti, is then waiting for keys. A program
// slow to start (kubectl reaching a pod) is waited for, unlike Settle.
func (p *Pane) WaitInteractive(ctx context.Context, quiet time.Duration) (res Result, started bool, err error) {
	sh := p.shell()
	tick := time.NewTicker(rawPoll)
	defer tick.Stop()
	lastNews := time.Now()
	for {
		sh.mu.Lock()
		ch := sh.notify
		busy := sh.busyLocked()
		sh.mu.Unlock()
		if !busy {
			return p.collect(sh), false, nil
		}
		if raw, err := proc.RawMode(sh.ptm); err == nil && raw && time.Since(lastNews) >= quiet {
			return p.collect(sh), true, nil
		}
		select {
		case <-ch:
			lastNews = time.Now()
		case <-tick.C:
		case <-sh.exited:
			return p.collect(sh), false, p.fail(ctx, sh, "", &ShellExitedError{Status: sh.status()})
		case <-ctx.Done():
			return p.collect(sh), false, fmt.Errorf("%s: %w", p.Name(), ctx.Err())
		}
	}
}

// Type types text as keystrokes (the keys directive), honouring TypeDelay.
func (p *Pane) Type(ctx context.Context, text string) error {
	sh, err := p.use()
	if err != nil {
		return err
	}
	return p.input(ctx, sh, []byte(text))
}

// Key sends one key by its tmux name (see KeyBytes). Arrows follow the
// terminal's cursor mode. ^D at an empty prompt ends the shell: Key returns
// once the pane has closed and focus has moved, as a person would see it.
func (p *Pane) Key(ctx context.Context, name string) error {
	b, err := KeyBytes(name)
	if err != nil {
		return err
	}
	sh, err := p.use()
	if err != nil {
		return err
	}
	sh.term.Lock() // vt10x's state is only safe under its lock
	mode := sh.term.Mode()
	sh.term.Unlock()
	if mode&appCursorMode != 0 {
		b = appCursor(b)
	}
	return p.input(ctx, sh, b)
}

func (p *Pane) input(ctx context.Context, sh *shell, b []byte) error {
	if bytes.ContainsAny(b, "\x03\x1a\x1c") {
		sh.waitConsumed(ctx)
	}
	sh.mu.Lock()
	seq0 := sh.seq
	expectExit := false
	for _, c := range b {
		idle := !sh.busyLocked()
		switch {
		case c == '\r' || c == '\n' || c == 3:
			sh.inputSeq = sh.seq
			sh.lineDirty = false
		case c == 4:
			expectExit = expectExit || (idle && !sh.lineDirty)
		case c >= 0x20 && idle:
			sh.lineDirty = true
		}
	}
	sh.mu.Unlock()
	if err := sh.write(ctx, b); err != nil {
		return p.fail(ctx, sh, "typing", err)
	}
	if !expectExit {
		return nil
	}
	// bash leaves on ^D at an empty line (unless ignoreeof prints a prompt)
	err := sh.waitCond(ctx, func() bool { return sh.seq > seq0 })
	var se *ShellExitedError
	if errors.As(err, &se) {
		select {
		case <-sh.handled:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	return err
}

// Interrupt brings the pane back to a prompt after a timeout: ^C, a short
// wait, then TERM and KILL to the terminal's foreground process group. If
// the shell itself is stuck or has died, it is replaced by a fresh one in
// the same pane (same cwd and exported variables) and a
// *ShellReplacedError says so.
func (p *Pane) Interrupt(ctx context.Context) error {
	sh := p.shell()
	p.m.mu.Lock()
	removed := p.removed
	p.m.mu.Unlock()
	if removed {
		return &ShellExitedError{Pane: p.indexOrLast(), Status: sh.status()}
	}
	if !sh.alive() {
		if err := p.replace(ctx, true); err != nil {
			return err
		}
		return &ShellReplacedError{Pane: p.Index(), Reason: "the shell had exited"}
	}
	waitIdle := func(d time.Duration) bool {
		c, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return sh.waitCond(c, func() bool { return !sh.busyLocked() }) == nil
	}
	sh.waitConsumed(ctx)
	sh.mu.Lock()
	sh.inputSeq = sh.seq
	sh.mu.Unlock()
	// A second ^C, as a person would press, catches a job that was still
	// being forked when the first one came.
	for _, d := range []time.Duration{250 * time.Millisecond, 2 * time.Second} {
		if err := sh.write(ctx, []byte{3}); err == nil && waitIdle(d) {
			return nil
		}
	}
	if fg, err := proc.ForegroundPgrp(sh.ptm); err == nil && fg > 0 && fg != sh.pid {
		syscall.Kill(-fg, syscall.SIGTERM)
		syscall.Kill(-fg, syscall.SIGCONT)
		if waitIdle(time.Second) {
			return nil
		}
		syscall.Kill(-fg, syscall.SIGKILL)
		if waitIdle(2 * time.Second) {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.replace(ctx, true); err != nil {
		return err
	}
	return &ShellReplacedError{Pane: p.Index(), Reason: "no prompt after ^C and killing the foreground process group"}
}

// replace ends the pane's shell (if alive) and starts a fresh one of the
// pane's size; restore keeps the cwd and exported variables of the last
// prompt.
func (p *Pane) replace(ctx context.Context, restore bool) error {
	m := p.m
	p.mu.Lock()
	old := p.sh
	p.keep = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.keep = false
		p.mu.Unlock()
	}()
	dir, restoreEnv := m.opts.Dir, ""
	if restore {
		d, _ := old.state()
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			dir = d
		}
		restoreEnv = filepath.Join(m.opts.StateDir, fmt.Sprintf("pane-%d.restore.env", p.id))
		if err := old.writeRestore(restoreEnv); err != nil {
			restoreEnv = ""
		}
	}
	if old.alive() {
		old.signal()
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-old.exited:
		case <-t.C:
			old.kill()
		}
		t.Stop()
	}
	select {
	case <-old.handled:
	case <-ctx.Done():
		return ctx.Err()
	}
	m.mu.Lock()
	cols, rows := p.cols, p.rows
	m.mu.Unlock()
	sh, err := m.startShell(ctx, p, cols, rows, dir, restoreEnv)
	if err != nil {
		return fmt.Errorf("%s: starting a fresh shell: %w", p.Name(), err)
	}
	p.mu.Lock()
	p.sh = sh
	p.mu.Unlock()
	return nil
}

// Geometry returns the pane's position and size in the window, as tmux's
// pane_left, pane_top, pane_width and pane_height.
func (p *Pane) Geometry() (x, y, cols, rows int) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.cell == nil {
		return 0, 0, p.cols, p.rows
	}
	return p.cell.x, p.cell.y, p.cols, p.rows
}
