package network

import (
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
)

// TestHostListener: the listener Enter opens for `cluster start` reaches
// the process it hands it to (here through a descriptor of this process,
// as the child's descriptor 3), which serves on it; other commands get none.
func TestHostListener(t *testing.T) {
	if f, err := hostListener([]string{"labrun", "run", "deck.md"}); f != nil || err != nil {
		t.Fatalf("run got a host listener: %v %v", f, err)
	}
	f, err := hostListener([]string{"labrun", "cluster", "start"})
	if err != nil || f == nil {
		t.Fatalf("cluster start: %v %v", f, err)
	}
	// A descriptor of its own, as the child's 3 is: HostListener closes it.
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envHostFD, fmt.Sprint(fd))
	ln, err := HostListener()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if again, err := HostListener(); again != nil || err != nil {
		t.Errorf("a second HostListener: %v %v", again, err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "served\n")
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "served\n" {
		t.Errorf("through the host listener: %q %v", b, err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); host != "127.0.0.1" {
		t.Errorf("the host listener is on %s, want loopback only", ln.Addr())
	}
}
