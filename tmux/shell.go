package tmux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
	"github.com/labrun/labrun/internal/proc"
	"github.com/labrun/labrun/internal/text"
)

// outputMax bounds the raw output kept for Output: the reader always drains
// the pty, so a flood never blocks the program, and memory stays bounded.
const outputMax = 4 << 20

// What the shell is doing, as told by the markers.
const (
	modePrompt  = iota // at a primary prompt
	modeRunning        // a command line is executing
	modeCont           // at a continuation prompt (PS2)
)

// shell is one bash in one pty with its screen. A pane owns one at a time;
// a respawn replaces it.
type shell struct {
	id    int    // the pane's id, names the state files
	tty   string // the terminal's path, /dev/pts/N
	ttyNr int    // its device number, to recognise the session's processes
	cmd   *exec.Cmd
	pid   int // also its process group and session id (Setsid)
	ptm   *os.File
	term  vt10x.Terminal

	stateDir  string
	typeDelay time.Duration
	tap       func(id, cols, rows int, b []byte) // Options.Tap
	quick     *atomic.Bool                       // the mux's Quick: no typing delay

	writeMu       sync.Mutex    // serialises writes to ptm
	resp          chan []byte   // terminal answers (cursor reports) for the responder
	exited        chan struct{} // closed when bash has exited and been reaped
	handled       chan struct{} // closed after the mux has reacted to the exit
	readerDone    chan struct{}
	responderDone chan struct{}
	stop          chan struct{} // closed to stop the responder
	stopOnce      sync.Once
	closeOnce     sync.Once
	// ttyMu orders the scan for processes holding the terminal before the
	// close of its master: once the master is closed, /dev/pts/N may be
	// reused by any program on the machine, and a scan by that path would
	// kill a stranger (it once killed a fresh shell of another run).
	ttyMu     sync.Mutex
	ptmClosed bool
	// finishMu serialises finish: the pane's watcher and Mux.Close may both
	// call it for the same shell.
	finishMu sync.Mutex
	finished bool

	mu         sync.Mutex
	notify     chan struct{} // closed and replaced whenever anything arrives
	seq        int           // fresh primary prompts seen
	lastN      int           // the shell's prompt counter of the last one
	inputSeq   int           // seq when input that should end in a prompt was typed
	mode       int
	cont       int  // continuation prompts seen
	ran        bool // a command executed since the last primary prompt
	statuses   []int
	lastStatus int
	capturing  bool
	out        ringBuf
	lineDirty  bool // text typed at the prompt without Enter
	exitStatus int
	utf8carry  []byte
}

type shellConfig struct {
	id         int
	path       string
	env        []string
	dir        string
	stateDir   string
	cols, rows int
	typeDelay  time.Duration
	prompt     string
	restoreEnv string // an `export -p` file to source at start (recovery), or ""
	tap        func(id, cols, rows int, b []byte)
	quick      *atomic.Bool
}

func (c shellConfig) rcPath() string {
	return filepath.Join(c.stateDir, fmt.Sprintf("pane-%d.rc", c.id))
}

func statePath(dir string, id int, what string, n int) string {
	return filepath.Join(dir, fmt.Sprintf("pane-%d.%s.%d", id, what, n%2))
}

