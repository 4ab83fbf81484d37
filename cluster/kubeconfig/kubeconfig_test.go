package kubeconfig

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
)

func TestMain(m *testing.M) { builtintest.Main(m) }

// env is the test binary's shared built-in cluster standing in for the
// user's real one, reached through a user kubeconfig that also holds a
// second context.
type env struct {
	kubectl string
	userKC  string // the user's kubeconfig (a copy of the cluster's)
	before  []byte
	nodes   []string // the cluster's nodes
}

func setup(t *testing.T) *env {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no kubectl on PATH: end-to-end tests must not skip in CI (make test puts bin/kubectl on PATH)")
		}
		t.Skip("skipping: no kubectl on PATH: run `make kubectl` and put bin/ on PATH")
	}
	c := builtintest.Shared(t)
	b, err := os.ReadFile(c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	user := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(user, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{kubectl: kubectl, userKC: user, nodes: c.Nodes()}
	// A second context, so that --context and the current context differ.
	authInfo := e.kubectlOK(t, "--kubeconfig", user, "config", "view", "-o", "jsonpath={.contexts[0].context.user}")
	e.kubectlOK(t, "--kubeconfig", user, "config", "set-context", "other", "--cluster", "labrun", "--user", authInfo, "--namespace", "kube-system")
	e.before, _ = os.ReadFile(user)
	return e
}

func (e *env) kubectlOK(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(e.kubectl, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// namespacePhase is the namespace's phase seen through the user's own
// kubeconfig, or "absent".
func (e *env) namespacePhase(t *testing.T, ns string) string {
	t.Helper()
	out, err := exec.Command(e.kubectl, "--kubeconfig", e.userKC, "get", "namespace", ns, "-o", "jsonpath={.status.phase}").CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "NotFound") {
			return "absent"
		}
		t.Fatalf("get namespace %s: %v\n%s", ns, err, out)
	}
	return string(out)
}

func (e *env) userFileUnchanged(t *testing.T) {
	t.Helper()
	after, _ := os.ReadFile(e.userKC)
	if !bytes.Equal(after, e.before) {
		t.Errorf("the user's kubeconfig changed:\n%s", after)
	}
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		name      string
		context   string
		namespace string
		viaEnv    bool // the user's kubeconfig comes from $KUBECONFIG
		keep      bool
	}{
		{name: "fresh namespace, current context"},
		{name: "fresh namespace, named context, $KUBECONFIG", context: "other", viaEnv: true},
		{name: "named existing namespace", namespace: "default", keep: true},
		{name: "named missing namespace is made and kept", namespace: "workshop", keep: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			opts := Options{Dir: t.TempDir(), Context: tc.context, Namespace: tc.namespace, Kubectl: e.kubectl}
			if tc.viaEnv {
				t.Setenv("KUBECONFIG", e.userKC)
			} else {
				t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent"))
				opts.Kubeconfig = e.userKC
			}
			var log bytes.Buffer
			opts.Log = &log
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c, err := Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			ns := c.Namespace()
			if tc.namespace == "" && !regexp.MustCompile(`^labrun-[0-9a-f]{6}$`).MatchString(ns) {
				t.Errorf("fresh namespace %q", ns)
			}
			if tc.namespace != "" && ns != tc.namespace {
				t.Errorf("namespace %q", ns)
			}
			wantCtx := tc.context
			if wantCtx == "" {
				wantCtx = "labrun"
			}
			if c.Context() != wantCtx {
				t.Errorf("context %q, want %q", c.Context(), wantCtx)
			}
			if c.Kubeconfig() != filepath.Join(opts.Dir, "kubeconfig") {
				t.Errorf("kubeconfig %s", c.Kubeconfig())
			}
			// The run's kubeconfig works on its own (no $KUBECONFIG) and
			// points at the namespace.
			t.Setenv("KUBECONFIG", "")
			if got := e.kubectlOK(t, "--kubeconfig", c.Kubeconfig(), "config", "view", "--minify", "-o", "jsonpath={..namespace}"); got != ns {
				t.Errorf("run's kubeconfig namespace %q, want %q", got, ns)
			}
			if got := e.kubectlOK(t, "--kubeconfig", c.Kubeconfig(), "config", "get-contexts", "-o", "name"); strings.TrimSpace(got) != wantCtx {
				t.Errorf("run's kubeconfig holds contexts %q, want only %q", got, wantCtx)
			}
			e.kubectlOK(t, "--kubeconfig", c.Kubeconfig(), "get", "pods")
			if got := e.namespacePhase(t, ns); got != "Active" {
				t.Errorf("namespace %s is %q", ns, got)
			}
			if got, want := strings.Join(c.Nodes(), ","), strings.Join(e.nodes, ","); got != want || want == "" {
				t.Errorf("nodes %q, want the cluster's %q", got, want)
			}
			if err := c.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(ctx); err != nil {
				t.Fatal(err)
			}
			want := "absent"
			if tc.keep {
				want = "Active"
			}
			if got := e.namespacePhase(t, ns); got != want {
				t.Errorf("after Close namespace %s is %q, want %q\nlog:\n%s", ns, got, want, log.String())
			}
			e.userFileUnchanged(t)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		is   error
		want []string
	}{
		{"missing context", Options{Kubeconfig: e.userKC, Context: "prod"}, ErrContextNotFound, []string{`"prod" is not in`, "contexts: labrun, other"}},
		{"no current context", Options{Kubeconfig: empty}, nil, []string{"no current context", "--cluster kubeconfig:CONTEXT"}},
		{"no kubectl", Options{Kubeconfig: e.userKC, Kubectl: "/nonexistent/kubectl"}, nil, []string{"--kubectl /nonexistent/kubectl: "}},
		{"no Dir", Options{Kubeconfig: e.userKC, Dir: "-"}, nil, []string{"Dir is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Kubectl == "" {
				tc.opts.Kubectl = e.kubectl
			}
			switch tc.opts.Dir {
			case "":
				tc.opts.Dir = t.TempDir()
			case "-":
				tc.opts.Dir = ""
			}
			c, err := Open(ctx, tc.opts)
			if err == nil {
				c.Close(ctx)
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err %v is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
	e.userFileUnchanged(t)
}
