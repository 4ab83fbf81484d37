// Package images gives the workshop's images a behaviour without pulling
// them: a container whose image is in the table below runs in-process,
// listening on its pod's IP, logging what the real image logs and answering
// what the real image answers. The node agent asks Builtin for a container's
// behaviour; nil means the container's command line runs as a process.
//
// The table (Table holds the same rows, for the README and the tests):
//
//	image                     does                                  ports     log lines / answers
//	nginx                     web server                            80        entrypoint and [notice] lines, then one
//	                                                                          access-log line per request; GET /
//	                                                                          answers nginx's default page, others 404
//	jpetazzo/color            web server named after its pod         $PORT|80  "Starting HTTP server (linux/amd64)
//	                                                                          listening on port 80."; a page "This is
//	                                                                          pod NS/POD on linux/amd64, serving URL for
//	                                                                          ADDR." coloured by the pod name's prefix
//	alpine, busybox, nixery,  a shell: sh with stdin (kubectl run    -         without stdin, exits at once with 0
//	archlinux, ubuntu, …      -ti), exits at once without
//	dockercoins/rng           random bytes, one request at a time   80        GET /N → N random bytes after 0.1 s;
//	                                                                          GET / → "RNG running on POD";
//	                                                                          v0.2 is broken: exits 1 at once
//	dockercoins/hasher        SHA-256 of the body                   80        POST / → hex digest after 0.1 s;
//	                                                                          GET / → "HASHER running on POD"
//	dockercoins/worker        mines: rng → hasher → redis           -         "INFO:__main__:N units of work done,
//	                                                                          updating hash counter" every second;
//	                                                                          v0.2 works 11 times slower
//	dockercoins/webui         the miner's web page and counters     80        "WEBUI running on port 80"; /json →
//	                                                                          {"coins":…,"hashes":…,"now":…}
//	redis                     key-value server (RESP)               6379      redis's start-up lines; strings, counters,
//	                                                                          hashes, lists, keys, PING, INFO
//	jpetazzo/clock            prints the date every second          -         "Wed Dec  2 02:17:12 UTC 2026"
//	jpetazzo/httpenv          its environment as JSON               8888      "Starting httpenv listening on port 8888."
//	registry                  the registry's v2 API, empty          5000 or   /v2/ → {}; /v2/_catalog →
//	                                                                REGISTRY_ {"repositories":[]}
//	                                                                HTTP_ADDR
//	traefik, ingress-nginx    ingress controller pods               80, 443,  their start-up lines; 404 on paths no
//	                                                                8080      Ingress routes (routing is the cluster's)
//	coredns/coredns           kube-system's DNS pods                8080,8181 CoreDNS's start-up lines; /health, /ready
//	kubernetesui/dashboard    the dashboard: HTTPS with             8443 or   a page titled "Kubernetes Dashboard"
//	                          --auto-generate-certificates, else    9090
//	                          plain HTTP
//	anything else             idles                                 declared  "labrun: image X is simulated …"; a plain
//	                                                                          page naming the image on each port
//
// A container is Ready (without a readiness probe) once it listens on its
// ports: see Container.Listening.
//
// Tags: dockercoins' images exist only with the tags their publisher lists
// (tags.go); a pod naming another gets ErrImagePull then ImagePullBackOff.
// Every tag of every other image is taken to exist.
//
// Images that take arguments to an entrypoint (nginx, redis, traefik, the
// ingress-nginx controller, the dashboard, the registry) keep their
// behaviour when args are given; for the others, args are a command line and
// Builtin returns nil so that the node runs it.
package images

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labrun/labrun/cluster/network/loopback"
)

