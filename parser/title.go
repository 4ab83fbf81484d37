package parser

import (
	"github.com/yuin/goldmark"
	"strings"

	"github.com/yuin/goldmark/ast"
	gparser "github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// headingText renders the first heading of src as plain text: emphasis,
// code spans and links keep their text, raw HTML is dropped.
func headingText(md gparser.Parser, src []byte) string {
	doc := md.Parse(text.NewReader(src))
	var b strings.Builder
	found := false
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if _, ok := n.(*ast.Heading); ok && found {
				return ast.WalkStop, nil
			}
			return ast.WalkContinue, nil
		}
		if !found {
			if _, ok := n.(*ast.Heading); ok {
				found = true
			}
			return ast.WalkContinue, nil
		}
		switch t := n.(type) {
		case *ast.Text:
			b.Write(t.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.RawHTML:
			// <br/> in a title (from @@TITLE@@) separates words.
			if segs := t.Segments; segs.Len() > 0 {
				if seg := segs.At(0); strings.HasPrefix(strings.ToLower(string(seg.Value(src))), "<br") {
					b.WriteByte(' ')
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.Image:
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			b.Write(t.URL(src))
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// plainATX is the fast path for the common heading: an ATX line with no
// character that inline markup could use, whose text is its words. Anything
// else goes to goldmark.
func plainATX(src string) (string, bool) {
	if strings.ContainsAny(src, "`*_[]<>!&\\~\n") {
		return "", false
	}
	t := strings.TrimLeft(src, " ")
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(t) && t[n] != ' ' && t[n] != '\t') {
		return "", false
	}
	t = strings.TrimSpace(t[n:])
	// A closing sequence of #s preceded by a blank is not part of the text.
	if k := strings.TrimRight(t, "#"); len(k) < len(t) && (k == "" || k[len(k)-1] == ' ' || k[len(k)-1] == '\t') {
		t = k
	}
	return strings.Join(strings.Fields(t), " "), true
}

// goldmarkParser is the parser used for titles (one per ParseChapter call).
func goldmarkParser() gparser.Parser { return goldmark.New().Parser() }
