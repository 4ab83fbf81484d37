package parser

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Load reads a deck: a manifest (.yml/.yaml) and the chapters it lists, or
// one markdown chapter. It is the only function here that reads files, all
// through read, so callers (and tests) choose the file system.
//
// For a manifest, chapter paths are relative to the manifest's folder; a
// chapter that cannot be read is an error diagnostic at the manifest line
// listing it, and the others still load. @@INCLUDE[path] is resolved
// relative to the manifest folder's parent (markmaker.py runs in slides/ and
// reads "../path"); @@LINK[path] becomes a link under
// https://<gitrepo>/tree/main. A lone chapter gets no substitutions: its
// tokens have no values.
func Load(path string, read func(name string) ([]byte, error)) (*Deck, []Diagnostic) {
	deck := &Deck{File: path, Chapters: []Chapter{}}
	diags := []Diagnostic{} // never nil: JSON shows [] rather than null
	src, err := read(path)
	if err != nil {
		return deck, append(diags, Diagnostic{Pos: Pos{File: path, Line: 1}, Severity: SeverityError,
			Message: "cannot read deck: " + err.Error()})
	}
	if d := notText(path, src); d != nil {
		return deck, append(diags, *d)
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".yml" && ext != ".yaml" {
		ch, ds := parseChapter(path, src, Options{})
		deck.Title = ch.Title
		deck.Chapters = append(deck.Chapters, *ch)
		return deck, append(diags, ds...)
	}
	m, ds := ParseManifest(path, src)
	diags = append(diags, ds...)
	deck.Title = m.Title
	deck.GitRepo = m.GitRepo
	dir := filepath.Dir(path)
	opts := Options{Exclude: m.Exclude, Tokens: m.Tokens}
	if m.GitRepo != "" {
		opts.LinkBase = "https://" + strings.TrimSuffix(m.GitRepo, "/") + "/tree/main"
	}
	included := map[string]string{} // include path → text, read once per deck
	for i, rel := range m.Chapters {
		name := filepath.Join(dir, filepath.FromSlash(rel))
		csrc, err := read(name)
		if err != nil {
			d := Diagnostic{Pos: m.ChapterPos[i], Severity: SeverityError, Message: "cannot read chapter " + rel + ": " + err.Error()}
			d.Source = lineOf(src, d.Pos.Line)
			diags = append(diags, d)
			continue
		}
		if d := notText(name, csrc); d != nil {
			diags = append(diags, *d)
			continue
		}
		o := opts
		o.Includes = nil
		for _, inc := range includePaths(csrc) {
			text, ok := included[inc.path]
			if !ok {
				b, err := read(filepath.Join(dir, "..", filepath.FromSlash(inc.path)))
				if err != nil {
					diags = append(diags, Diagnostic{Pos: Pos{File: name, Line: inc.line, Col: inc.col}, Severity: SeverityError,
						Message: "cannot read @@INCLUDE[" + inc.path + "]: " + err.Error(), Source: lineOf(csrc, inc.line)})
					continue
				}
				text = string(b)
				included[inc.path] = text
			}
			if o.Includes == nil {
				o.Includes = map[string]string{}
			}
			o.Includes[inc.path] = text
		}
		ch, ds := parseChapter(name, csrc, o)
		deck.Chapters = append(deck.Chapters, *ch)
		diags = append(diags, ds...)
	}
	return deck, diags
}

type includeRef struct {
	path      string
	line, col int
}

// includePaths lists the @@INCLUDE[path] references in src.
func includePaths(src []byte) []includeRef {
	const tok = "@@INCLUDE["
	var out []includeRef
	if !bytes.Contains(src, []byte(tok)) {
		return nil
	}
	s := string(src)
	for ln, l := range strings.Split(s, "\n") {
		off := 0
		for {
			i := strings.Index(l[off:], tok)
			if i < 0 {
				break
			}
			i += off
			j := strings.IndexByte(l[i+len(tok):], ']')
			if j < 0 {
				break
			}
			out = append(out, includeRef{path: l[i+len(tok) : i+len(tok)+j], line: ln + 1, col: i + 1})
			off = i + len(tok) + j + 1
		}
	}
	return out
}

// lineOf returns line n (1-based) of src, or "".
func lineOf(src []byte, n int) string {
	ls := strings.Split(string(src), "\n")
	if n < 1 || n > len(ls) {
		return ""
	}
	return strings.TrimSuffix(ls[n-1], "\r")
}

// parseChapter is ParseChapter for the CLI's sake: a bug in the parser
// becomes an error diagnostic instead of a crash that loses the run.
// (ParseChapter itself lets panics through, for tests and the fuzzer.)
func parseChapter(file string, src []byte, opts Options) (ch *Chapter, diags []Diagnostic) {
	defer func() {
		if r := recover(); r != nil {
			ch = &Chapter{File: file, Slides: []Slide{}}
			diags = []Diagnostic{{Pos: Pos{File: file, Line: 1}, Severity: SeverityError,
				Message: fmt.Sprintf("internal parser error (a labrun bug, please report it): %v", r)}}
		}
	}()
	return ParseChapter(file, src, opts)
}

// notText says why src is not a text file a deck can be made of: a NUL
// byte or bytes that are not UTF-8, at their place. Without it, random
// bytes parse as a chapter with no labs and a run "passes".
func notText(file string, src []byte) *Diagnostic {
	bad, what := -1, ""
	if i := bytes.IndexByte(src, 0); i >= 0 {
		bad, what = i, "a NUL byte"
	}
	if !utf8.Valid(src) {
		for i := 0; i < len(src) && (bad < 0 || i < bad); {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n <= 1 {
				bad, what = i, "bytes that are not UTF-8"
				break
			}
			i += n
		}
	}
	if bad < 0 {
		return nil
	}
	line := 1 + bytes.Count(src[:bad], []byte("\n"))
	col := bad - (bytes.LastIndexByte(src[:bad], '\n') + 1) + 1
	text := lineOf(src, line)
	if !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0 {
		text = "" // no binary on the reader's terminal
	}
	return &Diagnostic{Pos: Pos{File: file, Line: line, Col: col}, Severity: SeverityError,
		Message: "not a text file: " + what + " here; a deck is UTF-8 markdown or YAML", Source: text}
}
