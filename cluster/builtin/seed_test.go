package builtin_test

import (
	"context"
	"github.com/labrun/labrun/internal/testshared"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// steps keeps every step result.
type steps struct{ all []report.StepResult }

func (s *steps) ChapterStarted(report.ChapterResult)              {}
func (s *steps) StepDone(_ report.LabResult, r report.StepResult) { s.all = append(s.all, r) }
func (s *steps) LabDone(report.LabResult)                         {}
func (s *steps) ChapterDone(report.ChapterResult)                 {}
func (s *steps) RunDone(*report.Run)                              {}

// onPath puts labrun-k8s on PATH, where a run looks for it when it is not
// beside the executable (here, the test binary).
func onPath(t *testing.T) {
	t.Helper()
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
}

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

// The seed chapter replays green against the built-in cluster with every
// kubectl from 1.27 to 1.33 (each run starts and removes its own cluster).
func TestSeedWithEveryKubectlOnBuiltin(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: starts a cluster per kubectl version")
	}
	onPath(t)
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
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var s steps
			res, err := executor.Run(ctx, deck, executor.Options{Cluster: "builtin", Kubectl: k, Timeout: 30 * time.Second, Sink: &s})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range s.all {
				if st.Status != report.Passed {
					t.Errorf("step %s:%d %q: %s: %s\n%s", st.File, st.Line, st.Command, st.Status, st.Reason, st.Diff)
				}
			}
			if res.Status != report.Passed || len(s.all) != 27 {
				t.Errorf("run %s with %d steps", res.Status, len(s.all))
			}
		})
	}
}

// Our fixture decks replay green: the demo and the tour of the cluster.
func TestFixturesOnBuiltin(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: starts a cluster per deck")
	}
	onPath(t)
	for _, deck := range []string{"../../fixtures/demo/pingpong.md", "../../fixtures/cluster/builtin.md"} {
		t.Run(filepath.Base(deck), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var s steps
			res, err := executor.Run(ctx, load(t, deck), executor.Options{Cluster: "builtin", Timeout: 60 * time.Second, Sink: &s})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range s.all {
				if st.Status != report.Passed {
					t.Errorf("step %s:%d %q: %s: %s\n%s", st.File, st.Line, st.Command, st.Status, st.Reason, st.Diff)
				}
			}
			if res.Status != report.Passed {
				t.Errorf("run %s", res.Status)
			}
		})
	}
}
