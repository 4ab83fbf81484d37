// Package tmux replays labs the way a person at a terminal multiplexer
// would: each pane is an interactive bash in a real pseudo-terminal, read
// through the vt10x terminal emulator, laid out and split like tmux 3.3.
//
// Completion and exit statuses come from prompt markers that the pane's rc
// file makes bash print (OSC 7770 sequences in PS0, PS1 and PS2); the one
// reader goroutine of each pane strips them from the stream before the
// emulator sees it and wakes the waiters. Nothing polls the screen.
package tmux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Mux.
type Options struct {
	Shell     string        // bash path; "" = look up "bash" on PATH
	Env       []string      // the complete environment for the shells (nil = empty: the process's own is never inherited); TERM=xterm-256color is added if missing, LABRUN_PANE=<id> always
	Dir       string        // working directory of the first pane (and of new panes, as in tmux)
	StateDir  string        // a directory for rc files and per-pane state; "" = a temporary one removed by Close
	Cols      int           // terminal size, default 120x40; panes split it like tmux
	Rows      int           //
	TypeDelay time.Duration // 0 = full speed; else a delay between typed characters (demos)
	Host      string        // the name in the prompt, "[node1] ~$ "; default "node1"
	// Tap, if set, gets everything a pane prints (markers stripped), with
	// the pane's id and size: a Recorder's Tap records it.
	Tap func(pane, cols, rows int, b []byte)
}

// Mux is one tmux window: panes, the active and the last pane, a layout.
type Mux struct {
	opts      Options
	tempState bool
	closeDone chan struct{}
	wg        sync.WaitGroup // one watcher per shell
	mu        sync.Mutex
	panes     []*Pane // in tmux's pane order: Index is the position
	root      *cell
	active    *Pane
	last      *Pane
	nextID    int
	terminals int // terminals of their own opened so far
	closed    bool
	shells    map[*shell]struct{}
	quick     atomic.Bool // type at full speed despite TypeDelay (see Quick)
}

// New starts pane 0 and waits for its first prompt.
func New(ctx context.Context, opts Options) (*Mux, error) {
	if opts.Cols <= 0 {
		opts.Cols = 120
	}
	if opts.Rows <= 0 {
		opts.Rows = 40
	}
	if opts.Host == "" {
		opts.Host = "node1"
	}
	if strings.ContainsAny(opts.Host, "'\\$`\n") {
		return nil, fmt.Errorf("prompt host name %q: quotes, backslashes, $ and backquotes are not allowed", opts.Host)
	}
	if opts.Shell == "" {
		p, err := exec.LookPath("bash")
		if err != nil {
			return nil, fmt.Errorf("finding bash: %w", err)
		}
		opts.Shell = p
	}
	env := append([]string(nil), opts.Env...)
	if !hasVar(env, "TERM") {
		env = append(env, "TERM=xterm-256color")
	}
	opts.Env = env
	m := &Mux{opts: opts, closeDone: make(chan struct{}), shells: map[*shell]struct{}{}}
	if opts.StateDir == "" {
		d, err := os.MkdirTemp("", "labrun-tmux-")
		if err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		m.opts.StateDir, m.tempState = d, true
	} else if fi, err := os.Stat(opts.StateDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("state directory %q: not a directory", opts.StateDir)
	}
	p := &Pane{m: m, id: 0, cols: opts.Cols, rows: opts.Rows}
	m.nextID = 1
	sh, err := m.startShell(ctx, p, opts.Cols, opts.Rows, opts.Dir, "")
	if err != nil {
		m.Close()
		return nil, err
	}
	p.sh = sh
	m.root = leaf(p, opts.Cols, opts.Rows)
	p.cell = m.root
	m.panes = []*Pane{p}
	m.active = p
	return m, nil
}

func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// startShell starts a shell for pane p and a watcher that reacts when it
// exits.
func (m *Mux) startShell(ctx context.Context, p *Pane, cols, rows int, dir, restoreEnv string) (*shell, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("tmux: the mux is closed")
	}
	m.mu.Unlock()
	sh, err := startShell(ctx, shellConfig{
		id: p.id, path: m.opts.Shell, env: append(append([]string(nil), m.opts.Env...), "LABRUN_PANE="+strconv.Itoa(p.id)),
		dir: dir, stateDir: m.opts.StateDir, cols: cols, rows: rows,
		typeDelay: m.opts.TypeDelay, prompt: m.opts.Host, restoreEnv: restoreEnv, tap: m.opts.Tap, quick: &m.quick,
	})
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		sh.close()
		return nil, errors.New("tmux: the mux is closed")
	}
	m.shells[sh] = struct{}{}
	m.wg.Add(1)
	m.mu.Unlock()
	go m.watch(p, sh)
	return sh, nil
}

