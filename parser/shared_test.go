package parser

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/labrun/labrun/internal/testshared"
)

// shared returns the path of rel under ../shared (see testshared).
func shared(t testing.TB, rel string) string {
	t.Helper()
	return testshared.Need(t, rel)
}

// seedChapter reads the seed chapter, a container.training chapter kept in
// ../shared/seed.
func seedChapter(t testing.TB) (string, []byte) {
	t.Helper()
	p := shared(t, "seed/kubectl-run.md")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, src
}

// corpus clones the container.training bundle from ../shared/corpus into a
// temporary directory once per test and returns the clone's slides/ folder.
func corpus(t *testing.T) string {
	t.Helper()
	bundle := shared(t, "corpus/container.training.bundle")
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the corpus test needs git")
		}
		t.Skip("skipping: no git to clone the corpus with")
	}
	dst := filepath.Join(t.TempDir(), "ct")
	if out, err := exec.Command(git, "clone", "-q", bundle, dst).CombinedOutput(); err != nil {
		t.Fatalf("git clone %s: %v\n%s", bundle, err, out)
	}
	return filepath.Join(dst, "slides")
}
