// Package text holds the small string helpers several of labrun's packages
// need, so each exists once: removing terminal escapes from pane output,
// plurals and first lines. It imports nothing of labrun's, so any package
// may use it without breaking the import direction.
package text

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Strip removes what would corrupt a terminal, a CI log or an XML file from
// text that came from a pane: escape sequences (CSI, OSC, DCS, APC, PM,
// charset designations and two-byte ones) and control characters other than
// newline and tab, C1 controls included. Invalid UTF-8 becomes U+FFFD.
// Carriage returns are dropped, not rendered: tmux renders a pane's lines.
func Strip(s string) string {
	if !needsStripping(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += EscapeLen(s[i:])
			continue
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case isControl(r):
			// dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

func needsStripping(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if isControl(r) && r != '\n' && r != '\t' {
			return true
		}
	}
	return false
}

// EscapeLen is the length in bytes of the escape sequence at the start of s,
// which starts with ESC: CSI runs to a final byte in @–~; OSC, DCS, APC and
// PM run to BEL or ESC \; charset designations take one byte more; anything
// else is two bytes. An unterminated sequence runs to the end of s. It takes
// bytes too, so a terminal's stream is read without copying.
func EscapeLen[T string | []byte](s T) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return len(s)
	case ']', 'P', '_', '^':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	case '(', ')', '*', '+', '#':
		return min(3, len(s))
	}
	return 2
}

// Plural is "1 lab", "2 labs": n and the word, with an s unless n is 1.
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// FirstLine is s up to its first newline.
func FirstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// ShellQuote quotes s for bash as one word.
func ShellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// RandomSuffix is n random bytes in hex, for names that must not collide
// with an earlier run's (clusters, namespaces).
func RandomSuffix(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
