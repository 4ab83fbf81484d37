package parser

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Format prints the diagnostic the way compilers do, so editors can jump to
// it and people see the culprit:
//
//	file:line:col: severity: message
//	the source line
//	        ^
//
// The caret line copies the TABs of the source so it lines up.
func (d Diagnostic) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s", d.Pos, d.Severity, d.Message)
	if d.Source == "" {
		return b.String()
	}
	src, col := window(d.Source, max(d.Pos.Col, 1))
	b.WriteByte('\n')
	b.WriteString(src)
	b.WriteByte('\n')
	for i := 0; i < col-1 && i < len(src); i++ {
		if src[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	for i := len(src); i < col-1; i++ {
		b.WriteByte(' ')
	}
	b.WriteByte('^')
	return b.String()
}

func (d Diagnostic) String() string { return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Message) }

// HasErrors reports whether any diagnostic is an error (warnings do not
// fail a lint).
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// maxSource bounds the source shown under a diagnostic: a 40,000-character
// line (a generated or hostile file) is cut to the part around the column.
const maxSource = 160

// window cuts a long line to maxSource bytes around col, marked with "…"
// where cut, and returns the column within the cut line.
func window(src string, col int) (string, int) {
	if len(src) <= maxSource {
		return src, col
	}
	start := max(0, min(col-1-maxSource/2, len(src)-maxSource))
	for start > 0 && !utf8.RuneStart(src[start]) {
		start--
	}
	end := min(len(src), start+maxSource)
	for end < len(src) && !utf8.RuneStart(src[end]) {
		end++
	}
	out, c := src[start:end], col-start
	if start > 0 {
		out, c = "…"+out, c+len("…")
	}
	if end < len(src) {
		out += "…"
	}
	return out, c
}
