package regress

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
)

// Bisect verdicts, as `git bisect run` reads a command's exit status.
const (
	Good = 0
	Bad  = 1
	Skip = 125 // the step cannot be judged at this commit (absent, or the run broke)
)

// BisectOptions say which revisions to search and how to judge one.
type BisectOptions struct {
	Repo      string // the repository's top directory
	Good, Bad string
	// Judge is the command git runs at each commit, in the commit's
	// worktree: it exits Good, Bad or Skip.
	Judge []string
	// Log receives git's own progress.
	Log io.Writer
}

// BisectResult names the first bad commit.
type BisectResult struct {
	Commit  string // full id
	Subject string
}

var firstBad = regexp.MustCompile(`(?m)^([0-9a-f]{40}) is the first bad commit`)

// Bisect searches, in a worktree of its own (the user's checkout and its
// bisect state are left alone), for the first commit between Good and Bad
// where Judge says Bad.
func Bisect(ctx context.Context, opts BisectOptions) (*BisectResult, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	co, err := Open(ctx, opts.Repo, opts.Bad)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	good, err := git(ctx, opts.Repo, "rev-parse", "--verify", "--quiet", opts.Good+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("%q is not a commit of %s", opts.Good, opts.Repo)
	}
	if _, err := git(ctx, co.Dir, "bisect", "start", co.Rev, strings.TrimSpace(good)); err != nil {
		return nil, err
	}
	defer git(context.Background(), co.Dir, "bisect", "reset", "--quiet") //nolint:errcheck // the worktree goes anyway
	cmd := exec.CommandContext(ctx, "git", append([]string{"bisect", "run"}, opts.Judge...)...)
	cmd.Dir = co.Dir
	var out strings.Builder
	// git writes both streams at once; the log sees them one write at a time.
	log := &lockedWriter{w: opts.Log}
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = log
	cmd.Env = append(os.Environ(), "LABRUN_BISECT_WORKTREE="+co.Dir)
	runErr := cmd.Run()
	m := firstBad.FindStringSubmatch(out.String())
	if m == nil {
		if runErr != nil {
			return nil, fmt.Errorf("git bisect run: %w", runErr)
		}
		return nil, fmt.Errorf("git bisect found no first bad commit (every commit skipped?)")
	}
	subject, _ := git(ctx, opts.Repo, "log", "-1", "--format=%s", m[1])
	return &BisectResult{Commit: m[1], Subject: strings.TrimSpace(subject)}, nil
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
