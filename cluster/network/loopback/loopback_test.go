package loopback

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"10.96.0.10", "127.96.0.10"},         // kube-dns
		{"10.111.255.254", "127.111.255.254"}, // the Service range's last
		{"10.112.0.1", "10.112.0.1"},          // past it
		{"10.244.3.7", "127.244.3.7"},         // a pod
		{"10.245.0.1", "10.245.0.1"},
		{"172.18.0.2", "127.18.0.2"}, // node1
		{"172.19.0.2", "172.19.0.2"},
		{"10.18.0.2", "10.18.0.2"}, // not the cluster's: would meet node1's image
		{"127.0.0.1", "127.0.0.1"},
		{"192.0.2.1", "192.0.2.1"},
		{"::1", "::1"},
		{"node1", "node1"},
	} {
		if got := Addr(tc.in); got != tc.want {
			t.Errorf("Addr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAddrShadowsNothing: no cluster address maps to a loopback address
// the host's own programs use.
func TestAddrShadowsNothing(t *testing.T) {
	hosts := map[string]bool{"127.0.0.1": true, "127.0.0.53": true, "127.0.0.54": true, "127.0.1.1": true, "127.0.0.11": true}
	for _, cidr := range []string{"10.96.0.0/12", "10.244.0.0/16", "172.18.0.0/16"} {
		_, n, _ := net.ParseCIDR(cidr)
		ones, _ := n.Mask.Size()
		// The range's first and last addresses and one in the middle.
		base := n.IP.To4()
		for _, off := range []uint32{0, 1 << (31 - ones), 1<<(32-ones) - 1} {
			v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3]) + off
			ip := net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).String()
			got := Addr(ip)
			if !net.ParseIP(got).IsLoopback() || hosts[got] {
				t.Errorf("Addr(%s) = %s", ip, got)
			}
		}
	}
}

// TestOnePerMachine: a second map is refused while the first lives, and
// taken once it is closed.
func TestOnePerMachine(t *testing.T) {
	dir := t.TempDir()
	m, err := New(filepath.Join(dir, "a.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(filepath.Join(dir, "b.json")); !errors.Is(err, ErrTaken) {
		t.Fatalf("second map: %v, want ErrTaken", err)
	}
	if _, err := Hold(); !errors.Is(err, ErrTaken) {
		t.Fatalf("Hold while a map lives: %v, want ErrTaken", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("map file after Close: %v", err)
	}
	m2, err := New(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatalf("a map after the first closed: %v", err)
	}
	m2.Close()
}

// denyLow makes m bind as a process that may not bind ports below 1024.
func denyLow(m *Map) {
	listen, listenPacket := m.listen, m.listenPacket
	low := func(addr string) bool {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return n > 0 && n < 1024
	}
	m.listen = func(ctx context.Context, network, addr string) (net.Listener, error) {
		if low(addr) {
			return nil, &net.OpError{Op: "listen", Net: network, Err: os.NewSyscallError("bind", syscall.EACCES)}
		}
		return listen(ctx, network, addr)
	}
	m.listenPacket = func(ctx context.Context, network, addr string) (net.PacketConn, error) {
		if low(addr) {
			return nil, &net.OpError{Op: "listen", Net: network, Err: os.NewSyscallError("bind", syscall.EACCES)}
		}
		return listenPacket(ctx, network, addr)
	}
}

// TestPrivilegedPort: a port the process may not bind is served on an
// ephemeral one, which this process and a child reading the file find,
// until the listener closes; a high port stays as it is.
func TestPrivilegedPort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "map.json")
	m, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	denyLow(m)
	ctx := context.Background()

	ln, err := m.Listen(ctx, "tcp", "10.244.7.9:80")
	if err != nil {
		t.Fatal(err)
	}
	got := ln.Addr().(*net.TCPAddr)
	if got.IP.String() != "127.244.7.9" || got.Port == 80 {
		t.Fatalf("listening on %v, want 127.244.7.9 on an ephemeral port", got)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, "hello")
			c.Close()
		}
	}()
	child, err := Load(func(k string) string {
		if k == Env {
			return path
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, mm := range map[string]*Map{"this process": m, "a child": child} {
		if tgt := mm.Target("tcp", "10.244.7.9:80"); tgt != got.String() {
			t.Errorf("%s: Target = %s, want %s", name, tgt, got)
		}
		if tgt := mm.Target("udp", "10.244.7.9:80"); tgt != "127.244.7.9:80" {
			t.Errorf("%s: Target over UDP = %s, want the same port", name, tgt)
		}
	}
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := child.DialContext(ctx2, "tcp", "10.244.7.9:80")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "hello" {
		t.Errorf("read %q through the map", b)
	}

	pc, err := m.ListenPacket(ctx, "udp", "10.96.0.10:53")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pc.(interface {
		ReadFromUDP([]byte) (int, *net.UDPAddr, error)
	}); !ok {
		t.Errorf("the UDP socket is a %T, not a UDP connection", pc)
	}
	if tgt := m.Target("udp", "10.96.0.10:53"); tgt != pc.LocalAddr().String() || tgt == "127.96.0.10:53" {
		t.Errorf("DNS target = %s, socket on %s", tgt, pc.LocalAddr())
	}
	pc.Close()

	high, err := m.Listen(ctx, "tcp", "10.96.3.4:8080")
	if err != nil {
		t.Fatal(err)
	}
	if high.Addr().String() != "127.96.3.4:8080" {
		t.Errorf("a high port moved: %v", high.Addr())
	}
	high.Close()

	ln.Close()
	if tgt := m.Target("tcp", "10.244.7.9:80"); tgt != "127.244.7.9:80" {
		t.Errorf("after Close, Target = %s, want the entry gone", tgt)
	}
	reread, err := Load(func(string) string { return path })
	if err != nil {
		t.Fatal(err)
	}
	if len(reread.ports) != 0 {
		t.Errorf("file after every listener closed: %v", reread.ports)
	}
}

// TestNilMap: without a map, addresses are bound and dialled as given.
func TestNilMap(t *testing.T) {
	var m *Map
	ln, err := m.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := m.Target("tcp", "10.96.0.1:443"); got != "10.96.0.1:443" {
		t.Errorf("nil map Target = %s", got)
	}
	if m.Path() != "" || m.Close() != nil {
		t.Error("nil map has a path or fails to close")
	}
	if mm, err := Load(func(string) string { return "" }); mm != nil || err != nil {
		t.Errorf("Load without the variable: %v, %v", mm, err)
	}
}
