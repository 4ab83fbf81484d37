package network

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNamespace: inside, the cluster's ranges are local and the machine's
// other interfaces are absent; /etc files are the run's.
func TestNamespace(t *testing.T) {
	inNamespace(t)
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 || ifs[0].Name != "lo" {
		t.Errorf("interfaces inside: %v, want lo alone", ifs)
	}
	for _, addr := range []string{"10.96.0.1:0", "10.244.3.7:0", "172.18.0.3:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen on %s: %v", addr, err)
			continue
		}
		ln.Close()
	}
	if _, err := net.DialTimeout("tcp", "192.0.2.1:80", time.Second); err == nil || !errors.Is(err, syscall.ENETUNREACH) {
		t.Errorf("dial outside the cluster's ranges: %v, want network unreachable", err)
	}
	rc, err := os.ReadFile("/etc/resolv.conf")
	if err != nil || !strings.Contains(string(rc), "nameserver "+DNSIP) {
		t.Errorf("/etc/resolv.conf inside: %q, %v", rc, err)
	}
	if h, _ := os.Hostname(); h != "node1" {
		t.Errorf("hostname inside = %q, want node1", h)
	}
	if err := SetNodes(map[string]string{"node1": NodeIP(1), "node2": NodeIP(2)}); err != nil {
		t.Fatal(err)
	}
	hosts, _ := os.ReadFile("/etc/hosts")
	if !strings.Contains(string(hosts), "172.18.0.3\tnode2\n") {
		t.Errorf("/etc/hosts after SetNodes:\n%s", hosts)
	}
}

// TestClusterIP: requests to a ClusterIP are spread over its ready
// endpoints, follow them as they change, and are refused when none is left.
func TestClusterIP(t *testing.T) {
	inNamespace(t)
	c := cluster(t)
	startNetwork(t, c, testLog{t})
	pod(t, "jpetazzo/color", "blue-abc-1", "10.244.1.2", 80, false)
	pod(t, "jpetazzo/color", "blue-abc-2", "10.244.2.2", 80, false)
	pod(t, "jpetazzo/color", "blue-abc-3", "10.244.3.2", 80, false)
	svc := service(t, c, "blue", corev1.ServiceTypeClusterIP, 80, 80, "10.244.1.2", "10.244.2.2")
	url := "http://" + svc.Spec.ClusterIP + "/"
	waitFor(t, "the ClusterIP to answer", func() bool { _, err := get(url); return err == nil })
	seen := map[string]int{}
	re := regexp.MustCompile(`pod default/(blue-abc-\d)`)
	for range 10 {
		body, err := get(url)
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("answer names no pod: %q", body)
		}
		seen[m[1]]++
	}
	if len(seen) != 2 {
		t.Errorf("10 requests reached %v, want both endpoints", seen)
	}

	setEndpoints(t, c, "blue", 80, "10.244.3.2")
	waitFor(t, "the new endpoint alone to answer", func() bool {
		body, err := get(url)
		return err == nil && strings.Contains(body, "blue-abc-3")
	})
	for range 5 {
		if body, err := get(url); err != nil || !strings.Contains(body, "blue-abc-3") {
			t.Fatalf("after the endpoints changed: %q, %v", body, err)
		}
	}

	setEndpoints(t, c, "blue", 80)
	waitFor(t, "connections to be refused", func() bool {
		_, err := net.DialTimeout("tcp", svc.Spec.ClusterIP+":80", time.Second)
		return errors.Is(err, syscall.ECONNREFUSED)
	})
}

