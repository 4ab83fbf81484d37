package executor

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/parser"
)

// Shard is one part of a deck's chapters for a CI matrix: --shard I/N.
type Shard struct {
	Index, Count int // 1-based Index of Count
}

// ParseShard reads "I/N" with 1 ≤ I ≤ N.
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 1 ≤ I ≤ N, e.g. 2/4", v)
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardDeck keeps the chapters of deck that belong to shard s. The split is
// deterministic (the same deck and durations give the same shards on every
// machine) and balanced: chapters go, longest first, to the shard with the
// least work so far. durations are chapter durations from an earlier report
// (by chapter file); without them, or for a chapter they lack, a chapter
// weighs its number of steps times the median known time per step (1 s
// when nothing is known). Each shard keeps deck order, and every chapter is
// in exactly one shard.
func ShardDeck(deck *parser.Deck, s Shard, durations map[string]time.Duration) (*parser.Deck, error) {
	if s.Count <= 1 {
		return deck, nil
	}
	type unit struct {
		index  int
		weight time.Duration
	}
	perStep := medianPerStep(deck, durations)
	units := make([]unit, len(deck.Chapters))
	for i, ch := range deck.Chapters {
		w, ok := durations[ch.File]
		if !ok {
			w = time.Duration(max(1, countSteps(ch))) * perStep
		}
		units[i] = unit{i, w}
	}
	sort.SliceStable(units, func(a, b int) bool { return units[a].weight > units[b].weight })
	load := make([]time.Duration, s.Count)
	owner := make([]int, len(deck.Chapters))
	for _, u := range units {
		best := 0
		for k := 1; k < s.Count; k++ {
			if load[k] < load[best] {
				best = k
			}
		}
		load[best] += u.weight
		owner[u.index] = best
	}
	out := *deck
	out.Chapters = nil
	for i, ch := range deck.Chapters {
		if owner[i] == s.Index-1 {
			out.Chapters = append(out.Chapters, ch)
		}
	}
	return &out, nil
}

func countSteps(ch parser.Chapter) int {
	n := 0
	for _, sl := range ch.Slides {
		for _, lab := range sl.Labs {
			n += len(lab.Steps)
		}
	}
	return n
}

// medianPerStep is the median of the known chapters' time per step.
func medianPerStep(deck *parser.Deck, durations map[string]time.Duration) time.Duration {
	var per []time.Duration
	for _, ch := range deck.Chapters {
		if d, ok := durations[ch.File]; ok {
			if n := countSteps(ch); n > 0 {
				per = append(per, d/time.Duration(n))
			}
		}
	}
	if len(per) == 0 {
		return time.Second
	}
	sort.Slice(per, func(a, b int) bool { return per[a] < per[b] })
	return max(per[len(per)/2], time.Millisecond)
}
