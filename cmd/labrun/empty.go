package main

import (
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// A run that replays nothing must not read as a pass: a manifest naming
// chapters that hold no labs, a selection that keeps none, a deck whose
// every step needs a program this machine lacks. These count what there
// is to replay and what was replayed; `run` exits 2 when either is zero,
// unless --allow-empty.

// countSteps counts the steps a deck would replay.
func countSteps(deck *parser.Deck) int {
	n := 0
	for _, ch := range deck.Chapters {
		for _, sl := range ch.Slides {
			for _, lab := range sl.Labs {
				n += len(lab.Steps)
			}
		}
	}
	return n
}

// ran counts the steps that were tried: passed or failed, not skipped.
func ran(res *report.Run) int {
	n := 0
	for _, ch := range res.Chapters {
		for _, lab := range ch.Labs {
			for _, s := range lab.Steps {
				if s.Status == report.Passed || s.Status.Bad() {
					n++
				}
			}
		}
	}
	return n
}
