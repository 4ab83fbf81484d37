// Package contenttest builds the fixture workshop repository the content
// checks are tested against: fixtures/rot committed in a temporary
// directory, then a file renamed, one removed and a folder renamed in later
// commits, so that git history knows what the slides still refer to.
package contenttest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a fixture repository and the commits of its history.
type Repo struct {
	Root string
	// Commits maps what a commit did to its abbreviated hash:
	// "rename traefik", "remove old", "rename worker".
	Commits map[string]string
}

// MakeRepo copies fixtures/rot (found from the module root) into a new git
// repository under t.TempDir and writes its history. It needs git; without
// it the test is skipped, or fails under CI=true.
func MakeRepo(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the fixture repository needs git: %v", err)
		}
		t.Skipf("skipping: the fixture repository needs git: %v", err)
	}
	src := filepath.Join(moduleRoot(t), "fixtures", "rot")
	root := filepath.Join(t.TempDir(), "workshop-checkout")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(root, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &Repo{Root: root, Commits: map[string]string{}}
	r.git(t, "init", "-q", "-b", "main")
	r.git(t, "add", "-A")
	r.git(t, "commit", "-q", "-m", "the workshop as first written")
	r.git(t, "mv", "k8s/traefik.yml", "k8s/traefik.yaml")
	r.git(t, "commit", "-q", "-m", "manifests end in .yaml")
	r.Commits["rename traefik"] = r.head(t)
	r.git(t, "rm", "-q", "k8s/old.yaml")
	r.git(t, "commit", "-q", "-m", "drop the old manifest")
	r.Commits["remove old"] = r.head(t)
	r.git(t, "mv", "app/worker", "app/workers")
	r.git(t, "commit", "-q", "-m", "one folder for all workers")
	r.Commits["rename worker"] = r.head(t)
	return r
}

func (r *Repo) git(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.Root, "-c", "user.name=labrun test", "-c", "user.email=test@labrun.invalid", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (r *Repo) head(t testing.TB) string {
	return strings.TrimSpace(r.git(t, "rev-parse", "--short", "HEAD"))
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SharedDir is the "shared" directory beside the module root (the corpus
// bundle and the seed chapter live there), looked for beside each folder
// above the root so a worktree one level deeper finds it too; "" when absent.
func SharedDir(t testing.TB) string {
	for dir := filepath.Dir(moduleRoot(t)); ; dir = filepath.Dir(dir) {
		d := filepath.Join(dir, "shared")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// CloneCorpus clones shared/corpus/container.training.bundle (see
// SharedDir) into a temporary directory named container.training and
// returns it. Without the bundle the test is skipped, saying why, or fails
// under CI=true; -short skips it too.
func CloneCorpus(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the corpus in -short mode")
	}
	skip := t.Skipf
	if os.Getenv("CI") != "" {
		skip = t.Fatalf
	}
	shared := SharedDir(t)
	bundle := filepath.Join(shared, "corpus", "container.training.bundle")
	if _, err := os.Stat(bundle); shared == "" || err != nil {
		skip("no corpus: shared/corpus/container.training.bundle beside the module root is absent")
		return ""
	}
	dir := filepath.Join(t.TempDir(), "container.training")
	if out, err := exec.Command("git", "clone", "-q", bundle, dir).CombinedOutput(); err != nil {
		skip("cloning the corpus bundle: %v\n%s", err, out)
	}
	return dir
}
