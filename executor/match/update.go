package match

// Update rewrites an expected-output block so that actual matches it, with
// as small a change as a careful author would make: lines that matched stay
// as the author wrote them (wildcards, hand edits and column spacing
// included), whole-line elisions stay, and each expected line that found no
// match is replaced by the actual line that stands in its place (the most
// similar one between its matched neighbours), or dropped when there is
// none. When that is not enough, the block becomes the actual output. ok is
// false when nothing needed changing.
func Update(expected, actual string) (updated string, ok bool) {
	res := Match(expected, actual)
	if res.OK {
		return expected, false
	}
	expLines := trimTrailingBlank(splitLines(expected))
	rawActual := trimTrailingBlank(splitLines(actual))
	pats := make([]pattern, len(expLines))
	for i := range expLines {
		pats[i] = compilePattern(res.Expected[i])
	}
	actTokens := make([]string, len(res.Actual))
	for i, a := range res.Actual {
		actTokens[i] = tokens(a)
	}
	// Where each expected line matched (greedy, as Match does).
	at := make([]int, len(pats))
	cursor := 0
	for i, p := range pats {
		at[i] = -1
		if p.skip {
			continue
		}
		for j := cursor; j < len(actTokens); j++ {
			if p.matches(actTokens[j]) {
				at[i], cursor = j, j+1
				break
			}
		}
	}
	out := make([]string, 0, len(expLines))
	used := -1 // the last actual line the new block stands on
	for i, l := range expLines {
		switch {
		case pats[i].skip || at[i] >= 0:
			out = append(out, l)
			if at[i] >= 0 {
				used = at[i]
			}
		default:
			// The region this line stood for: after the last line used,
			// before the next expected line that matched.
			end := len(res.Actual)
			for k := i + 1; k < len(at); k++ {
				if at[k] >= 0 {
					end = at[k]
					break
				}
			}
			j := closest(res.Expected[i], res.Actual[:end], used+1)
			if j < 0 {
				// Nothing alike: the first line printed in its place.
				for k := used + 1; k < end; k++ {
					if actTokens[k] != "" {
						j = k
						break
					}
				}
			}
			if j >= 0 {
				out = append(out, rawActual[j])
				used = j
			}
		}
	}
	updated = joinLines(out)
	if !Match(updated, actual).OK {
		updated = joinLines(rawActual)
	}
	return updated, updated != joinLines(expLines)
}

func joinLines(lines []string) string {
	s := ""
	for _, l := range lines {
		s += l + "\n"
	}
	return s
}
