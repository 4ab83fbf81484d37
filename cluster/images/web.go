package images

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/big"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one HTTP listener of a container.
type server struct {
	port      int
	handler   http.Handler
	tls       bool
	tlsConfig *tls.Config // nil: a self-signed certificate
}

// serve runs the servers until ctx ends; a port it cannot bind ends the
// container with exit code 1 after logging why, as the real servers do.
func (c Container) serve(ctx context.Context, onBindError func(port int, err error), servers ...server) int {
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, s := range servers {
		ln, err := c.listen(ctx, "tcp", s.port)
		if err != nil {
			closeAll()
			if c.unreachable(err) {
				return c.idleUnreachable(ctx, s.port)
			}
			onBindError(s.port, err)
			return 1
		}
		if s.tls && s.tlsConfig != nil {
			ln = tls.NewListener(ln, s.tlsConfig)
		} else if s.tls {
			cert, err := SelfSigned(c.hostname())
			if err != nil {
				closeAll()
				c.logf("%v\n", err)
				return 1
			}
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		}
		lns = append(lns, ln)
	}
	c.Listening()
	var wg sync.WaitGroup
	var hs []*http.Server
	for i, s := range servers {
		h := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
		hs = append(hs, h)
		wg.Add(1)
		go func(ln net.Listener) {
			defer wg.Done()
			_ = h.Serve(ln)
		}(lns[i])
	}
	<-ctx.Done()
	for _, h := range hs {
		h.Close()
	}
	wg.Wait()
	return exitCode
}

func (c Container) logBindError(port int, err error) {
	c.logf("listen on port %d: %v\n", port, errors.Unwrap(err))
}

