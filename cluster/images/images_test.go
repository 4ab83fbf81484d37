package images

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a container's stdout, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeIP is a loopback address of its own for one test container, so that
// containers listen on their real ports (80, 6379…) without meeting
// another test's.
func freeIP() string {
	return fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(100), rand.IntN(256), 1+rand.IntN(250))
}

// start runs c's behaviour until the test ends, waiting until port
// accepts connections (0: do not wait).
func start(t *testing.T, c Container, port int) *lockedBuffer {
	t.Helper()
	out := &lockedBuffer{}
	c.Stdout = out
	if c.PodIP == "" {
		c.PodIP = freeIP()
	}
	run := Builtin(c)
	if run == nil {
		t.Fatalf("Builtin(%q) = nil", c.Image)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not end after its context was cancelled", c.Image)
		}
	})
	if port == 0 {
		return out
	}
	addr := net.JoinHostPort(c.PodIP, fmt.Sprint(port))
	for deadline := time.Now().Add(30 * time.Second); ; {
		cn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			cn.Close()
			return out
		}
		select {
		case code := <-done:
			if strings.Contains(out.String(), "permission denied") {
				t.Skipf("cannot listen on %s as this user: %s", addr, out)
			}
			t.Fatalf("%s exited with %d before listening on %s: %s", c.Image, code, addr, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s: %v", c.Image, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                            "nginx",
		"nginx:1.27-alpine":                "nginx",
		"docker.io/library/redis:7":        "redis",
		"jpetazzo/color":                   "jpetazzo/color",
		"localhost:5000/jpetazzo/clock:v1": "jpetazzo/clock",
		"registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:abcd": "ingress-nginx/controller",
		"127.0.0.1:32000/dockercoins/worker:v0.1":                      "dockercoins/worker",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestArgsRunAsCommand: args replace an image's command, so the node runs
// them, except for images whose entrypoint takes them.
func TestArgsRunAsCommand(t *testing.T) {
	for _, tc := range []struct {
		image   string
		args    []string
		builtin bool
	}{
		{"alpine", nil, true},
		{"alpine", []string{"sleep", "10"}, false},
		{"nixery.dev/shell/curl", nil, true},
		{"jpetazzo/color", []string{"sh"}, false},
		{"nginx", []string{"nginx", "-g", "daemon off;"}, true},
		{"nginx", []string{"sh", "-c", "true"}, false},
		{"redis", []string{"redis-server", "--appendonly", "yes"}, true},
		{"redis", []string{"redis-cli", "ping"}, false},
		{"traefik:v3.5", []string{"--providers.kubernetesingress"}, true},
		{"some/unknown", nil, true},
		{"some/unknown", []string{"run"}, false},
	} {
		if got := Builtin(Container{Image: tc.image, Args: tc.args}) != nil; got != tc.builtin {
			t.Errorf("Builtin(%s %q) != nil is %v, want %v", tc.image, tc.args, got, tc.builtin)
		}
	}
}

func TestShellExitsAtOnce(t *testing.T) {
	if code := Builtin(Container{Image: "busybox:1.36"})(context.Background()); code != 0 {
		t.Fatalf("busybox exit code %d, want 0", code)
	}
}

func TestNginx(t *testing.T) {
	c := Container{Image: "nginx:1.27", PodName: "web-1", PodIP: freeIP()}
	out := start(t, c, 80)
	code, body := get(t, "http://"+c.PodIP+"/")
	if code != 200 || !strings.Contains(body, "<title>Welcome to nginx!</title>") || len(body) != 615 {
		t.Errorf("GET / = %d, %d bytes:\n%s", code, len(body), body)
	}
	if code, _ := get(t, "http://"+c.PodIP+"/nope"); code != 404 {
		t.Errorf("GET /nope = %d, want 404", code)
	}
	logs := out.String()
	for _, want := range []string{"Configuration complete; ready for start up", "[notice] 1#1: start worker processes", `"GET / HTTP/1.1" 200 615 "-" "Go-http-client/1.1" "-"`, `"GET /nope HTTP/1.1" 404`} {
		if !strings.Contains(logs, want) {
			t.Errorf("nginx log lacks %q:\n%s", want, logs)
		}
	}
}

func TestNginxPortTaken(t *testing.T) {
	ip := freeIP()
	ln, err := net.Listen("tcp", ip+":80")
	if err != nil {
		t.Skipf("cannot listen on port 80 as this user: %v", err)
	}
	defer ln.Close()
	out := &lockedBuffer{}
	code := Builtin(Container{Image: "nginx", PodIP: ip, Stdout: out})(context.Background())
	if code != 1 || !strings.Contains(out.String(), "bind() to 0.0.0.0:80 failed") {
		t.Errorf("nginx on a taken port: exit %d, log:\n%s", code, out)
	}
}

func TestColor(t *testing.T) {
	c := Container{Image: "jpetazzo/color", PodName: "blue-6d8f7c9b5-x2x9k", Namespace: "default", PodIP: freeIP()}
	out := start(t, c, 80)
	_, body := get(t, "http://"+c.PodIP+"/hello")
	for _, want := range []string{"background: blue;", "This is pod default/blue-6d8f7c9b5-x2x9k on linux/", "serving /hello for " + c.PodIP[:4]} {
		if !strings.Contains(body, want) {
			t.Errorf("color page lacks %q:\n%s", want, body)
		}
	}
	if !strings.Contains(out.String(), "listening on port 80.") {
		t.Errorf("color log: %s", out)
	}
}

func TestRedis(t *testing.T) {
	c := Container{Image: "redis", PodIP: freeIP()}
	out := start(t, c, 6379)
	cn, err := net.Dial("tcp", c.PodIP+":6379")
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	rc := &redisConn{cn: cn, r: bufio.NewReader(cn)}
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want any
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"INCRBY", "hashes", "3"}, 3},
		{[]string{"INCRBY", "hashes", "4"}, 7},
		{[]string{"GET", "hashes"}, "7"},
		{[]string{"HSET", "wallet", "0abc", "x"}, 1},
		{[]string{"HSET", "wallet", "0abc", "y"}, 0},
		{[]string{"HLEN", "wallet"}, 1},
		{[]string{"RPUSH", "cities", "Paris", "Lyon"}, 2},
		{[]string{"LLEN", "cities"}, 2},
		{[]string{"DEL", "cities", "nothing"}, 1},
		{[]string{"GET", "nothing"}, nil},
	} {
		got, err := rc.call(ctx, tc.args...)
		if err != nil || got != tc.want {
			t.Errorf("%q = %#v, %v; want %#v", tc.args, got, err, tc.want)
		}
	}
	if _, err := rc.call(ctx, "GET", "wallet"); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("GET of a hash: %v, want WRONGTYPE", err)
	}
	// An inline command, as redis-cli and nc users type it.
	fmt.Fprint(cn, "PING\r\n")
	if line, _ := rc.r.ReadString('\n'); line != "+PONG\r\n" {
		t.Errorf("inline PING answered %q", line)
	}
	if !strings.Contains(out.String(), "Ready to accept connections tcp") {
		t.Errorf("redis log: %s", out)
	}
}

