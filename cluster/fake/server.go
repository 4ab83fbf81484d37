// Package fake is labrun's built-in Kubernetes cluster: an in-process API
// server that unmodified kubectl (1.27 to 1.33) talks to over HTTPS, with
// controllers (Deployments with rolling updates, ReplicaSets, DaemonSets,
// StatefulSets, both with ControllerRevisions, Jobs, CronJobs, Service
// endpoints, namespace deletion, background, foreground and orphan garbage
// collection), a scheduler and a simulated kubelet that runs each
// container as a local process (see images.go for the image catalogue).
//
// Objects are the real k8s.io/api types, bodies are decoded with the
// apimachinery codecs (JSON, YAML and protobuf) and errors are metav1.Status
// with kube-apiserver's wording, so kubectl prints what a real cluster makes
// it print.
package fake

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labrun/labrun/cluster/busybox"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// Options configure a fake cluster.
type Options struct {
	// Dir is an existing directory for the kubeconfig, the CA, the busybox
	// links and the containers' scratch directories.
	Dir string
	// Nodes is the number of nodes, named node1..nodeN; 0 means 3.
	Nodes int
	// Seed makes generated names (pod suffixes, ReplicaSet hashes, uids,
	// IPs) reproducible; 0 picks a random seed.
	Seed int64
	// Version is the gitVersion /version reports; "" means v1.32.4. The
	// gcloud kubectl dispatcher picks its kubectl binary from it.
	Version string
	// Log receives a line per request and diagnostics; nil discards them.
	Log io.Writer
	// BusyboxExe implements the busybox applets by argv[0]; "" means
	// os.Executable().
	BusyboxExe string
}

// Server is a running fake cluster. It implements cluster.Cluster.
type Server struct {
	opts       Options
	reg        *registry
	codecs     serializer.CodecFactory
	jsonSer    *kjson.Serializer
	store      *store
	creds      *credentials
	ln         net.Listener
	httpSrv    *http.Server
	url        string
	kubeconfig string
	nodes      []string
	binDir     string
	started    time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	rngMu sync.Mutex
	rng   *rand.Rand
	// nameRng only draws generated name suffixes, so that the same API
	// calls give the same names with a Seed, whatever the kubelet's
	// goroutines draw meanwhile from rng.
	nameMu  sync.Mutex
	nameRng *rand.Rand

	logMu sync.Mutex

	kubelet    *kubelet
	eventsMu   sync.Mutex
	eventNames map[string]string
	ipam       *ipam
	ctrl       *controllers

	panicMu sync.Mutex
	panics  []string

	closeOnce sync.Once
	closeErr  error

	// bookmarkEvery (nanoseconds) is how often a watch that allows
	// bookmarks gets one; tests shorten it.
	bookmarkEvery atomic.Int64
}

// maxBody is kube-apiserver's request body limit (3 MiB).
const maxBody = 3 << 20

// Start starts a fake cluster listening on a random port of 127.0.0.1 and
// writes Dir/kubeconfig. ctx bounds the start-up only; Close stops it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("fake cluster: Options.Dir is required")
	}
	if st, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("fake cluster: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("fake cluster: Dir %q is not a directory", opts.Dir)
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.Version == "" {
		opts.Version = "v1.32.4"
	}
	if _, _, err := parseVersion(opts.Version); err != nil {
		return nil, fmt.Errorf("fake cluster: %w", err)
	}
	if opts.BusyboxExe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("fake cluster: find busybox executable: %w", err)
		}
		opts.BusyboxExe = exe
	}
	seed := opts.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	reg, err := newRegistry()
	if err != nil {
		return nil, err
	}
	creds, err := newCredentials()
	if err != nil {
		return nil, fmt.Errorf("fake cluster: %w", err)
	}
	binDir := filepath.Join(opts.Dir, "busybox-bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("fake cluster: %w", err)
	}
	if err := busybox.Install(binDir, opts.BusyboxExe); err != nil {
		return nil, fmt.Errorf("fake cluster: install busybox applets: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "containers"), 0o755); err != nil {
		return nil, fmt.Errorf("fake cluster: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake cluster: listen: %w", err)
	}
	s := &Server{
		opts:       opts,
		reg:        reg,
		codecs:     serializer.NewCodecFactory(reg.scheme),
		jsonSer:    kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, reg.scheme, reg.scheme, kjson.SerializerOptions{}),
		store:      newStore(),
		creds:      creds,
		ln:         ln,
		url:        "https://" + ln.Addr().String(),
		binDir:     binDir,
		started:    time.Now(),
		rng:        rand.New(rand.NewSource(seed)),
		nameRng:    rand.New(rand.NewSource(seed ^ 0x5eed)),
		ipam:       newIPAM(),
		eventNames: map[string]string{},
	}
	s.bookmarkEvery.Store(int64(defaultBookmarkEvery))
	for i := 1; i <= opts.Nodes; i++ {
		s.nodes = append(s.nodes, fmt.Sprintf("node%d", i))
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.kubeconfig, err = creds.writeKubeconfig(opts.Dir, s.url)
	if err != nil {
		ln.Close()
		s.cancel()
		return nil, fmt.Errorf("fake cluster: %w", err)
	}
	if err := s.seedObjects(); err != nil {
		ln.Close()
		s.cancel()
		return nil, fmt.Errorf("fake cluster: %w", err)
	}
	s.kubelet = newKubelet(s)
	s.ctrl = newControllers(s)
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(logWriter{s}, "", 0),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{creds.cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		},
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.ctrl.run(s.ctx)
	}()
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("serve: %v", err)
		}
	}()
	s.logf("fake cluster %s at %s (seed %d)", opts.Version, s.url, seed)
	return s, nil
}

