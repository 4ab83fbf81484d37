package content_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/content/contenttest"
	"github.com/labrun/labrun/parser"
)

// check loads a deck of the fixture repository and runs Check on it.
func check(t *testing.T, r *contenttest.Repo, deckRel string, k *content.Kubectl) (*parser.Deck, []parser.Diagnostic, []content.Finding) {
	t.Helper()
	ctx := context.Background()
	deckPath := filepath.Join(r.Root, deckRel)
	deck, diags := parser.Load(deckPath, os.ReadFile)
	src, err := os.ReadFile(deckPath)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := parser.ParseManifest(deckPath, src)
	repo, err := content.FindRepo(ctx, deckPath, m.GitRepo)
	if err != nil {
		t.Fatal(err)
	}
	if repo.Name != "workshop" {
		t.Errorf("repo.Name = %q, want workshop (from gitrepo:)", repo.Name)
	}
	fs := content.Check(ctx, deck, content.Options{Repo: repo, Kubectl: k})
	return deck, diags, fs
}

// TestRepositoryChecks: every path check on the fixture repository, whose
// history renamed and removed what the slides still name.
func TestRepositoryChecks(t *testing.T) {
	r := contenttest.MakeRepo(t)
	_, diags, fs := check(t, r, "slides/rot.yml", nil)
	tests := []struct {
		place string // chapter:line:col
		check string
		want  []string // substrings of the message
		fix   string
	}{
		{"paths.md:12:6", "path", []string{"~/workshop/app/worker: app/worker is not in the repository", "git: renamed to app/workers in " + r.Commits["rename worker"], "one folder for all workers"}, "app/workers"},
		{"paths.md:26:18", "path", []string{"k8s/traefik.yml is not in the repository;", "renamed to k8s/traefik.yaml in " + r.Commits["rename traefik"], "did you mean k8s/traefik.yaml?"}, "k8s/traefik.yaml"},
		{"paths.md:27:18", "path", []string{"k8s/old.yaml is not in the repository", "git: removed in " + r.Commits["remove old"]}, ""},
		{"paths.md:29:47", "path", []string{"k8s/settngs.conf is not in the repository;", "did you mean k8s/settings.conf?"}, "k8s/settings.conf"},
		{"paths.md:43:1", "include", []string{"@@INCLUDE[k8s/snipet.yaml]: k8s/snipet.yaml is not in the repository; did you mean k8s/snippet.yaml?"}, "k8s/snippet.yaml"},
		{"typos.md:12:1", "typo", []string{"kuectl: no such command; did you mean kubectl (used 12 times in this deck)?"}, "kubectl"},
	}
	got := map[string]content.Finding{}
	for _, f := range fs {
		got[fmt.Sprintf("%s:%d:%d", filepath.Base(f.Pos.File), f.Pos.Line, f.Pos.Col)] = f
	}
	for _, tt := range tests {
		f, ok := got[tt.place]
		if !ok {
			t.Errorf("no finding at %s; got:\n%s", tt.place, list(fs))
			continue
		}
		delete(got, tt.place)
		if f.Check != tt.check || f.Fix != tt.fix || f.Severity != parser.SeverityError {
			t.Errorf("%s: check %q fix %q severity %s, want %q %q error", tt.place, f.Check, f.Fix, f.Severity, tt.check, tt.fix)
		}
		for _, w := range tt.want {
			if !strings.Contains(f.Message, w) {
				t.Errorf("%s: message %q lacks %q", tt.place, f.Message, w)
			}
		}
		if f.Source == "" {
			t.Errorf("%s: no source line", tt.place)
		}
	}
	// Nothing else: web.yaml exists, mine.yaml was written by the lab, the
	// clone of the deck's own repository is the checkout.
	for place, f := range got {
		t.Errorf("unexpected finding at %s: %s", place, f.Message)
	}
	// The parser's own "cannot read @@INCLUDE" gives way to the finding.
	merged := content.Merge(diags, fs)
	for _, d := range merged {
		if strings.HasPrefix(d.Message, "cannot read @@INCLUDE[") {
			t.Errorf("Merge kept %s", d)
		}
	}
}

