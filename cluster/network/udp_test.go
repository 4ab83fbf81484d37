package network

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// udpEcho answers each datagram with its name and the datagram, until the
// test ends.
func udpEcho(t *testing.T, addr, name string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte(name+" "+string(buf[:n])), from)
		}
	}()
}

// ask sends msg from c and returns the answer and where it came from.
func ask(t *testing.T, c *net.UDPConn, to *net.UDPAddr, msg string) (string, *net.UDPAddr) {
	t.Helper()
	if _, err := c.WriteToUDP([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no answer to %q: %v", msg, err)
	}
	return string(buf[:n]), from
}

// TestUDPService: a UDP Service's address pins each client to one backend
// in turn, answers from its own address (as DNAT's reverse does), drops the
// flows of a backend that went away, and closes without leaving a flow.
func TestUDPService(t *testing.T) {
	base := fmt.Sprintf("127.%d.%d.", 100+rand.IntN(100), rand.IntN(256))
	udpEcho(t, base+"11:5000", "one")
	udpEcho(t, base+"12:5000", "two")
	svc := base + "10:5353"
	l, err := listenUDP(context.Background(), nil, "udp/"+svc, []string{base + "11:5000", base + "12:5000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			l.close()
		}
	}()
	to, _ := net.ResolveUDPAddr("udp", svc)
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(base + "1")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(base + "2")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	first, from := ask(t, a, to, "hello")
	if from.String() != svc {
		t.Errorf("answer came from %s, want the Service's %s", from, svc)
	}
	again, _ := ask(t, a, to, "hello")
	if again != first {
		t.Errorf("one client's flow moved: %q then %q", first, again)
	}
	other, _ := ask(t, b, to, "hello")
	if other == first {
		t.Errorf("two clients went to the same backend (%q): not spread in turn", first)
	}

	// a's backend goes away: its next datagram goes to the one left.
	gone := first[:3]
	left := map[string]string{"one": base + "12:5000", "two": base + "11:5000"}[gone]
	l.setBackends([]string{left})
	if got, _ := ask(t, a, to, "hello"); got[:3] == gone {
		t.Errorf("after %s was removed, the client still reached it: %q", gone, got)
	}

	l.close()
	closed = true
	l.mu.Lock()
	flows := len(l.flows)
	l.mu.Unlock()
	if flows != 0 {
		t.Errorf("%d flows left after close", flows)
	}
	if c, err := net.ListenPacket("udp", svc); err != nil {
		t.Errorf("the Service's address is still bound after close: %v", err)
	} else {
		c.Close()
	}
}

// TestUDPClusterIP: a Service's UDP port is served on its ClusterIP and
// reaches its ready endpoints, as its TCP ports are.
func TestUDPClusterIP(t *testing.T) {
	inNamespace(t)
	c := cluster(t)
	n := startNetwork(t, c, testLog{t})
	udpEcho(t, "10.244.7.2:5353", "one")
	udpEcho(t, "10.244.7.3:5353", "two")
	ctx := context.Background()
	svc, err := c.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "echo-udp"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "echo", Port: 5000, Protocol: corev1.ProtocolUDP}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.CoreV1().Services("default").Delete(context.Background(), svc.Name, metav1.DeleteOptions{})
	})
	ready, name, port, proto := true, "echo", int32(5353), corev1.ProtocolUDP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "echo-udp-manual", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.7.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}},
			{Addresses: []string{"10.244.7.3"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}},
		},
	}
	if _, err := c.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.DiscoveryV1().EndpointSlices("default").Delete(context.Background(), slice.Name, metav1.DeleteOptions{})
	})
	key := "udp/" + net.JoinHostPort(svc.Spec.ClusterIP, "5000")
	waitFor(t, key+" to be served", func() bool { return slices.Contains(n.Listeners(), key) })
	to, _ := net.ResolveUDPAddr("udp", net.JoinHostPort(svc.Spec.ClusterIP, "5000"))
	seen := map[string]bool{}
	for i := range 4 {
		cl, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(fmt.Sprintf("10.244.9.%d", i+1))})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ask(t, cl, to, "ping")
		cl.Close()
		seen[got] = true
	}
	if !seen["one ping"] || !seen["two ping"] || len(seen) != 2 {
		t.Errorf("answers through the ClusterIP: %v, want both endpoints'", seen)
	}
}