// Container is what the node agent knows of a container when it starts it.
type Container struct {
	Image     string
	Args      []string // the spec's args (the spec has no command when Builtin is asked)
	Env       []string // KEY=VALUE
	PodName   string
	Namespace string
	PodIP     string // the address the container listens on
	NodeName  string
	Ports     []int32 // declared container ports
	DNS       string  // cluster DNS host:port; empty: the system resolver
	Stdout    io.Writer
	// Loopback maps the cluster's addresses to the loopback ones the
	// container binds and dials in the network fallback (package
	// loopback); nil: it binds its pod IP and dials addresses as they are.
	Loopback *loopback.Map

	// Ingress routes the HTTP and HTTPS requests of an ingress
	// controller's pods (traefik, ingress-nginx) by the cluster's
	// Ingresses; IngressTLS picks their certificates. Nil: they answer 404.
	Ingress    http.Handler
	IngressTLS *tls.Config

	// Listening is called once the container answers on its ports, or
	// at once for one that listens on none: the node marks a container
	// without a readiness probe Ready then, so that a Service never sends
	// a connection to a port not yet bound.
	Listening func()
}

// Row is one line of the image table.
type Row struct {
	Image   string // image name without registry, tag or digest
	Does    string
	Ports   string
	Answers string
}

// Table is the image table, in the order the corpus uses the images most.
var Table = []Row{
	{"nginx", "web server", "80", "nginx's default page on /, 404 elsewhere; its start-up and access-log lines"},
	{"jpetazzo/color", "web server named after its pod", "$PORT or 80", `"This is pod NS/POD on linux/amd64, serving URL for ADDR." on a page coloured by the pod name's prefix`},
	{"alpine, busybox, nixery.dev/*, archlinux, ubuntu, debian, fedora, centos", "a shell", "-", "sh when given stdin (kubectl run -ti); without, exits at once with 0"},
	{"dockercoins/rng (v0.1, v0.2)", "random bytes, one request at a time per pod", "80", "GET /N: N bytes after 0.1 s; GET /: RNG running on POD; v0.2 is broken and exits at once with 1"},
	{"dockercoins/hasher (v0.1)", "SHA-256 of the request body", "80", "POST /: hex digest after 0.1 s; GET /: HASHER running on POD"},
	{"dockercoins/worker (v0.1, v0.2)", "mines with rng, hasher and redis found by Service name", "-", `logs "N units of work done, updating hash counter" every second; v0.2 is 11 times slower`},
	{"dockercoins/webui (v0.1, v0.2)", "the miner's web page", "80", `/index.html; /json: {"coins":C,"hashes":H,"now":T}`},
	{"redis", "key-value server", "6379", "strings, counters, hashes, lists, KEYS, PING, INFO over RESP"},
	{"jpetazzo/clock", "prints the date every second", "-", "the date, once a second"},
	{"jpetazzo/httpenv", "its environment as JSON", "8888", "a JSON object of the container's environment"},
	{"registry", "an empty registry (v2 API)", "5000, or REGISTRY_HTTP_ADDR's", `/v2/: {}; /v2/_catalog: {"repositories":[]}`},
	{"traefik, ingress-nginx/controller", "ingress controller (routing by the cluster on node ports 80/443)", "80, 443, 8080", "start-up lines; 404 page not found"},
	{"coredns/coredns", "kube-system's DNS pods (the cluster's DNS itself answers on the kube-dns ClusterIP)", "8080, 8181", "CoreDNS's start-up lines; /health and /ready answer OK"},
	{"kubernetesui/dashboard", "the dashboard", "8443 (HTTPS) with --auto-generate-certificates or --tls-cert-file, else 9090 (HTTP)", "a page titled Kubernetes Dashboard"},
	{"any other image", "idles", "its declared ports", "a log line and a plain page saying the image is simulated"},
}

