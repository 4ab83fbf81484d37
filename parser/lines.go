package parser

import (
	"strings"
)

// line is one source line after token substitution. Lines brought in by
// @@INCLUDE[...] keep the number of the line that included them, so every
// other position in the chapter stays true to the file on disk.
type line struct {
	text string
	num  int
	// included marks the text of an @@INCLUDE: a file the slide shows.
	included bool
}

// splitLines cuts src on '\n' (dropping a '\r' before it) and numbers the lines.
func splitLines(src []byte) []line {
	n := 1
	for _, c := range src {
		if c == '\n' {
			n++
		}
	}
	out := make([]line, 0, n)
	s := string(src)
	num := 1
	for {
		i := strings.IndexByte(s, '\n')
		var t string
		if i < 0 {
			t = s
		} else {
			t = s[:i]
		}
		t = strings.TrimSuffix(t, "\r")
		if i >= 0 || t != "" {
			out = append(out, line{text: t, num: num})
		}
		if i < 0 {
			break
		}
		s = s[i+1:]
		num++
	}
	return out
}

// fence is what a line that opens or closes a code fence looks like.
type fence struct {
	indent int    // bytes of leading spaces and tabs
	char   byte   // '`' or '~'
	n      int    // length of the run
	info   string // info string, trimmed (openers only)
	// trailing is true when the info string is followed by spaces or tabs:
	// "```bash  " renders, but lint flags it.
	trailing bool
}

func leadingBlanks(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// fenceOpen reports whether s opens a fenced code block. Unlike CommonMark
// (and like remark's lexer) any indentation is accepted: fences in list items
// inside labs sit at 2, 3 or more spaces. A backtick fence's info string may
// not contain a backtick, which keeps ```wait x``` one-liners from opening one.
func fenceOpen(s string) (fence, bool) {
	ind := leadingBlanks(s)
	if ind >= len(s) {
		return fence{}, false
	}
	c := s[ind]
	if c != '`' && c != '~' {
		return fence{}, false
	}
	j := ind
	for j < len(s) && s[j] == c {
		j++
	}
	n := j - ind
	if n < 3 {
		return fence{}, false
	}
	rest := s[j:]
	if c == '`' && strings.IndexByte(rest, '`') >= 0 {
		return fence{}, false
	}
	info := strings.TrimSpace(rest)
	trailing := info != "" && len(strings.TrimRight(rest, " \t")) < len(rest)
	return fence{indent: ind, char: c, n: n, info: info, trailing: trailing}, true
}

// fenceClose reports whether s can close a fence: blanks, a run of three or
// more backticks or tildes, blanks.
func fenceClose(s string) (fence, bool) {
	f, ok := fenceOpen(s)
	if !ok || f.info != "" {
		return fence{}, false
	}
	return f, true
}

// fenceLang is the language of an info string: its first word.
func fenceLang(info string) string {
	if i := strings.IndexAny(info, " \t{"); i >= 0 {
		return info[:i]
	}
	return info
}

// dedent removes the leading blanks common to every non-blank line, as a
// whole: relative indentation (YAML in heredocs) is kept, and so are TABs.
// Blank lines become empty; leading and trailing blank lines are dropped.
func dedent(ls []string) string {
	start, end := 0, len(ls)
	for start < end && strings.TrimSpace(ls[start]) == "" {
		start++
	}
	for end > start && strings.TrimSpace(ls[end-1]) == "" {
		end--
	}
	ls = ls[start:end]
	prefix := ""
	first := true
	for _, l := range ls {
		if strings.TrimSpace(l) == "" {
			continue
		}
		lead := l[:leadingBlanks(l)]
		if first {
			prefix, first = lead, false
			continue
		}
		k := 0
		for k < len(prefix) && k < len(lead) && prefix[k] == lead[k] {
			k++
		}
		prefix = prefix[:k]
	}
	var b strings.Builder
	for i, l := range ls {
		if i > 0 {
			b.WriteByte('\n')
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		b.WriteString(l[len(prefix):])
	}
	return b.String()
}

// countBrackets is the change in remark's content-class depth on a line: it
// counts raw '[' and ']' like remark does, in code and comments alike.
func countBrackets(s string) int {
	d := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			d++
		case ']':
			d--
		}
	}
	return d
}

// isLabOpener reports whether s is `.lab[` or `.exercise[` alone at column 0
// (trailing blanks allowed).
func isLabOpener(s string) bool {
	t := strings.TrimRight(s, " \t")
	return t == ".lab[" || t == ".exercise["
}
