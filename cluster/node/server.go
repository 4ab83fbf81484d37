package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
)

// The kubelet API, as the API server proxies to it (pods/log, pods/exec,
// pods/attach, pods/portforward) on the node's daemon endpoint. The
// streams (SPDY from the API server, which translates kubectl's websockets)
// are served by upstream's own server code, k8s.io/cri-streaming.

const (
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
)

func (a *Agent) serve() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /pods", a.handlePods)
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", a.handleLogs)
	for _, p := range []string{"/exec/{ns}/{pod}/{container}", "/exec/{ns}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, a.handleExec)
	}
	for _, p := range []string{"/attach/{ns}/{pod}/{container}", "/attach/{ns}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, a.handleAttach)
	}
	for _, p := range []string{"/portForward/{ns}/{pod}", "/portForward/{ns}/{pod}/{uid}"} {
		mux.HandleFunc(p, a.handlePortForward)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.opts.ServingCert.Certificate != nil {
		cfg.Certificates = []tls.Certificate{a.opts.ServingCert}
	}
	if a.opts.ClientCAs != nil {
		cfg.ClientCAs = a.opts.ClientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	a.srv = &http.Server{Handler: mux, TLSConfig: cfg, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: nil, BaseContext: func(net.Listener) context.Context { return context.Background() }}
	ln := a.ln
	if cfg.Certificates != nil {
		ln = tls.NewListener(a.ln, cfg)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logf("kubelet API: %v", err)
		}
	}()
}

func (a *Agent) handlePods(w http.ResponseWriter, _ *http.Request) {
	k := a.kubelet
	k.mu.Lock()
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
	for _, pw := range k.workers {
		list.Items = append(list.Items, *pw.pod)
	}
	k.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

// container finds a pod's container from the request's path.
func (a *Agent) container(r *http.Request) (*containerRun, error) {
	ns, name, cname := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	pw := a.kubelet.podByName(ns, name, types.UID(r.PathValue("uid")))
	if pw == nil {
		return nil, fmt.Errorf("pod %q not found", name)
	}
	c := pw.container(cname)
	if c == nil {
		return nil, fmt.Errorf("container %q not found in pod %q", cname, name)
	}
	return c, nil
}

// handleLogs serves a container's log with follow, tailLines,
// sinceSeconds, sinceTime, timestamps, previous and limitBytes.
func (a *Agent) handleLogs(w http.ResponseWriter, r *http.Request) {
	c, err := a.container(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	bad := func(msg string) { http.Error(w, msg, http.StatusBadRequest) }
	follow := q.Get("follow") == "true"
	timestamps := q.Get("timestamps") == "true"
	previous := q.Get("previous") == "true"
	tail := int64(-1)
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad(fmt.Sprintf("tailLines: Invalid value: %q", v))
			return
		}
		tail = n
	}
	var since time.Time
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad(fmt.Sprintf("sinceSeconds: Invalid value: %q: must be greater than 0", v))
			return
		}
		since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			bad(fmt.Sprintf("sinceTime: Invalid value: %q", v))
			return
		}
		since = t
	}
	limit := int64(-1)
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad(fmt.Sprintf("limitBytes: Invalid value: %q: must be greater than 0", v))
			return
		}
		limit = n
	}
	cur, prev := c.logs()
	buf := cur
	if previous {
		buf, follow = prev, false
		if buf == nil {
			bad(fmt.Sprintf("previous terminated container %q in pod %q not found", c.spec.Name, c.w.pod.Name))
			return
		}
	}
	if buf == nil {
		bad(fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", c.spec.Name, c.w.pod.Name))
		return
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
		return
	}
	ctx := r.Context()
	for !closed {
		select {
		case <-notify:
		case <-ctx.Done():
			return
		case <-c.w.ctx.Done():
			return
		}
		lines, closed, notify = buf.snapshot(next)
		next += len(lines)
		if len(lines) > 0 && !write(lines) {
			return
		}
	}
}

