package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/labrun/labrun/cluster/network/loopback"
)

// udpIdle is how long a UDP flow lives without a datagram either way, as
// the kernel's conntrack keeps a kube-proxy UDP flow (30 s unreplied).
const udpIdle = 30 * time.Second

// udpListener serves one UDP address of a Service. As kube-proxy's
// conntrack does, it pins each client address to one backend (picked in
// turn) for as long as the flow lives, and sends the backend's replies
// back from the Service's address; a flow whose backend is removed ends.
type udpListener struct {
	key string
	pc  udpConn
	log io.Writer
	m   *loopback.Map

	mu       sync.Mutex
	backends []string
	next     int
	flows    map[string]*udpFlow // by client address
	closed   bool
	wg       sync.WaitGroup
}

// udpFlow is one client's conversation with its backend.
type udpFlow struct {
	client  *net.UDPAddr
	backend string
	up      *net.UDPConn // connected to the backend
}

// udpConn is the listener's socket: a *net.UDPConn, or the fallback's
// wrapping of one (package loopback).
type udpConn interface {
	ReadFromUDP(b []byte) (int, *net.UDPAddr, error)
	WriteToUDP(b []byte, addr *net.UDPAddr) (int, error)
	Close() error
}

func listenUDP(ctx context.Context, m *loopback.Map, key string, backends []string, log io.Writer) (*udpListener, error) {
	c, err := m.ListenPacket(ctx, "udp", key[len("udp/"):])
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", key, err)
	}
	pc, ok := c.(udpConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("serve %s: not a UDP socket", key)
	}
	l := &udpListener{key: key, pc: pc, log: log, m: m, backends: backends, flows: map[string]*udpFlow{}}
	l.wg.Add(1)
	go l.serve()
	return l, nil
}

func (l *udpListener) serve() {
	defer l.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, client, err := l.pc.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error for an earlier reply, say
		}
		f, err := l.flow(client)
		if err != nil {
			fmt.Fprintf(l.log, "network: %s: %v\n", l.key, err)
			continue
		}
		if f == nil {
			return // closed
		}
		_, _ = f.up.Write(buf[:n])
	}
}

// flow returns client's flow, starting one to the next backend in turn;
// nil once the listener is closed.
func (l *udpListener) flow(client *net.UDPAddr) (*udpFlow, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil
	}
	if f, ok := l.flows[client.String()]; ok {
		return f, nil
	}
	if len(l.backends) == 0 {
		return nil, errors.New("no backend")
	}
	backend := l.backends[l.next%len(l.backends)]
	l.next++
	raddr, err := net.ResolveUDPAddr("udp", l.m.Target("udp", backend))
	if err != nil {
		return nil, err
	}
	up, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", backend, err)
	}
	f := &udpFlow{client: client, backend: backend, up: up}
	l.flows[client.String()] = f
	l.wg.Add(1)
	go l.replies(f)
	return f, nil
}

// replies sends the backend's datagrams to the client until the flow has
// been idle for udpIdle or is ended.
func (l *udpListener) replies(f *udpFlow) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		if l.flows[f.client.String()] == f {
			delete(l.flows, f.client.String())
		}
		l.mu.Unlock()
		f.up.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		_ = f.up.SetReadDeadline(time.Now().Add(udpIdle))
		n, err := f.up.Read(buf)
		var ne net.Error
		switch {
		case err == nil:
			_, _ = l.pc.WriteToUDP(buf[:n], f.client)
		case errors.As(err, &ne) && ne.Timeout():
			return
		case errors.Is(err, net.ErrClosed):
			return
		default:
			// ECONNREFUSED: nothing listens on the backend yet (a
			// datagram is lost, as it would be); keep the flow.
		}
	}
}

func (l *udpListener) setBackends(b []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.backends = b
	for key, f := range l.flows {
		if !slices.Contains(b, f.backend) {
			delete(l.flows, key)
			f.up.Close()
		}
	}
}

// close stops serving and ends every flow.
func (l *udpListener) close() {
	l.mu.Lock()
	l.closed = true
	for key, f := range l.flows {
		delete(l.flows, key)
		f.up.Close()
	}
	l.mu.Unlock()
	l.pc.Close()
	l.wg.Wait()
}