// rcText is the pane's bash rc: a workshop-like prompt, no history file,
// typed newlines that execute, and the markers. PROMPT_COMMAND keeps $? and
// writes `export -p`, the lab's own unexported variables (apart: hidden
// steps, child processes of the lab, see only the exported ones) and the
// cwd with builtins only (no fork), alternating
// between two files so that the one a marker announces stays whole.
func rcText(c shellConfig) string {
	q := text.ShellQuote
	envBase := filepath.Join(c.stateDir, fmt.Sprintf("pane-%d.env.", c.id))
	pwdBase := filepath.Join(c.stateDir, fmt.Sprintf("pane-%d.pwd.", c.id))
	varsBase := filepath.Join(c.stateDir, fmt.Sprintf("pane-%d.vars.", c.id))
	var b strings.Builder
	b.WriteString("# labrun pane rc: prompt markers for the replay; edits break them\n")
	b.WriteString("unset HISTFILE\n")
	b.WriteString("bind 'set enable-bracketed-paste off' 2>/dev/null\n")
	b.WriteString("bind 'set bell-style none' 2>/dev/null\n")
	if c.restoreEnv != "" {
		fmt.Fprintf(&b, "source %s 2>/dev/null\n", q(c.restoreEnv))
		fmt.Fprintf(&b, "export LABRUN_PANE=%d\n", c.id)
	}
	b.WriteString("__labrun_n=0\n__labrun_st=0\n")
	// The lab's own shell variables too (CLUSTER_IP=$(…) is not exported):
	// a second terminal, a replaced shell and hidden steps need them as a
	// person's shell has them. Bash's own variables stay out. ${!X@} lists
	// the names starting with X without a fork.
	b.WriteString("__labrun_vars() {\n")
	b.WriteString("  local v\n")
	b.WriteString("  for v in ${!a@} ${!b@} ${!c@} ${!d@} ${!e@} ${!f@} ${!g@} ${!h@} ${!i@} ${!j@} ${!k@} ${!l@} ${!m@} ${!n@} ${!o@} ${!p@} ${!q@} ${!r@} ${!s@} ${!t@} ${!u@} ${!v@} ${!w@} ${!x@} ${!y@} ${!z@} ${!A@} ${!B@} ${!C@} ${!D@} ${!E@} ${!F@} ${!G@} ${!H@} ${!I@} ${!J@} ${!K@} ${!L@} ${!M@} ${!N@} ${!O@} ${!P@} ${!Q@} ${!R@} ${!S@} ${!T@} ${!U@} ${!V@} ${!W@} ${!X@} ${!Y@} ${!Z@}; do\n")
	b.WriteString("    case $v in\n")
	b.WriteString("      BASH*|EUID|UID|PPID|SHELLOPTS|GROUPS|FUNCNAME|PIPESTATUS|COMP_*|COMP*|HIST*|LINENO|RANDOM|SRANDOM|SECONDS|EPOCH*|PS0|PS1|PS2|PS3|PS4|PROMPT_COMMAND|__labrun*|_|OPTIND|OPTARG|OPTERR|DIRSTACK|COLUMNS|LINES|SHLVL|PWD|OLDPWD|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|IFS|MAILCHECK|LABRUN_PANE|READLINE_*|INSIDE_EMACS) ;;\n")
	b.WriteString("      *) declare -p \"$v\" ;;\n")
	b.WriteString("    esac\n")
	b.WriteString("  done 2>/dev/null\n")
	b.WriteString("}\n")
	b.WriteString("__labrun_prompt() {\n")
	b.WriteString("  __labrun_st=$?\n")
	b.WriteString("  __labrun_n=$((__labrun_n+1))\n")
	fmt.Fprintf(&b, "  export -p >| %s\"$((__labrun_n%%2))\" 2>/dev/null\n", q(envBase))
	fmt.Fprintf(&b, "  __labrun_vars >| %s\"$((__labrun_n%%2))\" 2>/dev/null\n", q(varsBase))
	fmt.Fprintf(&b, "  printf '%%s\\n' \"$PWD\" >| %s\"$((__labrun_n%%2))\" 2>/dev/null\n", q(pwdBase))
	b.WriteString("  return $__labrun_st\n}\n")
	b.WriteString("PROMPT_COMMAND=__labrun_prompt\n")
	b.WriteString(`PS0='\e]7770;labrun;X\a'` + "\n")
	fmt.Fprintf(&b, `PS1='\[\e]7770;labrun;A\a\][%s] \W\$ \[\e]7770;labrun;P;${__labrun_n};${__labrun_st}\a\]'`+"\n", c.prompt)
	b.WriteString(`PS2='\[\e]7770;labrun;C\a\]> '` + "\n")
	return b.String()
}

