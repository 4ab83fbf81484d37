package node

import (
	"context"
	"net"
	"strconv"

	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/cluster/network/loopback"
)

// dialPod connects to a pod's port without ever sending a packet off this
// machine: in the network fallback, to the loopback address the pod's
// address is mapped to (package loopback); else to the pod IP when it
// answers here (in the run's network namespace every pod address is local,
// routed to lo rather than assigned to an interface; or an address of this
// host), else to the same port on loopback, where a container without a
// namespace of its own listens.
func (a *Agent) dialPod(ctx context.Context, podIP string, port int) (net.Conn, error) {
	addr := net.JoinHostPort(podIP, strconv.Itoa(port))
	if m := a.opts.Loopback; m != nil {
		return m.DialContext(ctx, "tcp", addr)
	}
	var d net.Dialer
	if isLocal(podIP) {
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			return c, nil
		}
	}
	return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// isLocal says whether ip is a loopback address or one of this host's,
// among them the pod and Service ranges labrun's network namespace routes
// to lo (which no interface lists), and in the network fallback the
// cluster's addresses, which map to loopback ones.
func (a *Agent) isLocal(ip string) bool {
	if a.opts.Loopback != nil && net.ParseIP(loopback.Addr(ip)).IsLoopback() {
		return true
	}
	return isLocal(ip)
}

func isLocal(ip string) bool {
	parsed := net.ParseIP(ip)
	if parsed == nil {
		return false
	}
	if parsed.IsLoopback() || network.Answers(ip) {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(parsed) {
			return true
		}
	}
	return false
}
