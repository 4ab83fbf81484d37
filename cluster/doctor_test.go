package cluster

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// machine is an injected PATH: the tools it has, and the commands that fail
// when run.
type machine struct {
	have   []string // names on PATH; "beside" means bin/kubectl beside labrun
	broken []string // "name arg" that exits non-zero
}

func (m machine) lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if filepath.Base(name) == "kubectl" && slices.Contains(m.have, "beside") {
			return name, nil
		}
		return "", exec.ErrNotFound
	}
	if slices.Contains(m.have, name) {
		return "/usr/bin/" + name, nil
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

func (m machine) run(_ context.Context, name string, args ...string) ([]byte, error) {
	key := filepath.Base(name) + " " + args[0]
	if slices.Contains(m.broken, key) {
		return []byte("Cannot connect to the Docker daemon"), errors.New("exit status 1")
	}
	return []byte(filepath.Base(name) + " v1.2.3\nmore"), nil
}

func TestDoctor(t *testing.T) {
	all := []string{"bash", "kubectl", "watch", "curl", "jq", "kind", "docker"}
	for _, tc := range []struct {
		name  string
		m     machine
		ready bool
		ok    map[string]bool   // check name → OK
		found map[string]string // check name → substring of Found
		fix   map[string]string // check name → substring of Fix
	}{
		{
			name: "everything", m: machine{have: all}, ready: true,
			ok:    map[string]bool{"bash": true, "kubectl": true, "watch": true, "curl": true, "jq": true, "kind": true, "container engine": true},
			found: map[string]string{"kubectl": "/usr/bin/kubectl (kubectl v1.2.3)", "container engine": "/usr/bin/docker"},
		},
		{
			name: "nothing", m: machine{}, ready: false,
			ok: map[string]bool{"bash": false, "kubectl": false, "watch": false, "curl": false, "jq": false, "kind": false, "container engine": false},
			fix: map[string]string{
				"watch": "apt-get install procps", "curl": "brew install curl", "jq": "apt-get install jq",
				"kubectl": "make kubectl", "kind": "go install sigs.k8s.io/kind@latest", "container engine": "podman",
			},
			found: map[string]string{"container engine": "docker not on PATH; podman not on PATH"},
		},
		{
			name: "only the optional tools missing", m: machine{have: []string{"bash", "kubectl", "watch", "curl"}}, ready: true,
			ok: map[string]bool{"jq": false, "kind": false, "container engine": false, "kubectl": true},
		},
		{
			name: "kubectl beside labrun", m: machine{have: []string{"bash", "watch", "curl", "beside"}}, ready: true,
			ok:    map[string]bool{"kubectl": true},
			found: map[string]string{"kubectl": "/kubectl (kubectl v1.2.3)"},
		},
		{
			name: "kubectl that does not run", m: machine{have: all, broken: []string{"kubectl version"}}, ready: false,
			ok:    map[string]bool{"kubectl": false},
			found: map[string]string{"kubectl": "version --client: exit status 1"},
		},
		{
			name: "docker client without a daemon, podman works", m: machine{have: append(all, "podman"), broken: []string{"docker info"}}, ready: true,
			ok:    map[string]bool{"container engine": true},
			found: map[string]string{"container engine": "/usr/bin/podman"},
		},
		{
			name: "docker client without a daemon", m: machine{have: all, broken: []string{"docker info"}}, ready: true,
			ok:    map[string]bool{"container engine": false, "kind": true},
			found: map[string]string{"container engine": "docker info failed"},
			fix:   map[string]string{"container engine": "systemctl start docker"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := Doctor(context.Background(), tc.m.lookPath, tc.m.run)
			byName := map[string]Check{}
			for _, c := range checks {
				byName[c.Name] = c
				if c.Need == "" {
					t.Errorf("%s: no Need", c.Name)
				}
				if !c.OK && (c.Fix == "" || c.Found == "") {
					t.Errorf("%s failed without Found/Fix: %+v", c.Name, c)
				}
				if c.OK && c.Fix != "" {
					t.Errorf("%s passed with a Fix: %+v", c.Name, c)
				}
				if c.Name == "tmux" {
					t.Errorf("tmux is not needed")
				}
			}
			if len(byName) != 7 {
				t.Errorf("%d checks: %+v", len(byName), checks)
			}
			for _, name := range []string{"jq", "kind", "container engine"} {
				if !byName[name].Optional {
					t.Errorf("%s should be optional", name)
				}
			}
			for name, ok := range tc.ok {
				if byName[name].OK != ok {
					t.Errorf("%s OK = %v, want %v: %+v", name, byName[name].OK, ok, byName[name])
				}
			}
			for name, sub := range tc.found {
				if !strings.Contains(byName[name].Found, sub) {
					t.Errorf("%s Found = %q, want %q", name, byName[name].Found, sub)
				}
			}
			for name, sub := range tc.fix {
				if !strings.Contains(byName[name].Fix, sub) {
					t.Errorf("%s Fix = %q, want %q", name, byName[name].Fix, sub)
				}
			}
			if Ready(checks) != tc.ready {
				t.Errorf("Ready = %v, want %v", !tc.ready, tc.ready)
			}
		})
	}
}

func TestFixesNameBothPlatforms(t *testing.T) {
	for _, c := range Doctor(context.Background(), machine{}.lookPath, machine{}.run) {
		if !strings.Contains(c.Fix, "Debian/Ubuntu") && !strings.Contains(c.Fix, "apt-get") {
			t.Errorf("%s: no Debian/Ubuntu fix: %q", c.Name, c.Fix)
		}
		if !strings.Contains(c.Fix, "macOS") {
			t.Errorf("%s: no macOS fix: %q", c.Name, c.Fix)
		}
	}
}

func TestParseNodes(t *testing.T) {
	list := `{"items":[
	 {"metadata":{"name":"k-worker10"},"status":{"addresses":[{"type":"Hostname","address":"k-worker10"},{"type":"InternalIP","address":"172.18.0.12"}]}},
	 {"metadata":{"name":"k-worker2"},"status":{"addresses":[{"type":"InternalIP","address":"172.18.0.3"}]}},
	 {"metadata":{"name":"k-worker"},"status":{"addresses":[{"type":"InternalIP","address":"172.18.0.2"}]}},
	 {"metadata":{"name":"k-control-plane","labels":{"node-role.kubernetes.io/control-plane":""}},"status":{"addresses":[{"type":"InternalIP","address":"172.18.0.4"}]}}
	]}`
	nodes, err := parseNodes([]byte(list))
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{{"k-control-plane", "172.18.0.4"}, {"k-worker", "172.18.0.2"}, {"k-worker2", "172.18.0.3"}, {"k-worker10", "172.18.0.12"}}
	if !slices.Equal(nodes, want) {
		t.Errorf("nodes %v, want %v", nodes, want)
	}
	if _, err := parseNodes([]byte("error: You must be logged in")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestNaturalLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		less bool
	}{
		{"node2", "node10", true},
		{"node10", "node2", false},
		{"node1", "node1", false},
		{"node01", "node2", true},
		{"a", "b", true},
		{"node", "node1", true},
		{"worker9x", "worker10", true},
	} {
		if got := naturalLess(tc.a, tc.b); got != tc.less {
			t.Errorf("naturalLess(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestCommand(t *testing.T) {
	ctx := context.Background()
	out, err := Command{Name: "sh", Args: []string{"-c", "echo out; echo err >&2"}}.Output(ctx)
	if err != nil || string(out) != "out\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
	out, err = Command{Name: "sh", Args: []string{"-c", "echo out; echo err >&2"}}.CombinedOutput(ctx)
	if err != nil || string(out) != "out\nerr\n" {
		t.Errorf("CombinedOutput = %q, %v", out, err)
	}
	var log strings.Builder
	_, err = Command{Name: "sh", Args: []string{"-c", "echo partial; echo 'ERROR: it broke' >&2; exit 3"}, Log: &log}.Output(ctx)
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("err %T %v", err, err)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("exit error lost: %v", err)
	}
	if string(re.Output) != "ERROR: it broke\npartial\n" || !slices.Equal(re.Cmd[:2], []string{"sh", "-c"}) {
		t.Errorf("RunError = %+v", re)
	}
	if !strings.Contains(err.Error(), "ERROR: it broke") {
		t.Errorf("message lacks the tool's output: %v", err)
	}
	if log.String() != "ERROR: it broke\n" {
		t.Errorf("log %q", log.String())
	}
	if _, err := Run(ctx, "/nonexistent/tool"); err == nil || !errors.As(err, &re) {
		t.Errorf("missing tool: %v", err)
	}
}

// TestCommandCancel: cancelling ends the whole process group, including a
// child that ignores nothing and holds no pipe of ours.
func TestCommandCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pid := make(chan int, 1)
	errc := make(chan error, 1)
	pr := &pidWriter{ch: pid}
	go func() {
		_, err := Command{Name: "sh", Args: []string{"-c", "sleep 600 >/dev/null 2>&1 & echo $! >&2; wait"}, Log: pr, Grace: time.Second}.Output(ctx)
		errc <- err
	}()
	child := <-pid
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	fd, perr := unix.PidfdOpen(child, 0)
	if errors.Is(perr, unix.ESRCH) {
		return
	}
	if perr != nil {
		t.Skipf("pidfd_open: %v", perr)
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 10_000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			_ = unix.Kill(child, unix.SIGKILL)
			t.Fatalf("child %d survived the cancel", child)
		}
		return
	}
}

// pidWriter passes the first line written (a pid) to ch.
type pidWriter struct {
	buf []byte
	ch  chan int
}

func (w *pidWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if i := strings.IndexByte(string(w.buf), '\n'); i >= 0 && w.ch != nil {
		if n, err := strconv.Atoi(string(w.buf[:i])); err == nil {
			w.ch <- n
		}
		w.ch = nil
	}
	return len(p), nil
}
