// Package loopback is the built-in cluster's network fallback: where
// labrun cannot make a network namespace of its own (an ordinary user on a
// machine with unprivileged user namespaces disabled, or LABRUN_NETNS_OFF),
// every cluster address is mapped to a loopback address of its own, which
// Linux makes local and bindable without privilege (the whole 127.0.0.0/8
// is routed to lo):
//
//	Service range 10.96.0.0/12  → 127.96.0.0/12   (10.96.0.10 → 127.96.0.10)
//	pod range     10.244.0.0/16 → 127.244.0.0/16
//	node range    172.18.0.0/16 → 127.18.0.0/16   (node1 172.18.0.2 → 127.18.0.2)
//
// The three images do not overlap one another, nor the loopback addresses
// the host's own programs use (127.0.0.1, systemd-resolved's 127.0.0.53
// and .54, Debian's 127.0.1.1 for its host name, Docker's 127.0.0.11), so
// nothing of the host is ever shadowed. Only the cluster's own ranges are
// mapped (not all of 10.0.0.0/8, whose 10.18.x.y would meet the nodes').
//
// A port below 1024 needs privilege (net.ipv4.ip_unprivileged_port_start,
// 1024 by default): when binding it is refused, the listener takes an
// ephemeral port and the Map keeps "tcp/127.244.1.5:80 → 127.244.1.5:41234"
// in its table, which the dialers in this process consult and which is
// written to a file for the processes the cluster starts (the applets a
// pod or a lab runs find it through the environment variable Env).
//
// A Map holds an abstract unix socket named after it for as long as it
// lives: the loopback addresses are the whole machine's (its network
// namespace's), so it holds one built-in cluster, and a second Map is
// refused with ErrTaken.
package loopback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// The environment of the processes the cluster starts (containers,
// execs, the lab's shell) names the map file in Env and, in a pod, the
// pod's resolver settings (its would-be /etc/resolv.conf) in
// EnvResolvConf.
const (
	Env           = "LABRUN_LOOPBACK_MAP"
	EnvResolvConf = "LABRUN_RESOLV_CONF"
)

// lockName is the abstract unix socket a Map holds: one per network
// namespace, gone with the process that held it.
const lockName = "@labrun-loopback-cluster"

// ErrTaken says another built-in cluster already uses the fallback's
// loopback addresses in this network.
var ErrTaken = errors.New("another built-in cluster already runs in this machine's network without a namespace of its own (the network fallback), and the machine's loopback addresses hold only one: their pod, Service and node addresses would collide. Wait for it to end, or run against it with --cluster kubeconfig")

// Addr maps one address of the cluster to its loopback address; any other
// address is returned as it is.
func Addr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return ip
	}
	b := a.As4()
	switch {
	case b[0] == 10 && b[1]&0xf0 == 96, // 10.96.0.0/12
		b[0] == 10 && b[1] == 244, // 10.244.0.0/16
		b[0] == 172 && b[1] == 18: // 172.18.0.0/16
		b[0] = 127
		return netip.AddrFrom4(b).String()
	}
	return ip
}

// Map is the fallback's table of listeners that could not keep their
// port, shared by the listeners and dialers of this process and written
// to a file for its children. A nil *Map maps nothing: its Listen and Dial
// use the addresses they are given.
type Map struct {
	path string
	lock net.Listener // nil in a child that only reads

	mu    sync.Mutex
	ports map[string]string // "tcp/127.244.1.5:80" → "127.244.1.5:41234"

	// listen and listenPacket bind; a test stands in for a process that
	// may not bind ports below 1024.
	listen       func(ctx context.Context, network, addr string) (net.Listener, error)
	listenPacket func(ctx context.Context, network, addr string) (net.PacketConn, error)
}

func newMap(path string, lock net.Listener, ports map[string]string) *Map {
	var lc net.ListenConfig
	return &Map{path: path, lock: lock, ports: ports, listen: lc.Listen, listenPacket: lc.ListenPacket}
}

// file is the map file's content.
type file struct {
	Ports map[string]string `json:"ports"`
}

// New makes the cluster's map, its file at path, and holds the machine's
// one fallback cluster until Close; ErrTaken when another holds it.
func New(path string) (*Map, error) {
	lock, err := Hold()
	if err != nil {
		return nil, err
	}
	m := newMap(path, lock, map[string]string{})
	if err := m.save(); err != nil {
		lock.Close()
		return nil, err
	}
	return m, nil
}

// Hold takes the machine's one fallback cluster, or returns ErrTaken;
// closing the listener lets it go. New holds it for a Map; CheckFree-like
// callers take and release it to refuse a second cluster early.
func Hold() (net.Listener, error) {
	ln, err := net.Listen("unix", lockName)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, ErrTaken
	}
	if err != nil {
		return nil, fmt.Errorf("the network fallback's lock %s: %w", lockName, err)
	}
	return ln, nil
}

