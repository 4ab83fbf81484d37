package executor

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/labrun/labrun/executor/match"
	"github.com/labrun/labrun/report"
)

// An Edit rewrites one expected-output block from what a run saw.
type Edit struct {
	File      string
	Line      int // the block's opening fence
	Old, New  string
	StepFile  string
	StepLine  int
	fenceBody [2]int // body lines [from, to) in the file, 0-based
	indent    string
}

// Diff shows the edit as a unified diff of the block.
func (e Edit) Diff() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s:%d (expected output of the step at %s:%d)\n", e.File, e.Line, e.StepFile, e.StepLine)
	for _, l := range strings.SplitAfter(strings.TrimSuffix(e.Old, "\n"), "\n") {
		b.WriteString("-" + e.indent + strings.TrimSuffix(l, "\n") + "\n")
	}
	for _, l := range strings.SplitAfter(strings.TrimSuffix(e.New, "\n"), "\n") {
		b.WriteString("+" + e.indent + strings.TrimSuffix(l, "\n") + "\n")
	}
	return b.String()
}

// PlanUpdates finds the expected-output blocks of run's failed steps that
// failed on their output (not on an exit status or a timeout) and works out
// their new text; nothing is written.
func PlanUpdates(run *report.Run) ([]Edit, error) {
	var edits []Edit
	seen := map[string]bool{}
	for _, ch := range run.Chapters {
		for _, lab := range ch.Labs {
			for _, st := range lab.Steps {
				if st.Status != report.Failed || st.Diff == "" || st.ExpectedFile == "" {
					continue
				}
				key := fmt.Sprintf("%s:%d", st.ExpectedFile, st.ExpectedLine)
				if seen[key] {
					continue
				}
				seen[key] = true
				newText, changed := match.Update(st.Expected, st.Actual)
				if !changed {
					continue
				}
				e, err := locateBlock(st.ExpectedFile, st.ExpectedLine)
				if err != nil {
					return nil, err
				}
				e.New, e.StepFile, e.StepLine = newText, st.File, st.Line
				edits = append(edits, e)
			}
		}
	}
	return edits, nil
}

// locateBlock finds the body of the fence that opens at line of file.
func locateBlock(file string, line int) (Edit, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Edit{}, err
	}
	lines := strings.SplitAfter(string(data), "\n")
	if line < 1 || line > len(lines) {
		return Edit{}, fmt.Errorf("%s:%d: no such line (was the file changed during the run?)", file, line)
	}
	open := strings.TrimRight(lines[line-1], "\r\n")
	trimmed := strings.TrimLeft(open, " ")
	indent := open[:len(open)-len(trimmed)]
	fence := trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`~"))]
	if len(fence) < 3 {
		return Edit{}, fmt.Errorf("%s:%d: no code fence here (was the file changed during the run?)", file, line)
	}
	for i := line; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, fence) && strings.Trim(l, fence[:1]) == "" {
			var old strings.Builder
			for _, b := range lines[line:i] {
				old.WriteString(strings.TrimPrefix(b, indent))
			}
			return Edit{File: file, Line: line, Old: old.String(), fenceBody: [2]int{line, i}, indent: indent}, nil
		}
	}
	return Edit{}, fmt.Errorf("%s:%d: the fence is never closed", file, line)
}

// ApplyUpdates writes the edits into their files, touching nothing but the
// blocks' bodies. Each file is rewritten whole or not at all.
func ApplyUpdates(edits []Edit) error {
	byFile := map[string][]Edit{}
	for _, e := range edits {
		byFile[e.File] = append(byFile[e.File], e)
	}
	for file, es := range byFile {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		fi, err := os.Stat(file)
		if err != nil {
			return err
		}
		lines := strings.SplitAfter(string(data), "\n")
		// From the bottom up, so earlier line numbers stay right.
		sort.Slice(es, func(a, b int) bool { return es[a].Line > es[b].Line })
		for _, e := range es {
			var body []string
			for _, l := range strings.SplitAfter(strings.TrimSuffix(e.New, "\n"), "\n") {
				l = strings.TrimSuffix(l, "\n")
				if l == "" {
					body = append(body, "\n")
				} else {
					body = append(body, e.indent+l+"\n")
				}
			}
			tail := append([]string(nil), lines[e.fenceBody[1]:]...)
			lines = append(append(lines[:e.fenceBody[0]], body...), tail...)
		}
		var out bytes.Buffer
		for _, l := range lines {
			out.WriteString(l)
		}
		tmp := file + ".labrun-update"
		if err := os.WriteFile(tmp, out.Bytes(), fi.Mode().Perm()); err != nil {
			return err
		}
		if err := os.Rename(tmp, file); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}
