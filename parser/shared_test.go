package parser

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// shared returns the path of rel under ../shared beside the repository
// (found by walking up to go.mod, then to the first shared/ above it): the third-party material tests read but
// the repository does not hold. Absent, the test skips saying why, or fails
// under CI, where it must be present.
func shared(t testing.TB, rel string) string {
	t.Helper()
	p, err := sharedPath(rel)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI has no %s: %v", rel, err)
		}
		t.Skipf("skipping: %s is not beside the repository (%v); it holds third-party text the repository does not", rel, err)
	}
	return p
}

// sharedPath is where rel is under ../shared, or why it is not there.
func sharedPath(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = up
	}
	// ../shared, or the shared/ of a folder further up (a worktree of the
	// repository sits deeper, e.g. in wt/NAME).
	first := filepath.Join(dir, "..", "shared", rel)
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	_, err = os.Stat(first)
	return "", err
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
