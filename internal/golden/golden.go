// Package golden compares test output with files under testdata/, and
// rewrites them when the tests run with -update. A mismatch shows a line
// diff with context, so a reviewer sees what changed, not just where.
package golden

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update is a test flag, as in every golden-file helper: `go test ./pkg -update`.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Check compares got with testdata/name, or rewrites that file under -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	if string(got) == string(want) {
		return
	}
	t.Errorf("the output differs from %s (- golden, + output; run the tests with -update if the change is intended):\n%s",
		path, Diff(string(want), string(got)))
}

// Diff is a line diff of a against b in the unified style: "-" lines only in
// a, "+" lines only in b, and up to three unchanged lines around each change,
// with "@@ line N" where a hunk starts in a. Lines show quoted when they hold
// control characters or trailing spaces, which would be invisible otherwise.
func Diff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
		at   int // line number in a (1-based) of this line or the next one
	}
	var ops []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, line{' ', x[i], i + 1})
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, line{'+', y[j], i + 1})
			j++
		default:
			ops = append(ops, line{'-', x[i], i + 1})
			i++
		}
	}
	const context = 3
	keep := make([]bool, len(ops))
	for k, op := range ops {
		if op.op == ' ' {
			continue
		}
		for c := max(0, k-context); c <= min(len(ops)-1, k+context); c++ {
			keep[c] = true
		}
	}
	var out strings.Builder
	for k, op := range ops {
		if !keep[k] {
			continue
		}
		if k == 0 || !keep[k-1] {
			fmt.Fprintf(&out, "@@ line %d\n", op.at)
		}
		out.WriteByte(op.op)
		out.WriteByte(' ')
		out.WriteString(show(op.text))
		out.WriteByte('\n')
	}
	return out.String()
}

// show quotes a line whose difference could be invisible.
func show(s string) string {
	if strings.TrimRight(s, " \t") != s || strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 && r != '\t' || r == 0x7f
	}) {
		return fmt.Sprintf("%q", s)
	}
	return s
}
