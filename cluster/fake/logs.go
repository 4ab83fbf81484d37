package fake

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	closed  bool
	notify  chan struct{}
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
		l.appendLine(time.Now(), l.partial)
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

// handleLog serves pods/NAME/log with container, follow, tailLines,
// sinceSeconds, sinceTime, timestamps, previous and limitBytes.
func (s *Server) handleLog(w http.ResponseWriter, r *http.Request, req request) error {
	obj, err := s.store.get(req.res, req.ns, req.name)
	if err != nil {
		return err
	}
	pod := obj.(*corev1.Pod)
	q := r.URL.Query()
	container := q.Get("container")
	if container == "" {
		switch {
		case len(pod.Spec.Containers) == 1:
			container = pod.Spec.Containers[0].Name
		default:
			var names []string
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			for _, c := range pod.Spec.InitContainers {
				names = append(names, c.Name)
			}
			return apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names))
		}
	}
	known := false
	for _, c := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		known = known || c.Name == container
	}
	if !known {
		return apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, pod.Name))
	}
	follow := q.Get("follow") == "true"
	timestamps := q.Get("timestamps") == "true"
	previous := q.Get("previous") == "true"
	tail := int64(-1)
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("tailLines: Invalid value: %q", v))
		}
		tail = n
	}
	var since time.Time
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return apierrors.NewBadRequest(fmt.Sprintf("sinceSeconds: Invalid value: %q: must be greater than 0", v))
		}
		since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("sinceTime: Invalid value: %q", v))
		}
		since = t
	}
	limit := int64(-1)
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return apierrors.NewBadRequest(fmt.Sprintf("limitBytes: Invalid value: %q: must be greater than 0", v))
		}
		limit = n
	}
	buf, err := s.kubelet.logFor(pod, container, previous)
	if err != nil {
		return err
	}
	if previous {
		follow = false
	}
	lines, closed, notify := buf.snapshot(0)
	next := len(lines)
	if !since.IsZero() {
		i := 0
		for i < len(lines) && lines[i].t.Before(since) {
			i++
		}
		lines = lines[i:]
	}
	if tail >= 0 && int64(len(lines)) > tail {
		lines = lines[int64(len(lines))-tail:]
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	written := int64(0)
	write := func(ls []logLine) bool {
		var out bytes.Buffer
		for _, l := range ls {
			if timestamps {
				out.WriteString(l.t.UTC().Format(time.RFC3339Nano))
				out.WriteByte(' ')
			}
			out.Write(l.b)
		}
		b := out.Bytes()
		if limit >= 0 && written+int64(len(b)) > limit {
			b = b[:limit-written]
		}
		written += int64(len(b))
		if _, err := w.Write(b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return limit < 0 || written < limit
	}
	if !write(lines) || !follow {
		return nil
	}
	ctx := r.Context()
	for !closed {
		select {
		case <-notify:
		case <-ctx.Done():
			return nil
		case <-s.ctx.Done():
			return nil
		}
		lines, closed, notify = buf.snapshot(next)
		next += len(lines)
		if len(lines) > 0 && !write(lines) {
			return nil
		}
	}
	return nil
}