// TestRngHasher: rng serves one request at a time, 0.1 s each, so that
// workers beyond ten a pod do not go faster; hasher hashes what it gets.
func TestRngHasher(t *testing.T) {
	rng := Container{Image: "dockercoins/rng:v0.1", PodName: "rng-abc", PodIP: freeIP()}
	hasher := Container{Image: "dockercoins/hasher:v0.1", PodName: "hasher-abc", PodIP: freeIP()}
	start(t, rng, 80)
	start(t, hasher, 80)
	if _, body := get(t, "http://"+rng.PodIP+"/"); body != "RNG running on rng-abc\n" {
		t.Errorf("rng / = %q", body)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, body := get(t, "http://"+rng.PodIP+"/32"); len(body) != 32 {
				t.Errorf("rng /32 gave %d bytes", len(body))
			}
		}()
	}
	wg.Wait()
	if d := time.Since(t0); d < 5*dockercoinsDelay {
		t.Errorf("5 concurrent rng requests took %v: rng must serve one at a time", d)
	}
	resp, err := http.Post("http://"+hasher.PodIP+"/", "application/octet-stream", strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("hasher of abc = %q", b)
	}
}

func TestHTTPSAndIdle(t *testing.T) {
	dash := Container{Image: "kubernetesui/dashboard:v2.7.0", Namespace: "kubernetes-dashboard", PodName: "kubernetes-dashboard-1", PodIP: freeIP(),
		Args: []string{"--namespace=kubernetes-dashboard", "--auto-generate-certificates", "--sidecar-host=http://127.0.0.1:8000"}}
	start(t, dash, 8443)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get("https://" + dash.PodIP + ":8443/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "<title>Kubernetes Dashboard</title>") {
		t.Errorf("dashboard page: %s", b)
	}

	// Without certificates (dashboard-insecure.yaml), plain HTTP on 9090.
	insecure := Container{Image: "kubernetesui/dashboard:v2.7.0", Namespace: "kubernetes-dashboard", PodName: "kubernetes-dashboard-2", PodIP: freeIP(),
		Args: []string{"--namespace=kubernetes-dashboard", "--enable-skip-login", "--enable-insecure-login"}}
	log := start(t, insecure, 9090)
	if _, body := get(t, "http://"+insecure.PodIP+":9090/"); !strings.Contains(body, "<title>Kubernetes Dashboard</title>") {
		t.Errorf("insecure dashboard page: %s", body)
	}
	if !strings.Contains(log.String(), "Serving insecurely on HTTP port: 9090") {
		t.Errorf("insecure dashboard log: %s", log)
	}

	other := Container{Image: "example.com/team/app:v3", Namespace: "default", PodName: "app-1", PodIP: freeIP(), Ports: []int32{8080}}
	out := start(t, other, 8080)
	if _, body := get(t, "http://"+other.PodIP+":8080/"); !strings.Contains(body, "example.com/team/app:v3 is simulated") {
		t.Errorf("idle page: %q", body)
	}
	if !strings.Contains(out.String(), `image "example.com/team/app:v3" is simulated`) {
		t.Errorf("idle log: %s", out)
	}
}

