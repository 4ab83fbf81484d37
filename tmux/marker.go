package tmux

import (
	"bytes"
	"strconv"
	"strings"
)

// The shell announces its state with OSC sequences that carry this prefix.
// The reader removes them before the emulator sees the stream, so they never
// show on a screen, and finds them even when a read splits one in two.
const markerPrefix = "\x1b]7770;labrun;"

// A marker longer than this is not one of ours: give its bytes to the screen.
const maxMarker = 256

type markerKind byte

const (
	markPromptStart markerKind = 'A' // PS1 begins: the command's output ended
	markPrompt      markerKind = 'P' // PS1 drawn: n is the prompt counter, status the last $?
	markExec        markerKind = 'X' // PS0: a complete command line starts executing
	markCont        markerKind = 'C' // PS2: the shell wants more lines
)

type marker struct {
	kind      markerKind
	n, status int
}

// markerParser splits a byte stream into text and markers. It keeps the
// unfinished tail of a read (a possible marker start) for the next one.
type markerParser struct {
	carry []byte
}

// parse calls text and mark in stream order.
func (mp *markerParser) parse(data []byte, text func([]byte), mark func(marker)) {
	buf := data
	if len(mp.carry) > 0 {
		buf = append(mp.carry, data...)
		mp.carry = nil
	}
	for len(buf) > 0 {
		j := bytes.Index(buf, []byte(markerPrefix))
		if j < 0 {
			keep := partialPrefix(buf)
			if len(buf)-keep > 0 {
				text(buf[:len(buf)-keep])
			}
			if keep > 0 {
				mp.carry = append([]byte(nil), buf[len(buf)-keep:]...)
			}
			return
		}
		if j > 0 {
			text(buf[:j])
		}
		rest := buf[j+len(markerPrefix):]
		k := bytes.IndexByte(rest, '\a')
		if k < 0 {
			if len(rest) < maxMarker {
				mp.carry = append([]byte(nil), buf[j:]...)
				return
			}
			text(buf[j : j+1])
			buf = buf[j+1:]
			continue
		}
		if m, ok := parseMarker(string(rest[:k])); ok {
			mark(m)
		}
		buf = rest[k+1:]
	}
}

// partialPrefix returns the length of the longest suffix of b that is a
// proper prefix of markerPrefix.
func partialPrefix(b []byte) int {
	n := len(markerPrefix) - 1
	if n > len(b) {
		n = len(b)
	}
	for ; n > 0; n-- {
		if bytes.HasPrefix([]byte(markerPrefix), b[len(b)-n:]) {
			return n
		}
	}
	return 0
}

func parseMarker(payload string) (marker, bool) {
	f := strings.Split(payload, ";")
	if len(f[0]) != 1 {
		return marker{}, false
	}
	m := marker{kind: markerKind(f[0][0])}
	switch m.kind {
	case markPromptStart, markExec, markCont:
		return m, len(f) == 1
	case markPrompt:
		if len(f) != 3 {
			return marker{}, false
		}
		var err1, err2 error
		m.n, err1 = strconv.Atoi(f[1])
		m.status, err2 = strconv.Atoi(f[2])
		return m, err1 == nil && err2 == nil
	}
	return marker{}, false
}
