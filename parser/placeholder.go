package parser

import (
	"regexp"
	"strconv"
	"strings"
)

// ipv4 is the pattern for an address placeholder.
const ipv4 = `(?:[0-9]{1,3}\.){3}[0-9]{1,3}`

// Placeholder shapes found in lab commands. Compiled per call: the package
// keeps no state (the cost is small next to a chapter).
const (
	// A generated name: prefix, then runs of x (ReplicaSet hash or 5-char
	// suffix), then optionally runs of y (pod suffix).
	rePodName = `\b([a-z0-9][a-z0-9.-]*?)-(x{3,})(?:-(y{3,}))?\b`
	// X.X.X.X, A.B.C.D: capital letters standing for an address.
	reLetterIP = `\b[A-Z]\.[A-Z]\.[A-Z]\.[A-Z]\b`
	// <ClusterIP>, <name>, <...>
	reAngle = `<(?:[A-Za-z][A-Za-z0-9_.:/-]*|\.\.\.)>`
	// IP-ADDRESS and its kin.
	reWord = `\b(?:IP-ADDRESS|IP_ADDRESS|IPADDRESS|NODE-IP|NODE_IP|CLUSTER-IP)\b`
)

// notPlaceholder reports <words> that are real text in commands (HTML in a
// grep, kubectl's <none>).
func notPlaceholder(s string) bool {
	switch strings.ToLower(s) {
	case "<html>", "<head>", "<body>", "<title>", "<div>", "<p>", "<a>", "<br>", "<pre>", "<none>", "<h1>":
		return true
	}
	return false
}

// placeholderFinder compiles each shape the first time a command might
// hold it (cheap substring tests first: most commands hold none).
type placeholderFinder struct {
	pod, letterIP, angle, word *regexp.Regexp
}

func newPlaceholderFinder() *placeholderFinder { return &placeholderFinder{} }

func compiled(re **regexp.Regexp, expr string) *regexp.Regexp {
	if *re == nil {
		*re = regexp.MustCompile(expr)
	}
	return *re
}

// hasLetterDot reports whether s holds a capital letter, a dot and a
// capital letter (X.X), the start of every letter-address placeholder.
func hasLetterDot(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i+1] == '.' && s[i] >= 'A' && s[i] <= 'Z' && s[i+2] >= 'A' && s[i+2] <= 'Z' {
			return true
		}
	}
	return false
}

// find returns the placeholders in a command, in order of appearance, each
// once.
func (f *placeholderFinder) find(text string) []Placeholder {
	type hit struct {
		at int
		ph Placeholder
	}
	var hits []hit
	var podMatches, ipMatches, wordMatches, angleMatches [][]int
	if strings.Contains(text, "-xxx") {
		podMatches = compiled(&f.pod, rePodName).FindAllStringSubmatchIndex(text, -1)
	}
	if hasLetterDot(text) {
		ipMatches = compiled(&f.letterIP, reLetterIP).FindAllStringIndex(text, -1)
	}
	if strings.Contains(text, "IP") {
		wordMatches = compiled(&f.word, reWord).FindAllStringIndex(text, -1)
	}
	if strings.IndexByte(text, '<') >= 0 && strings.IndexByte(text, '>') >= 0 {
		angleMatches = compiled(&f.angle, reAngle).FindAllStringIndex(text, -1)
	}
	for _, m := range podMatches {
		prefix := text[m[2]:m[3]]
		xs := m[5] - m[4]
		pat := regexp.QuoteMeta(prefix) + "-"
		switch {
		case m[6] >= 0:
			pat += `[a-z0-9]{6,10}-[a-z0-9]{5}`
		case xs == 5:
			pat += `[a-z0-9]{5}`
		default:
			pat += `[a-z0-9]{` + strconv.Itoa(min(xs, 6)) + `,10}`
		}
		hits = append(hits, hit{m[0], Placeholder{Text: text[m[0]:m[1]], Pattern: pat}})
	}
	for _, m := range ipMatches {
		hits = append(hits, hit{m[0], Placeholder{Text: text[m[0]:m[1]], Pattern: ipv4}})
	}
	for _, m := range wordMatches {
		hits = append(hits, hit{m[0], Placeholder{Text: text[m[0]:m[1]], Pattern: ipv4}})
	}
	for _, m := range angleMatches {
		s := text[m[0]:m[1]]
		if notPlaceholder(s) || (m[0] > 0 && text[m[0]-1] == '<') {
			continue // a heredoc (<<EOF>) or real markup
		}
		pat := `\S+`
		inner := s[1 : len(s)-1]
		switch {
		case strings.Contains(inner, "IP") || strings.HasSuffix(strings.ToLower(inner), "ip") ||
			strings.Contains(strings.ToLower(inner), "address"):
			pat = ipv4
		case strings.Contains(strings.ToLower(inner), "port"):
			pat = `[0-9]+`
		}
		hits = append(hits, hit{m[0], Placeholder{Text: s, Pattern: pat}})
	}
	if len(hits) == 0 {
		return nil
	}
	// Insertion sort: a handful of hits at most.
	for i := 1; i < len(hits); i++ {
		for j := i; j > 0 && hits[j].at < hits[j-1].at; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	out := make([]Placeholder, 0, len(hits))
	seen := map[string]bool{}
	for _, h := range hits {
		if !seen[h.ph.Text] {
			seen[h.ph.Text] = true
			out = append(out, h.ph)
		}
	}
	return out
}