// startShell starts bash in a new session on a new pty of the given size
// and returns once its first prompt is drawn.
func startShell(ctx context.Context, c shellConfig) (*shell, error) {
	if err := os.WriteFile(c.rcPath(), []byte(rcText(c)), 0o600); err != nil {
		return nil, fmt.Errorf("writing rc file: %w", err)
	}
	ptm0, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("opening a pty: %w", err)
	}
	ptm, err := proc.Pollable(ptm0)
	ptm0.Close()
	if err != nil {
		tty.Close()
		return nil, fmt.Errorf("pty master: %w", err)
	}
	if err := proc.SetWinsize(ptm, c.cols, c.rows); err != nil {
		tty.Close()
		ptm.Close()
		return nil, fmt.Errorf("sizing the pty: %w", err)
	}
	cmd := exec.Command(c.path, "--noprofile", "--rcfile", c.rcPath(), "-i")
	cmd.Env = c.env
	cmd.Dir = c.dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// Its own session with the pty as controlling terminal: job control works,
	// and every process of the pane can be found (and ended) by session id.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	tty.Close() // the parent's copy: without it the master never sees EOF
	if err != nil {
		ptm.Close()
		return nil, fmt.Errorf("starting %s: %w", c.path, err)
	}
	s := &shell{
		id:            c.id,
		tty:           tty.Name(),
		ttyNr:         proc.TTYDevice(tty.Name()),
		cmd:           cmd,
		pid:           cmd.Process.Pid,
		ptm:           ptm,
		stateDir:      c.stateDir,
		typeDelay:     c.typeDelay,
		tap:           c.tap,
		quick:         c.quick,
		resp:          make(chan []byte, 16),
		exited:        make(chan struct{}),
		handled:       make(chan struct{}),
		readerDone:    make(chan struct{}),
		responderDone: make(chan struct{}),
		stop:          make(chan struct{}),
		notify:        make(chan struct{}),
		out:           ringBuf{max: outputMax},
	}
	s.term = vt10x.New(vt10x.WithSize(c.cols, c.rows), vt10x.WithWriter(responseWriter{s}))
	go s.read()
	go s.respond()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.exitStatus = exitCode(err)
		s.mu.Unlock()
		close(s.exited)
		s.broadcast()
	}()
	if err := s.waitCond(ctx, func() bool { return s.seq > 0 }); err != nil {
		s.close()
		return nil, fmt.Errorf("waiting for the first prompt of %s: %w", c.path, err)
	}
	return s, nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// responseWriter receives the emulator's answers to queries (cursor
// position reports) and hands them to the responder without blocking the
// reader.
type responseWriter struct{ s *shell }

func (w responseWriter) Write(p []byte) (int, error) {
	select {
	case w.s.resp <- append([]byte(nil), p...):
	default: // a program that floods queries loses answers, not the reader
	}
	return len(p), nil
}

func (s *shell) respond() {
	defer close(s.responderDone)
	for {
		select {
		case b := <-s.resp:
			s.writeMu.Lock()
			s.ptm.SetWriteDeadline(time.Now().Add(time.Second))
			s.ptm.Write(b)
			s.ptm.SetWriteDeadline(time.Time{})
			s.writeMu.Unlock()
		case <-s.stop:
			return
		}
	}
}

// read is the pane's only reader: it drains the pty, strips the markers,
// feeds the emulator and the output record, and wakes the waiters.
func (s *shell) read() {
	defer func() {
		close(s.readerDone)
		s.broadcast()
	}()
	var mp markerParser
	buf := make([]byte, 32<<10)
	for {
		n, err := s.ptm.Read(buf)
		if n > 0 {
			mp.parse(buf[:n], s.feedText, s.feedMarker)
			s.broadcast()
		}
		if err != nil {
			return // EIO once every holder of the tty is gone, or a closed master
		}
	}
}

func (s *shell) feedText(b []byte) {
	if len(s.utf8carry) > 0 {
		b = append(s.utf8carry, b...)
		s.utf8carry = nil
	}
	n, _ := s.term.Write(b)
	if n < len(b) && len(b)-n < 4 { // an incomplete rune waits for its tail
		s.utf8carry = append([]byte(nil), b[n:]...)
	}
	if s.tap != nil && n > 0 {
		s.term.Lock()
		cols, rows := s.term.Size()
		s.term.Unlock()
		s.tap(s.id, cols, rows, b[:n])
	}
	s.mu.Lock()
	if s.capturing {
		s.out.Write(b[:n])
	}
	s.mu.Unlock()
}

