// Package regress replays decks as they were at other commits: a git
// worktree per revision (removed afterwards), a run at each of two
// revisions compared step by step, and `git bisect run` driven with labrun
// replaying only what the step in question needs. It uses git itself.
package regress

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Checkout is a deck's repository as it was at one revision.
type Checkout struct {
	// Dir is the worktree's top directory.
	Dir string
	// Rev is the full commit id checked out.
	Rev  string
	repo string
}

// Root returns the top directory of the git repository holding path.
func Root(ctx context.Context, path string) (string, error) {
	dir := path
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		dir = filepath.Dir(path)
	}
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("%s is not in a git repository: %w", path, err)
	}
	return strings.TrimSpace(out), nil
}

// Open checks out rev of the repository at repo into a new temporary
// worktree (detached, so no branch is touched). Close removes it.
func Open(ctx context.Context, repo, rev string) (*Checkout, error) {
	full, err := git(ctx, repo, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("%q is not a commit of %s", rev, repo)
	}
	tmp, err := os.MkdirTemp("", "labrun-git-*")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tmp, "tree")
	if _, err := git(ctx, repo, "worktree", "add", "--detach", "--quiet", dir, strings.TrimSpace(full)); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("checking out %s: %w", rev, err)
	}
	return &Checkout{Dir: dir, Rev: strings.TrimSpace(full), repo: repo}, nil
}

// Path maps a path inside the original repository to the same path in the
// checkout.
func (c *Checkout) Path(orig string) (string, error) {
	abs, err := filepath.Abs(orig)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(c.repo, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%s is outside the repository %s", orig, c.repo)
	}
	return filepath.Join(c.Dir, rel), nil
}

// Close removes the worktree and its record in the repository.
func (c *Checkout) Close() error {
	if c == nil || c.Dir == "" {
		return nil
	}
	// A background context: cleanup must happen even after Ctrl-C.
	_, err := git(context.Background(), c.repo, "worktree", "remove", "--force", c.Dir)
	if rerr := os.RemoveAll(filepath.Dir(c.Dir)); err == nil {
		err = rerr
	}
	_, _ = git(context.Background(), c.repo, "worktree", "prune")
	c.Dir = ""
	return err
}

// git runs git in dir and returns its standard output; its standard error
// becomes the error's text, since git's own words say what went wrong.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return "", fmt.Errorf("git %s: %w", args[0], err)
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return stdout.String(), nil
}
