package match

import (
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/labrun/labrun/internal/text"
)

// Result explains a comparison: whether it passed, which expected lines were
// not found and a diff a person can read.
type Result struct {
	OK bool
	// ExpectError is true when the expected text shows an error: the command
	// is expected to exit non-zero.
	ExpectError bool
	// Missing holds the indexes (into Expected) of the expected lines that
	// found no match, in order.
	Missing []int
	// Diff is a compact unified-style diff of Expected against Actual:
	// "- " expected and not found, "+ " actual and unmatched, "  " matched.
	// It is "" when OK.
	Diff string
	// Expected and Actual are the normalised lines compared, one per line of
	// the inputs (trailing blank lines dropped), so indexes are line numbers
	// minus one.
	Expected, Actual []string
	// Explanation says in one line why the comparison failed; "" when OK.
	Explanation string
}

const (
	diffContext  = 3  // unchanged lines kept around each missing line
	diffMaxLines = 60 // cap on the whole diff
)

var (
	elisionLine   = regexp.MustCompile(`^(?:\.\.\.|\[\.\.\.\]|…)$`)
	elisionInline = regexp.MustCompile(`\[\.\.\.\]|\.\.\.|…`)
)

// pattern is one expected line ready for matching.
type pattern struct {
	text   string         // normalised
	tokens string         // text's tokens joined by single spaces
	re     *regexp.Regexp // set when the line holds inline elisions
	skip   bool           // blank or a whole-line elision
}

// matches reports whether the pattern matches an actual line given as its
// tokens joined by single spaces.
func (p pattern) matches(actualTokens string) bool {
	if p.re != nil {
		return p.re.MatchString(actualTokens)
	}
	return p.tokens == actualTokens
}

// tokens joins the whitespace-separated tokens of s with single spaces, so
// that column widths never matter.
func tokens(s string) string { return strings.Join(strings.Fields(s), " ") }

// compilePattern turns a normalised expected line into a pattern. Inline
// elisions become "any text"; an elision between two spaces may also stand
// for nothing ("a ... b" matches "a b").
func compilePattern(norm string) pattern {
	t := tokens(norm)
	p := pattern{text: norm, tokens: t}
	if t == "" || elisionLine.MatchString(t) {
		p.skip = true
		return p
	}
	if !elisionInline.MatchString(t) {
		return p
	}
	pieces := elisionInline.Split(t, -1)
	var b strings.Builder
	b.WriteString("^")
	for i, piece := range pieces {
		if i > 0 {
			prevSpace := strings.HasSuffix(pieces[i-1], " ")
			nextSpace := strings.HasPrefix(piece, " ")
			switch {
			case prevSpace:
				b.WriteString("(?: .*)?")
			case i == 1 && pieces[0] == "" && nextSpace:
				b.WriteString("(?:.* )?")
				piece = piece[1:]
			default:
				b.WriteString(".*")
			}
		}
		if i+1 < len(pieces) {
			piece = strings.TrimSuffix(piece, " ")
		}
		b.WriteString(regexp.QuoteMeta(piece))
	}
	b.WriteString("$")
	// QuoteMeta output with our fixed fragments always compiles.
	p.re = regexp.MustCompile(b.String())
	return p
}

// Match compares the expected output of a slide with the actual output of a
// command after normalising both (see the package documentation). Every
// non-blank expected line must match an actual line, in order; extra actual
// lines are allowed.
func Match(expected, actual string) Result {
	res := Result{ExpectError: ExpectsError(expected)}
	expLines := trimTrailingBlank(splitLines(expected))
	actLines := trimTrailingBlank(splitLines(actual))

	pats := make([]pattern, len(expLines))
	res.Expected = make([]string, len(expLines))
	for i, l := range expLines {
		res.Expected[i] = Normalize(l)
		pats[i] = compilePattern(res.Expected[i])
	}
	res.Actual = make([]string, len(actLines))
	actTokens := make([]string, len(actLines))
	for i, l := range actLines {
		res.Actual[i] = Normalize(l)
		actTokens[i] = tokens(res.Actual[i])
	}

	// Greedy earliest match: for a subsequence test with per-line
	// predicates, taking the first possible actual line is never worse.
	matchedAt := make([]int, len(pats)) // actual index, or -1
	cursor := 0
	lastMatch := -1
	firstMiss, firstMissAfter := -1, -1
	for i, p := range pats {
		matchedAt[i] = -1
		if p.skip {
			continue
		}
		found := -1
		for j := cursor; j < len(res.Actual); j++ {
			if p.matches(actTokens[j]) {
				found = j
				break
			}
		}
		if found < 0 {
			res.Missing = append(res.Missing, i)
			if firstMiss < 0 {
				firstMiss, firstMissAfter = i, lastMatch
			}
			continue
		}
		matchedAt[i] = found
		cursor = found + 1
		lastMatch = found
	}
	res.OK = len(res.Missing) == 0
	if res.OK {
		return res
	}
	res.Explanation = explain(res, firstMiss, firstMissAfter)
	res.Diff = renderDiff(res, pats, matchedAt)
	return res
}

