package node

import (
	"bytes"
	"sync"
	"time"
)

// maxLogBytes bounds one container instance's log; older lines go first.
const maxLogBytes = 8 << 20

type logLine struct {
	t time.Time
	b []byte // one line with its newline (the last may lack it)
}

// logBuf is the log of one container instance: its stdout and stderr split
// into lines, each stamped with its arrival time. Readers follow it by
// waiting on notify, which is closed and replaced at each change.
type logBuf struct {
	mu      sync.Mutex
	lines   []logLine
	size    int
	partial []byte
	// partialAt is when partial last grew.
	partialAt time.Time
	closed    bool
	notify    chan struct{}
}

func newLogBuf() *logBuf { return &logBuf{notify: make(chan struct{})} }

// Write splits p into lines; a trailing partial line waits for the rest.
func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	data := append(l.partial, p...)
	l.partial = nil
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		l.appendLine(now, data[:i+1])
		data = data[i+1:]
	}
	if len(data) > 0 {
		l.partial = append([]byte(nil), data...)
		l.partialAt = now
	}
	l.wake()
	return len(p), nil
}

func (l *logBuf) appendLine(t time.Time, b []byte) {
	l.lines = append(l.lines, logLine{t: t, b: append([]byte(nil), b...)})
	l.size += len(b)
	for l.size > maxLogBytes && len(l.lines) > 1 {
		l.size -= len(l.lines[0].b)
		l.lines = l.lines[1:]
	}
}

func (l *logBuf) wake() {
	close(l.notify)
	l.notify = make(chan struct{})
}

// close flushes a partial last line and ends followers.
func (l *logBuf) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if len(l.partial) > 0 {
		l.appendLine(l.partialAt, l.partial) // stamped when it came
		l.partial = nil
	}
	l.closed = true
	l.wake()
}

// snapshot returns lines from index i, whether the log is closed, and the
// channel to wait on for more.
func (l *logBuf) snapshot(i int) ([]logLine, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i > len(l.lines) {
		i = len(l.lines)
	}
	return append([]logLine(nil), l.lines[i:]...), l.closed, l.notify
}

// wroteSince says whether the log got output at or after t.
func (l *logBuf) wroteSince(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 && !l.partialAt.Before(t) {
		return true
	}
	return len(l.lines) > 0 && !l.lines[len(l.lines)-1].t.Before(t)
}