// nginxPage is the page nginx's image serves at /, byte for byte, so that
// slides showing it (and its 615-byte Content-Length) match.
const nginxPage = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`

const nginx404 = `<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx/1.27.5</center>
</body>
</html>
`

func (c Container) nginx(ctx context.Context) int {
	for _, l := range []string{
		"/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
		"/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
		"/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
		"10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
		"10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
		"/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
		"/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
		"/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
		"/docker-entrypoint.sh: Configuration complete; ready for start up",
	} {
		c.logf("%s\n", l)
	}
	notice := func(format string, args ...any) {
		c.logf("%s [notice] 1#1: %s\n", time.Now().UTC().Format("2006/01/02 15:04:05"), fmt.Sprintf(format, args...))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := http.StatusOK, nginxPage
		switch r.URL.Path {
		case "/", "/index.html":
		default:
			status, body = http.StatusNotFound, nginx404
		}
		w.Header().Set("Server", "nginx/1.27.5")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(body))
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		c.logf("%s - - [%s] \"%s %s %s\" %d %d \"-\" \"%s\" \"-\"\n", host,
			time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"), r.Method, r.RequestURI, r.Proto,
			status, len(body), r.UserAgent())
	})
	return c.serve(ctx, func(port int, err error) {
		c.logf("%s [emerg] 1#1: bind() to 0.0.0.0:%d failed (%v)\nnginx: [emerg] bind() to 0.0.0.0:%d failed (%v)\n",
			time.Now().UTC().Format("2006/01/02 15:04:05"), port, errors.Unwrap(err), port, errors.Unwrap(err))
	}, server{port: 80, handler: startLog(h, func() {
		notice(`using the "epoll" event method`)
		notice("nginx/1.27.5")
		notice("start worker processes")
		notice("start worker process 29")
	})})
}

// startLog runs logStart once before serving h: the lines a server logs
// once it listens.
func startLog(h http.Handler, logStart func()) http.Handler {
	logStart()
	return h
}

// colorPage is jpetazzo/color's page: the namespace colours the body, the
// first word of the pod name colours the message.
func (c Container) color(ctx context.Context) int {
	port := 80
	if p, err := strconv.Atoi(c.env("PORT")); err == nil {
		port = p
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	c.logf("Starting HTTP server (%s) listening on port %d.\n", platform, port)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := c.hostname()
		ns := c.env("NAMESPACE")
		if ns == "" {
			ns = c.Namespace
		}
		who := host
		if ns != "" {
			who = "pod " + ns + "/" + host
		}
		colour, _, _ := strings.Cut(host, "-")
		fmt.Fprintf(w, "<!DOCTYPE html>\r<html>\r<body style=\"background: %s; text-align: center;\">\r"+
			"<div style=\"padding: 4em;\"></div>\r<span style=\"padding: 4em; background: %s;\">\r"+
			"<span style=\"padding: 2px; background: white;\">\r%sThis is %s on %s, serving %s for %s.\n"+
			"</span>\r</span>\r</body>\r</html>\r",
			html.EscapeString(ns), html.EscapeString(colour), circle(ns)+circle(colour), html.EscapeString(who),
			platform, html.EscapeString(r.URL.String()), r.RemoteAddr)
		c.logf("%s %s %s %s [%s]\n", r.RemoteAddr, r.Method, r.URL, r.Proto, r.UserAgent())
	})
	return c.serve(ctx, func(port int, err error) {
		c.logf("Couldn't create server on port %d (%v).\nYou can change the port by setting the PORT environment variable.\n", port, err)
	}, server{port: port, handler: h})
}

func circle(colour string) string {
	return map[string]string{"red": "🔴", "orange": "🟠", "yellow": "🟡", "green": "🟢", "blue": "🔵",
		"purple": "🟣", "brown": "🟤", "black": "⚫", "white": "⚪"}[colour]
}

func (c Container) httpenv(ctx context.Context) int {
	c.logf("Starting httpenv listening on port 8888.\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{"HOSTNAME": c.hostname()}
		for _, kv := range c.Env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		b, _ := json.Marshal(env)
		_, _ = w.Write(b)
	})
	return c.serve(ctx, c.logBindError, server{port: 8888, handler: h})
}

// registry is distribution's registry, empty. It listens where
// REGISTRY_HTTP_ADDR says (the configuration chapter sets it from a
// ConfigMap), on 5000 by default, as its config.yml's http.addr.
func (c Container) registry(ctx context.Context) int {
	port, shown := 5000, "[::]:5000"
	if addr := c.env("REGISTRY_HTTP_ADDR"); addr != "" {
		_, p, err := net.SplitHostPort(addr)
		n, perr := strconv.Atoi(p)
		if err != nil || perr != nil || n <= 0 || n > 65535 {
			c.logf("time=\"%s\" level=fatal msg=\"configuration error: invalid http.addr %q\"\n", time.Now().UTC().Format(time.RFC3339Nano), addr)
			return 1
		}
		port, shown = n, addr
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	c.logf("time=\"%s\" level=info msg=\"listening on %s\" go.version=go1.20.8 instance.id=%s service=registry version=2.8.3\n", now, shown, c.PodName)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		switch r.URL.Path {
		case "/v2/", "/v2":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte("{}"))
		case "/v2/_catalog":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte("{\"repositories\":[]}\n"))
		case "/":
			w.WriteHeader(http.StatusOK)
		default:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}` + "\n"))
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		c.logf("%s - - [%s] \"%s %s %s\" 200 0 \"\" \"%s\"\n", host, time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"), r.Method, r.RequestURI, r.Proto, r.UserAgent())
	})
	return c.serve(ctx, c.logBindError, server{port: port, handler: h})
}

// ingressController stands for traefik's and ingress-nginx's pods: the
// routing itself is done by the cluster's network on the nodes' ports.
func (c Container) ingressController(ctx context.Context) int {
	name := Name(c.Image)
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found", http.StatusNotFound)
	})
	if name == "traefik" {
		c.logf("%s INF Traefik version 3.5.0 built on 2025-07-29T00:00:00Z version=3.5.0\n", time.Now().UTC().Format(time.RFC3339))
		c.logf("%s INF Starting provider *ingress.Provider\n", time.Now().UTC().Format(time.RFC3339))
	} else {
		c.logf("-------------------------------------------------------------------------------\nNGINX Ingress controller\n  Release:       v1.12.1\n  Repository:    https://github.com/kubernetes/ingress-nginx\n-------------------------------------------------------------------------------\n")
	}
	route := http.Handler(notFound)
	if c.Ingress != nil {
		route = c.Ingress
	}
	servers := []server{{port: 80, handler: route}, {port: 443, handler: route, tls: true, tlsConfig: c.IngressTLS}}
	if name == "traefik" {
		servers = append(servers, server{port: 8080, handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/ping" {
				_, _ = io.WriteString(w, "OK")
				return
			}
			notFound(w, r)
		})})
	} else {
		servers = append(servers, server{port: 10254, handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "ok")
		})})
	}
	return c.serve(ctx, c.logBindError, servers...)
}

