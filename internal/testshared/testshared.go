// Package testshared finds the third-party material tests read but the
// repository does not hold (a container.training chapter, the whole
// container.training repository as a git bundle): it sits in shared/ beside
// the repository, or beside a folder above it (a worktree sits deeper).
package testshared

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Path is where rel is under shared/, or why it is not there. It looks
// from the module root (the first folder up with a go.mod) upwards.
func Path(rel string) (string, error) {
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

// Need returns Path(rel), or skips the test saying why; under CI, where the
// material must be present, it fails instead.
func Need(t testing.TB, rel string) string {
	t.Helper()
	p, err := Path(rel)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI has no %s: %v", rel, err)
		}
		t.Skipf("skipping: %s is not beside the repository (%v); it holds third-party text the repository does not", rel, err)
	}
	return p
}

// Seed is the path of the seed chapter, k8s/kubectl-run.md of container.training.
func Seed(t testing.TB) string { return Need(t, "seed/kubectl-run.md") }