// watch waits for the shell to exit, then closes its pane as tmux would and
// ends what the shell left running in its session.
func (m *Mux) watch(p *Pane, sh *shell) {
	defer m.wg.Done()
	<-sh.exited
	sh.signal() // leftovers of the session: HUP/TERM now, KILL after grace
	m.shellExited(p, sh)
	close(sh.handled)
	sh.finish(time.Now().Add(500 * time.Millisecond))
	m.mu.Lock()
	delete(m.shells, sh)
	m.mu.Unlock()
}

func (m *Mux) shellExited(p *Pane, sh *shell) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.mu.Lock()
	replacing := p.sh != sh || p.keep
	p.mu.Unlock()
	if m.closed || replacing || p.removed {
		return
	}
	if len(m.panes) == 1 {
		return // the last pane stays, dead, until Respawn
	}
	m.removeLocked(p)
}

// removeLocked takes p out of the window; focus moves as in tmux: to the
// last pane if p was active, else to the previous one (the next for 0).
func (m *Mux) removeLocked(p *Pane) {
	idx := m.indexLocked(p)
	if idx < 0 {
		return
	}
	m.panes = append(m.panes[:idx], m.panes[idx+1:]...)
	remove(&m.root, p.cell)
	p.removed = true
	p.lastIndex = idx
	p.cell = nil
	if m.last == p {
		m.last = nil
	}
	if m.active == p {
		m.active, m.last = m.last, nil
		if m.active == nil {
			m.active = m.panes[max(idx-1, 0)]
		}
	}
	m.applySizesLocked()
}

func (m *Mux) indexLocked(p *Pane) int {
	for i, q := range m.panes {
		if q == p {
			return i
		}
	}
	return -1
}

// applySizesLocked resizes the panes whose cell changed; the kernel sends
// SIGWINCH to the programs running in them.
func (m *Mux) applySizesLocked() {
	for _, p := range m.panes {
		if p.cell == nil || (p.cell.w == p.cols && p.cell.h == p.rows) {
			continue
		}
		p.cols, p.rows = p.cell.w, p.cell.h
		p.mu.Lock()
		sh := p.sh
		p.mu.Unlock()
		if sh != nil {
			sh.resize(p.cols, p.rows)
		}
	}
}

// Active returns the active pane. After the last shell exited it is a dead
// pane (Alive false) until Respawn.
func (m *Mux) Active() *Pane {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.active
}

// Panes returns the panes in index order.
func (m *Mux) Panes() []*Pane {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Pane(nil), m.panes...)
}

type splitOpts struct {
	horizontal bool
	detached   bool // -d: do not make it active
	before     bool // -b
	size       int  // -l N cells
	percent    int  // -p N percent
	dir        string
}

func (m *Mux) split(ctx context.Context, o splitOpts) (*Pane, error) {
	kind := cellTB
	if o.horizontal {
		kind = cellLR
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("tmux: the mux is closed")
	}
	act := m.active
	want := o.size
	if o.percent > 0 {
		want = act.cell.size(kind) * o.percent / 100
	}
	_, newSize, err := splitSizes(act.cell.size(kind), want)
	if err != nil {
		m.mu.Unlock()
		return nil, &CommandError{Args: "split-window", Reason: err.Error()}
	}
	cols, rows := act.cell.w, act.cell.h
	if kind == cellLR {
		cols = newSize
	} else {
		rows = newSize
	}
	p := &Pane{m: m, id: m.nextID, cols: cols, rows: rows}
	m.nextID++
	m.mu.Unlock()

	dir := m.opts.Dir
	if o.dir != "" {
		dir = o.dir
	}
	sh, err := m.startShell(ctx, p, cols, rows, dir, "")
	if err != nil {
		return nil, fmt.Errorf("split-window: %w", err)
	}
	p.sh = sh

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("tmux: the mux is closed")
	}
	act = m.active // the same unless a shell exited meanwhile
	nc, err := split(&m.root, act.cell, p, kind, want, o.before)
	if err != nil {
		go sh.close()
		return nil, &CommandError{Args: "split-window", Reason: err.Error()}
	}
	p.cell = nc
	idx := m.indexLocked(act)
	if o.before {
		m.panes = append(m.panes[:idx], append([]*Pane{p}, m.panes[idx:]...)...)
	} else {
		m.panes = append(m.panes[:idx+1], append([]*Pane{p}, m.panes[idx+1:]...)...)
	}
	if !o.detached {
		m.last, m.active = act, p
	}
	m.applySizesLocked()
	return p, nil
}

