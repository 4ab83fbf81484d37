package kind

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/internal/proc"
)

func TestMain(m *testing.M) { builtintest.Main(m) }

// standin is a fake `kind` (and `docker`) on PATH: a shell script that logs
// its arguments and, for `create cluster` and `get kubeconfig`, hands out the
// kubeconfig of the test binary's shared built-in cluster, so the real
// kubectl works.
type standin struct {
	bin     string // directory put first on PATH
	argsLog string
	fifo    string // create cluster writes its sleeping child's pid here, then hangs
}

type standinOpts struct {
	kubeconfig string // the cluster's kubeconfig, handed out as kind's
	clusters   string // what `kind get clusters` prints
	failCreate string // non-empty: create exits 1 printing this
	hang       bool   // create hangs (after writing a pid to the fifo)
	noKind     bool
	dockerFail bool // `docker info` fails as without a daemon
	podman     bool // a working podman is on PATH
}

func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func newStandin(t *testing.T, o standinOpts) *standin {
	t.Helper()
	dir := t.TempDir()
	s := &standin{bin: filepath.Join(dir, "bin"), argsLog: filepath.Join(dir, "kind-args.log"), fifo: filepath.Join(dir, "fifo")}
	if err := os.Mkdir(s.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.argsLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if o.hang {
		if err := syscall.Mkfifo(s.fifo, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return ""
	}
	script := fmt.Sprintf(`#!/bin/sh
LOG=%s FAKE_KC=%s CLUSTERS=%s FAIL=%s HANG=%s FIFO=%s
printf '%%s\n' "$*" >> "$LOG"
[ -n "$KIND_EXPERIMENTAL_PROVIDER" ] && echo "$KIND_EXPERIMENTAL_PROVIDER" > "$LOG.provider"
case "$1 $2" in
"create cluster")
	kc= prev=
	for a; do [ "$prev" = --kubeconfig ] && kc=$a; prev=$a; done
	echo "Creating cluster \"stand-in\" ..." >&2
	if [ -n "$FAIL" ]; then echo "ERROR: failed to create cluster: $FAIL" >&2; exit 1; fi
	if [ -n "$HANG" ]; then sleep 600 >/dev/null 2>&1 & echo $! > "$FIFO"; wait; exit 3; fi
	cp "$FAKE_KC" "$kc" ;;
"get kubeconfig") cat "$FAKE_KC" ;;
"get clusters") [ -n "$CLUSTERS" ] && echo "$CLUSTERS" | tr ' ' '\n'; [ -n "$CLUSTERS" ] || echo "No kind clusters found." >&2 ;;
"delete cluster") echo "Deleting cluster ..." >&2 ;;
*) echo "stand-in kind: unexpected arguments: $*" >&2; exit 2 ;;
esac
`, sq(s.argsLog), sq(o.kubeconfig), sq(o.clusters), sq(o.failCreate), sq(flag(o.hang)), sq(s.fifo))
	if !o.noKind {
		if err := os.WriteFile(filepath.Join(s.bin, "kind"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	docker := "#!/bin/sh\n[ \"$1\" = info ] && echo 'Server Version: stand-in' && exit 0\nexit 2\n"
	if o.dockerFail {
		docker = "#!/bin/sh\necho 'Client: Docker Engine'\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n"
	}
	if err := os.WriteFile(filepath.Join(s.bin, "docker"), []byte(docker), 0o755); err != nil {
		t.Fatal(err)
	}
	if o.podman {
		if err := os.WriteFile(filepath.Join(s.bin, "podman"), []byte("#!/bin/sh\n[ \"$1\" = info ] && exit 0\nexit 2\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Only the stand-ins and the system's basics: no real kind, docker or
	// podman can leak in.
	t.Setenv("PATH", s.bin+":/usr/bin:/bin")
	t.Setenv("KIND_EXPERIMENTAL_PROVIDER", "")
	return s
}

// calls are the stand-in's recorded invocations, one argument string each.
func (s *standin) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(s.argsLog)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// waitHang blocks until the hanging create reports its child's pid.
func (s *standin) waitHang(t *testing.T) int {
	t.Helper()
	f, err := os.Open(s.fifo) // blocks until the stand-in opens it for writing
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		t.Fatalf("read fifo: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// kubectlPath is the real kubectl, found before PATH is narrowed.
func kubectlPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no kubectl on PATH: end-to-end tests must not skip in CI (make test puts bin/kubectl on PATH)")
		}
		t.Skip("skipping: no kubectl on PATH: run `make kubectl` and put bin/ on PATH")
	}
	return p
}

// clusterKubeconfig is the kubeconfig of the shared built-in cluster, the
// stand-in's "kind cluster" (three nodes, as kind's default shape here).
func clusterKubeconfig(t *testing.T) string {
	t.Helper()
	return builtintest.Shared(t).Kubeconfig()
}

// syncBuf is a log the test reads after the code under test wrote it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
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

func createCall(name, dir string) string {
	return fmt.Sprintf("create cluster --name %s --config %s --kubeconfig %s --wait 5m0s",
		name, filepath.Join(dir, "kind-config.yaml"), filepath.Join(dir, "kubeconfig"))
}

func deleteCall(name, dir string) string {
	return fmt.Sprintf("delete cluster --name %s --kubeconfig %s", name, filepath.Join(dir, "kubeconfig"))
}

func equalCalls(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("kind calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestCreateThenClose creates a cluster, does some work against it with
// the real kubectl (which may fail, as a lab does) and closes: the cluster
// is deleted either way, exactly once.
func TestCreateThenClose(t *testing.T) {
	for _, tc := range []struct {
		name     string
		work     []string // kubectl arguments
		workErr  bool
		podman   bool   // docker's daemon is down, podman works
		provider string // KIND_EXPERIMENTAL_PROVIDER kind saw
	}{
		{"work succeeds", []string{"get", "nodes"}, false, false, ""},
		{"work fails", []string{"get", "pod", "no-such-pod"}, true, false, ""},
		{"podman", []string{"get", "nodes"}, false, true, "podman\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kubectl := kubectlPath(t)
			s := newStandin(t, standinOpts{kubeconfig: clusterKubeconfig(t), podman: tc.podman, dockerFail: tc.podman})
			dir := t.TempDir()
			var log syncBuf
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c, err := Create(ctx, Options{Dir: dir, Kubectl: kubectl, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(s.argsLog + ".provider"); string(got) != tc.provider {
				t.Errorf("kind ran with KIND_EXPERIMENTAL_PROVIDER=%q, want %q", got, tc.provider)
			}
			if !strings.HasPrefix(c.Name(), "labrun-") || !validName.MatchString(c.Name()) {
				t.Errorf("generated name %q", c.Name())
			}
			if got := strings.Join(c.Nodes(), ","); got != "node1,node2,node3" {
				t.Errorf("nodes %s", got)
			}
			if c.NodeAddress("node1") == "" || c.NodeAddress("node1") != c.NodeAddress(c.Nodes()[0]) {
				t.Errorf("node1 address %q", c.NodeAddress("node1"))
			}
			if c.NodeAddress("node9") != "" {
				t.Errorf("unknown node has address %q", c.NodeAddress("node9"))
			}
			if c.Kubeconfig() != filepath.Join(dir, "kubeconfig") {
				t.Errorf("kubeconfig %s", c.Kubeconfig())
			}
			cfg, err := os.ReadFile(filepath.Join(dir, "kind-config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(string(cfg), "role: control-plane") != 1 || strings.Count(string(cfg), "role: worker") != 2 {
				t.Errorf("kind config:\n%s", cfg)
			}
			out, werr := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", c.Kubeconfig()}, tc.work...)...).CombinedOutput()
			if (werr != nil) != tc.workErr {
				t.Fatalf("work: %v\n%s", werr, out)
			}
			equalCalls(t, s.calls(t), []string{createCall(c.Name(), dir)})
			for range 2 {
				if err := c.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			equalCalls(t, s.calls(t), []string{createCall(c.Name(), dir), deleteCall(c.Name(), dir)})
			if !strings.Contains(log.String(), `Creating cluster "stand-in"`) {
				t.Errorf("kind's progress not logged:\n%s", log.String())
			}
		})
	}
}

// deadlineCtx is a context whose deadline passes when the test says so:
// what a real deadline does, without racing a clock.
type deadlineCtx struct {
	context.Context
	done chan struct{}
}

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }
func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestInterruptedCreate stops a hanging `kind create cluster` by a deadline
// and by SIGINT (which the CLI turns into a cancelled context): the stand-in
// and the child it started are ended, and the partial cluster is deleted.
func TestInterruptedCreate(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(t *testing.T) (ctx context.Context, fire func(), done func())
		want error
	}{
		{"deadline", func(t *testing.T) (context.Context, func(), func()) {
			c := &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
			return c, func() { close(c.done) }, func() {}
		}, context.DeadlineExceeded},
		{"SIGINT", func(t *testing.T) (context.Context, func(), func()) {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			return ctx, func() {
				if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
					t.Error(err)
				}
			}, stop
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kubectl := kubectlPath(t)
			s := newStandin(t, standinOpts{kubeconfig: "/nonexistent", hang: true})
			dir := t.TempDir()
			ctx, fire, done := tc.stop(t)
			defer done()
			type result struct {
				c   *Cluster
				err error
			}
			res := make(chan result, 1)
			go func() {
				c, err := Create(ctx, Options{Dir: dir, Kubectl: kubectl, Name: ""})
				res <- result{c, err}
			}()
			child := s.waitHang(t)
			fire()
			r := <-res
			if r.err == nil || r.c != nil {
				t.Fatalf("Create = %v, %v; want an error", r.c, r.err)
			}
			if !errors.Is(r.err, tc.want) {
				t.Errorf("error %v does not wrap %v", r.err, tc.want)
			}
			calls := s.calls(t)
			if len(calls) != 2 || !strings.HasPrefix(calls[0], "create cluster --name labrun-") {
				t.Fatalf("kind calls: %q", calls)
			}
			name := strings.Fields(calls[0])[3]
			equalCalls(t, calls, []string{createCall(name, dir), deleteCall(name, dir)})
			assertGone(t, child)
		})
	}
}

// assertGone waits (bounded) for a process that is not our child to end,
// through a pidfd: the kernel says when, no polling.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	if left := proc.WaitGone([]int{pid}, time.Now().Add(10*time.Second)); len(left) > 0 {
		t.Fatalf("the stand-in's child %d still runs: its process group was not killed", pid)
	}
}

func TestReuse(t *testing.T) {
	kubectl := kubectlPath(t)
	kc := clusterKubeconfig(t)
	s := newStandin(t, standinOpts{kubeconfig: kc, clusters: "other workshop"})
	dir := t.TempDir()
	var log syncBuf
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Create(ctx, Options{Dir: dir, Name: "workshop", Kubectl: kubectl, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(kc)
	if !bytes.Equal(got, want) {
		t.Errorf("run's kubeconfig is not kind's for the cluster")
	}
	if c.Name() != "workshop" || len(c.Nodes()) != 3 {
		t.Errorf("name %q nodes %q", c.Name(), c.Nodes())
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	equalCalls(t, s.calls(t), []string{"get clusters", "get kubeconfig --name workshop"})
	if !strings.Contains(log.String(), "kind export kubeconfig --name workshop") {
		t.Errorf("Close does not say how to reach the cluster:\n%s", log.String())
	}

	// A name kind does not know is an error that lists what it knows.
	_, err = Create(ctx, Options{Dir: dir, Name: "nope", Kubectl: kubectl})
	if err == nil || !strings.Contains(err.Error(), `no cluster named "nope"`) || !strings.Contains(err.Error(), "other, workshop") {
		t.Fatalf("err = %v", err)
	}
}

func TestKeep(t *testing.T) {
	kubectl := kubectlPath(t)
	kc := clusterKubeconfig(t)
	s := newStandin(t, standinOpts{kubeconfig: kc})
	dir := t.TempDir()
	var log syncBuf
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Create(ctx, Options{Dir: dir, Nodes: 1, Keep: true, Kubectl: kubectl, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	equalCalls(t, s.calls(t), []string{createCall(c.Name(), dir)})
	for _, want := range []string{"kind export kubeconfig --name " + c.Name(), c.Kubeconfig(), "kind delete cluster --name " + c.Name()} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("Close's note lacks %q:\n%s", want, log.String())
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "kind-config.yaml"))
	if strings.Count(string(cfg), "role:") != 1 {
		t.Errorf("Nodes: 1 gave config:\n%s", cfg)
	}
}

func TestCreateFails(t *testing.T) {
	kubectl := kubectlPath(t)
	s := newStandin(t, standinOpts{kubeconfig: "/nonexistent", failCreate: "could not pull image kindest/node"})
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Create(ctx, Options{Dir: dir, Kubectl: kubectl})
	if err == nil || c != nil {
		t.Fatalf("Create = %v, %v", c, err)
	}
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v is not a *RunError", err, err)
	}
	if !strings.Contains(string(re.Output), "could not pull image kindest/node") || !strings.Contains(err.Error(), "could not pull image kindest/node") {
		t.Errorf("kind's message missing: %v", err)
	}
	if len(re.Cmd) < 3 || re.Cmd[1] != "create" || re.Cmd[2] != "cluster" {
		t.Errorf("RunError.Cmd = %q", re.Cmd)
	}
	calls := s.calls(t)
	if len(calls) != 2 {
		t.Fatalf("kind calls %q", calls)
	}
	name := strings.Fields(calls[0])[3]
	equalCalls(t, calls, []string{createCall(name, dir), deleteCall(name, dir)})
}

// TestMissingTools: no kind, or no working container engine, fails before
// anything is created, with a message that says what to install.
func TestMissingTools(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   standinOpts
		is     error
		substr []string
	}{
		{"no kind", standinOpts{noKind: true}, ErrKindNotFound, []string{"kind not found on PATH", "go install sigs.k8s.io/kind@latest", "Docker or Podman"}},
		{"no engine", standinOpts{dockerFail: true}, ErrNoEngine, []string{"Cannot connect to the Docker daemon", "podman not on PATH"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStandin(t, tc.opts)
			_, err := Create(context.Background(), Options{Dir: t.TempDir(), Kubectl: "/bin/sh"})
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			for _, sub := range tc.substr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error lacks %q: %v", sub, err)
				}
			}
			if b, _ := os.ReadFile(s.argsLog); len(b) != 0 {
				t.Errorf("kind ran: %s", b)
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "Dir is required"},
		{Options{Dir: filepath.Join(dir, "missing")}, "not a directory"},
		{Options{Dir: dir, Nodes: -1}, "at least 1"},
		{Options{Dir: dir, Name: "Bad_Name"}, "invalid cluster name"},
		{Options{Dir: dir, Kind: filepath.Join(dir, "nokind")}, "not an executable"},
	} {
		_, err := Create(context.Background(), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Create(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestConfig(t *testing.T) {
	for n, want := range map[int]string{
		1: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n",
		3: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n",
	} {
		if got := config(n); got != want {
			t.Errorf("config(%d) =\n%s", n, got)
		}
	}
}

// TestRealKind runs the whole thing against real kind where a container
// engine works.
func TestRealKind(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: real kind takes minutes")
	}
	kindBin, err := exec.LookPath("kind")
	if err != nil {
		t.Skip("kind is not on PATH (go install sigs.k8s.io/kind@latest)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker info fails, no container engine for kind: %v\n%s", err, lastLine(&RunError{Output: out, Err: err}))
	}
	kubectl := kubectlPath(t)
	dir := t.TempDir()
	c, err := Create(ctx, Options{Dir: dir, Nodes: 2, Kind: kindBin, Kubectl: kubectl, Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(context.WithoutCancel(ctx)); err != nil {
			t.Error(err)
		}
	}()
	if len(c.Nodes()) != 2 || c.NodeAddress(c.Nodes()[0]) == "" {
		t.Errorf("nodes %q address %q", c.Nodes(), c.NodeAddress(c.Nodes()[0]))
	}
	if out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", c.Kubeconfig(), "get", "nodes").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