// explain writes the one-line reason for a failed comparison.
func explain(res Result, miss, after int) string {
	var b strings.Builder
	nonBlank := 0
	for _, a := range res.Actual {
		if strings.TrimSpace(a) != "" {
			nonBlank++
		}
	}
	exp := tokens(res.Expected[miss])
	switch {
	case nonBlank == 0:
		fmt.Fprintf(&b, "expected line %d %q not found: the command printed nothing", miss+1, exp)
	case after < 0:
		fmt.Fprintf(&b, "expected line %d %q not found in the actual output", miss+1, exp)
	default:
		fmt.Fprintf(&b, "expected line %d %q not found after actual line %d", miss+1, exp, after+1)
	}
	if j := closest(res.Expected[miss], res.Actual, after+1); j >= 0 {
		fmt.Fprintf(&b, "; closest is actual line %d %q", j+1, tokens(res.Actual[j]))
	}
	if more := len(res.Missing) - 1; more > 0 {
		fmt.Fprintf(&b, " (%s missing)", text.Plural(more, "more expected line"))
	}
	if !res.ExpectError {
		for _, a := range res.Actual {
			if ExpectsError(a) {
				fmt.Fprintf(&b, "; the output shows an error: %q", tokens(a))
				break
			}
		}
	}
	return b.String()
}

// closest finds the actual line from index from on that shares the most
// tokens with exp, if it shares at least half of them.
func closest(exp string, actual []string, from int) int {
	want := strings.Fields(exp)
	if len(want) == 0 {
		return -1
	}
	best, bestScore := -1, 0.0
	for j := from; j < len(actual); j++ {
		got := strings.Fields(actual[j])
		if len(got) == 0 {
			continue
		}
		counts := make(map[string]int, len(got))
		for _, g := range got {
			counts[g]++
		}
		shared := 0
		for _, w := range want {
			if counts[w] > 0 {
				counts[w]--
				shared++
			}
		}
		score := float64(shared) / float64(max(len(want), len(got)))
		if score > bestScore {
			best, bestScore = j, score
		}
	}
	if bestScore < 0.5 {
		return -1
	}
	return best
}

type diffLine struct {
	prefix string // "- ", "+ ", "  "
	text   string
}

// renderDiff interleaves expected and actual lines: missing expected lines
// go where they were searched for, before the unmatched actual lines that
// follow. Only the neighbourhood of missing lines is shown.
func renderDiff(res Result, pats []pattern, matchedAt []int) string {
	var lines []diffLine
	next := 0 // next actual line not yet shown
	for i, p := range pats {
		if p.skip {
			continue
		}
		j := matchedAt[i]
		if j < 0 {
			lines = append(lines, diffLine{"- ", res.Expected[i]})
			continue
		}
		for ; next < j; next++ {
			lines = append(lines, diffLine{"+ ", res.Actual[next]})
		}
		lines = append(lines, diffLine{"  ", res.Actual[j]})
		next = j + 1
	}
	for ; next < len(res.Actual); next++ {
		lines = append(lines, diffLine{"+ ", res.Actual[next]})
	}

	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.prefix != "- " {
			continue
		}
		for k := max(0, i-diffContext); k <= min(len(lines)-1, i+diffContext); k++ {
			keep[k] = true
		}
	}
	var b strings.Builder
	written, omitted := 0, 0
	flush := func() {
		if omitted > 0 {
			fmt.Fprintf(&b, "@@ %s omitted @@\n", text.Plural(omitted, "line"))
			written++
			omitted = 0
		}
	}
	for i, l := range lines {
		if !keep[i] {
			omitted++
			continue
		}
		if written >= diffMaxLines {
			rest := 0
			for k := i; k < len(lines); k++ {
				if keep[k] {
					rest++
				}
			}
			flush()
			fmt.Fprintf(&b, "@@ diff truncated: %s @@\n", text.Plural(rest, "more line"))
			return align(b.String())
		}
		flush()
		b.WriteString(l.prefix + strings.ReplaceAll(strings.TrimRight(l.text, " "), "   ", "\t"))
		b.WriteByte('\n')
		written++
	}
	flush()
	return align(b.String())
}

// align lines up the cells of consecutive table lines (cells are separated
// by tabs at this point), so that the diff of a table reads like a table.
func align(s string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 1, 3, ' ', 0)
	// Writes to a strings.Builder cannot fail.
	_, _ = w.Write([]byte(s))
	_ = w.Flush()
	lines := strings.SplitAfter(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \n")
	}
	return strings.Join(lines, "\n")
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func trimTrailingBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
