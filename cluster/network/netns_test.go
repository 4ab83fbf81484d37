package network

import (
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labrun/labrun/cluster/network/loopback"
)

// The commands that start the built-in cluster enter the namespace; those
// on another cluster, and those that start none, do not.
func TestWantsNamespace(t *testing.T) {
	for _, tc := range []struct {
		args string
		want bool
	}{
		{"run deck.yml", true},
		{"run --cluster builtin deck.yml", true},
		{"run --cluster=kind deck.yml", false},
		{"run --cluster kubeconfig deck.yml", false},
		{"run deck.yml -- --cluster kind", true},
		{"cluster start", true},
		{"regress main HEAD deck.yml", true},
		{"regress --cluster=kind:x main HEAD deck.yml", false},
		{"bisect v1 HEAD deck.yml --step a.md:3", true},
		{"bisect-judge target.json deck.yml", true},
		{"step deck.yml", true},
		{"watch deck.yml", true},
		{"watch --cluster kubeconfig deck.yml", false},
		{"lint deck.yml", false},
		{"list deck.yml", false},
		{"compare a.json b.json", false},
		{"", false},
	} {
		if got := wantsNamespace(strings.Fields(tc.args)); got != tc.want {
			t.Errorf("wantsNamespace(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// CheckFree tells a namespace whose cluster DNS address is taken, as by a
// built-in cluster already running there, from one where it is free.
func TestCheckFree(t *testing.T) {
	if CurrentMode() == Outside {
		t.Skip("not in a network namespace of labrun's (see TestMain)")
	}
	if err := CheckFree(); err != nil {
		t.Fatalf("with no cluster DNS running: %v", err)
	}
	c, err := net.ListenPacket("udp", net.JoinHostPort(DNSIP, "53"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFree(); !errors.Is(err, ErrTaken) {
		t.Errorf("with the cluster DNS address taken: %v, want ErrTaken", err)
	}
	c.Close()
	if err := CheckFree(); err != nil {
		t.Errorf("once freed: %v", err)
	}
}

// TestChildEnv: a -j unit's labrun makes a namespace of its own (it loses
// what says it is in one) unless none can be made (it keeps what says so).
func TestChildEnv(t *testing.T) {
	env := []string{"PATH=/bin", envMode + "=user", envDir + "=/tmp/x", envSetUp + "=1", envHostFD + "=3", envOff + "=1", envFallback + "=no namespaces here"}
	got := ChildEnv(env)
	want := []string{"PATH=/bin", envOff + "=1", envFallback + "=no namespaces here"}
	if !slices.Equal(got, want) {
		t.Errorf("ChildEnv = %q, want %q", got, want)
	}
}

// TestCheckFreeFallback: outside a namespace of labrun's, a second
// built-in cluster is refused while a first holds the machine's loopback
// addresses (the network fallback), and allowed once it is gone.
func TestCheckFreeFallback(t *testing.T) {
	t.Setenv(envMode, "") // as a process outside any namespace of labrun's…
	t.Setenv(envFallback, "")
	t.Setenv(envOff, "")
	m, err := loopback.New(filepath.Join(t.TempDir(), "map.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFree(); err != nil {
		t.Errorf("a process that never went through Enter has no fallback, and no limit: %v", err)
	}
	m.Close()
	t.Setenv(envFallback, "no namespaces here") // …which Enter put in the fallback
	if err := CheckFree(); err != nil {
		t.Fatalf("with no fallback cluster: %v", err)
	}
	m, err = loopback.New(filepath.Join(t.TempDir(), "map.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFree(); !errors.Is(err, loopback.ErrTaken) {
		t.Errorf("with a fallback cluster running: %v, want loopback.ErrTaken", err)
	}
	m.Close()
	if err := CheckFree(); err != nil {
		t.Errorf("once it is gone: %v", err)
	}
}
