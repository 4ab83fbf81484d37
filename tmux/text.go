package tmux

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/labrun/labrun/internal/text"
)

// ringBuf keeps the last max bytes written to it, so a command printing
// megabytes costs bounded memory while the reader keeps draining the pty.
type ringBuf struct {
	max     int
	buf     []byte
	dropped int64
}

func (r *ringBuf) Write(p []byte) {
	r.buf = append(r.buf, p...)
	if len(r.buf) > 2*r.max {
		cut := len(r.buf) - r.max
		r.dropped += int64(cut)
		r.buf = append(r.buf[:0], r.buf[cut:]...)
	}
}

func (r *ringBuf) Reset() {
	r.buf = r.buf[:0]
	if cap(r.buf) > 4*r.max { // do not pin a flood's memory
		r.buf = nil
	}
	r.dropped = 0
}

// Text renders what was kept as plain text, noting what was dropped.
func (r *ringBuf) Text() string {
	b := r.buf
	dropped := r.dropped
	if len(b) > r.max {
		dropped += int64(len(b) - r.max)
		b = b[len(b)-r.max:]
	}
	s := plainText(b)
	if dropped > 0 {
		s = fmt.Sprintf("[labrun: %d earlier bytes of output not kept]\n", dropped) + s
	}
	return s
}

// plainText removes terminal escape sequences and renders carriage returns
// and backspaces the way they show on a line, so "50%\r100%" reads "100%".
func plainText(b []byte) string {
	var out strings.Builder
	out.Grow(len(b))
	line := make([]rune, 0, 128)
	col := 0
	flush := func() {
		out.WriteString(strings.TrimRight(string(line), " "))
		out.WriteByte('\n')
		line = line[:0]
		col = 0
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == 0x1b:
			i = skipEscape(b, i)
			continue
		case c == '\n':
			flush()
		case c == '\r':
			col = 0
		case c == '\b':
			if col > 0 {
				col--
			}
		case c == '\t':
			next := (col/8 + 1) * 8
			for col < next {
				putRune(&line, col, ' ')
				col++
			}
		case c < 0x20 || c == 0x7f:
			// other control characters do not print
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				i++
				continue
			}
			putRune(&line, col, r)
			col++
			i += size
			continue
		}
		i++
	}
	if len(line) > 0 {
		out.WriteString(strings.TrimRight(string(line), " "))
	}
	return out.String()
}

func putRune(line *[]rune, col int, r rune) {
	for len(*line) <= col {
		*line = append(*line, ' ')
	}
	(*line)[col] = r
}

// skipEscape returns the index after the escape sequence starting at b[i].
func skipEscape(b []byte, i int) int { return i + text.EscapeLen(b[i:]) }
