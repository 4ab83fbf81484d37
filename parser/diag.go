package parser

import (
	"fmt"
	"strings"
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
	b.WriteByte('\n')
	b.WriteString(d.Source)
	b.WriteByte('\n')
	col := max(d.Pos.Col, 1)
	for i := 0; i < col-1 && i < len(d.Source); i++ {
		if d.Source[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	for i := len(d.Source); i < col-1; i++ {
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
