package network

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// dnsTTL is what CoreDNS's kubernetes plugin answers with.
const dnsTTL = 30

// dnsServer answers the cluster's names, as CoreDNS does on kind, plus
// nip.io and the nodes' names; anything else is NXDOMAIN at once, since
// nothing may be asked outside.
type dnsServer struct {
	n   *Network
	udp net.PacketConn
	tcp net.Listener
	wg  sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

func startDNS(ctx context.Context, addr string, n *Network) (*dnsServer, error) {
	udp, err := n.opts.Loopback.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	tcp, err := n.opts.Loopback.Listen(ctx, "tcp", addr)
	if err != nil {
		udp.Close()
		return nil, err
	}
	d := &dnsServer{n: n, udp: udp, tcp: tcp, conns: map[net.Conn]bool{}}
	d.wg.Add(2)
	go d.serveUDP()
	go d.serveTCP()
	return d, nil
}

func (d *dnsServer) close() {
	d.udp.Close()
	d.tcp.Close()
	d.mu.Lock()
	for c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
}

func (d *dnsServer) serveUDP() {
	defer d.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := d.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if out := d.n.answer(buf[:n], 512); out != nil {
			_, _ = d.udp.WriteTo(out, from)
		}
	}
}

func (d *dnsServer) serveTCP() {
	defer d.wg.Done()
	for {
		c, err := d.tcp.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		d.conns[c] = true
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() {
				d.mu.Lock()
				delete(d.conns, c)
				d.mu.Unlock()
				c.Close()
			}()
			for {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				out := d.n.answer(q, 65535)
				if out == nil {
					return
				}
				binary.BigEndian.PutUint16(l[:], uint16(len(out)))
				if _, err := c.Write(append(l[:], out...)); err != nil {
					return
				}
			}
		}()
	}
}

// answer builds the reply to one query, or nil for a message that is not
// one; a reply longer than limit is sent truncated, so the client retries
// over TCP.
func (n *Network) answer(query []byte, limit int) []byte {
	var p dnsmessage.Parser
	hdr, err := p.Start(query)
	if err != nil || hdr.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	rh := dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true, RecursionDesired: hdr.RecursionDesired, RecursionAvailable: true}
	var answers []dnsmessage.Resource
	if hdr.OpCode != 0 {
		rh.RCode = dnsmessage.RCodeNotImplemented
	} else {
		var found bool
		answers, found = n.lookup(q)
		if !found {
			rh.RCode = dnsmessage.RCodeNameError
		}
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), rh)
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	for _, a := range answers {
		switch body := a.Body.(type) {
		case *dnsmessage.AResource:
			_ = b.AResource(a.Header, *body)
		case *dnsmessage.CNAMEResource:
			_ = b.CNAMEResource(a.Header, *body)
		case *dnsmessage.SRVResource:
			_ = b.SRVResource(a.Header, *body)
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	if len(out) > limit {
		rh.Truncated = true
		b := dnsmessage.NewBuilder(nil, rh)
		_ = b.StartQuestions()
		_ = b.Question(q)
		out, _ = b.Finish()
	}
	return out
}

// lookup answers one question; found is false for a name that does not
// exist (a known name with no record of the type asked is found, empty).
func (n *Network) lookup(q dnsmessage.Question) (answers []dnsmessage.Resource, found bool) {
	name := strings.ToLower(q.Name.String())
	ips, cname, srv, found := n.resolve(name, 0)
	if !found {
		return nil, false
	}
	hdr := func(name string, t dnsmessage.Type) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: t, Class: dnsmessage.ClassINET, TTL: dnsTTL}
	}
	if cname != "" {
		c, err := dnsmessage.NewName(cname)
		if err == nil {
			answers = append(answers, dnsmessage.Resource{Header: hdr(name, dnsmessage.TypeCNAME), Body: &dnsmessage.CNAMEResource{CNAME: c}})
		}
		name = cname
	}
	switch q.Type {
	case dnsmessage.TypeA, dnsmessage.TypeALL:
		for _, ip := range ips {
			if v4 := net.ParseIP(ip).To4(); v4 != nil {
				answers = append(answers, dnsmessage.Resource{Header: hdr(name, dnsmessage.TypeA), Body: &dnsmessage.AResource{A: [4]byte(v4)}})
			}
		}
	case dnsmessage.TypeSRV:
		answers = append(answers, srv...)
	}
	return answers, true
}

