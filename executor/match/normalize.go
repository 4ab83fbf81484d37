package match

import (
	"regexp"
	"strconv"
	"strings"
)

// The patterns below are immutable after package initialisation (compiled
// regular expressions are safe for concurrent use), so they are not mutable
// global state.

const (
	months = `(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)`
	days   = `(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)`
	zone   = `(?:UTC|GMT|[A-Z]{2,4}T)`
	// safeAlphabet is the alphabet of k8s.io/apimachinery's rand.String and
	// SafeEncodeString: no vowels, no 0, 1, 3 (so generated names never spell
	// words).
	safeAlphabet = `bcdfghjklmnpqrstvwxz2456789`
)

// replacement is one regular-expression rewrite of a raw line.
type replacement struct {
	need string // a substring the line must hold for re to apply (a cheap prefilter)
	re   *regexp.Regexp
	with string
}

var lineRewrites = []replacement{
	// ANSI escape sequences, in case the caller passes raw pane bytes.
	{"\x1b", regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)`), ``},
	// Timestamps first: some contain double spaces ("Thu Nov  6").
	{":", regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?(?: [+-]\d{4})?(?: ` + zone + `\b)?(?: m=[+-]\d+\.\d+)?`), `<time>`},
	{":", regexp.MustCompile(`\b` + days + ` +` + months + ` +\d{1,2} \d{2}:\d{2}:\d{2}(?: ` + zone + `)? \d{4}\b`), `<time>`},
	{":", regexp.MustCompile(`\b` + days + `, \d{1,2} ` + months + ` \d{4} \d{2}:\d{2}:\d{2}(?: [+-]\d{4}\b| ` + zone + `\b)?`), `<time>`},
	// Identifiers.
	{"-", regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`), `<uid>`},
	{"sha256:", regexp.MustCompile(`\bsha256:[0-9a-f]{64}\b`), `sha256:<digest>`},
	{"://", regexp.MustCompile(`\b([a-z][a-z0-9-]*)://[0-9a-f]{64}\b`), `$1://<id>`},
	{"", regexp.MustCompile(`\b[0-9a-f]{64}\b`), `<hex>`},
	{"resourceVersion", regexp.MustCompile(`(resourceVersion"?:\s*"?)\d+`), `${1}<rv>`},
	{"-hash", regexp.MustCompile(`\b((?:pod-template-hash|controller-revision-hash)(?:=|:\s*"?))[` + safeAlphabet + `]{5,10}\b`), `${1}<hash>`},
	// Addresses.
	{".", regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`), `<ip>`},
	{":", regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:)+:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*\b)?|(^|[\s(\[=,/])::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)\b`), `$1<ip>`},
	// Versions.
	{"v", regexp.MustCompile(`\bv\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z][0-9A-Za-z.+-]*)?`), `<version>`},
	// Sub-second durations.
	{"time=", regexp.MustCompile(`\btime=\d+(?:\.\d+)? ?ms\b`), `time=<duration>`},
	{".", regexp.MustCompile(`\b\d+\.\d+(?:ms|µs|us|ns|s)\b`), `<duration>`},
}

var (
	nameRun  = regexp.MustCompile(`[a-z0-9-]+`)
	hashPart = regexp.MustCompile(`^(?:[` + safeAlphabet + `]{8,10}|x{8,11})$`)
	idPart   = regexp.MustCompile(`^(?:[` + safeAlphabet + `]{5}|x{5}|y{5})$`)
	nodePort = regexp.MustCompile(`\b3[0-2]\d{3}\b`)
	ageToken = regexp.MustCompile(`^(?:(?:\d+y)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?|\d+h\d+|<invalid>|<unknown>)$`)
)

// Normalize rewrites one line so that what legitimately varies between runs
// compares equal (see the package documentation for every rule). It is
// idempotent: Normalize(Normalize(s)) == Normalize(s).
func Normalize(line string) string {
	line = strings.ReplaceAll(line, "\r", "")
	line = strings.ReplaceAll(line, "\t", "    ")
	for _, r := range lineRewrites {
		if strings.Contains(line, r.need) {
			line = r.re.ReplaceAllString(line, r.with)
		}
	}
	line = nameRun.ReplaceAllStringFunc(line, normalizeName)
	line = nodePort.ReplaceAllStringFunc(line, func(s string) string {
		if n, err := strconv.Atoi(s); err == nil && n <= 32767 {
			return "<nodeport>"
		}
		return s
	})
	return normalizeColumns(line)
}

// normalizeName rewrites the generated suffixes of a run of name characters.
func normalizeName(run string) string {
	parts := strings.Split(run, "-")
	n := len(parts)
	if n < 2 || parts[0] == "" {
		return run
	}
	switch {
	case n >= 3 && idPart.MatchString(parts[n-1]) && hashPart.MatchString(parts[n-2]):
		return strings.Join(parts[:n-2], "-") + "-<hash>-<id>"
	case hashPart.MatchString(parts[n-1]):
		return strings.Join(parts[:n-1], "-") + "-<hash>"
	case idPart.MatchString(parts[n-1]):
		return strings.Join(parts[:n-1], "-") + "-<id>"
	}
	return run
}

// normalizeColumns trims the line, turns every column gap into three spaces
// and every single-space gap into one, and rewrites age tokens.
func normalizeColumns(line string) string {
	cells := splitColumns(strings.TrimSpace(line))
	prev := ""
	for c, cell := range cells {
		toks := strings.Fields(cell)
		for i, tok := range toks {
			next := ""
			if i+1 < len(toks) {
				next = toks[i+1]
			} else if c+1 < len(cells) {
				next = firstField(cells[c+1])
			}
			if isAge(tok, prev, next) {
				toks[i] = replaceAge(tok)
			}
			prev = tok
		}
		cells[c] = strings.Join(toks, " ")
	}
	return strings.Join(cells, "   ")
}

// splitColumns splits a trimmed line at every run of two or more spaces.
func splitColumns(line string) []string {
	var cells []string
	start := 0
	for i := 0; i+1 < len(line); i++ {
		if line[i] != ' ' || line[i+1] != ' ' {
			continue
		}
		cells = append(cells, line[start:i])
		for i < len(line) && line[i] == ' ' {
			i++
		}
		start = i
	}
	return append(cells, line[start:])
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// isAge reports whether tok sits in an age position: shaped like kubectl's
// human durations, and either followed by "ago" or not the value of a
// "key:" pair (describe's "cpu:  100m").
func isAge(tok, prev, next string) bool {
	core := strings.Trim(tok, "(),")
	if core == "" || !ageToken.MatchString(core) {
		return false
	}
	if next == "ago" || next == "ago)" {
		return true
	}
	return !strings.HasSuffix(prev, ":")
}

func replaceAge(tok string) string {
	core := strings.Trim(tok, "(),")
	i := strings.Index(tok, core)
	return tok[:i] + "<age>" + tok[i+len(core):]
}
