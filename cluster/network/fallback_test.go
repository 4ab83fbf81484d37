package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/labrun/labrun/cluster/images"
	"github.com/labrun/labrun/cluster/network/loopback"
)

// TestFallbackRanges: the fallback maps exactly the ranges the namespace
// makes local.
func TestFallbackRanges(t *testing.T) {
	for _, cidr := range []string{ServiceCIDR, ClusterCIDR, NodeCIDR} {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if got := loopback.Addr(n.IP.String()); !net.ParseIP(got).IsLoopback() {
			t.Errorf("%s's first address maps to %s", cidr, got)
		}
	}
	if got := loopback.Addr(DNSIP); got != "127.96.0.10" {
		t.Errorf("the cluster DNS maps to %s", got)
	}
}

// TestFallback: with a loopback map, as a run without a namespace of its
// own has, a ClusterIP answers on its loopback address spread over its
// pods, a NodePort on localhost and on the nodes' mapped addresses, and the
// cluster DNS on its mapped address gives the Service's real ClusterIP.
// It runs in the test binary's namespace or outside it alike: loopback
// addresses are local in both.
func TestFallback(t *testing.T) {
	c := cluster(t)
	m, err := loopback.New(filepath.Join(t.TempDir(), "map.json"))
	if errors.Is(err, loopback.ErrTaken) {
		t.Skipf("another fallback cluster runs in this network: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := Start(ctx, Options{Client: c, Log: testLog{t}, Loopback: m})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for i, ip := range []string{"10.244.1.20", "10.244.2.20"} {
		out := &syncBuf{}
		run := images.Builtin(images.Container{Image: "jpetazzo/color", PodName: fmt.Sprintf("blue-fb-%d", i+1), Namespace: "default",
			PodIP: ip, Stdout: out, Ports: []int32{80}, Loopback: m})
		pctx, pcancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); run(pctx) }()
		defer func() { pcancel(); <-done }()
		waitFor(t, "pod "+ip, func() bool {
			cn, err := m.DialContext(ctx, "tcp", net.JoinHostPort(ip, "80"))
			if err == nil {
				cn.Close()
			}
			return err == nil
		})
	}
	svc := service(t, c, "bluefb", corev1.ServiceTypeNodePort, 80, 80, "10.244.1.20", "10.244.2.20")
	url := "http://" + m.Target("tcp", net.JoinHostPort(svc.Spec.ClusterIP, "80")) + "/"
	waitFor(t, "the ClusterIP's loopback address to answer", func() bool { _, err := get(url); return err == nil })
	re := regexp.MustCompile(`pod default/(blue-fb-\d)`)
	seen := map[string]bool{}
	for range 6 {
		body, err := get(url)
		if err != nil {
			t.Fatal(err)
		}
		if mm := re.FindStringSubmatch(body); mm != nil {
			seen[mm[1]] = true
		}
	}
	if len(seen) != 2 {
		t.Errorf("pods answering through the ClusterIP: %v, want both", seen)
	}
	np := fmt.Sprint(svc.Spec.Ports[0].NodePort)
	for _, host := range []string{"127.0.0.1", loopback.Addr(NodeIP(2))} {
		u := "http://" + net.JoinHostPort(host, np) + "/"
		waitFor(t, "node port on "+host, func() bool { _, err := get(u); return err == nil })
	}
	dns := m.Target("udp", net.JoinHostPort(DNSIP, "53"))
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dns)
	}}
	ips, err := r.LookupHost(ctx, "bluefb.default.svc.cluster.local.")
	if err != nil || len(ips) != 1 || ips[0] != svc.Spec.ClusterIP {
		t.Errorf("the cluster DNS on %s: %v, %v; want the ClusterIP %s", dns, ips, err, svc.Spec.ClusterIP)
	}
	if CurrentMode() != Outside {
		// The addresses themselves are not served: only their images.
		if _, err := net.DialTimeout("tcp", net.JoinHostPort(svc.Spec.ClusterIP, "80"), time.Second); err == nil {
			t.Errorf("the ClusterIP %s itself answers in the fallback", svc.Spec.ClusterIP)
		}
	}
}
