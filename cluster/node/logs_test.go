package node

import (
	"testing"
	"time"
)

// wroteSince tells output an attach just missed from older output, a
// partial line (a shell's prompt) by when it came, also once flushed.
func TestLogWroteSince(t *testing.T) {
	l := newLogBuf()
	if l.wroteSince(time.Time{}) {
		t.Error("an empty log wrote something")
	}
	_, _ = l.Write([]byte("hello\n/ # "))
	mark := time.Now()
	if !l.wroteSince(mark.Add(-time.Second)) {
		t.Error("output a moment ago is not seen")
	}
	if l.wroteSince(mark.Add(time.Millisecond)) {
		t.Error("output before t counts as written since t")
	}
	l.close() // flushes the prompt, stamped when it came
	if l.wroteSince(mark.Add(time.Millisecond)) {
		t.Error("the flushed partial line got the close's time")
	}
	if lines, closed, _ := l.snapshot(0); len(lines) != 2 || string(lines[1].b) != "/ # " || !closed {
		t.Errorf("log after close: %d lines, closed %v", len(lines), closed)
	}
}