// dashboard is kubernetesui/dashboard (v2): HTTPS on --port (8443) when it
// has serving certificates (--auto-generate-certificates, or
// --tls-cert-file), else plain HTTP on --insecure-port (9090), as its
// main does. The corpus uses both (dashboard-with-token.yaml and
// dashboard-insecure.yaml).
func (c Container) dashboard(ctx context.Context) int {
	secure := false
	port, insecurePort := 8443, 9090
	for i, a := range c.Args {
		name, value, hasValue := strings.Cut(a, "=")
		if !hasValue && i+1 < len(c.Args) && !strings.HasPrefix(c.Args[i+1], "-") {
			value = c.Args[i+1]
		}
		switch name {
		case "--auto-generate-certificates":
			secure = value != "false"
		case "--tls-cert-file":
			secure = secure || value != ""
		case "--port":
			if n, err := strconv.Atoi(value); err == nil {
				port = n
			}
		case "--insecure-port":
			if n, err := strconv.Atoi(value); err == nil {
				insecurePort = n
			}
		}
	}
	now := func() string { return time.Now().UTC().Format("2006/01/02 15:04:05") }
	c.logf("%s Starting overwatch\n%s Using namespace: %s\n", now(), now(), c.Namespace)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Kubernetes Dashboard</title>\n</head>\n<body>\n<kd-root></kd-root>\n</body>\n</html>\n")
	})
	if !secure {
		c.logf("%s Serving insecurely on HTTP port: %d\n", now(), insecurePort)
		return c.serve(ctx, c.logBindError, server{port: insecurePort, handler: h})
	}
	c.logf("%s Serving securely on HTTPS port: %d\n", now(), port)
	return c.serve(ctx, c.logBindError, server{port: port, handler: h, tls: true})
}

// idle stands for an image labrun does not know: it says so, and answers
// on its declared ports with a page saying the same.
func (c Container) idle(ctx context.Context) int {
	c.logf("labrun: image %q is simulated: this container has no command to run and idles until it is deleted\n", c.Image)
	page := fmt.Sprintf("labrun: this is pod %s/%s; image %s is simulated and only answers with this page.\n", c.Namespace, c.PodName, c.Image)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	var servers []server
	for _, p := range c.Ports {
		servers = append(servers, server{port: int(p), handler: h})
	}
	return c.serve(ctx, c.logBindError, servers...)
}

// SelfSigned makes a throwaway certificate for a server's TLS port.
func SelfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-signed certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// coredns stands for kube-system's CoreDNS pods; the cluster's network
// answers DNS on the kube-dns ClusterIP, so these answer only their probes.
func (c Container) coredns(ctx context.Context) int {
	c.logf(".:53\n[INFO] plugin/reload: Running configuration SHA512 = 1b226df79860026c6a52e67daa10d7f0d57ec5b023288ec00c5e05f93523c894564e15b91770d3a07ae1cfbe861d15b37d4a0027e69c546ab112970993a3b03b\nCoreDNS-1.11.3\nlinux/amd64, go1.21.11, a6338e9\n")
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "OK") })
	return c.serve(ctx, c.logBindError, server{port: 8080, handler: ok}, server{port: 8181, handler: ok})
}

// unreachable tells a pod IP that is not an address here: labrun runs
// outside its network namespace (unprivileged user namespaces disabled).
func (c Container) unreachable(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL)
}

// idleUnreachable keeps such a container running, saying why it does not
// answer, rather than failing it as a crashed server would.
func (c Container) idleUnreachable(ctx context.Context, port int) int {
	c.Listening() // running, as far as anyone can tell from outside
	c.logf("labrun: cannot listen on %s:%d: pod addresses exist only in labrun's network namespace, which this machine does not allow; this container does not answer\n", c.PodIP, port)
	<-ctx.Done()
	return exitCode
}