// Builtin returns the in-process behaviour of c's image, or nil when the
// container's args are to run as a command. The returned func blocks until
// ctx is cancelled or the container exits, and returns its exit code.
func Builtin(c Container) func(ctx context.Context) (exitCode int) {
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	c.Stdout = &syncWriter{w: c.Stdout}
	if c.Listening == nil {
		c.Listening = func() {}
	}
	c.Listening = sync.OnceFunc(c.Listening)
	name := Name(c.Image)
	noArgs := len(c.Args) == 0
	switch {
	case IsShell(c.Image):
		if noArgs {
			return func(context.Context) int { c.Listening(); return 0 }
		}
		return nil
	case name == "nginx" || name == "nginxinc/nginx-unprivileged":
		if noArgs || c.Args[0] == "nginx" || c.Args[0] == "nginx-debug" {
			return c.nginx
		}
		return nil
	case name == "jpetazzo/color" || name == "jpetazzo/webcolor":
		if noArgs {
			return c.color
		}
	case name == "dockercoins/rng":
		if noArgs && Tag(c.Image) == "v0.2" {
			return c.brokenRNG
		}
		if noArgs {
			return c.rng
		}
	case name == "dockercoins/hasher":
		if noArgs {
			return c.hasher
		}
	case name == "dockercoins/worker":
		if noArgs {
			return c.worker
		}
	case name == "dockercoins/webui":
		if noArgs {
			return c.webui
		}
	case name == "redis" || name == "bitnami/redis":
		if noArgs || c.Args[0] == "redis-server" || strings.HasPrefix(c.Args[0], "-") {
			return c.redis
		}
		return nil
	case name == "jpetazzo/clock":
		if noArgs {
			return c.clock
		}
	case name == "jpetazzo/httpenv":
		if noArgs {
			return c.httpenv
		}
	case name == "registry":
		return c.registry
	case name == "traefik" || strings.HasSuffix(name, "ingress-nginx/controller"):
		return c.ingressController
	case name == "coredns/coredns" || name == "coredns":
		return c.coredns
	case name == "kubernetesui/dashboard" || strings.HasPrefix(name, "kubernetesui/dashboard-"):
		return c.dashboard
	default:
		if noArgs {
			return c.idle
		}
	}
	return nil
}

// IsShell tells the images that are a shell and its tools (alpine,
// busybox, nixery.dev's, the distributions'): without a command they exit
// at once, or run sh when given a terminal or stdin.
func IsShell(image string) bool {
	switch Name(image) {
	case "alpine", "busybox", "archlinux", "centos", "ubuntu", "debian", "fedora",
		"rockylinux", "rockylinux/rockylinux", "almalinux", "amazonlinux", "oraclelinux",
		"opensuse/leap", "opensuse/tumbleweed", "bash":
		return true
	}
	return strings.HasPrefix(image, "nixery.dev/")
}

// Name strips registry, tag and digest: "docker.io/library/nginx:1.27" →
// "nginx", "registry.k8s.io/ingress-nginx/controller:v1.12@sha256:…" →
// "ingress-nginx/controller".
func Name(img string) string {
	if i := strings.IndexByte(img, '@'); i >= 0 {
		img = img[:i]
	}
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		img = img[:i]
	}
	if first, rest, ok := strings.Cut(img, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		img = rest
	}
	return strings.TrimPrefix(img, "library/")
}

// env returns the value of key in c.Env.
func (c Container) env(key string) string {
	for _, kv := range c.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// hostname is what the container's hostname would be: its pod's name.
func (c Container) hostname() string {
	if h := c.env("HOSTNAME"); h != "" {
		return h
	}
	return c.PodName
}

func (c Container) logf(format string, args ...any) {
	fmt.Fprintf(c.Stdout, format, args...)
}

// listen binds the pod's address (127.0.0.1 when it has none) on port,
// or what the fallback maps it to.
func (c Container) listen(ctx context.Context, network string, port int) (net.Listener, error) {
	ip := c.PodIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	return c.Loopback.Listen(ctx, network, net.JoinHostPort(ip, strconv.Itoa(port)))
}

// exitCode is what a container ended by its node returns: 143 for SIGTERM.
const exitCode = 143

// syncWriter serialises writes from a container's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// clock prints the date every second, as jpetazzo/clock does.
func (c Container) clock(ctx context.Context) int {
	c.Listening()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		c.logf("%s\n", time.Now().UTC().Format("Mon Jan _2 15:04:05 UTC 2006"))
		select {
		case <-t.C:
		case <-ctx.Done():
			return exitCode
		}
	}
}
