package parser

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Manifest is a deck's YAML file: what to show, in which order, and the
// values of the @@TOKENS@@ its chapters use.
type Manifest struct {
	File  string `json:"file"`
	Title string `json:"title,omitempty"`
	// Exclude lists slide classes to drop.
	Exclude []string `json:"exclude,omitempty"`
	// Chapters are the chapter paths, flattened in order, relative to the
	// manifest's folder (as written). Nesting only groups chapters into
	// parts, which a run does not need.
	Chapters []string `json:"chapters"`
	// ChapterPos[i] is where Chapters[i] is listed, for diagnostics.
	ChapterPos []Pos `json:"-"`
	// Tokens maps "@@GITREPO@@" and friends to their values.
	Tokens map[string]string `json:"tokens,omitempty"`
	// GitRepo is the manifest's `gitrepo:` (used for @@LINK[...]).
	GitRepo string `json:"gitrepo,omitempty"`
}

// ParseManifest reads a deck manifest. Keys: title, gitrepo, slides, chat,
// zip, html, exclude, content (a nested list of chapter paths). Tokens, as
// the deck builder (markmaker.py) defines them:
//
//	@@TITLE@@    title, newlines as <br/> (a block scalar's final newline dropped)
//	@@GITREPO@@  gitrepo        @@SLIDES@@  slides        @@CHAT@@  chat
//	@@ZIP@@      zip, else slides + "/slides.zip" (no doubled slash)
//	@@HTML@@     html, else the manifest's file name + ".html"
//
// A missing key gives an empty value, as in markmaker. Inline markdown in
// `content:` (a multi-line string) is not a chapter and is skipped with a
// warning.
func ParseManifest(file string, src []byte) (*Manifest, []Diagnostic) {
	m := &Manifest{File: file, Chapters: []string{}, Tokens: map[string]string{}}
	var diags []Diagnostic
	lines := strings.Split(string(src), "\n")
	errAt := func(lineNo int, sev Severity, format string, args ...any) {
		d := Diagnostic{Pos: Pos{File: file, Line: lineNo}, Severity: sev, Message: fmt.Sprintf(format, args...)}
		if lineNo >= 1 && lineNo <= len(lines) {
			d.Source = strings.TrimSuffix(lines[lineNo-1], "\r")
		}
		diags = append(diags, d)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		lineNo := 1
		if mm := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(err.Error()); mm != nil {
			if n, e := strconv.Atoi(mm[1]); e == nil {
				lineNo = n
			}
		}
		errAt(lineNo, SeverityError, "manifest is not valid YAML: %v", err)
		return m, diags
	}
	str := func(key string) string {
		switch v := doc[key].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			return fmt.Sprint(v)
		}
	}
	title := strings.TrimRight(str("title"), "\n")
	m.Title = strings.Join(strings.Fields(title), " ")
	m.GitRepo = str("gitrepo")
	slides := str("slides")
	zip := str("zip")
	if _, ok := doc["zip"]; !ok {
		if strings.HasSuffix(slides, "/") {
			zip = slides + "slides.zip"
		} else {
			zip = slides + "/slides.zip"
		}
	}
	html := str("html")
	if _, ok := doc["html"]; !ok {
		html = path.Base(strings.ReplaceAll(file, "\\", "/")) + ".html"
	}
	m.Tokens = map[string]string{
		"@@TITLE@@":   strings.ReplaceAll(title, "\n", "<br/>"),
		"@@GITREPO@@": m.GitRepo,
		"@@SLIDES@@":  slides,
		"@@CHAT@@":    str("chat"),
		"@@ZIP@@":     zip,
		"@@HTML@@":    html,
	}
	switch v := doc["exclude"].(type) {
	case nil:
	case string:
		m.Exclude = []string{v}
	case []any:
		for _, e := range v {
			if e != nil {
				m.Exclude = append(m.Exclude, fmt.Sprint(e))
			}
		}
	default:
		errAt(keyLine(lines, "exclude"), SeverityError, "exclude: must be a list of slide classes")
	}
	if _, ok := doc["content"]; !ok {
		errAt(1, SeverityError, "manifest has no content: list")
		return m, diags
	}
	cursor := keyLine(lines, "content")
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch t := v.(type) {
		case nil:
		case []any:
			if depth > 64 {
				errAt(cursor, SeverityError, "content: nested too deep")
				return
			}
			for _, e := range t {
				walk(e, depth+1)
			}
		case string:
			if strings.Contains(t, "\n") {
				errAt(cursor, SeverityWarning, "inline markdown in content: is not supported; skipped")
				return
			}
			n := findEntry(lines, cursor, t)
			if n > 0 {
				cursor = n
			}
			m.Chapters = append(m.Chapters, t)
			m.ChapterPos = append(m.ChapterPos, Pos{File: file, Line: max(n, 1)})
		default:
			errAt(cursor, SeverityError, "content: entry %v is neither a path nor a list", t)
		}
	}
	walk(doc["content"], 0)
	return m, diags
}

// keyLine is the 1-based line of a top-level `key:`, or 1.
func keyLine(lines []string, key string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, key+":") {
			return i + 1
		}
	}
	return 1
}

// findEntry finds the line (1-based, after line from) listing entry as a
// YAML sequence item that is not commented out; 0 if none. sigs.k8s.io/yaml
// keeps no positions, and entries appear in document order, so a forward
// scan finds each one's own line even when a path is listed twice.
func findEntry(lines []string, from int, entry string) int {
	for i := max(from, 1); i <= len(lines); i++ {
		t := strings.TrimSpace(strings.TrimSuffix(lines[i-1], "\r"))
		if !strings.HasPrefix(t, "-") {
			continue
		}
		for strings.HasPrefix(t, "-") {
			t = strings.TrimSpace(t[1:])
		}
		if k := strings.Index(t, " #"); k >= 0 {
			t = strings.TrimSpace(t[:k])
		}
		t = strings.Trim(t, `"'`)
		if t == entry {
			return i
		}
	}
	return 0
}