func (s *shell) feedMarker(m marker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.kind {
	case markPromptStart:
		s.capturing = false
		s.mode = modePrompt
	case markExec:
		s.capturing = true
		s.ran = true
		s.mode = modeRunning
	case markCont:
		s.cont++
		s.mode = modeCont
	case markPrompt:
		s.capturing = false
		s.mode = modePrompt
		if m.n == s.lastN {
			return // the same prompt redrawn (after a resize)
		}
		s.lastN = m.n
		s.seq++
		s.lastStatus = m.status
		if s.ran {
			s.statuses = append(s.statuses, m.status)
			s.ran = false
		}
		s.lineDirty = false
	}
}

// broadcast wakes everybody waiting for news from this shell.
func (s *shell) broadcast() {
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// waitCond waits until cond (called with s.mu held) is true, the shell
// exits (*ShellExitedError) or ctx ends.
func (s *shell) waitCond(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.notify
		s.mu.Unlock()
		if ok {
			return nil
		}
		if !s.alive() {
			// the reader may still hold the last bytes (and a last prompt)
			t := time.NewTimer(200 * time.Millisecond)
			select {
			case <-s.readerDone:
			case <-t.C:
			}
			t.Stop()
			s.mu.Lock()
			ok = cond()
			st := s.exitStatus
			s.mu.Unlock()
			if ok {
				return nil
			}
			return &ShellExitedError{Status: st}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *shell) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *shell) busyLocked() bool {
	return s.seq <= s.inputSeq || s.mode != modePrompt
}

// write sends b to the terminal, honouring ctx even when the program does
// not read its input and the pty's input queue is full.
func (s *shell) write(ctx context.Context, b []byte) error {
	if !s.alive() {
		return &ShellExitedError{Status: s.status()}
	}
	if s.typeDelay > 0 && len(b) > 1 && (s.quick == nil || !s.quick.Load()) {
		for i := 0; i < len(b); {
			_, size := utf8.DecodeRune(b[i:])
			if err := s.writeNow(ctx, b[i:i+size]); err != nil {
				return err
			}
			i += size
			if i < len(b) {
				t := time.NewTimer(s.typeDelay)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				}
			}
		}
		return nil
	}
	return s.writeNow(ctx, b)
}

func (s *shell) writeNow(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var mu sync.Mutex
	finished := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		if !finished {
			s.ptm.SetWriteDeadline(time.Now())
		}
		mu.Unlock()
	})
	_, err := s.ptm.Write(b)
	if !stop() {
		mu.Lock()
		finished = true
		mu.Unlock()
		s.ptm.SetWriteDeadline(time.Time{})
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("writing to the pty: %w", err)
	}
	return nil
}

func (s *shell) status() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitStatus
}

func (s *shell) resize(cols, rows int) error {
	s.term.Resize(cols, rows)
	if !s.alive() {
		return nil
	}
	return proc.SetWinsize(s.ptm, cols, rows)
}

// screen renders the visible screen: trailing spaces trimmed, trailing
// empty lines dropped. joined also joins soft-wrapped lines, for searches.
func (s *shell) screen() (text, joined string) {
	const attrWrap = 1 << 6 // vt10x marks the last cell of a wrapped line so
	s.term.Lock()
	cols, rows := s.term.Size()
	lines := make([]string, rows)
	wrapped := make([]bool, rows)
	row := make([]rune, cols)
	for y := 0; y < rows; y++ {
		for x := 0; x < cols; x++ {
			c := s.term.Cell(x, y).Char
			if c == 0 {
				c = ' '
			}
			row[x] = c
		}
		lines[y] = strings.TrimRight(string(row), " ")
		wrapped[y] = cols > 0 && s.term.Cell(cols-1, y).Mode&attrWrap != 0
	}
	s.term.Unlock()
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var j strings.Builder
	for y, l := range lines {
		j.WriteString(l)
		if !wrapped[y] {
			j.WriteByte('\n')
		}
	}
	return strings.Join(lines, "\n"), j.String()
}