func TestRegistryAndHttpenv(t *testing.T) {
	reg := Container{Image: "registry:2", PodIP: freeIP()}
	start(t, reg, 5000)
	if _, body := get(t, "http://"+reg.PodIP+":5000/v2/_catalog"); body != "{\"repositories\":[]}\n" {
		t.Errorf("catalog = %q", body)
	}
	env := Container{Image: "jpetazzo/httpenv", PodName: "httpenv-1", PodIP: freeIP(), Env: []string{"COLOR=blue"}}
	start(t, env, 8888)
	if _, body := get(t, "http://"+env.PodIP+":8888/"); !strings.Contains(body, `"COLOR":"blue"`) || !strings.Contains(body, `"HOSTNAME":"httpenv-1"`) {
		t.Errorf("httpenv = %q", body)
	}
}

// TestOutsideTheNamespace: a pod IP that is not an address here (labrun
// could not make its namespace) leaves the container running, saying why
// it does not answer, rather than crashing it.
func TestOutsideTheNamespace(t *testing.T) {
	out := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	code := Builtin(Container{Image: "nginx", PodIP: "192.0.2.77", Stdout: out})(ctx)
	if code != exitCode || !strings.Contains(out.String(), "cannot listen on 192.0.2.77:80: pod addresses exist only in labrun's network namespace") {
		t.Errorf("exit %d, log:\n%s", code, out)
	}
}
