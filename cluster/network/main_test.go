package network

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/labrun/labrun/cluster/images"
	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// TestMain runs the tests in a network namespace of their own, made as
// labrun makes it for a run, so that they bind cluster addresses (10.x)
// and nothing they open is seen outside; the binary doubles as the pod
// helper, as labrun's main does.
func TestMain(m *testing.M) {
	if code, exited := EnterAlways(os.Args, os.Stderr); exited {
		os.Exit(code)
	}
	code := m.Run()
	if shared.cp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.cp.Close(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "stop the shared control plane: %v\n", err)
			code = 1
		}
		cancel()
	}
	os.Exit(code)
}

// shared is the test binary's one control plane (a start costs seconds
// and hundreds of MB); TestMain stops it.
var shared struct {
	once sync.Once
	cp   *upstream.ControlPlane
	err  error
	skip string
}

// inNamespace skips (or fails, under CI) a test that needs the namespace.
func inNamespace(t testing.TB) {
	t.Helper()
	if CurrentMode() != Outside {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no network namespace could be made (see the first lines of the output)")
	}
	t.Skip("no network namespace could be made here (see the first lines of the output)")
}

// cluster is an API server for the network to follow: the test binary's
// shared real control plane (started inside the namespace, so its
// listeners are part of what the tests see before and after). The network
// tests work in "default", as the DNS names they resolve say, so each test
// deletes the Services and EndpointSlices it made there when it ends, and
// the next test's network starts from the control plane's own objects.
func cluster(t testing.TB) kubernetes.Interface {
	t.Helper()
	shared.once.Do(func() {
		bin, err := upstreamtest.Binary()
		if err != nil {
			shared.skip = err.Error()
			return
		}
		opts := upstream.Options{Binary: bin, Timeout: 5 * time.Minute}
		if CurrentMode() != Outside {
			// The namespace has no default route for the API server to
			// take its advertised address from: node1's, as a run's
			// built-in cluster does.
			opts.BindAddress = NodeIP(1)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared.cp, shared.err = upstream.Start(ctx, opts)
		if shared.err == nil {
			shared.err = registerNodes(ctx, shared.cp)
		}
	})
	if shared.skip != "" {
		upstreamtest.SkipOrFail(t, shared.skip)
	}
	if shared.err != nil {
		t.Fatalf("start the control plane: %v", shared.err)
	}
	cfg := shared.cp.RESTConfig()
	cfg.QPS, cfg.Burst = 1000, 1000
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanDefault(t, c) })
	return c
}

// registerNodes makes node1…node3 with their addresses, as the built-in
// cluster's node agents do, for the NodePorts and the DNS to follow.
func registerNodes(ctx context.Context, cp *upstream.ControlPlane) error {
	c, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		return err
	}
	for i := 1; i <= 3; i++ {
		// Create ignores a status: the addresses are the status's.
		nd, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node%d", i)}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("register a node: %w", err)
		}
		// A patch: the controller manager writes the node too.
		patch := fmt.Sprintf(`{"status":{"addresses":[{"type":"InternalIP","address":%q},{"type":"Hostname","address":%q}]}}`, NodeIP(i), nd.Name)
		if _, err := c.CoreV1().Nodes().Patch(ctx, nd.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			return fmt.Errorf("node %s's addresses: %w", nd.Name, err)
		}
	}
	return nil
}

// cleanDefault deletes what a test made in "default": every Service but
// the API server's own, and the EndpointSlices the tests write by hand.
func cleanDefault(t testing.TB, c kubernetes.Interface) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svcs, err := c.CoreV1().Services("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Errorf("list the test's Services: %v", err)
		return
	}
	for _, s := range svcs.Items {
		if s.Name == "kubernetes" {
			continue
		}
		if err := c.CoreV1().Services("default").Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete Service %s: %v", s.Name, err)
		}
	}
	sel := metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "!=kubernetes"}
	if err := c.DiscoveryV1().EndpointSlices("default").DeleteCollection(ctx, metav1.DeleteOptions{}, sel); err != nil {
		t.Errorf("delete the test's EndpointSlices: %v", err)
	}
}

func startNetwork(t testing.TB, c kubernetes.Interface, log io.Writer) *Network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if log == nil {
		log = io.Discard
	}
	n, err := Start(ctx, Options{Client: c, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// pod runs an image's behaviour on ip until the test ends, and waits
// until it accepts connections on port.
func pod(t testing.TB, image, name, ip string, port int, dns bool) *syncBuf {
	t.Helper()
	out := &syncBuf{}
	c := images.Container{Image: image, PodName: name, Namespace: "default", PodIP: ip, Stdout: out, Ports: []int32{int32(port)}}
	if dns {
		c.DNS = net.JoinHostPort(DNSIP, "53")
	}
	run := images.Builtin(c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if port != 0 {
		waitFor(t, fmt.Sprintf("%s listening on %s:%d", image, ip, port), func() bool {
			cn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(port)), time.Second)
			if err == nil {
				cn.Close()
			}
			return err == nil
		})
	}
	return out
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// service creates a selector-less Service and its EndpointSlice by hand,
// as the endpoint controller would for ready pods at ips.
func service(t testing.TB, c kubernetes.Interface, name string, typ corev1.ServiceType, port, target int32, ips ...string) *corev1.Service {
	t.Helper()
	ctx := context.Background()
	svc, err := c.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Type: typ, Ports: []corev1.ServicePort{{Name: "http", Port: port, Protocol: corev1.ProtocolTCP}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setEndpoints(t, c, name, target, ips...)
	return svc
}

func setEndpoints(t testing.TB, c kubernetes.Interface, name string, port int32, ips ...string) {
	t.Helper()
	ready := true
	portName, proto := "http", corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-manual", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
	}
	for _, ip := range ips {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	ctx := context.Background()
	cur, err := c.DiscoveryV1().EndpointSlices("default").Get(ctx, slice.Name, metav1.GetOptions{})
	if err == nil {
		slice.ResourceVersion = cur.ResourceVersion
		_, err = c.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{})
	} else {
		_, err = c.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func get(url string) (string, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, net.JoinHostPort(DNSIP, "53"))
	}}
}
