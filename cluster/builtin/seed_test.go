package builtin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/internal/testshared"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

func load(t *testing.T, path string) *parser.Deck {
	t.Helper()
	deck, diags := parser.Load(path, os.ReadFile)
	for _, d := range diags {
		if d.Severity == parser.SeverityError {
			t.Fatalf("parsing %s: %s", path, d.Format())
		}
	}
	return deck
}

// replay runs deck on the shared cluster, in a namespace of the run's own
// or in ns, and fails the test for every step that did not pass; it
// returns how many steps ran.
func replay(t *testing.T, deck *parser.Deck, ns string, opts executor.Options) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts.Cluster, opts.Kubeconfig, opts.Namespace = "kubeconfig", builtintest.Shared(t).Kubeconfig(), ns
	res, err := executor.Run(ctx, deck, opts)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, st := range res.Steps() {
		n++
		if st.Status != report.Passed {
			t.Errorf("step %s:%d %q: %s: %s\n%s", st.File, st.Line, st.Command, st.Status, st.Reason, st.Diff)
		}
	}
	if res.Status != report.Passed {
		t.Errorf("run %s", res.Status)
	}
	return n
}

// The seed chapter replays green against the built-in cluster with every
// kubectl from 1.27 to 1.33, in the cluster's default namespace, whose
// service/kubernetes its `kubectl get all` shows.
func TestSeedWithEveryKubectlOnBuiltin(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: replays the seed chapter once per kubectl version")
	}
	seed := testshared.Seed(t)
	host, err := exec.LookPath("kubectl")
	if err != nil {
		upstreamtest.SkipOrFail(t, "no kubectl on PATH, so no versioned kubectl.1.x beside it")
	}
	real, err := filepath.EvalSymlinks(host)
	if err != nil {
		t.Fatal(err)
	}
	versions, _ := filepath.Glob(filepath.Join(filepath.Dir(real), "kubectl.1.*"))
	if len(versions) == 0 {
		versions = []string{host}
	}
	deck := load(t, seed)
	for _, k := range versions {
		t.Run(filepath.Base(k), func(t *testing.T) {
			ns := builtintest.DefaultNamespace(t, builtintest.Shared(t))
			if n := replay(t, deck, ns, executor.Options{Kubectl: k, Timeout: 30 * time.Second}); n != 27 {
				t.Errorf("%d steps ran, want 27", n)
			}
		})
	}
}

// Our fixture decks replay green: the demo and the tour of the cluster.
func TestFixturesOnBuiltin(t *testing.T) {
	for _, deck := range []string{"../../fixtures/demo/pingpong.md", "../../fixtures/cluster/builtin.md"} {
		t.Run(filepath.Base(deck), func(t *testing.T) {
			replay(t, load(t, deck), "", executor.Options{Timeout: 60 * time.Second})
		})
	}
}
