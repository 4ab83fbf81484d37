package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labrun/labrun/cluster/network/loopback"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// Options configure the network's proxy and DNS.
type Options struct {
	Client kubernetes.Interface
	// DNS is where the cluster DNS listens (UDP and TCP); default
	// DNSIP:53. Empty host: no DNS server.
	DNS string
	// Log receives one line per listener opened or closed and per error.
	Log io.Writer
	// Loopback maps the cluster's addresses to loopback ones, in the
	// network fallback (no namespace of labrun's: see package loopback);
	// node ports then also answer on 127.0.0.1. Nil: the addresses are
	// bound and dialled as they are.
	Loopback *loopback.Map
}

// Network follows Services, EndpointSlices, Nodes, Pods and Ingresses and
// keeps one listener per reachable Service address, node port and host
// port, forwarding to ready endpoints in turn.
type Network struct {
	opts     Options
	factory  informers.SharedInformerFactory
	services listersv1.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	nodes    listersv1.NodeLister
	pods     listersv1.PodLister

	kick   chan struct{}
	runCtx context.Context
	stop   context.CancelFunc
	done   chan struct{}
	dns    *dnsServer

	mu        sync.Mutex
	listeners map[string]forwarder // "tcp/ip:port", "udp/ip:port"
	closed    bool
}

// Start follows the cluster and serves its addresses until Close.
func Start(ctx context.Context, opts Options) (*Network, error) {
	if opts.Client == nil {
		return nil, errors.New("network: no client")
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.DNS == "" {
		opts.DNS = net.JoinHostPort(DNSIP, "53")
	}
	f := informers.NewSharedInformerFactory(opts.Client, 0)
	n := &Network{
		opts:      opts,
		factory:   f,
		services:  f.Core().V1().Services().Lister(),
		slices:    f.Discovery().V1().EndpointSlices().Lister(),
		nodes:     f.Core().V1().Nodes().Lister(),
		pods:      f.Core().V1().Pods().Lister(),
		kick:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		listeners: map[string]forwarder{},
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { n.trigger() },
		UpdateFunc: func(any, any) { n.trigger() },
		DeleteFunc: func(any) { n.trigger() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		f.Core().V1().Services().Informer(), f.Discovery().V1().EndpointSlices().Informer(),
		f.Core().V1().Nodes().Informer(), f.Core().V1().Pods().Informer(),
	} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.runCtx, n.stop = runCtx, cancel
	f.Start(runCtx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			cancel()
			f.Shutdown()
			return nil, fmt.Errorf("network: %v informer did not sync: %w", typ, context.Cause(ctx))
		}
	}
	if host, _, _ := net.SplitHostPort(opts.DNS); host != "" {
		d, err := startDNS(ctx, opts.DNS, n)
		if err != nil {
			cancel()
			f.Shutdown()
			return nil, fmt.Errorf("network: cluster DNS: %w", err)
		}
		n.dns = d
	}
	n.reconcile()
	go n.loop(runCtx)
	return n, nil
}

func (n *Network) trigger() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

func (n *Network) loop(ctx context.Context) {
	defer close(n.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
			n.reconcile()
		}
	}
}

// Close stops following the cluster and closes every listener and every
// connection it forwards.
func (n *Network) Close() error {
	n.stop()
	<-n.done
	n.factory.Shutdown()
	if n.dns != nil {
		n.dns.close()
	}
	n.mu.Lock()
	n.closed = true
	ls := n.listeners
	n.listeners = map[string]forwarder{}
	n.mu.Unlock()
	for _, l := range ls {
		l.close()
	}
	return nil
}

// Listeners lists the addresses served now ("tcp/10.96.0.1:80"), for tests
// and for the run's log.
func (n *Network) Listeners() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return sortedKeys(n.listeners)
}

// reconcile opens, updates and closes listeners to match the cluster.
func (n *Network) reconcile() {
	want := n.desired()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	for key, l := range n.listeners {
		if b, ok := want[key]; ok && len(b) > 0 {
			l.setBackends(b)
			continue
		}
		l.close()
		delete(n.listeners, key)
		fmt.Fprintf(n.opts.Log, "network: closed %s\n", key)
	}
	for key, b := range want {
		if _, ok := n.listeners[key]; ok || len(b) == 0 {
			continue
		}
		l, err := serve(n.runCtx, n.opts.Loopback, key, b, n.opts.Log)
		if err != nil {
			fmt.Fprintf(n.opts.Log, "network: %v\n", err)
			continue
		}
		n.listeners[key] = l
		fmt.Fprintf(n.opts.Log, "network: serving %s → %v\n", key, b)
	}
}

