package tmux

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hinshun/vt10x"
)

// playCast feeds an asciicast v2 file through a fresh emulator, as a player
// would, and returns its final styled and plain screens and its markers.
func playCast(t *testing.T, path string) (styled, plain string, markers []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	if !sc.Scan() {
		t.Fatalf("%s: empty", path)
	}
	var hdr struct {
		Version   int   `json:"version"`
		Timestamp int64 `json:"timestamp"`
	}
	if err := json.Unmarshal(sc.Bytes(), &hdr); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	var raw map[string]any
	json.Unmarshal(sc.Bytes(), &raw)
	if hdr.Version != 2 || raw["width"] == nil || raw["height"] == nil || hdr.Timestamp == 0 {
		t.Fatalf("%s: header %s is not asciicast v2", path, sc.Bytes())
	}
	w, h := int(raw["width"].(float64)), int(raw["height"].(float64))
	term := vt10x.New(vt10x.WithSize(w, h))
	last := 0.0
	line := 1
	for sc.Scan() {
		line++
		var ev []any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 3 {
			t.Fatalf("%s:%d: not an event: %s", path, line, sc.Bytes())
		}
		ts, _ := ev[0].(float64)
		if ts < last {
			t.Fatalf("%s:%d: time goes backwards (%v < %v)", path, line, ts, last)
		}
		last = ts
		data, _ := ev[2].(string)
		switch ev[1] {
		case "o":
			term.Write([]byte(data))
		case "r":
			var c, r int
			if _, err := fmt.Sscanf(data, "%dx%d", &c, &r); err != nil {
				t.Fatalf("%s:%d: bad resize %q", path, line, data)
			}
			term.Resize(c, r)
		case "m":
			markers = append(markers, data)
		default:
			t.Fatalf("%s:%d: unknown event type %v", path, line, ev[1])
		}
	}
	sh := &shell{term: term}
	grid, _, _ := sh.cells()
	plain, _ = sh.screen()
	return strings.Join(trimBlankRows(sgrRows(grid)), "\n"), plain, markers
}

// A cast replayed through the emulator gives the screen the run saw, with
// its colours, for a plain pane, a split one, and a chapter's second cast
// that starts from a screen already drawn.
func TestRecordReplaysToSameScreen(t *testing.T) {
	dir := t.TempDir()
	rec, err := NewRecorder(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := newMux(t, Options{Cols: 60, Rows: 12, Tap: rec.Tap})
	if err := rec.Chapter(m, "one"); err != nil {
		t.Fatal(err)
	}
	p0 := m.Active()
	rec.Marker("step 1")
	run(t, p0, `printf '\e[31mred\e[0m \e[1;44mbold on blue\e[0m \e[38;5;208morange\e[0m\n'; seq 1 5`)
	styled := p0.StyledScreen()
	for _, sgr := range []string{"\x1b[0;38;5;1mred", "\x1b[0;1;48;5;4mbold", "\x1b[0;38;5;208morange"} {
		if !strings.Contains(styled, sgr) {
			t.Errorf("styled screen lacks %q:\n%q", sgr, styled)
		}
	}
	run(t, p0, "seq 6 15")
	ctx := testCtx(t)
	if err := m.Command(ctx, "split-pane -h"); err != nil {
		t.Fatal(err)
	}
	rec.Marker("step 2")
	p1 := m.Active()
	run(t, p1, `printf '\e[32mright pane\e[0m\n'`)
	if err := rec.Chapter(m, "two"); err != nil {
		t.Fatal(err)
	}
	rec.Marker("step 3")
	run(t, p0, `echo second chapter`)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	files := rec.Files()
	want := []string{"one.pane0.cast", "one.pane1.cast", "two.pane0.cast", "two.pane1.cast"}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("casts %v, want %v", got, want)
	}
	cases := []struct {
		file    string
		pane    *Pane
		markers string
	}{
		{"two.pane0.cast", p0, "step 3"},
		{"two.pane1.cast", p1, "step 3"},
		{"one.pane1.cast", p1, "step 2"},
	}
	for _, c := range cases {
		styled, plain, markers := playCast(t, filepath.Join(dir, c.file))
		if plain != c.pane.Screen() {
			t.Errorf("%s replays to\n%s\nbut the pane shows\n%s", c.file, plain, c.pane.Screen())
		}
		if styled != c.pane.StyledScreen() {
			t.Errorf("%s replays to styled\n%q\nbut the pane shows\n%q", c.file, styled, c.pane.StyledScreen())
		}
		if strings.Join(markers, ",") != c.markers {
			t.Errorf("%s: markers %v, want %s", c.file, markers, c.markers)
		}
	}
	// The first chapter's pane 0 was resized by the split: its cast says so.
	b, _ := os.ReadFile(filepath.Join(dir, "one.pane0.cast"))
	if !strings.Contains(string(b), `"r","30x12"`) && !strings.Contains(string(b), `"r","29x12"`) {
		t.Errorf("one.pane0.cast has no resize event for the split:\n%s", b)
	}
}

// The window view lays panes out as tmux does, with a border between them.
func TestStyledWindowBorders(t *testing.T) {
	m := newMux(t, Options{Cols: 41, Rows: 10})
	run(t, m.Active(), "echo left")
	if err := m.Command(testCtx(t), "split-pane -h"); err != nil {
		t.Fatal(err)
	}
	run(t, m.Active(), "right")
	win := m.StyledWindow()
	lines := strings.Split(win, "\n")
	if len(lines) < 3 {
		t.Fatalf("window:\n%s", win)
	}
	_, _, lc, _ := m.Panes()[0].Geometry()
	for i, l := range lines[:3] {
		plain := stripSGR(l)
		r := []rune(plain)
		if len(r) <= lc || r[lc] != '│' {
			t.Errorf("line %d %q: no border at column %d", i, plain, lc)
		}
	}
	if !strings.Contains(stripSGR(win), "echo left") || !strings.Contains(stripSGR(win), "right") {
		t.Errorf("window lacks a pane:\n%s", stripSGR(win))
	}
}

func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Quick types at full speed despite TypeDelay: the typed line reaches the
// terminal in a few writes rather than one per character.
func TestQuickTyping(t *testing.T) {
	const line = "echo abcdefghijklmnopqrstuvwxyz"
	var mu sync.Mutex
	chunks := 0
	counting := false
	m := newMux(t, Options{TypeDelay: 10 * time.Millisecond, Tap: func(_, _, _ int, b []byte) {
		mu.Lock()
		defer mu.Unlock()
		if counting {
			chunks++
		}
	}})
	count := func(quick bool) int {
		m.Quick(quick)
		mu.Lock()
		chunks, counting = 0, true
		mu.Unlock()
		run(t, m.Active(), line)
		mu.Lock()
		defer mu.Unlock()
		counting = false
		return chunks
	}
	if n := count(false); n < len(line)/2 {
		t.Errorf("with a typing delay the line came in %d writes, want about one per character", n)
	}
	if n := count(true); n >= len(line)/2 {
		t.Errorf("with Quick the line came in %d writes, want a few", n)
	}
}