// resolve finds a name's addresses, following CoreDNS's kubernetes
// plugin: SVC.NS.svc.cluster.local (the ClusterIP, the ready endpoints of
// a headless Service, or a CNAME for an ExternalName), HOST.SVC.NS.svc…
// (a headless Service's endpoint by hostname or dashed address),
// A-B-C-D.NS.pod.cluster.local, _PORT._PROTO.SVC.NS.svc… (SRV); then
// nip.io names and the nodes' names.
func (n *Network) resolve(name string, depth int) (ips []string, cname string, srv []dnsmessage.Resource, found bool) {
	name = strings.TrimSuffix(name, ".")
	if rest, ok := strings.CutSuffix(name, "."+ClusterDomain); ok || name == ClusterDomain {
		parts := strings.Split(rest, ".")
		if !ok || len(parts) < 2 {
			return nil, "", nil, true
		}
		kind := parts[len(parts)-1]
		parts = parts[:len(parts)-1]
		switch kind {
		case "pod":
			if len(parts) == 2 {
				ip := strings.ReplaceAll(parts[0], "-", ".")
				if isIPv4(ip) {
					return []string{ip}, "", nil, true
				}
			}
			return nil, "", nil, false
		case "svc":
		default:
			return nil, "", nil, false
		}
		switch len(parts) {
		case 1: // NS.svc.cluster.local exists when the namespace has Services
			svcs, _ := n.services.Services(parts[0]).List(allLabels)
			return nil, "", nil, len(svcs) > 0
		case 2:
			return n.service(parts[1], parts[0], depth)
		case 3:
			ns, svcName, first := parts[2], parts[1], parts[0]
			if _, err := n.services.Services(ns).Get(svcName); err != nil {
				return nil, "", nil, false
			}
			for _, ep := range n.endpoints(ns, svcName) {
				if ep.Hostname != nil && *ep.Hostname == first || strings.ReplaceAll(ep.Addresses[0], ".", "-") == first {
					return ep.Addresses[:1], "", nil, true
				}
			}
			return nil, "", nil, false
		case 4:
			return n.srv(parts[3], parts[2], parts[0], parts[1])
		}
		return nil, "", nil, false
	}
	if ip, ok := nipIO(name); ok {
		return []string{ip}, "", nil, true
	}
	if nd, err := n.nodes.Get(name); err == nil {
		for _, a := range nd.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				ips = append(ips, a.Address)
			}
		}
		return ips, "", nil, true
	}
	return nil, "", nil, false
}

var allLabels = labels.Everything()

func (n *Network) service(ns, name string, depth int) (ips []string, cname string, srv []dnsmessage.Resource, found bool) {
	svc, err := n.services.Services(ns).Get(name)
	if err != nil {
		return nil, "", nil, false
	}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		target := strings.TrimSuffix(svc.Spec.ExternalName, ".")
		if depth < 4 {
			ips, _, _, _ = n.resolve(target, depth+1)
		}
		return ips, target + ".", nil, true
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		for _, ep := range n.endpoints(ns, name) {
			ips = append(ips, ep.Addresses[0])
		}
		return ips, "", nil, true
	}
	return svc.Spec.ClusterIPs, "", nil, true
}

// srv answers _PORT._PROTO.SVC.NS.svc.cluster.local.
func (n *Network) srv(ns, svcName, port, proto string) (ips []string, cname string, srv []dnsmessage.Resource, found bool) {
	svc, err := n.services.Services(ns).Get(svcName)
	if err != nil {
		return nil, "", nil, false
	}
	port, proto = strings.TrimPrefix(port, "_"), strings.TrimPrefix(proto, "_")
	target := svcName + "." + ns + ".svc." + ClusterDomain + "."
	for _, sp := range svc.Spec.Ports {
		if sp.Name != port || !strings.EqualFold(string(sp.Protocol), proto) {
			continue
		}
		srv = append(srv, dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName("_" + port + "._" + proto + "." + target), Type: dnsmessage.TypeSRV, Class: dnsmessage.ClassINET, TTL: dnsTTL},
			Body:   &dnsmessage.SRVResource{Priority: 0, Weight: 100, Port: uint16(sp.Port), Target: dnsmessage.MustNewName(target)},
		})
	}
	return nil, "", srv, len(srv) > 0
}

// nipIO reads the address out of a nip.io name: anything.A.B.C.D.nip.io,
// A.B.C.D.nip.io, or dashed, anything-A-B-C-D.nip.io.
func nipIO(name string) (string, bool) {
	rest, ok := strings.CutSuffix(name, ".nip.io")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) >= 4 {
		if ip := strings.Join(parts[len(parts)-4:], "."); isIPv4(ip) {
			return ip, true
		}
	}
	dashed := strings.Split(parts[len(parts)-1], "-")
	if len(dashed) >= 4 {
		if ip := strings.Join(dashed[len(dashed)-4:], "."); isIPv4(ip) {
			return ip, true
		}
	}
	return "", false
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if v, err := strconv.Atoi(p); err != nil || v < 0 || v > 255 || p != strconv.Itoa(v) {
			return false
		}
	}
	return true
}
