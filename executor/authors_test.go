package executor

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/labrun/labrun/parser"
)

func loadFixture(t *testing.T, src string) *parser.Deck {
	t.Helper()
	deck, diags := parser.Load("colours.md", func(string) ([]byte, error) { return []byte(src), nil })
	for _, d := range diags {
		if d.Severity == parser.SeverityError {
			t.Fatalf("fixture: %s", d.Format())
		}
	}
	return deck
}

func slideNumbers(d *parser.Deck) []int {
	var out []int
	if d == nil {
		return nil
	}
	for _, ch := range d.Chapters {
		for _, sl := range ch.Slides {
			out = append(out, sl.Number)
		}
	}
	return out
}

// SplitPrepare keeps what Select keeps and returns every slide before it
// for --prepare.
func TestSplitPrepare(t *testing.T) {
	src, err := os.ReadFile("../fixtures/authors/colours.md")
	if err != nil {
		t.Fatal(err)
	}
	deck := loadFixture(t, string(src))
	for _, c := range []struct {
		sel            Selection
		kept, prepared []int
	}{
		{Selection{}, []int{1, 2, 3, 4}, nil},
		{Selection{Slides: []SlideRange{{3, 3}}}, []int{3}, []int{1, 2}},
		{Selection{Slides: []SlideRange{{4, 0}}}, []int{4}, []int{1, 2, 3}},
		{Selection{From: "colour"}, []int{1, 2, 3, 4}, nil}, // the chapter's title slide says colour
		{Selection{From: "printing"}, []int{3, 4}, []int{1, 2}},
	} {
		kept, before, _, err := SplitPrepare(deck, c.sel)
		if err != nil {
			t.Fatalf("%s: %v", c.sel, err)
		}
		if !slices.Equal(slideNumbers(kept), c.kept) || !slices.Equal(slideNumbers(before), c.prepared) {
			t.Errorf("%s: kept %v, prepared %v; want %v, %v", c.sel, slideNumbers(kept), slideNumbers(before), c.kept, c.prepared)
		}
	}
}

// firstChange finds the first slide whose text or labs changed, whatever
// comes after it; splitAt cuts there.
func TestFirstChange(t *testing.T) {
	src, err := os.ReadFile("../fixtures/authors/colours.md")
	if err != nil {
		t.Fatal(err)
	}
	orig := loadFixture(t, string(src))
	for _, c := range []struct {
		name, from, to string
		slide          int // 0: no change
	}{
		{"nothing", "", "", 0},
		{"a command on slide 4", "echo left side", "echo left", 4},
		{"a title on slide 3", "## Printing in colour", "## Printing in color", 3},
		{"a line added on slide 2 moves every slide after it", "- Remember a greeting", "- Remember\n- a greeting", 2},
		{"a new slide at the end", "echo left side\n  ```\n\n]\n", "echo left side\n  ```\n\n]\n\n---\n\n## More\n", 5},
	} {
		edited := loadFixture(t, strings.Replace(string(src), c.from, c.to, 1))
		ci, si, ok := firstChange(orig, edited)
		if c.slide == 0 {
			if ok {
				t.Errorf("%s: a change at slide %d", c.name, edited.Chapters[ci].Slides[si].Number)
			}
			continue
		}
		if !ok || edited.Chapters[ci].Slides[si].Number != c.slide {
			t.Errorf("%s: first change %v at %d/%d, want slide %d", c.name, ok, ci, si, c.slide)
			continue
		}
		from, before := splitAt(edited, ci, si)
		if n := slideNumbers(from); len(n) == 0 || n[0] != c.slide {
			t.Errorf("%s: replay starts at %v", c.name, n)
		}
		if n := slideNumbers(before); len(n) != c.slide-1 {
			t.Errorf("%s: prepared slides %v", c.name, n)
		}
	}
}
