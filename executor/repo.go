package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/labrun/labrun/parser"
)

// Labs clone the workshop's own repository (`git clone https://@@GITREPO@@`)
// and use its files. The replay has no network, and should not want one:
// CI checks the commit under test and an author checks what they are
// editing. So a clone of the deck's repository gets the local checkout that
// holds the deck, as it is on disk now, uncommitted edits included: its
// working tree is snapshotted into a commit of a private bare repository
// (git's own plumbing, with a temporary index, so the checkout is left
// untouched), and the sandbox's ~/.gitconfig points the repository's URLs
// there with url.<base>.insteadOf. Every other remote is refused by git
// (protocol.allow=never), as it would fail offline.

// repoURLs are the spellings of a repository's address a slide may clone:
// with and without .git, over https and http, and the literal token of a
// chapter replayed without its manifest.
func repoURLs(gitrepo string) []string {
	urls := []string{"https://@@GITREPO@@", "http://@@GITREPO@@"}
	g := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(gitrepo), "https://"), "http://"), "/")
	g = strings.TrimSuffix(g, ".git")
	if g == "" {
		return urls
	}
	for _, scheme := range []string{"https://", "http://"} {
		urls = append(urls, scheme+g, scheme+g+".git")
	}
	return urls
}

// clonesRepo says whether any step of deck mentions one of urls or clones
// something: only then is the checkout snapshotted.
func clonesRepo(deck *parser.Deck, urls []string) bool {
	for _, ch := range deck.Chapters {
		for _, sl := range ch.Slides {
			for _, lab := range sl.Labs {
				for _, st := range lab.Steps {
					if strings.Contains(st.Text, "git clone") {
						return true
					}
					for _, u := range urls {
						if strings.Contains(st.Text, u) {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// served is what serveRepo set up, for the report.
type served struct {
	dir  string   // the checkout served
	head string   // its HEAD commit, abbreviated ("" for a repository with no commit)
	edit bool     // the working tree differs from HEAD
	urls []string // the URLs that reach it
}

func (s *served) note() string {
	state := "its working tree as on disk"
	switch {
	case s.head != "" && s.edit:
		state += fmt.Sprintf(" (HEAD %s plus uncommitted edits)", s.head)
	case s.head != "":
		state += fmt.Sprintf(" (HEAD %s, no uncommitted edits)", s.head)
	}
	main := s.urls[0]
	if len(s.urls) > 2 {
		main = s.urls[2] // https://HOST/PATH, the manifest's gitrepo
	}
	return fmt.Sprintf("git clone %s (and its http, .git and @@GITREPO@@ spellings) got %s: %s", main, s.dir, state)
}

// deckRoot is the git checkout holding the deck's first chapter.
func deckRoot(ctx context.Context, git string, deck *parser.Deck) (string, error) {
	if len(deck.Chapters) == 0 {
		return "", errors.New("the deck has no chapter")
	}
	dir := filepath.Dir(deck.Chapters[0].File)
	out, err := gitOut(ctx, git, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("the deck is not in a git checkout (%w); name one with --repo", err)
	}
	return out, nil
}

// writeGitConfig writes the sandbox's ~/.gitconfig: an identity for labs
// that commit, no network, and the served repository's URLs.
func writeGitConfig(home string, s *served, bare string) error {
	var b strings.Builder
	b.WriteString("# Written by labrun for one replay.\n")
	b.WriteString("[user]\n\tname = labrun\n\temail = labrun@localhost\n")
	b.WriteString("[init]\n\tdefaultBranch = main\n")
	b.WriteString("[advice]\n\tdetachedHead = false\n")
	// No network: git refuses every transport but local files, in its own words.
	b.WriteString("[protocol]\n\tallow = never\n[protocol \"file\"]\n\tallow = always\n")
	if s != nil {
		fmt.Fprintf(&b, "[url %q]\n", "file://"+bare)
		for _, u := range s.urls {
			fmt.Fprintf(&b, "\tinsteadOf = %s\n", u)
		}
	}
	return os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(b.String()), 0o600)
}

// serveRepo sets up the sandbox's git: the config always, and, when the deck
// clones something, a snapshot of the checkout (dir, or the deck's own when
// dir is "") behind the deck's repository URLs. It returns a note for the
// report ("" when there was nothing to serve). A bad --repo is an error; a
// deck outside any checkout is only a note (its clones fail in git's words).
func serveRepo(ctx context.Context, sb *sandbox, deck *parser.Deck, dir string) (string, error) {
	urls := repoURLs(deck.GitRepo)
	if dir == "" && !clonesRepo(deck, urls) {
		return "", writeGitConfig(sb.home, nil, "")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		if dir != "" {
			return "", fmt.Errorf("--repo %s: %w", dir, err)
		}
		return "", writeGitConfig(sb.home, nil, "") // the clone steps will say git is missing
	}
	if dir == "" {
		if dir, err = deckRoot(ctx, git, deck); err != nil {
			return "git clone of the deck's repository not served: " + err.Error(), writeGitConfig(sb.home, nil, "")
		}
	} else if dir, err = gitOut(ctx, git, dir, nil, "rev-parse", "--show-toplevel"); err != nil {
		return "", fmt.Errorf("--repo: %w", err)
	}
	s := &served{dir: dir, urls: urls}
	bare := filepath.Join(sb.root, "repos", filepath.Base(dir)+".git")
	if err := snapshot(ctx, git, dir, bare, s); err != nil {
		return "", fmt.Errorf("serving %s to the labs: %w", dir, err)
	}
	return s.note(), writeGitConfig(sb.home, s, bare)
}

// snapshot commits dir's working tree (tracked and untracked files, less
// what .gitignore leaves out) into a new bare repository at bare, whose
// objects borrow dir's own through alternates, without writing to dir.
func snapshot(ctx context.Context, git, dir, bare string, s *served) error {
	if _, err := gitOut(ctx, git, "", nil, "init", "-q", "--bare", "--initial-branch=main", bare); err != nil {
		return err
	}
	objects, err := gitOut(ctx, git, dir, nil, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		return err
	}
	objects = filepath.Join(objects, "objects")
	if err := os.WriteFile(filepath.Join(bare, "objects", "info", "alternates"), []byte(objects+"\n"), 0o600); err != nil {
		return err
	}
	// Start from a copy of the checkout's index, so only changed files are
	// read and hashed again.
	index := filepath.Join(filepath.Dir(bare), "index")
	if src, err := gitOut(ctx, git, dir, nil, "rev-parse", "--path-format=absolute", "--git-path", "index"); err == nil {
		if err := copyFile(src, index); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	defer os.Remove(index)
	env := []string{
		"GIT_INDEX_FILE=" + index,
		"GIT_OBJECT_DIRECTORY=" + filepath.Join(bare, "objects"),
		"GIT_ALTERNATE_OBJECT_DIRECTORIES=" + objects,
		"GIT_AUTHOR_NAME=labrun", "GIT_AUTHOR_EMAIL=labrun@localhost",
		"GIT_COMMITTER_NAME=labrun", "GIT_COMMITTER_EMAIL=labrun@localhost",
	}
	if _, err := gitOut(ctx, git, dir, env, "add", "-A", "."); err != nil {
		return err
	}
	tree, err := gitOut(ctx, git, dir, env, "write-tree")
	if err != nil {
		return err
	}
	args := []string{"commit-tree", tree, "-m", "labrun: the working tree of " + dir + " as on disk"}
	if head, err := gitOut(ctx, git, dir, env, "rev-parse", "-q", "--verify", "HEAD^{commit}"); err == nil {
		s.head = head[:min(len(head), 12)]
		headTree, _ := gitOut(ctx, git, dir, env, "rev-parse", "HEAD^{tree}")
		s.edit = headTree != tree
		// Keep the history, so `git log` in a lab looks as it would,
		// unless the checkout is shallow (the parents are not there).
		if sh, _ := gitOut(ctx, git, dir, env, "rev-parse", "--is-shallow-repository"); sh != "true" {
			args = append(args, "-p", head)
		}
	}
	commit, err := gitOut(ctx, git, dir, env, args...)
	if err != nil {
		return err
	}
	_, err = gitOut(ctx, git, bare, nil, "update-ref", "refs/heads/main", commit)
	return err
}

// gitOut runs git in dir (with extra environment) and returns its trimmed
// output; an error carries git's own message.
func gitOut(ctx context.Context, git, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, git, args...)
	cmd.Dir = dir
	// Only what git needs: no user config may rewrite the snapshot.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null", "LC_ALL=C"}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return strings.TrimSpace(string(out)), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
