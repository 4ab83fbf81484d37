package tmux

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hinshun/vt10x"
)

// vt10x's glyph attributes (unexported there).
const (
	attrReverse   = 1 << 0
	attrUnderline = 1 << 1
	attrBold      = 1 << 2
	attrItalic    = 1 << 4
	styleMask     = attrReverse | attrUnderline | attrBold | attrItalic
)

// cells copies the shell's screen and cursor under the emulator's lock.
func (s *shell) cells() (grid [][]vt10x.Glyph, cx, cy int) {
	s.term.Lock()
	defer s.term.Unlock()
	cols, rows := s.term.Size()
	grid = make([][]vt10x.Glyph, rows)
	for y := range rows {
		grid[y] = make([]vt10x.Glyph, cols)
		for x := range cols {
			grid[y][x] = s.term.Cell(x, y)
		}
	}
	c := s.term.Cursor()
	return grid, c.X, c.Y
}

// StyledScreen is the pane's screen with its colours and attributes as ANSI
// SGR sequences, one line per row, trailing blanks dropped: what a report
// shows as "the screen after the step".
func (p *Pane) StyledScreen() string {
	sh := p.shell()
	if sh == nil {
		return ""
	}
	grid, _, _ := sh.cells()
	return strings.Join(trimBlankRows(sgrRows(grid)), "\n")
}

// StyledWindow is the whole window as tmux draws it: every pane at its
// place, borders between them (the active pane's in green), in ANSI SGR.
func (m *Mux) StyledWindow() string {
	m.mu.Lock()
	cols, rows := m.opts.Cols, m.opts.Rows
	panes := append([]*Pane(nil), m.panes...)
	active := m.active
	m.mu.Unlock()
	if len(panes) == 1 {
		return panes[0].StyledScreen()
	}
	blank := vt10x.Glyph{Char: ' ', FG: vt10x.DefaultFG, BG: vt10x.DefaultBG}
	win := make([][]vt10x.Glyph, rows)
	for y := range win {
		win[y] = make([]vt10x.Glyph, cols)
		for x := range win[y] {
			win[y][x] = blank
		}
	}
	put := func(x, y int, g vt10x.Glyph) {
		if y >= 0 && y < rows && x >= 0 && x < cols {
			win[y][x] = g
		}
	}
	for _, p := range panes {
		sh := p.shell()
		if sh == nil {
			continue
		}
		px, py, pc, pr := p.Geometry()
		grid, _, _ := sh.cells()
		for y := 0; y < pr && y < len(grid); y++ {
			for x := 0; x < pc && x < len(grid[y]); x++ {
				put(px+x, py+y, grid[y][x])
			}
		}
		border := vt10x.Glyph{FG: vt10x.DefaultFG, BG: vt10x.DefaultBG}
		if p == active {
			border.FG = vt10x.Green
		}
		// tmux draws a border on the left of and above every pane not at
		// the window's edge.
		if px > 0 {
			for y := py - 1; y <= py+pr; y++ {
				border.Char = '│'
				if y == py-1 || y == py+pr {
					border.Char = '┼'
				}
				put(px-1, y, border)
			}
		}
		if py > 0 {
			for x := px; x < px+pc; x++ {
				border.Char = '─'
				put(x, py-1, border)
			}
		}
	}
	// Rows below every pane's text hold only borders: leave them out.
	for len(win) > 1 && bordersOnly(win[len(win)-1]) {
		win = win[:len(win)-1]
	}
	return strings.Join(trimBlankRows(sgrRows(win)), "\n")
}

func bordersOnly(row []vt10x.Glyph) bool {
	for _, g := range row {
		switch g.Char {
		case ' ', 0, '│', '─', '┼':
		default:
			return false
		}
	}
	return true
}

// sgrRows renders glyphs as text with the SGR sequences that reproduce their
// colours; each row starts and ends in the default style.
func sgrRows(grid [][]vt10x.Glyph) []string {
	out := make([]string, len(grid))
	for y, row := range grid {
		end := len(row)
		for end > 0 && plainBlank(row[end-1]) {
			end--
		}
		var b strings.Builder
		cur := vt10x.Glyph{FG: vt10x.DefaultFG, BG: vt10x.DefaultBG}
		for _, g := range row[:end] {
			g.Mode &= styleMask // the wrap flag is no style
			if g.FG != cur.FG || g.BG != cur.BG || g.Mode != cur.Mode {
				b.WriteString(sgr(g))
				cur = g
			}
			c := g.Char
			if c == 0 {
				c = ' '
			}
			b.WriteRune(c)
		}
		if cur.FG != vt10x.DefaultFG || cur.BG != vt10x.DefaultBG || cur.Mode != 0 {
			b.WriteString("\x1b[0m")
		}
		out[y] = b.String()
	}
	return out
}

func plainBlank(g vt10x.Glyph) bool {
	return (g.Char == ' ' || g.Char == 0) && g.BG == vt10x.DefaultBG && g.Mode&(attrReverse|attrUnderline) == 0
}

func trimBlankRows(rows []string) []string {
	for len(rows) > 0 && rows[len(rows)-1] == "" {
		rows = rows[:len(rows)-1]
	}
	return rows
}

// sgr is the sequence that sets g's style from scratch.
func sgr(g vt10x.Glyph) string {
	parts := []string{"0"}
	if g.Mode&attrBold != 0 {
		parts = append(parts, "1")
	}
	if g.Mode&attrItalic != 0 {
		parts = append(parts, "3")
	}
	if g.Mode&attrUnderline != 0 {
		parts = append(parts, "4")
	}
	if g.Mode&attrReverse != 0 {
		parts = append(parts, "7")
	}
	parts = append(parts, color(g.FG, "38")...)
	parts = append(parts, color(g.BG, "48")...)
	return "\x1b[" + strings.Join(parts, ";") + "m"
}