// TestNodePortAndDNS: a NodePort answers on every node's address, and the
// cluster DNS resolves Service names, pod names, nip.io and nodes.
func TestNodePortAndDNS(t *testing.T) {
	inNamespace(t)
	c := cluster(t)
	n := startNetwork(t, c, testLog{t})
	pod(t, "nginx", "web-1", "10.244.1.9", 80, false)
	svc := service(t, c, "web", corev1.ServiceTypeNodePort, 8080, 80, "10.244.1.9")
	nodes, err := c.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("nodes: %v", err)
	}
	port := svc.Spec.Ports[0].NodePort
	for _, nd := range nodes.Items {
		ip := nd.Status.Addresses[0].Address
		url := "http://" + net.JoinHostPort(ip, itoa(port)) + "/"
		waitFor(t, "node port on "+ip, func() bool { _, err := get(url); return err == nil })
		if body, _ := get(url); !strings.Contains(body, "Welcome to nginx!") {
			t.Errorf("%s answered %q", url, body)
		}
	}
	t.Logf("listeners: %v", n.Listeners())

	_, err = c.CoreV1().Services("default").Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setEndpoints(t, c, "db", 80, "10.244.2.5", "10.244.3.5")
	_, err = c.CoreV1().Services("default").Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "alias"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "web.default.svc.cluster.local"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := resolver()
	ctx := context.Background()
	waitFor(t, "the DNS to know db", func() bool {
		ips, _ := r.LookupHost(ctx, "db.default.svc.cluster.local")
		return len(ips) == 2
	})
	for name, want := range map[string]string{
		"web.default.svc.cluster.local.":       svc.Spec.ClusterIP,
		"web.default.svc.cluster.local":        svc.Spec.ClusterIP,
		"alias.default.svc.cluster.local":      svc.Spec.ClusterIP,
		"10-244-1-9.default.pod.cluster.local": "10.244.1.9",
		"blue.127.0.0.1.nip.io":                "127.0.0.1",
		"app.10.244.1.9.nip.io":                "10.244.1.9",
		"10.96.0.10.nip.io":                    "10.96.0.10",
		"magic-172-18-0-2.nip.io":              "172.18.0.2",
	} {
		ips, err := r.LookupHost(ctx, name)
		if err != nil || len(ips) != 1 || ips[0] != want {
			t.Errorf("LookupHost(%s) = %v, %v; want %s", name, ips, err, want)
		}
	}
	for _, name := range []string{"nope.default.svc.cluster.local", "web", "example.com", "web.other.svc.cluster.local"} {
		_, err := r.LookupHost(ctx, name+".")
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			t.Errorf("LookupHost(%s) = %v, want not found", name, err)
		}
	}
	if _, addrs, err := r.LookupSRV(ctx, "http", "tcp", "web.default.svc.cluster.local"); err != nil || len(addrs) != 1 || addrs[0].Port != 8080 {
		t.Errorf("SRV _http._tcp.web: %v, %v", addrs, err)
	}
	// The pods' resolv.conf search list makes a short name resolve.
	pr := resolver()
	ips, err := pr.LookupHost(ctx, "web.default.svc.cluster.local")
	if err != nil || len(ips) != 1 {
		t.Errorf("pods' name: %v %v", ips, err)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestPodFiles: a pod's process sees its own resolv.conf, hosts file and
// hostname, and the namespace's stay as they were.
func TestPodFiles(t *testing.T) {
	inNamespace(t)
	dir := t.TempDir()
	if err := WritePodFiles(dir, Pod{Name: "web-0", Namespace: "shop", IP: "10.244.1.7", Subdomain: "web"}); err != nil {
		t.Fatal(err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-c", "cat /etc/resolv.conf /etc/hosts; hostname")
	if err := WrapPodCommand(cmd, dir); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
		"10.244.1.7\tweb-0.web.shop.svc.cluster.local\tweb-0\n", "\nweb-0\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pod sees no %q in:\n%s", want, out)
		}
	}
	if h, _ := os.Hostname(); h != "node1" {
		t.Errorf("the namespace's hostname became %q", h)
	}
	if rc, _ := os.ReadFile("/etc/resolv.conf"); strings.Contains(string(rc), "search") {
		t.Errorf("the namespace's resolv.conf changed:\n%s", rc)
	}
}
