package tmux

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestKeyBytes(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"^C", "\x03"}, {"C-c", "\x03"}, {"c-C", "\x03"}, {"^c", "\x03"},
		{"^D", "\x04"}, {"^J", "\n"}, {"^M", "\r"}, {"^[", "\x1b"}, {"C-[", "\x1b"},
		{"^\\", "\x1c"}, {"^?", "\x7f"}, {"^@", "\x00"}, {"C-Space", "\x00"}, {"^Z", "\x1a"},
		{"M-x", "\x1bx"}, {"M-Enter", "\x1b\r"}, {"C-M-x", "\x1b\x18"}, {"M-Up", "\x1b\x1b[A"},
		{"Escape", "\x1b"}, {"escape", "\x1b"}, {"Space", " "}, {"Enter", "\r"}, {"Tab", "\t"},
		{"BTab", "\x1b[Z"}, {"BSpace", "\x7f"},
		{"Up", "\x1b[A"}, {"Down", "\x1b[B"}, {"Right", "\x1b[C"}, {"Left", "\x1b[D"},
		{"Home", "\x1b[H"}, {"End", "\x1b[F"},
		{"PageUp", "\x1b[5~"}, {"PPage", "\x1b[5~"}, {"PageDown", "\x1b[6~"}, {"NPage", "\x1b[6~"},
		{"IC", "\x1b[2~"}, {"Insert", "\x1b[2~"}, {"DC", "\x1b[3~"}, {"Delete", "\x1b[3~"},
		{"F1", "\x1bOP"}, {"F4", "\x1bOS"}, {"F5", "\x1b[15~"}, {"F12", "\x1b[24~"},
		{"q", "q"}, {":", ":"}, {"é", "é"}, {"^", "^"}, {"C", "C"},
	}
	for _, tt := range tests {
		got, err := KeyBytes(tt.name)
		if err != nil || string(got) != tt.want {
			t.Errorf("KeyBytes(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "F13", "Foo", "C-", "^", "^1", "C-xy", "M-", "Ctrl-C", "wq", "\xff"} {
		if bad == "^" {
			continue // a single character is itself
		}
		_, err := KeyBytes(bad)
		var uk *UnknownKeyError
		if !errors.As(err, &uk) || uk.Name != bad {
			t.Errorf("KeyBytes(%q) err = %v, want *UnknownKeyError", bad, err)
		}
	}
}

func TestAppCursor(t *testing.T) {
	if got := string(appCursor([]byte("\x1b[A"))); got != "\x1bOA" {
		t.Errorf("Up in app mode = %q", got)
	}
	if got := string(appCursor([]byte("\x1b[5~"))); got != "\x1b[5~" {
		t.Errorf("PageUp changed: %q", got)
	}
}

// The marker parser finds markers however the stream is cut into reads.
func TestMarkerParserSplits(t *testing.T) {
	stream := "out\x1b[1mput\x1b]7770;labrun;X\a" + "line\r\n" +
		"\x1b]7770;labrun;A\a[node1] ~$ \x1b]7770;labrun;P;12;130\a" +
		"\x1b]0;a title\a\x1b]7770;labrun;C\a> \x1b]7770;labrun;bogus\a" + "tail\x1b]77"
	want := []string{"T:out\x1b[1mput", "M:X0,0", "T:line\r\n", "M:A0,0", "T:[node1] ~$ ", "M:P12,130", "T:\x1b]0;a title\a", "M:C0,0", "T:> tail"} // an unknown marker of ours is dropped
	for size := 1; size <= len(stream); size++ {
		var mp markerParser
		var got []string
		text := func(b []byte) {
			if n := len(got); n > 0 && strings.HasPrefix(got[n-1], "T:") {
				got[n-1] += string(b)
				return
			}
			got = append(got, "T:"+string(b))
		}
		mark := func(m marker) { got = append(got, "M:"+string(m.kind)+strconv.Itoa(m.n)+","+strconv.Itoa(m.status)) }
		for i := 0; i < len(stream); i += size {
			mp.parse([]byte(stream[i:min(i+size, len(stream))]), text, mark)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read size %d:\n got %q\nwant %q", size, got, want)
		}
		if string(mp.carry) != "\x1b]77" {
			t.Fatalf("read size %d: carry %q", size, mp.carry)
		}
	}
}

func TestMarkerParserGivesUpOnLongStrings(t *testing.T) {
	var mp markerParser
	var text strings.Builder
	long := "\x1b]7770;labrun;" + strings.Repeat("x", 300) + "more"
	mp.parse([]byte(long), func(b []byte) { text.Write(b) }, func(marker) { t.Error("marker") })
	if text.String() != long || len(mp.carry) != 0 {
		t.Errorf("text %d bytes, carry %q", text.Len(), mp.carry)
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\r\n", "plain\n"},
		{"a\x1b[31mred\x1b[0m b\n", "ared b\n"},
		{"50%\r100%\n", "100%\n"},
		{"abcdef\rXY\n", "XYcdef\n"},
		{"ab\bX\n", "aX\n"},
		{"\x1b]0;title\aafter\n", "after\n"},
		{"\x1b(Bcharset\n", "charset\n"},
		{"a\tb\n", "a       b\n"},
		{"no newline", "no newline"},
		{"trailing   \n", "trailing\n"},
		{"\x1b[?1049h\x1b[Hscreen\x1b[?1049l", "screen"},
		{"bad \xff utf8\n", "bad  utf8\n"},
	}
	for _, tt := range tests {
		if got := plainText([]byte(tt.in)); got != tt.want {
			t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRingBuf(t *testing.T) {
	r := ringBuf{max: 10}
	for i := 0; i < 7; i++ {
		r.Write([]byte("abcd\n"))
	}
	got := r.Text()
	if !strings.HasPrefix(got, "[labrun: 25 earlier bytes") || !strings.HasSuffix(got, "d\nabcd\n") {
		t.Errorf("Text = %q", got)
	}
	if len(r.buf) > 20 {
		t.Errorf("kept %d bytes", len(r.buf))
	}
	r.Reset()
	if r.Text() != "" {
		t.Errorf("after Reset: %q", r.Text())
	}
}

func TestSplitSizes(t *testing.T) {
	tests := []struct{ total, want, old, new int }{
		{40, 0, 20, 19}, {19, 0, 9, 9}, {120, 0, 60, 59}, {3, 0, 1, 1}, {40, 10, 29, 10}, {40, 100, 1, 38},
	}
	for _, tt := range tests {
		o, n, err := splitSizes(tt.total, tt.want)
		if err != nil || o != tt.old || n != tt.new {
			t.Errorf("splitSizes(%d, %d) = %d, %d, %v; want %d, %d", tt.total, tt.want, o, n, err, tt.old, tt.new)
		}
	}
	if _, _, err := splitSizes(2, 0); err == nil {
		t.Errorf("a 2-cell pane split without error")
	}
}
