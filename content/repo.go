// Package content finds content rot in a deck before it runs (paths into the
// deck's own repository that no longer exist, command typos, kubectl flags
// the chosen kubectl does not have) and explains failures after they happen
// (Hints). It reads the deck's checkout and asks git and kubectl themselves;
// it needs no cluster.
package content

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Repo is the checkout a deck comes from, as it is on disk: the labs clone
// it as ~/Name, and labrun gives them this checkout instead.
type Repo struct {
	// Root is the checkout's top directory.
	Root string
	// Name is the directory the labs clone it into (container.training).
	Name string

	once    sync.Once
	files   map[string]bool // slash paths of files and directories, relative to Root
	histErr error
	hist    map[string]Change
	histMu  sync.Once
}

// Change is what git history says happened to a path: removed, or renamed
// to New, in Commit.
type Change struct {
	Commit string // abbreviated hash, date and subject
	Old    string
	New    string // "" when the path was deleted
}

func (c Change) String() string {
	if c.New == "" {
		return fmt.Sprintf("removed in %s", c.Commit)
	}
	return fmt.Sprintf("renamed to %s in %s", c.New, c.Commit)
}

// FindRepo locates the checkout a deck (a manifest or a chapter) belongs to:
// git's top level when the deck is in a git work tree, else the manifest
// folder's parent (markmaker runs in slides/ and reads ../). gitrepo is the
// manifest's `gitrepo:` value, if any; its last element names the clone.
func FindRepo(ctx context.Context, deckPath, gitrepo string) (*Repo, error) {
	abs, err := filepath.Abs(deckPath)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(abs)
	r := &Repo{}
	if out, err := git(ctx, dir, "rev-parse", "--show-toplevel"); err == nil {
		r.Root = strings.TrimSpace(out)
	} else {
		r.Root = filepath.Dir(dir)
	}
	if gitrepo != "" && !strings.Contains(gitrepo, "@@") {
		r.Name = cloneDir(gitrepo)
	}
	if r.Name == "" {
		if out, err := git(ctx, r.Root, "remote", "get-url", "origin"); err == nil {
			r.Name = cloneDir(strings.TrimSpace(out))
		}
	}
	if r.Name == "" {
		r.Name = filepath.Base(r.Root)
	}
	return r, nil
}

// cloneDir is the directory `git clone URL` makes.
func cloneDir(url string) string {
	url = strings.TrimRight(url, "/")
	url = strings.TrimSuffix(url, ".git")
	url = strings.TrimSuffix(url, ".bundle")
	if i := strings.LastIndexAny(url, "/:"); i >= 0 {
		url = url[i+1:]
	}
	return url
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// maxIndex bounds the walk of a checkout, for a deck that is in no git
// work tree and whose folder's parent is large (a home directory).
const maxIndex = 200000

// index lists the checkout's files and directories once, from the disk
// (the checkout as it is, uncommitted files included), skipping .git. Only
// Closest needs it: a suggestion is computed when a path is missing.
func (r *Repo) index() map[string]bool {
	r.once.Do(func() {
		r.files = map[string]bool{}
		_ = filepath.WalkDir(r.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && d.Name() == ".git" {
				return filepath.SkipDir
			}
			rel, err := filepath.Rel(r.Root, p)
			if err != nil || rel == "." {
				return nil
			}
			r.files[filepath.ToSlash(rel)] = true
			if len(r.files) >= maxIndex {
				return filepath.SkipAll
			}
			return nil
		})
	})
	return r.files
}

// Exists reports whether rel (a slash path relative to Root) is on disk.
func (r *Repo) Exists(rel string) bool {
	rel = path.Clean(rel)
	if rel == "." || rel == "" {
		return true
	}
	if _, err := os.Lstat(filepath.Join(r.Root, filepath.FromSlash(rel))); err == nil {
		return true
	}
	// Globs the shell would expand (k8s/*.yaml).
	if strings.ContainsAny(rel, "*?[") {
		m, _ := filepath.Glob(filepath.Join(r.Root, filepath.FromSlash(rel)))
		return len(m) > 0
	}
	return false
}

// Closest is the existing path most like rel: the same name in another
// folder, or the nearest name by edit distance, preferring the same folder.
// "" when nothing is close.
func (r *Repo) Closest(rel string) string {
	rel = path.Clean(rel)
	base := path.Base(rel)
	dir := path.Dir(rel)
	best, bestScore := "", 1<<30
	for p := range r.index() {
		pb := path.Base(p)
		var score int
		switch {
		case pb == base:
			score = 1 // moved
		case path.Dir(p) == dir:
			d := distance(pb, base)
			if d > max(2, len(base)/3) {
				continue
			}
			score = 2 * d
		case stem(pb) == stem(base) && stem(base) != "":
			score = 4 + distance(path.Dir(p), dir)
		default:
			continue
		}
		if score < bestScore || score == bestScore && p < best {
			best, bestScore = p, score
		}
	}
	return best
}

// stem is a file name without its extension.
func stem(name string) string {
	return strings.TrimSuffix(name, path.Ext(name))
}

// Changed says what git history knows happened to rel (or, for a folder,
// to the files under it): renamed or removed, and in which commit. ok is
// false when history does not know rel, or the checkout has no history.
func (r *Repo) Changed(ctx context.Context, rel string) (Change, bool) {
	r.histMu.Do(func() { r.hist, r.histErr = loadHistory(ctx, r.Root) })
	if r.histErr != nil {
		return Change{}, false
	}
	rel = path.Clean(rel)
	if c, ok := r.hist[rel]; ok {
		return c, true
	}
	// A folder: the most recent change of a file under it.
	var under []Change
	for old, c := range r.hist {
		if strings.HasPrefix(old, rel+"/") {
			under = append(under, c)
		}
	}
	if len(under) == 0 {
		return Change{}, false
	}
	sort.Slice(under, func(i, j int) bool { return under[i].Old < under[j].Old })
	c := under[0]
	c.Old = rel
	if c.New != "" {
		// The folder moved where its first file moved, minus the file's tail.
		tail := strings.TrimPrefix(under[0].Old, rel)
		if strings.HasSuffix(c.New, tail) {
			c.New = strings.TrimSuffix(c.New, tail)
		} else {
			c.New = path.Dir(c.New)
		}
	}
	return c, true
}

// loadHistory reads every rename and deletion in the checkout's history,
// newest first, once: `git log --diff-filter=DR -M --name-status`. The
// newest change of a path wins.
func loadHistory(ctx context.Context, root string) (map[string]Change, error) {
	out, err := git(ctx, root, "log", "--diff-filter=DR", "-M", "--name-status",
		"--format=%x00%h %ad %s", "--date=short")
	if err != nil {
		return nil, err
	}
	hist := map[string]Change{}
	var commit string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "\x00") {
			commit = line[1:]
			continue
		}
		f := strings.Split(line, "\t")
		switch {
		case len(f) == 3 && strings.HasPrefix(f[0], "R"):
			if _, seen := hist[f[1]]; !seen {
				hist[f[1]] = Change{Commit: commit, Old: f[1], New: f[2]}
			}
		case len(f) == 2 && f[0] == "D":
			if _, seen := hist[f[1]]; !seen {
				hist[f[1]] = Change{Commit: commit, Old: f[1]}
			}
		}
	}
	return hist, nil
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
