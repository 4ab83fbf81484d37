package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpus parses the public container.training repository (cloned from
// ../shared/corpus): every chapter must load as text with no internal
// error, and every kube-*.yml deck must find all its chapters and includes
// and hold labs to replay. Figures measured at upstream commit 56563629
// are lower bounds, so a parser change that loses labs fails here.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the corpus in -short mode: it clones a 25 MB bundle")
	}
	slides := corpus(t)
	mds, err := filepath.Glob(filepath.Join(slides, "*", "*.md"))
	if err != nil || len(mds) < 100 {
		t.Fatalf("%d chapters under %s (%v)", len(mds), slides, err)
	}
	labs := 0
	for _, p := range mds {
		deck, diags := Load(p, os.ReadFile)
		for _, d := range diags {
			if strings.Contains(d.Message, "internal parser error") || strings.Contains(d.Message, "not a text file") {
				t.Errorf("%s", d.Format())
			}
		}
		labs += countLabs(deck)
	}
	if labs < 300 {
		t.Errorf("%d labs in %d chapters, want at least 300", labs, len(mds))
	}
	for _, c := range []struct {
		deck     string
		chapters int
		labs     int
		gitrepo  string
	}{
		{"kube-fullday.yml", 40, 120, "github.com/jpetazzo/container.training"},
		{"kube-halfday.yml", 36, 100, "github.com/jpetazzo/container.training"},
		{"kube-selfpaced.yml", 130, 500, "github.com/jpetazzo/container.training"},
	} {
		deck, diags := Load(filepath.Join(slides, c.deck), os.ReadFile)
		for _, d := range diags {
			if strings.HasPrefix(d.Message, "cannot read") || strings.Contains(d.Message, "internal parser error") {
				t.Errorf("%s: %s", c.deck, d.Format())
			}
		}
		if n := countLabs(deck); len(deck.Chapters) < c.chapters || n < c.labs {
			t.Errorf("%s: %d chapters, %d labs; want at least %d and %d", c.deck, len(deck.Chapters), n, c.chapters, c.labs)
		}
		if deck.GitRepo != c.gitrepo {
			t.Errorf("%s: gitrepo %q, want %q", c.deck, deck.GitRepo, c.gitrepo)
		}
		t.Logf("%s: %d chapters, %d labs, %d diagnostics", c.deck, len(deck.Chapters), countLabs(deck), len(diags))
	}
}

func countLabs(d *Deck) int {
	n := 0
	for _, ch := range d.Chapters {
		for _, s := range ch.Slides {
			n += len(s.Labs)
		}
	}
	return n
}
