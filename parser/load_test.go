package parser

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// memFS is a read function over a map, so Load runs without a disk.
func memFS(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := files[filepath.ToSlash(filepath.Clean(name))]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

const testManifest = `title: |
  Deploying and Scaling
  with Kubernetes

#chat: "[Slack](https://example.slack.com)"
chat: "In person!"
gitrepo: github.com/example/training
slides: https://training.example/

exclude:
- self-paced

content:
- shared/title.md
#- shared/commented.md
-
  - k8s/a.md
  - k8s/missing.md
  -
    - k8s/b.md  # a comment
- shared/title.md
`

func TestParseManifest(t *testing.T) {
	m, ds := ParseManifest("slides/deck.yml", []byte(testManifest))
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	if m.Title != "Deploying and Scaling with Kubernetes" {
		t.Errorf("title %q", m.Title)
	}
	if got := strings.Join(m.Chapters, " "); got != "shared/title.md k8s/a.md k8s/missing.md k8s/b.md shared/title.md" {
		t.Errorf("chapters %q", got)
	}
	var lines []int
	for _, p := range m.ChapterPos {
		lines = append(lines, p.Line)
	}
	if want := []int{14, 17, 18, 20, 21}; !equalInts(lines, want) {
		t.Errorf("chapter lines %v, want %v", lines, want)
	}
	if strings.Join(m.Exclude, ",") != "self-paced" {
		t.Errorf("exclude %v", m.Exclude)
	}
	want := map[string]string{
		"@@TITLE@@":   "Deploying and Scaling<br/>with Kubernetes",
		"@@GITREPO@@": "github.com/example/training",
		"@@SLIDES@@":  "https://training.example/",
		"@@CHAT@@":    "In person!",
		"@@ZIP@@":     "https://training.example/slides.zip",
		"@@HTML@@":    "deck.yml.html",
	}
	for k, v := range want {
		if m.Tokens[k] != v {
			t.Errorf("%s = %q, want %q", k, m.Tokens[k], v)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseManifestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"bad yaml", "title: x\ncontent:\n- a.md\n  - b: [\n", 4, "not valid YAML"},
		{"no content", "title: x\n", 1, "no content"},
		{"bad exclude", "exclude: {a: 1}\ncontent:\n- a.md\n", 1, "exclude"},
		{"inline markdown", "content:\n- |\n  # Hello\n  world\n", 1, "inline markdown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := ParseManifest("d.yml", []byte(tc.src))
			if len(ds) == 0 || ds[0].Pos.Line != tc.line || !strings.Contains(ds[0].Message, tc.msg) {
				t.Errorf("got %v, want line %d %q", ds, tc.line, tc.msg)
			}
		})
	}
}

func TestLoadManifest(t *testing.T) {
	files := map[string]string{
		"slides/deck.yml":        testManifest,
		"slides/shared/title.md": "# @@TITLE@@\n",
		"slides/k8s/a.md":        "# Part A\n\n.lab[\n```bash\ngit clone https://@@GITREPO@@\n```\n]\n\n---\n\nclass: self-paced\n\n.lab[\n```bash\necho dropped\n```\n]\n",
		"slides/k8s/b.md":        "## B\n\n```yaml\n@@INCLUDE[k8s/x.yaml]\n```\n\n@@LINK[k8s/x.yaml]\n\n```yaml\n@@INCLUDE[k8s/nope.yaml]\n```\n\n.lab[\n```bash\nkubectl apply -f x.yaml\n```\n]\n",
		"k8s/x.yaml":             "kind: Pod\n",
	}
	deck, ds := Load("slides/deck.yml", memFS(files))
	if deck.Title != "Deploying and Scaling with Kubernetes" || len(deck.Chapters) != 4 {
		t.Fatalf("deck %q with %d chapters", deck.Title, len(deck.Chapters))
	}
	var errs []string
	for _, d := range ds {
		errs = append(errs, d.Pos.String()+" "+d.Message)
	}
	if len(ds) != 2 || ds[0].Pos.File != "slides/deck.yml" || ds[0].Pos.Line != 18 || !strings.Contains(ds[0].Message, "k8s/missing.md") ||
		ds[0].Source != "  - k8s/missing.md" {
		t.Errorf("missing chapter diagnostic: %q", errs)
	}
	if len(ds) == 2 && (ds[1].Pos.Line != 10 || !strings.Contains(ds[1].Message, "k8s/nope.yaml")) {
		t.Errorf("missing include diagnostic: %q", errs)
	}
	if got := deck.Chapters[0].Title; got != "Deploying and Scaling with Kubernetes" {
		t.Errorf("token in title: %q", got)
	}
	a := deck.Chapters[1]
	if len(a.Slides) != 1 || a.Slides[0].Labs[0].Steps[0].Text != "git clone https://github.com/example/training" {
		t.Errorf("chapter a: %+v", a.Slides)
	}
	b := deck.Chapters[2]
	if b.File != filepath.Join("slides", "k8s", "b.md") || b.Slides[0].Labs[0].Steps[0].Pos.Line != 14 {
		t.Errorf("chapter b: %s %+v", b.File, b.Slides[0].Labs)
	}
}

func TestLoadChapterAndErrors(t *testing.T) {
	files := map[string]string{"c.md": "# C\n\n.lab[\n```bash\necho @@GITREPO@@\n```\n]\n"}
	deck, ds := Load("c.md", memFS(files))
	if len(ds) != 0 || deck.Title != "C" || len(deck.Chapters) != 1 ||
		deck.Chapters[0].Slides[0].Labs[0].Steps[0].Text != "echo @@GITREPO@@" {
		t.Errorf("chapter load: %+v %v", deck, ds)
	}
	deck, ds = Load("nope.yml", memFS(files))
	if len(ds) != 1 || ds[0].Severity != SeverityError || deck == nil || !errors.Is(fs.ErrNotExist, fs.ErrNotExist) {
		t.Errorf("unreadable deck: %v", ds)
	}
}
