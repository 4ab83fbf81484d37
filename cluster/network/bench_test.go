package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkFirstRequest: from a Service's first ready endpoint written to
// the API server to its first answer through the ClusterIP (goal ≤ 50 ms).
func BenchmarkFirstRequest(b *testing.B) {
	inNamespace(b)
	c := cluster(b)
	startNetwork(b, c, nil)
	pod(b, "jpetazzo/color", "first-1", "10.244.1.40", 80, false)
	var total time.Duration
	n := 0
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("first-%d", i)
		svc := service(b, c, name, corev1.ServiceTypeClusterIP, 80, 80)
		addr := svc.Spec.ClusterIP + ":80"
		t0 := time.Now()
		setEndpoints(b, c, name, 80, "10.244.1.40")
		for {
			if _, err := get("http://" + addr + "/"); err == nil {
				break
			}
			if time.Since(t0) > time.Minute {
				b.Fatal("no answer within a minute")
			}
			time.Sleep(time.Millisecond)
		}
		total += time.Since(t0)
		n++
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms-to-first-answer")
}

// BenchmarkThousandRequests: 1,000 HTTP requests, each on a connection of
// its own, through a ClusterIP to two pods (goal ≤ 2 s).
func BenchmarkThousandRequests(b *testing.B) {
	inNamespace(b)
	c := cluster(b)
	startNetwork(b, c, nil)
	pod(b, "nginx", "web-1", "10.244.1.50", 80, false)
	pod(b, "nginx", "web-2", "10.244.2.50", 80, false)
	svc := service(b, c, "thousand", corev1.ServiceTypeClusterIP, 80, 80, "10.244.1.50", "10.244.2.50")
	url := "http://" + svc.Spec.ClusterIP + "/"
	waitFor(b, "the ClusterIP", func() bool { _, err := get(url); return err == nil })
	for b.Loop() {
		for range 1000 {
			if _, err := get(url); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestHundredServicesLeaveNothing: 100 Services with endpoints get their
// listeners; once the network closes, every address refuses and no file
// descriptor is left open.
func TestHundredServicesLeaveNothing(t *testing.T) {
	inNamespace(t)
	c := cluster(t)
	pod(t, "nginx", "web-1", "10.244.1.60", 80, false)
	before := listening(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := Start(ctx, Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() }) // when the test fails before its own Close
	var addrs []string
	for i := range 100 {
		svc := service(t, c, fmt.Sprintf("many-%d", i), corev1.ServiceTypeNodePort, 80, 80, "10.244.1.60")
		addrs = append(addrs, svc.Spec.ClusterIP+":80")
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The control plane's own `kubernetes` Service has its listener too.
	want := 100 * (1 + len(nodes.Items))
	var got []string
	waitFor(t, fmt.Sprintf("%d listeners", want), func() bool {
		got = got[:0]
		for _, l := range n.Listeners() {
			if !strings.HasPrefix(l, "tcp/10.96.0.1:") {
				got = append(got, l)
			}
		}
		return len(got) == want
	})
	for _, a := range addrs[:10] {
		if _, err := get("http://" + a + "/"); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range append(addrs, net.JoinHostPort(DNSIP, "53")) {
		cn, err := net.DialTimeout("tcp", a, time.Second)
		if err == nil {
			cn.Close()
			t.Fatalf("%s still answers after Close", a)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%s after Close: %v, want refused", a, err)
		}
	}
	if after := listening(t); after != before {
		t.Errorf("sockets listening after Close: %v; before Start: %v", after, before)
	}
}

// listening lists the namespace's listening TCP and bound UDP sockets
// (the test's API server and pods included), from /proc/net.
func listening(t *testing.T) string {
	t.Helper()
	var out []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/udp"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Skipf("cannot list sockets: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) > 3 && (fields[3] == "0A" || f == "/proc/net/udp") {
				out = append(out, f[len("/proc/net/"):]+"/"+fields[1])
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
