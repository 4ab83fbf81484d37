package node

import (
	"context"
	"net"
	"strconv"

	"github.com/labrun/labrun/cluster/network"
)

// dialPod connects to a pod's port without ever sending a packet off this
// machine: to the pod IP when it answers here (in the run's network
// namespace every pod address is local, routed to lo rather than assigned
// to an interface; or an address of this host), else to the same port on
// loopback, where a container without a namespace of its own listens.
func dialPod(ctx context.Context, podIP string, port int) (net.Conn, error) {
	var d net.Dialer
	if isLocal(podIP) {
		if c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(podIP, strconv.Itoa(port))); err == nil {
			return c, nil
		}
	}
	return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// isLocal says whether ip is a loopback address or one of this host's,
// among them the pod and Service ranges labrun's network namespace routes
// to lo (which no interface lists).
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