func color(c vt10x.Color, base string) []string {
	switch {
	case c == vt10x.DefaultFG || c == vt10x.DefaultBG || c == vt10x.DefaultCursor:
		return nil
	case c < 256:
		return []string{base, "5", strconv.Itoa(int(c))}
	case c < 1<<24:
		return []string{base, "2", strconv.Itoa(int(c >> 16 & 0xff)), strconv.Itoa(int(c >> 8 & 0xff)), strconv.Itoa(int(c & 0xff))}
	}
	return nil
}

// Recorder writes what each pane prints as an asciicast v2 file
// (asciinema's format): one file per chapter and pane, with the real
// timings, "r" events when a split resizes a pane, and "m" markers at each
// step. Give its Tap to Options.Tap.
type Recorder struct {
	dir string

	mu      sync.Mutex
	mux     *Mux
	prefix  string
	casts   map[int]*cast // by pane id
	files   []string
	err     error
	stopped bool
}

type cast struct {
	f          *os.File
	w          *bufio.Writer
	start      time.Time
	cols, rows int
}

// NewRecorder records into dir, which it creates.
func NewRecorder(dir string) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return &Recorder{dir: dir, casts: map[int]*cast{}}, nil
}

// Chapter closes the casts of the previous chapter and starts one per pane
// of m for the chapter called name, each opening on the pane's screen as it
// is, so that every cast plays on its own.
func (r *Recorder) Chapter(m *Mux, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
	r.prefix = name
	r.mux = m
	for _, p := range m.Panes() {
		sh := p.shell()
		if sh == nil {
			continue
		}
		grid, cx, cy := sh.cells()
		rows := len(grid)
		cols := 0
		if rows > 0 {
			cols = len(grid[0])
		}
		c, err := r.openLocked(p.id, cols, rows)
		if err != nil {
			return err
		}
		var b strings.Builder
		b.WriteString("\x1b[H\x1b[2J")
		for y, line := range sgrRows(grid) {
			if line != "" {
				fmt.Fprintf(&b, "\x1b[%d;1H%s", y+1, line)
			}
		}
		fmt.Fprintf(&b, "\x1b[%d;%dH", cy+1, cx+1)
		r.eventLocked(c, "o", b.String())
	}
	return r.err
}

// Tap receives what pane id printed (markers stripped), at size cols×rows.
func (r *Recorder) Tap(id, cols, rows int, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.prefix == "" {
		return
	}
	c := r.casts[id]
	if c == nil {
		var err error
		if c, err = r.openLocked(id, cols, rows); err != nil {
			return
		}
	}
	if c.cols != cols || c.rows != rows {
		c.cols, c.rows = cols, rows
		r.eventLocked(c, "r", fmt.Sprintf("%dx%d", cols, rows))
	}
	r.eventLocked(c, "o", string(b))
}

// Marker adds a marker event (asciinema players list them as chapters of
// the recording) to every open cast.
// A pane resized by a split says so first, even if it printed nothing since.
func (r *Recorder) Marker(label string) {
	r.mu.Lock()
	m := r.mux
	r.mu.Unlock()
	type size struct{ cols, rows int }
	sizes := map[int]size{}
	if m != nil {
		for _, p := range m.Panes() {
			c, rw := p.Size()
			sizes[p.id] = size{c, rw}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, c := range r.casts {
		if sz, ok := sizes[id]; ok && (sz.cols != c.cols || sz.rows != c.rows) {
			c.cols, c.rows = sz.cols, sz.rows
			r.eventLocked(c, "r", fmt.Sprintf("%dx%d", sz.cols, sz.rows))
		}
		r.eventLocked(c, "m", label)
	}
}

// Close finishes every cast; it returns the first error met while recording.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
	r.stopped = true
	return r.err
}

func (r *Recorder) openLocked(id, cols, rows int) (*cast, error) {
	name := filepath.Join(r.dir, fmt.Sprintf("%s.pane%d.cast", r.prefix, id))
	f, err := os.Create(name)
	if err != nil {
		r.err = errors.Join(r.err, fmt.Errorf("recording: %w", err))
		return nil, err
	}
	c := &cast{f: f, w: bufio.NewWriter(f), start: time.Now(), cols: cols, rows: rows}
	hdr, _ := json.Marshal(map[string]any{
		"version": 2, "width": cols, "height": rows, "timestamp": c.start.Unix(),
		"env": map[string]string{"TERM": "xterm-256color", "SHELL": "/bin/bash"},
	})
	c.w.Write(hdr)
	c.w.WriteByte('\n')
	r.casts[id] = c
	r.files = append(r.files, name)
	return c, nil
}

func (r *Recorder) eventLocked(c *cast, kind, data string) {
	t := time.Since(c.start).Seconds()
	ev, _ := json.Marshal([]any{json.Number(strconv.FormatFloat(t, 'f', 6, 64)), kind, data})
	c.w.Write(ev)
	c.w.WriteByte('\n')
}

func (r *Recorder) closeLocked() {
	for id, c := range r.casts {
		if err := c.w.Flush(); err != nil {
			r.err = errors.Join(r.err, fmt.Errorf("recording: %w", err))
		}
		if err := c.f.Close(); err != nil {
			r.err = errors.Join(r.err, fmt.Errorf("recording: %w", err))
		}
		delete(r.casts, id)
	}
}

// Quick turns the typing delay off (on) or back on (off): labs replayed
// only to build state (--prepare) are typed at full speed.
func (m *Mux) Quick(on bool) { m.quick.Store(on) }
