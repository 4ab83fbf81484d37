package golden

import "testing"

func TestDiff(t *testing.T) {
	tests := []struct{ name, a, b, want string }{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"changed line", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"@@ line 2\n  2\n  3\n  4\n- 5\n+ five\n  6\n  7\n  8\n"},
		{"added at end", "a\n", "a\nb\n", "@@ line 1\n  a\n+ b\n  \n"},
		{"invisible difference", "a\n", "a \n", "@@ line 1\n- a\n+ \"a \"\n  \n"},
		{"escape", "x\n", "\x1b[0mx\n", "@@ line 1\n- x\n+ \"\\x1b[0mx\"\n  \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(tt.a, tt.b); got != tt.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