// Terminal opens a terminal of its own on the same machine, as a person
// does to leave a command running while they go on in the first one
// ("in another terminal, run …"). Its shell starts in from's cwd with
// from's variables (exported or not), at the window's full size. It is not part of
// the layout: it never becomes active, pane targets do not see it, and the
// panes keep their sizes. Kill closes it; Close ends it with the rest.
func (m *Mux) Terminal(ctx context.Context, from *Pane) (*Pane, error) {
	dir, _ := from.State()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("tmux: the mux is closed")
	}
	m.terminals++
	p := &Pane{m: m, id: m.nextID, cols: m.opts.Cols, rows: m.opts.Rows, terminal: m.terminals + 1}
	m.nextID++
	m.mu.Unlock()
	restore := filepath.Join(m.opts.StateDir, fmt.Sprintf("pane-%d.restore.env", p.id))
	if err := from.shell().writeRestore(restore); err != nil {
		restore = ""
	}
	sh, err := m.startShell(ctx, p, p.cols, p.rows, dir, restore)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p.Name(), err)
	}
	p.mu.Lock()
	p.sh = sh
	p.mu.Unlock()
	return p, nil
}

func (m *Mux) selectLocked(p *Pane) {
	if p != m.active {
		m.last, m.active = m.active, p
	}
}

// Last makes the previously active pane active again (last-pane).
func (m *Mux) Last() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil || m.last.removed {
		return &CommandError{Args: "last-pane", Reason: "no last pane"}
	}
	m.last, m.active = m.active, m.last
	return nil
}

// SelectLayout rearranges the panes: even-horizontal, even-vertical,
// main-horizontal, main-vertical or tiled.
func (m *Mux) SelectLayout(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, h := m.opts.Cols, m.opts.Rows
	var root *cell
	switch name {
	case "even-horizontal":
		root = layoutEven(m.panes, cellLR, w, h)
	case "even-vertical":
		root = layoutEven(m.panes, cellTB, w, h)
	case "tiled":
		root = layoutTiled(m.panes, w, h)
	case "main-horizontal":
		root = layoutMain(m.panes, false, w, h)
	case "main-vertical":
		root = layoutMain(m.panes, true, w, h)
	default:
		return &CommandError{Args: "select-layout " + name, Reason: "unknown layout: " + name}
	}
	root.place(0, 0)
	m.root = root
	for _, lc := range root.leaves(nil) {
		lc.pane.cell = lc
	}
	m.applySizesLocked()
	return nil
}

// Kill ends pane p's shell and everything in its session; the pane closes
// as when its shell exits. Killing the only pane leaves it dead (Respawn).
func (m *Mux) Kill(ctx context.Context, p *Pane) error {
	p.mu.Lock()
	sh := p.sh
	p.mu.Unlock()
	if sh == nil {
		return nil
	}
	sh.signal()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-sh.handled:
		return nil
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	sh.kill() // bash ignored HUP (a trap): no more manners
	select {
	case <-sh.handled:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Respawn gives a dead active pane (the last shell exited) a fresh shell in
// Options.Dir with Options.Env. A live active pane is returned unchanged.
func (m *Mux) Respawn(ctx context.Context) (*Pane, error) {
	p := m.Active()
	if p.Alive() {
		return p, nil
	}
	if err := p.replace(ctx, false); err != nil {
		return nil, err
	}
	return p, nil
}

// Close ends every process started, directly or through the shells, closes
// the ptys and waits for the goroutines. It is idempotent.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		<-m.closeDone
		return nil
	}
	m.closed = true
	var shells []*shell
	for sh := range m.shells {
		shells = append(shells, sh)
	}
	m.mu.Unlock()
	for _, sh := range shells {
		sh.signal()
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	for _, sh := range shells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.finish(deadline)
		}()
	}
	wg.Wait()
	m.wg.Wait()
	var err error
	if m.tempState {
		err = os.RemoveAll(m.opts.StateDir)
	}
	close(m.closeDone)
	return err
}
