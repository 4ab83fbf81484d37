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
	// Slides keep slides by number within each chapter (none: all).
	Slides []SlideRange
	// From and To keep slides from the first whose title contains From to
	// the first after it whose title contains To (case-insensitive).
	From, To string
}

// SlideRange is slides From to To (1-based, inclusive; To 0: to the end).
type SlideRange struct{ From, To int }

func (r SlideRange) has(n int) bool { return n >= r.From && (r.To == 0 || n <= r.To) }

func (r SlideRange) String() string {
	switch {
	case r.To == r.From:
		return strconv.Itoa(r.From)
	case r.To == 0:
		return fmt.Sprintf("%d-", r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// Empty says whether the selection keeps everything.
func (s Selection) Empty() bool {
	return s.Chapter == "" && len(s.Slides) == 0 && s.From == "" && s.To == ""
}

// ParseSlides reads a comma-separated list of `N`, `N-M` and `N-` (N to the
// last slide), as --slide takes it.
func ParseSlides(v string) ([]SlideRange, error) {
	if strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("--slide is empty: give slide numbers as N, N-M, N- or a list such as 3,5-7")
	}
	var out []SlideRange
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		from, err := slideNumber(v, lo)
		if err != nil {
			return nil, err
		}
		r := SlideRange{from, from}
		if isRange {
			r.To = 0
			if hi != "" {
				if r.To, err = slideNumber(v, hi); err != nil {
					return nil, err
				}
				if r.To < r.From {
					return nil, fmt.Errorf("--slide %q: %s ends before it starts", v, part)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// slideNumber reads one slide number of --slide v; 0, negative numbers and
// words get the same message.
func slideNumber(v, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("--slide %q: slide numbers are whole numbers from 1, as labrun list shows them (N, N-M, N- or a list such as 3,5-7)", v)
	}
	return n, nil
}

// keepsSlide says whether the selection's slide numbers keep slide n.
func (s Selection) keepsSlide(n int) bool {
	if len(s.Slides) == 0 {
		return true
	}
	for _, r := range s.Slides {
		if r.has(n) {
			return true
		}
	}
	return false
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
			keep := chapterKept && inRange && sel.keepsSlide(sl.Number)
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
	if len(s.Slides) > 0 {
		rs := make([]string, len(s.Slides))
		for i, r := range s.Slides {
			rs[i] = r.String()
		}
		parts = append(parts, "--slide "+strings.Join(rs, ","))
	}
	if s.From != "" {
		parts = append(parts, "--from "+strconv.Quote(s.From))
	}
	if s.To != "" {
		parts = append(parts, "--to "+strconv.Quote(s.To))
	}
	return strings.Join(parts, " ")
}