// Load reads the map file the environment names (getenv(Env)), for a
// process the cluster started; nil without one (inside labrun's network
// namespace, or outside any cluster).
func Load(getenv func(string) string) (*Map, error) {
	path := getenv(Env)
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the cluster's address map: %w", err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("the cluster's address map %s: %w", path, err)
	}
	if f.Ports == nil {
		f.Ports = map[string]string{}
	}
	return newMap(path, nil, f.Ports), nil
}

// Path is the map file's path, for Env.
func (m *Map) Path() string {
	if m == nil {
		return ""
	}
	return m.path
}

// Close lets the machine's fallback cluster go and removes the file.
func (m *Map) Close() error {
	if m == nil || m.lock == nil {
		return nil
	}
	m.lock.Close()
	if err := os.Remove(m.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Target is where to connect for addr ("10.96.0.20:80") over network
// (tcp or udp): its loopback address, on the port its listener took.
func (m *Map) Target(network, addr string) string {
	if m == nil {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	local := net.JoinHostPort(Addr(host), port)
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.ports[key(network, local)]; ok {
		return t
	}
	return local
}

// DialContext connects to addr's target (see Target).
func (m *Map) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, m.Target(network, addr))
}

// Listen binds addr's loopback address on addr's port, or on an ephemeral
// port, kept in the table until the listener is closed, when the port
// needs privilege this process lacks.
func (m *Map) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	if m == nil {
		var lc net.ListenConfig
		return lc.Listen(ctx, network, addr)
	}
	local, port, err := m.local(addr)
	if err != nil {
		return nil, err
	}
	ln, err := m.listen(ctx, network, local)
	if !privileged(err, port) {
		return ln, err
	}
	ln, err = m.listen(ctx, network, net.JoinHostPort(Addr(hostOf(addr)), "0"))
	if err != nil {
		return nil, err
	}
	k := key(network, local)
	if err := m.set(k, ln.Addr().String()); err != nil {
		ln.Close()
		return nil, err
	}
	return &listener{Listener: ln, release: func() { m.unset(k, ln.Addr().String()) }}, nil
}

// ListenPacket is Listen for UDP.
func (m *Map) ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error) {
	if m == nil {
		var lc net.ListenConfig
		return lc.ListenPacket(ctx, network, addr)
	}
	local, port, err := m.local(addr)
	if err != nil {
		return nil, err
	}
	pc, err := m.listenPacket(ctx, network, local)
	if !privileged(err, port) {
		return pc, err
	}
	pc, err = m.listenPacket(ctx, network, net.JoinHostPort(Addr(hostOf(addr)), "0"))
	if err != nil {
		return nil, err
	}
	k := key(network, local)
	if err := m.set(k, pc.LocalAddr().String()); err != nil {
		pc.Close()
		return nil, err
	}
	return &packetConn{UDPConn: pc.(*net.UDPConn), release: func() { m.unset(k, pc.LocalAddr().String()) }}, nil
}

// local is addr with its host mapped, and its port.
func (m *Map) local(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("address %s: bad port", addr)
	}
	return net.JoinHostPort(Addr(host), p), port, nil
}

func hostOf(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

// privileged says whether err is the refusal of a port that needs
// privilege.
func privileged(err error, port int) bool {
	return err != nil && port > 0 && port < 1024 && errors.Is(err, syscall.EACCES)
}

// key is the table's key: "tcp/127.244.1.5:80".
func key(network, addr string) string {
	switch network {
	case "udp", "udp4", "udp6":
		network = "udp"
	default:
		network = "tcp"
	}
	return network + "/" + addr
}

func (m *Map) set(k, v string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.ports[k]; ok {
		return fmt.Errorf("listen %s: address already in use (by %s)", k, old)
	}
	m.ports[k] = v
	return m.saveLocked()
}

// unset removes k unless another listener has taken it since.
func (m *Map) unset(k, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ports[k] == v {
		delete(m.ports, k)
		_ = m.saveLocked()
	}
}

func (m *Map) save() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saveLocked()
}

// saveLocked writes the table whole, through a rename, so that a reader
// never sees half of it.
func (m *Map) saveLocked() error {
	if m.lock == nil {
		return nil // a child's copy: read only
	}
	b, err := json.Marshal(file{Ports: m.ports})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(m.path), ".loopback-*")
	if err != nil {
		return fmt.Errorf("the cluster's address map: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("the cluster's address map: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("the cluster's address map: %w", err)
	}
	if err := os.Rename(tmp.Name(), m.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("the cluster's address map: %w", err)
	}
	return nil
}

// listener takes its entry out of the table when closed.
type listener struct {
	net.Listener
	once    sync.Once
	release func()
}

func (l *listener) Close() error {
	err := l.Listener.Close()
	l.once.Do(l.release)
	return err
}

// packetConn takes its entry out of the table when closed; it stays a
// *net.UDPConn for the callers that read with ReadFromUDP.
type packetConn struct {
	*net.UDPConn
	once    sync.Once
	release func()
}

func (p *packetConn) Close() error {
	err := p.UDPConn.Close()
	p.once.Do(p.release)
	return err
}
