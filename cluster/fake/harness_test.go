package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/busybox"
)

// The test binary doubles as the busybox executable of the containers.
func TestMain(m *testing.M) {
	if code, ok := busybox.Dispatch(os.Args); ok {
		os.Exit(code)
	}
	if os.Getenv(idleChildEnv) != "" {
		os.Exit(serveIdle())
	}
	os.Exit(m.Run())
}

// startCluster starts a fake cluster for the test and closes it, failing
// the test on recovered handler panics.
func startCluster(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	if testing.Verbose() && opts.Log == nil {
		opts.Log = &testLog{t: t}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, p := range s.Panics() {
			t.Errorf("handler panic: %s", p)
		}
	})
	return s
}

type testLog struct{ t testing.TB }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// kubectlBin finds a kubectl: "" is the one on PATH (the gcloud
// dispatcher), "1.27" and so on the versioned ones beside it.
func kubectlBin(t testing.TB, version string) string {
	t.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no kubectl on PATH: end-to-end tests must not skip in CI (make test puts bin/kubectl on PATH)")
		}
		t.Skip("skipping: no kubectl on PATH (make test builds bin/kubectl and puts it on PATH)")
	}
	if version == "" {
		return p
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Skipf("kubectl: %v", err)
	}
	v := filepath.Join(filepath.Dir(real), "kubectl."+version)
	if _, err := os.Stat(v); err != nil {
		t.Skipf("no kubectl.%s", version)
	}
	return v
}

// kubectlVersions lists the kubectls the end-to-end tests run: "" (the
// one on PATH, the gcloud dispatcher) and every kubectl.1.N beside it, so
// that each version the machine offers is checked by default. -short keeps
// the dispatcher, the oldest and the newest.
func kubectlVersions(t testing.TB) []string {
	t.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		return []string{""} // kubectlBin skips (or fails in CI)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return []string{""}
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(real), "kubectl.1.*"))
	var minors []int
	for _, m := range matches {
		minor, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), "kubectl.1."))
		if err == nil {
			minors = append(minors, minor)
		}
	}
	sort.Ints(minors)
	if testing.Short() && len(minors) > 2 {
		minors = []int{minors[0], minors[len(minors)-1]}
	}
	versions := []string{""}
	for _, m := range minors {
		versions = append(versions, fmt.Sprintf("1.%d", m))
	}
	return versions
}

// forEachKubectl runs f in a parallel subtest per kubectl version (see
// kubectlVersions), each with its own fake cluster: they are independent.
func forEachKubectl(t *testing.T, f func(t *testing.T, s *Server, k *kubectl, version string)) {
	for _, version := range kubectlVersions(t) {
		name := version
		if name == "" {
			name = "dispatcher"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startCluster(t, Options{})
			f(t, s, newKubectl(t, s, version), version)
		})
	}
}

// kubectl runs one kubectl binary against a cluster with its own HOME.
type kubectl struct {
	t    testing.TB
	bin  string
	home string
	kcfg string
}

func newKubectl(t testing.TB, s *Server, version string) *kubectl {
	return &kubectl{t: t, bin: kubectlBin(t, version), home: t.TempDir(), kcfg: s.Kubeconfig()}
}

func (k *kubectl) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.bin, args...)
	cmd.Env = []string{"HOME=" + k.home, "KUBECONFIG=" + k.kcfg, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "TMPDIR=" + k.home}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// run runs kubectl to completion (bounded) and returns stdout, stderr and
// the exit code.
func (k *kubectl) run(args ...string) (string, string, int) {
	k.t.Helper()
	return k.runIn("", nil, args...)
}

// runIn is run with stdin and extra environment variables.
func (k *kubectl) runIn(stdin string, env []string, args ...string) (string, string, int) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := k.cmd(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		k.t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		k.t.Fatalf("kubectl %s: timed out; stdout %q stderr %q", strings.Join(args, " "), tail(out.String()), tail(errb.String()))
	}
	return out.String(), errb.String(), code
}

// ok runs kubectl and fails the test unless it exits 0.
func (k *kubectl) ok(args ...string) string {
	k.t.Helper()
	out, errs, code := k.run(args...)
	if code != 0 {
		k.t.Fatalf("kubectl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// tail keeps the end of a long output for a failure message.
func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