// TestCdTracking: relative paths resolve against the directory a block cd'd
// into, and only paths inside the repository are checked.
func TestCdTracking(t *testing.T) {
	r := contenttest.MakeRepo(t)
	const chapter = "# T\n\n.lab[\n\n```bash\n%s\n```\n\n]\n"
	tests := []struct {
		name, block string
		want        int
	}{
		{"relative after cd", "cd ~/workshop/k8s\nkubectl apply -f traefik.yml", 1},
		{"relative after cd, exists", "cd ~/workshop/k8s\nkubectl apply -f web.yaml", 0},
		{"cd .. back to the root", "cd ~/workshop/k8s\ncd ..\nkubectl apply -f k8s/web.yaml", 0},
		{"outside the repository", "cd /tmp\nkubectl apply -f traefik.yml", 0},
		{"home is not the repository", "kubectl apply -f traefik.yml", 0},
		{"$HOME is ~", "kubectl apply -f $HOME/workshop/k8s/traefik.yml", 1},
		{"a subshell's cd does not last", "cd ~/workshop\n(cd k8s)\nkubectl apply -f k8s/web.yaml", 0},
		{"inside a subshell, its cd counts", "cd ~/workshop\n(cd k8s && cat traefik.yml)", 1},
		{"unknown directory after cd $VAR", "cd $SOMEWHERE\nkubectl apply -f traefik.yml", 0},
		{"made by an earlier command", "cd ~/workshop\nkubectl create deployment x --image=nginx -o yaml --dry-run=client > k8s/x.yaml\nkubectl apply -f k8s/x.yaml", 0},
		{"made by mkdir", "mkdir -p ~/workshop/new\ncd ~/workshop/new\ncat nothing.txt", 0},
		{"a docker volume names its source first", "docker run -v ~/workshop/app/workers:/src alpine", 0},
		{"a glob the shell expands", "kubectl apply -f ~/workshop/k8s/*.yaml", 0},
	}
	tests = append(tests, struct {
		name, block string
		want        int
	}{"a hidden step's cd does not last", "cd ~/workshop/k8s\n```\n\n<!-- ```bash cd ~/workshop``` -->\n\n```bash\nkubectl apply -f traefik.yaml", 0})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(r.Root, "slides", "ch", "t.md")
			if err := os.WriteFile(p, fmt.Appendf(nil, chapter, tt.block), 0o644); err != nil {
				t.Fatal(err)
			}
			deck, _ := parser.Load(p, os.ReadFile)
			repo, err := content.FindRepo(context.Background(), p, "github.com/example/workshop.git")
			if err != nil {
				t.Fatal(err)
			}
			fs := content.Check(context.Background(), deck, content.Options{Repo: repo})
			if len(fs) != tt.want {
				t.Errorf("%d findings, want %d:\n%s", len(fs), tt.want, list(fs))
			}
		})
	}
}

func list(fs []content.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s\n", f.Diagnostic)
	}
	return b.String()
}

// needKubectl finds the kubectl a run would use, or skips (fails under CI).
func needKubectl(t *testing.T) string {
	t.Helper()
	k, err := cluster.FindKubectl("")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the kubectl checks need kubectl: %v", err)
		}
		t.Skipf("skipping: the kubectl checks need kubectl: %v", err)
	}
	return k
}

// TestKubectlChecks: commands and flags are checked against the real
// kubectl's own help and flag parser, and what it said is cached.
func TestKubectlChecks(t *testing.T) {
	path := needKubectl(t)
	r := contenttest.MakeRepo(t)
	cache := t.TempDir()
	k := content.NewKubectl(path, cache)
	k.FindOlder(cache)
	_, _, fs := check(t, r, "slides/rot.yml", k)
	k.Save()
	want := map[string]string{
		"typos.md:24:17": "--generator: kubectl run v1.",
		"typos.md:25:44": "--record: deprecated in kubectl set image v1.",
		"typos.md:26:9":  "kubectl creat: kubectl v1.",
	}
	for _, f := range fs {
		if f.Check != "kubectl-flag" && f.Check != "kubectl-command" {
			continue
		}
		place := fmt.Sprintf("%s:%d:%d", filepath.Base(f.Pos.File), f.Pos.Line, f.Pos.Col)
		w, ok := want[place]
		if !ok {
			t.Errorf("unexpected kubectl finding at %s: %s", place, f.Message)
			continue
		}
		delete(want, place)
		if !strings.Contains(f.Message, w) {
			t.Errorf("%s: %q lacks %q", place, f.Message, w)
		}
		if place == "typos.md:26:9" && f.Fix != "create" {
			t.Errorf("creat: fix %q, want create (kubectl's own suggestion)", f.Fix)
		}
		if place == "typos.md:24:17" && f.Severity != parser.SeverityError {
			t.Errorf("--generator is %s, want error", f.Severity)
		}
	}
	for place, w := range want {
		t.Errorf("no finding at %s (%s…); got:\n%s", place, w, list(fs))
	}
	// The cache holds what kubectl said: a second checker reads it.
	ms, _ := filepath.Glob(filepath.Join(cache, "kubectl-*.json"))
	if len(ms) == 0 {
		t.Fatalf("nothing cached in %s", cache)
	}
	b, _ := os.ReadFile(ms[0])
	for _, s := range []string{`"create deployment"`, `generator`, `"set image`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("cache lacks %s", s)
		}
	}
}

// TestOlderKubectls: other kubectl versions found as kubectl.1.NN on PATH
// are asked about a flag the chosen kubectl lacks, and the message names
// them. (A real kubectl stands in for an older one here: the machine may
// have no other version.)
func TestOlderKubectls(t *testing.T) {
	path := needKubectl(t)
	dir := t.TempDir()
	if err := os.Symlink(path, filepath.Join(dir, "kubectl.1.31")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cache := t.TempDir()
	k := content.NewKubectl(path, cache)
	k.FindOlder(cache)
	if len(k.Older) == 0 {
		t.Fatal("kubectl.1.31 on PATH was not found")
	}
	p := filepath.Join(dir, "old.md")
	if err := os.WriteFile(p, []byte("# T\n\n.lab[\n\n```bash\nkubectl run web --generator=run-pod/v1 --image=nginx\n```\n\n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deck, _ := parser.Load(p, os.ReadFile)
	fs := content.Check(context.Background(), deck, content.Options{Kubectl: k})
	v := k.Older[0].Version(context.Background())
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "(not in kubectl "+v+" either)") {
		t.Errorf("findings:\n%s\nwant --generator, not in kubectl %s either", list(fs), v)
	}
}
