package content

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/labrun/labrun/parser"
)

// Merge joins the parser's diagnostics and the content findings, in deck
// order. A parser error that a finding explains better (a missing
// @@INCLUDE, now with its likely fix) is left out.
func Merge(diags []parser.Diagnostic, fs []Finding) []parser.Diagnostic {
	better := map[parser.Pos]bool{}
	for _, f := range fs {
		if f.Check == "include" {
			better[parser.Pos{File: f.Pos.File, Line: f.Pos.Line}] = true
		}
	}
	out := make([]parser.Diagnostic, 0, len(diags)+len(fs))
	for _, d := range diags {
		if strings.HasPrefix(d.Message, "cannot read @@INCLUDE[") && better[parser.Pos{File: d.Pos.File, Line: d.Pos.Line}] {
			continue
		}
		out = append(out, d)
	}
	return append(out, Diagnostics(fs)...)
}

// Report is the content report: the problems of a deck grouped by chapter,
// so a maintainer can open one issue per chapter.
type Report struct {
	Deck     string          `json:"deck"`
	Errors   int             `json:"errors"`
	Warnings int             `json:"warnings"`
	Chapters []ChapterReport `json:"chapters"`
}

// ChapterReport holds one file's problems, in line order.
type ChapterReport struct {
	File     string    `json:"file"`
	Title    string    `json:"title,omitempty"`
	Problems []Problem `json:"problems"`
}

// Problem is one diagnostic, with the content check that found it ("" for
// the parser's own) and the likely fix.
type Problem struct {
	parser.Diagnostic
	Check string `json:"check,omitempty"`
	Fix   string `json:"fix,omitempty"`
}

// Group builds the content report of deck from every problem found.
// Chapters without problems are left out; problems in files that are not
// chapters (the manifest) come first.
func Group(deck *parser.Deck, diags []parser.Diagnostic, fs []Finding) Report {
	r := Report{Deck: deck.File, Chapters: []ChapterReport{}}
	extra := map[parser.Pos]Finding{}
	for _, f := range fs {
		extra[f.Pos] = f
	}
	idx := map[string]int{}
	add := func(file, title string) int {
		if i, ok := idx[file]; ok {
			return i
		}
		idx[file] = len(r.Chapters)
		r.Chapters = append(r.Chapters, ChapterReport{File: file, Title: title, Problems: []Problem{}})
		return idx[file]
	}
	titles := map[string]string{}
	for _, ch := range deck.Chapters {
		titles[ch.File] = ch.Title
	}
	for _, d := range diags {
		if _, isChapter := titles[d.Pos.File]; !isChapter {
			add(d.Pos.File, "")
		}
	}
	for _, ch := range deck.Chapters {
		for _, d := range diags {
			if d.Pos.File == ch.File {
				add(ch.File, ch.Title)
				break
			}
		}
	}
	for _, d := range diags {
		i := add(d.Pos.File, titles[d.Pos.File])
		p := Problem{Diagnostic: d}
		if f, ok := extra[d.Pos]; ok && f.Message == d.Message {
			p.Check, p.Fix = f.Check, f.Fix
		}
		r.Chapters[i].Problems = append(r.Chapters[i].Problems, p)
		if d.Severity == parser.SeverityError {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
	return r
}

// WriteReport writes the content report as indented JSON. diags are all the
// problems (Merge's result); fs the content findings among them.
func WriteReport(w io.Writer, deck *parser.Deck, diags []parser.Diagnostic, fs []Finding) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Group(deck, diags, fs))
}