func (a *Agent) handleExec(w http.ResponseWriter, r *http.Request) {
	c, err := a.container(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !running(c) {
		notRunning(w, fmt.Sprintf("container not found (%q)", c.spec.Name))
		return
	}
	cmd := r.URL.Query()["command"]
	remotecommand.ServeExec(w, r, runtime{a}, c.w.pod.Name, string(c.w.pod.UID), c.spec.Name, cmd, opts,
		streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (a *Agent) handleAttach(w http.ResponseWriter, r *http.Request) {
	c, err := a.container(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !running(c) {
		notRunning(w, fmt.Sprintf("container %s not found in pod %s_%s", c.spec.Name, c.w.pod.Name, c.w.pod.Namespace))
		return
	}
	remotecommand.ServeAttach(w, r, runtime{a}, c.w.pod.Name, string(c.w.pod.UID), c.spec.Name, opts,
		streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// running says whether a container has an instance that has not ended:
// the kubelet execs and attaches only into a container its runtime lists as
// running.
func running(c *containerRun) bool {
	inst := c.instance()
	return inst != nil && !ended(inst)
}

// ended says whether an instance has exited, though its container's
// status may not say so yet: a process is reaped some 50 ms before done
// closes, while its terminal's last output drains into the log.
func ended(inst instance) bool {
	select {
	case <-inst.done():
		return true
	default:
	}
	if p, ok := inst.(*procInstance); ok {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.reaped
	}
	return false
}

// notRunning answers an exec or attach into a container that has ended as
// the kubelet does, with its message and status 500, before any upgrade:
// kubectl run -it then shows the container's log instead ("couldn't attach
// to pod/x, falling back to streaming logs"), where an attach that joined
// after the output would show nothing.
func notRunning(w http.ResponseWriter, msg string) {
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, msg)
}

func (a *Agent) handlePortForward(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("pod")
	pw := a.kubelet.podByName(ns, name, types.UID(r.PathValue("uid")))
	if pw == nil {
		http.Error(w, fmt.Sprintf("pod %q not found", name), http.StatusNotFound)
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, runtime{a}, ns+"/"+name, string(pw.pod.UID), opts,
		streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

// runtime adapts the agent to the streaming server's interfaces.
type runtime struct{ a *Agent }

func (rt runtime) find(podName, uid, container string) (*containerRun, error) {
	pw := rt.a.kubelet.worker(types.UID(uid))
	if pw == nil {
		return nil, fmt.Errorf("pod %q not found", podName)
	}
	c := pw.container(container)
	if c == nil {
		return nil, fmt.Errorf("container %q not found in pod %q", container, podName)
	}
	return c, nil
}

func (rt runtime) ExecInContainer(ctx context.Context, name, uid, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	c, err := rt.find(name, uid, container)
	if err != nil {
		return err
	}
	var o, e io.Writer
	if out != nil {
		o = out
	}
	if errw != nil {
		e = errw
	}
	return c.exec(ctx, cmd, in, o, e, tty, resize)
}

func (rt runtime) AttachContainer(ctx context.Context, name, uid, container string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	c, err := rt.find(name, uid, container)
	if err != nil {
		return err
	}
	c.w.mu.Lock()
	inst, log := c.inst, c.cur
	c.w.mu.Unlock()
	if inst == nil || ended(inst) {
		// It ended since the request came: kubectl falls back to the log.
		return fmt.Errorf("container %s is not running", container)
	}
	var shown atomic.Bool
	var o, e io.Writer
	if out != nil {
		o = shownWriter{out, &shown}
	}
	if errw != nil {
		e = shownWriter{errw, &shown}
	}
	if !c.spec.Stdin {
		in = nil
	}
	joined := time.Now()
	if err := inst.attach(ctx, in, o, e, resize); err != nil {
		return err
	}
	if ctx.Err() == nil && !shown.Load() && log != nil && log.wroteSince(joined.Add(-missedBy)) {
		// It printed a moment before the attach joined, then ended: a
		// kubelet whose relist saw it end would have had kubectl read
		// its log rather than attach. So kubectl does (run -it falls
		// back to the log on an attach error), not showing nothing.
		return fmt.Errorf("container %s ended right after its output, before the attach could show it", container)
	}
	return nil
}

// missedBy is how long before an attach joined a container's output counts
// as just missed: about a kubelet's relist period.
const missedBy = time.Second

// shownWriter notes that something went to the attached client.
type shownWriter struct {
	w     io.Writer
	shown *atomic.Bool
}

func (s shownWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		s.shown.Store(true)
	}
	return s.w.Write(p)
}

func (rt runtime) PortForward(ctx context.Context, name, uid string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	pw := rt.a.kubelet.worker(types.UID(uid))
	if pw == nil {
		return fmt.Errorf("pod %q not found", name)
	}
	var conn net.Conn
	var err error
	if rt.a.opts.Dial != nil {
		conn, err = rt.a.opts.Dial(ctx, pw.pod, port)
	} else {
		conn, err = rt.a.dialPod(ctx, pw.podIP, int(port))
	}
	if err != nil {
		return fmt.Errorf("failed to connect to localhost:%d inside namespace %q: %w", port, strings.TrimSuffix(name, "/"+pw.pod.Name), err)
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(conn, stream); done <- struct{}{} }()
	go func() { _, _ = io.Copy(stream, conn); done <- struct{}{} }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}
