package executor

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/labrun/labrun/parser"
)

// Selection narrows a run to part of a deck, because authors debug one lab
// at a time. The zero value selects everything.
type Selection struct {
	// Chapter keeps chapters whose file name or path contains it.
	Chapter string
	// SlideFrom and SlideTo keep slides by number within each chapter
	// (1-based, inclusive; 0 means no bound).
	SlideFrom, SlideTo int
	// From and To keep slides from the first whose title contains From to
	// the first after it whose title contains To (case-insensitive).
	From, To string
}

// Empty says whether the selection keeps everything.
func (s Selection) Empty() bool { return s == Selection{} }

// ParseSlideRange reads `N` or `N-M` (either side may be empty: `5-`, `-7`).
func ParseSlideRange(v string) (from, to int, err error) {
	lo, hi, isRange := strings.Cut(v, "-")
	parse := func(s string) (int, error) {
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("--slide %q: want N or N-M with slide numbers from 1", v)
		}
		return n, nil
	}
	if from, err = parse(lo); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return from, from, nil
	}
	if to, err = parse(hi); err != nil {
		return 0, 0, err
	}
	if to != 0 && from > to {
		return 0, 0, fmt.Errorf("--slide %q: the range ends before it starts", v)
	}
	return from, to, nil
}

// Select returns the part of deck that sel keeps and how many labs it left
// out. Selecting no lab at all is an error: it is surely a typo.
func Select(deck *parser.Deck, sel Selection) (*parser.Deck, int, error) {
	if sel.Empty() {
		return deck, 0, nil
	}
	out := &parser.Deck{File: deck.File, Title: deck.Title, GitRepo: deck.GitRepo}
	total, kept := 0, 0
	from, to := strings.ToLower(sel.From), strings.ToLower(sel.To)
	// --from and --to run across the whole deck, in order: from the first
	// slide whose title has From to the first one after it whose title has To.
	inRange, done := from == "", false
	for _, ch := range deck.Chapters {
		chapterKept := sel.Chapter == "" || strings.Contains(ch.File, sel.Chapter)
		var slides []parser.Slide
		for _, sl := range ch.Slides {
			title := strings.ToLower(sl.Title)
			if !inRange && !done && strings.Contains(title, from) {
				inRange = true
			}
			keep := chapterKept && inRange &&
				(sel.SlideFrom == 0 || sl.Number >= sel.SlideFrom) &&
				(sel.SlideTo == 0 || sl.Number <= sel.SlideTo)
			total += len(sl.Labs)
			if keep {
				kept += len(sl.Labs)
				slides = append(slides, sl)
			}
			if inRange && to != "" && strings.Contains(title, to) {
				inRange, done = false, true
			}
		}
		if len(slides) > 0 {
			c := ch
			c.Slides = slides
			out.Chapters = append(out.Chapters, c)
		}
	}
	if kept == 0 {
		return nil, 0, fmt.Errorf("the selection (%s) keeps no lab", sel)
	}
	return out, total - kept, nil
}

func (s Selection) String() string {
	var parts []string
	if s.Chapter != "" {
		parts = append(parts, "--chapter "+s.Chapter)
	}
	if s.SlideFrom != 0 || s.SlideTo != 0 {
		parts = append(parts, fmt.Sprintf("--slide %d-%d", s.SlideFrom, s.SlideTo))
	}
	if s.From != "" {
		parts = append(parts, "--from "+strconv.Quote(s.From))
	}
	if s.To != "" {
		parts = append(parts, "--to "+strconv.Quote(s.To))
	}
	return strings.Join(parts, " ")
}
