package network

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	listersv1 "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"

	"github.com/labrun/labrun/cluster/images"
)

// Ingress is what an ingress controller's pods serve on their HTTP and
// HTTPS ports: the cluster's Ingresses, routed by host and path to their
// Services' ClusterIPs, as Traefik and ingress-nginx route them. Every
// Ingress is served, whatever its class.
type Ingress struct {
	n       *Network
	ingress networkinglisters.IngressLister
	secrets listersv1.SecretLister
	proxy   *httputil.ReverseProxy

	certMu  sync.Mutex
	defCert *tls.Certificate
}

// Ingress starts following Ingresses and Secrets (only clusters that
// install a controller need them) and returns their router.
func (n *Network) Ingress(ctx context.Context) (*Ingress, error) {
	ing := &Ingress{n: n, ingress: n.factory.Networking().V1().Ingresses().Lister(), secrets: n.factory.Core().V1().Secrets().Lister()}
	n.factory.Start(n.runCtx.Done())
	for typ, ok := range n.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("network: %v informer did not sync: %w", typ, context.Cause(ctx))
		}
	}
	ing.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = r.In.Context().Value(backendKey{}).(string)
			r.SetXForwarded()
			r.Out.Host = r.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "Bad Gateway", http.StatusBadGateway)
		},
	}
	if n.opts.Loopback != nil {
		// The fallback: ClusterIPs answer on their loopback addresses.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = n.opts.Loopback.DialContext
		ing.proxy.Transport = tr
	}
	return ing, nil
}

type backendKey struct{}

// ServeHTTP routes one request.
func (ing *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	backend, status := ing.route(r.Host, r.URL.Path)
	if status != 0 {
		if status == http.StatusNotFound {
			http.Error(w, "404 page not found", status)
		} else {
			http.Error(w, http.StatusText(status), status)
		}
		return
	}
	ing.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, backend)))
}

// route finds the backend address for host and path: the longest
// matching path of a rule for that host (or for any host), else an
// Ingress's default backend; 404 when nothing matches, 503 when the
// Service has no ready endpoint.
func (ing *Ingress) route(host, path string) (string, int) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	ingresses, _ := ing.ingress.List(allLabels)
	sort.Slice(ingresses, func(i, j int) bool {
		a, b := ingresses[i], ingresses[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	type match struct {
		ns      string
		backend *networkingv1.IngressServiceBackend
		score   int
	}
	var best *match
	for _, in := range ingresses {
		for _, rule := range in.Spec.Rules {
			if !hostMatches(rule.Host, host) || rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				n, ok := pathMatches(p, path)
				if !ok || p.Backend.Service == nil {
					continue
				}
				score := n * 2
				if rule.Host != "" {
					score += 1 << 20 // a rule naming the host beats a catch-all
				}
				if best == nil || score > best.score {
					best = &match{in.Namespace, p.Backend.Service, score}
				}
			}
		}
	}
	if best == nil {
		for _, in := range ingresses {
			if in.Spec.DefaultBackend != nil && in.Spec.DefaultBackend.Service != nil {
				best = &match{ns: in.Namespace, backend: in.Spec.DefaultBackend.Service}
				break
			}
		}
	}
	if best == nil {
		return "", http.StatusNotFound
	}
	svc, err := ing.n.services.Services(best.ns).Get(best.backend.Name)
	if err != nil {
		return "", http.StatusServiceUnavailable
	}
	for _, sp := range svc.Spec.Ports {
		if best.backend.Port.Name != "" && sp.Name != best.backend.Port.Name ||
			best.backend.Port.Name == "" && sp.Port != best.backend.Port.Number {
			continue
		}
		if len(ing.n.backends(svc, sp)) == 0 {
			return "", http.StatusServiceUnavailable
		}
		if svc.Spec.ClusterIP == corev1.ClusterIPNone || svc.Spec.ClusterIP == "" {
			eps := ing.n.backends(svc, sp)
			return eps[0], 0
		}
		return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(sp.Port))), 0
	}
	return "", http.StatusServiceUnavailable
}

func hostMatches(rule, host string) bool {
	rule = strings.ToLower(rule)
	switch {
	case rule == "":
		return true
	case strings.HasPrefix(rule, "*."):
		first, rest, ok := strings.Cut(host, ".")
		return ok && first != "" && "*."+rest == rule
	}
	return rule == host
}

// pathMatches reports whether p matches path, and how long the match is.
func pathMatches(p networkingv1.HTTPIngressPath, path string) (int, bool) {
	want := p.Path
	if want == "" {
		want = "/"
	}
	typ := networkingv1.PathTypeImplementationSpecific
	if p.PathType != nil {
		typ = *p.PathType
	}
	switch typ {
	case networkingv1.PathTypeExact:
		return len(want), path == want
	case networkingv1.PathTypePrefix:
		w := strings.TrimSuffix(want, "/")
		if w == "" || path == w || strings.HasPrefix(path, w+"/") {
			return len(w), true
		}
		return 0, false
	}
	return len(want), strings.HasPrefix(path, want)
}

// TLSConfig serves the certificate of the Ingress whose TLS hosts name the
// server name asked for, else a self-signed default, as the controllers do.
func (ing *Ingress) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c := ing.certFor(strings.ToLower(hello.ServerName)); c != nil {
			return c, nil
		}
		ing.certMu.Lock()
		defer ing.certMu.Unlock()
		if ing.defCert == nil {
			c, err := images.SelfSigned("INGRESS DEFAULT CERT")
			if err != nil {
				return nil, err
			}
			ing.defCert = &c
		}
		return ing.defCert, nil
	}}
}

func (ing *Ingress) certFor(name string) *tls.Certificate {
	ingresses, _ := ing.ingress.List(allLabels)
	for _, in := range ingresses {
		for _, t := range in.Spec.TLS {
			for _, h := range t.Hosts {
				if t.SecretName == "" || !hostMatches(h, name) {
					continue
				}
				s, err := ing.secrets.Secrets(in.Namespace).Get(t.SecretName)
				if err != nil {
					continue
				}
				c, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
				if err == nil {
					return &c
				}
			}
		}
	}
	return nil
}
