package text

import "testing"

func TestStrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\ttext\n", "plain\ttext\n"},
		{"\x1b[1;31mred\x1b[0m", "red"},
		{"a\r\nb", "a\nb"},
		{"\x1b]0;title\x07x", "x"},
		{"\x1b]8;;http://x\x1b\\link", "link"},
		{"\x1bPq#0;2;0;0;0\x1b\\after", "after"},
		{"\x1b(Bascii", "ascii"},
		{"\x1b=keypad", "keypad"},
		{"bell\x07 back\b", "bell back"},
		{"c1 \u009b controls", "c1  controls"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"unterminated \x1b[12", "unterminated "},
		{"lone \x1b", "lone "},
		{"é → ✓", "é → ✓"},
	}
	for _, tt := range tests {
		if got := Strip(tt.in); got != tt.want {
			t.Errorf("Strip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0 labs"}, {1, "1 lab"}, {2, "2 labs"}, {12, "12 labs"}, {-1, "-1 labs"}} {
		if got := Plural(tt.n, "lab"); got != tt.want {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFirstLine(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "a\nb": "a", "\nb": ""} {
		if got := FirstLine(in); got != want {
			t.Errorf("FirstLine(%q) = %q, want %q", in, got, want)
		}
	}
}