// desired maps each address to serve to its backends. An address whose
// Service has no ready endpoint is not served, so that connections to it
// are refused, as kube-proxy's rules refuse them.
func (n *Network) desired() map[string][]string {
	want := map[string][]string{}
	svcs, _ := n.services.List(labels.Everything())
	var nodeIPs []string
	nodes, _ := n.nodes.List(labels.Everything())
	for _, nd := range nodes {
		for _, a := range nd.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				nodeIPs = append(nodeIPs, a.Address)
			}
		}
	}
	dnsHost, dnsPort, _ := net.SplitHostPort(n.opts.DNS)
	for _, svc := range svcs {
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			proto, ok := protocols[sp.Protocol]
			if !ok {
				continue // SCTP: no workshop uses it
			}
			backends := n.backends(svc, sp)
			for _, ip := range svc.Spec.ClusterIPs {
				if ip == corev1.ClusterIPNone || ip == "" {
					continue
				}
				if ip == dnsHost && strconv.Itoa(int(sp.Port)) == dnsPort {
					continue // the DNS server answers there itself
				}
				want[proto+"/"+net.JoinHostPort(ip, strconv.Itoa(int(sp.Port)))] = backends
			}
			if sp.NodePort != 0 {
				for _, ip := range nodeIPs {
					want[proto+"/"+net.JoinHostPort(ip, strconv.Itoa(int(sp.NodePort)))] = backends
				}
				if n.opts.Loopback != nil {
					// `curl localhost:3xxxx`, as on a workshop node.
					want[proto+"/"+net.JoinHostPort("127.0.0.1", strconv.Itoa(int(sp.NodePort)))] = backends
				}
			}
		}
	}
	pods, _ := n.pods.List(labels.Everything())
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || p.Status.HostIP == "" || p.Spec.HostNetwork {
			continue
		}
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				proto, ok := protocols[cp.Protocol]
				if cp.HostPort == 0 || !ok {
					continue
				}
				ip := cp.HostIP
				if ip == "" || ip == "0.0.0.0" {
					ip = p.Status.HostIP
				}
				key := proto + "/" + net.JoinHostPort(ip, strconv.Itoa(int(cp.HostPort)))
				want[key] = append(want[key], net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(cp.ContainerPort))))
			}
		}
	}
	return want
}

// backends are the ready endpoints of one port of a Service.
func (n *Network) backends(svc *corev1.Service, sp corev1.ServicePort) []string {
	var out []string
	for _, ep := range n.endpoints(svc.Namespace, svc.Name) {
		for _, p := range ep.ports {
			if p.Name != nil && *p.Name != sp.Name || p.Port == nil {
				continue
			}
			if p.Protocol != nil && *p.Protocol != sp.Protocol && sp.Protocol != "" {
				continue
			}
			out = append(out, net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(*p.Port))))
		}
	}
	return out
}

// readyEndpoint is a ready endpoint with the ports of its slice.
type readyEndpoint struct {
	discoveryv1.Endpoint
	ports []discoveryv1.EndpointPort
}

// endpoints are the ready endpoints of a Service, over all its slices.
func (n *Network) endpoints(namespace, name string) []readyEndpoint {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})
	slices, _ := n.slices.EndpointSlices(namespace).List(sel)
	var out []readyEndpoint
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) == 0 || ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			out = append(out, readyEndpoint{ep, s.Ports})
		}
	}
	return out
}

// protocols are the ones served, by the prefix of their listeners' keys.
var protocols = map[corev1.Protocol]string{"": "tcp", corev1.ProtocolTCP: "tcp", corev1.ProtocolUDP: "udp"}

// forwarder serves one address ("tcp/ip:port" or "udp/ip:port") for the
// backends it is given, until closed.
type forwarder interface {
	setBackends([]string)
	close()
}

// serve opens the forwarder of a key, on the address m maps it to.
func serve(ctx context.Context, m *loopback.Map, key string, backends []string, log io.Writer) (forwarder, error) {
	if strings.HasPrefix(key, "udp/") {
		return listenUDP(ctx, m, key, backends, log)
	}
	return listen(ctx, m, key, backends, log)
}

// listener accepts on one address and forwards to its backends in turn.
type listener struct {
	key string
	ln  net.Listener
	log io.Writer
	m   *loopback.Map

	mu       sync.Mutex
	backends []string
	next     int
	conns    map[net.Conn]bool
	closed   bool
	wg       sync.WaitGroup
}

func listen(ctx context.Context, m *loopback.Map, key string, backends []string, log io.Writer) (*listener, error) {
	addr := key[len("tcp/"):]
	ln, err := m.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", addr, err)
	}
	l := &listener{key: key, ln: ln, log: log, m: m, backends: backends, conns: map[net.Conn]bool{}}
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

func (l *listener) setBackends(b []string) {
	l.mu.Lock()
	l.backends = b
	l.mu.Unlock()
}

// pick returns the backends to try, starting with the next in turn.
func (l *listener) pick() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.backends)
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, l.backends[(l.next+i)%n])
	}
	l.next++
	return out
}

func (l *listener) track(c net.Conn, add bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if add {
		if l.closed {
			return false
		}
		l.conns[c] = true
	} else {
		delete(l.conns, c)
	}
	return true
}

func (l *listener) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		if !l.track(c, true) {
			c.Close()
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer l.track(c, false)
			defer c.Close()
			l.forward(c)
		}()
	}
}

// forward connects c to the first backend that accepts, then copies both
// ways until both sides are done.
func (l *listener) forward(c net.Conn) {
	var b net.Conn
	var err error
	for _, addr := range l.pick() {
		if b, err = net.DialTimeout("tcp", l.m.Target("tcp", addr), 3*time.Second); err == nil {
			break
		}
	}
	if b == nil {
		fmt.Fprintf(l.log, "network: %s: no backend answers: %v\n", l.key, err)
		return
	}
	if !l.track(b, true) {
		b.Close()
		return
	}
	defer l.track(b, false)
	defer b.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(b, c)
		closeWrite(b)
	}()
	_, _ = io.Copy(c, b)
	closeWrite(c)
	wg.Wait()
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// close stops accepting and ends the connections in progress.
func (l *listener) close() {
	l.mu.Lock()
	l.closed = true
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.ln.Close()
	l.wg.Wait()
}