// signal asks every process of the shell's session to end: HUP to bash
// (which passes it to its jobs), TERM and CONT to the rest. finish then
// kills what is left after the grace period.
func (s *shell) signal() {
	for _, pid := range proc.Session(s.pid, s.ttyNr) {
		if pid == s.pid {
			syscall.Kill(pid, syscall.SIGHUP)
			syscall.Kill(pid, syscall.SIGCONT)
			continue
		}
		syscall.Kill(pid, syscall.SIGTERM)
		syscall.Kill(pid, syscall.SIGCONT) // stopped jobs must run to die
	}
	if s.alive() {
		syscall.Kill(s.pid, syscall.SIGHUP)
	}
}

// finish kills what survived the grace deadline and closes the pty.
func (s *shell) finish(deadline time.Time) {
	s.finishMu.Lock()
	defer s.finishMu.Unlock()
	if s.finished {
		return
	}
	s.finished = true
	pids := proc.Session(s.pid, s.ttyNr)
	left := proc.WaitGone(pids, deadline)
	for _, pid := range left {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// stragglers may appear from forks racing the scan: sweep until none
	for i := 0; i < 5; i++ {
		rest := proc.Session(s.pid, s.ttyNr)
		if len(rest) == 0 {
			break
		}
		for _, pid := range rest {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		proc.WaitGone(rest, time.Now().Add(2*time.Second))
	}
	if s.alive() {
		syscall.Kill(s.pid, syscall.SIGKILL)
	}
	// Processes that left the session (setsid, daemons) but still hold the
	// terminal were started from the pane too; the terminal is only ours to
	// look for while its master is open.
	s.ttyMu.Lock()
	var held []int
	if !s.ptmClosed {
		held = proc.TTYHolders(s.tty)
		for _, pid := range held {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	s.ttyMu.Unlock()
	proc.WaitGone(held, time.Now().Add(2*time.Second))
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
	}
	s.close()
}

// close stops the goroutines and closes the pty once the reader drained
// what the dead session left (bounded: an escaped process may hold the tty).
func (s *shell) close() {
	s.closeOnce.Do(func() {
		if s.alive() {
			s.signal()
			for _, pid := range proc.Session(s.pid, s.ttyNr) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			syscall.Kill(s.pid, syscall.SIGKILL)
			<-s.exited
		}
		select {
		case <-s.readerDone:
		case <-time.After(500 * time.Millisecond):
		}
		s.ttyMu.Lock()
		s.ptmClosed = true
		s.ptm.Close() // interrupts a pending Read: the master is pollable
		s.ttyMu.Unlock()
		<-s.readerDone
		s.stopOnce.Do(func() { close(s.stop) })
		<-s.responderDone
	})
}

// state copies the `export -p` file of the last prompt to a stable
// path and returns it with the cwd of that prompt.
func (s *shell) state() (dir, envFile string) {
	s.mu.Lock()
	n := s.lastN
	s.mu.Unlock()
	if b, err := os.ReadFile(statePath(s.stateDir, s.id, "pwd", n)); err == nil {
		dir = strings.TrimSuffix(string(b), "\n")
	}
	envFile = filepath.Join(s.stateDir, "pane-"+strconv.Itoa(s.id)+".env")
	src, err := os.Open(statePath(s.stateDir, s.id, "env", n))
	if err != nil {
		os.WriteFile(envFile, nil, 0o600)
		return dir, envFile
	}
	defer src.Close()
	dst, err := os.OpenFile(envFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return dir, ""
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return dir, ""
	}
	return dir, envFile
}

// writeRestore writes what a shell that takes over from this one sources
// at start: the exported variables and the lab's own ones, as of the last
// prompt.
func (s *shell) writeRestore(dst string) error {
	s.mu.Lock()
	n := s.lastN
	s.mu.Unlock()
	var all []byte
	for _, what := range []string{"env", "vars"} {
		b, err := os.ReadFile(statePath(s.stateDir, s.id, what, n))
		if err != nil && what == "env" {
			return err
		}
		all = append(all, b...)
	}
	return os.WriteFile(dst, all, 0o600)
}

// kill sends SIGKILL to every process of the session.
func (s *shell) kill() {
	for _, pid := range proc.Session(s.pid, s.ttyNr) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if s.alive() {
		syscall.Kill(s.pid, syscall.SIGKILL)
	}
}