// URL is the server's base URL, https://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// Kubeconfig is the path of the kubeconfig that reaches the server.
func (s *Server) Kubeconfig() string { return s.kubeconfig }

// Nodes are the node names, node1 first.
func (s *Server) Nodes() []string { return append([]string(nil), s.nodes...) }

// NodeAddress maps a known node to 127.0.0.1, the machine where every
// node's containers run (Services and NodePorts are not proxied).
func (s *Server) NodeAddress(node string) string {
	for _, n := range s.nodes {
		if n == node {
			return "127.0.0.1"
		}
	}
	return ""
}

// Close stops the server, the controllers and every container process
// (TERM to each process group, then KILL), and waits for its goroutines.
// It is safe to call more than once.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.cancel()
		shutCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.httpSrv.Shutdown(shutCtx); err != nil {
			s.httpSrv.Close()
		}
		s.kubelet.shutdown(ctx)
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.closeErr = fmt.Errorf("fake cluster: close: %w", ctx.Err())
		}
	})
	return s.closeErr
}

// Panics returns the handler panics recovered so far (each with its stack),
// so that tests can fail on them.
func (s *Server) Panics() []string {
	s.panicMu.Lock()
	defer s.panicMu.Unlock()
	return append([]string(nil), s.panics...)
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Log == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.opts.Log, "%s fake: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// randString returns n characters from Kubernetes' name alphabet (no
// vowels, no confusable digits), like rand.String in apimachinery.
func (s *Server) randString(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	s.nameMu.Lock()
	defer s.nameMu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.nameRng.Intn(len(alphabet))]
	}
	return string(b)
}

// randUID returns a version-4 UUID from the seeded generator.
func (s *Server) randUID() string {
	s.rngMu.Lock()
	b := make([]byte, 16)
	s.rng.Read(b)
	s.rngMu.Unlock()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) randIntn(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Intn(n)
}

// ServeHTTP authenticates, limits the body, recovers panics into a 500
// Status (recorded for Panics) and routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			msg := fmt.Sprintf("%s %s: panic: %v\n%s", r.Method, r.URL, p, debug.Stack())
			s.panicMu.Lock()
			s.panics = append(s.panics, msg)
			s.panicMu.Unlock()
			s.logf("%s", msg)
			if !rw.wrote {
				s.writeError(rw, r, internalError(fmt.Errorf("%v", p)))
			}
		}
		s.logf("%s %s %d %s (%s)", r.Method, r.URL.RequestURI(), rw.code, time.Since(start).Round(time.Millisecond), r.UserAgent())
	}()
	if !s.authorized(r) {
		s.writeError(rw, r, unauthorized())
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(rw, r.Body, maxBody)
	}
	s.route(rw, r)
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.creds.token)) == 1
}

// statusWriter remembers the status code for the request log and whether
// anything was written (a panic after that cannot send a Status).
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code = http.StatusOK
		w.wrote = true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// scheme is a shorthand for the registry's scheme.
func (s *Server) scheme() *runtime.Scheme { return s.reg.scheme }

// logWriter sends net/http's own messages (TLS handshake errors of
// clients that give up) to Options.Log instead of stderr.
type logWriter struct{ s *Server }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.logf("http: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
