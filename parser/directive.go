package parser

import (
	"regexp"
	"strings"
)

// directiveKind maps a directive's name to its step kind.
func directiveKind(name string) Kind {
	switch name {
	case "wait":
		return KindWait
	case "longwait":
		return KindLongwait
	case "keys":
		return KindKeys
	case "key":
		return KindKey
	case "copy":
		return KindCopy
	case "paste":
		return KindPaste
	case "copypaste":
		return KindCopyPaste
	case "check":
		return KindCheck
	case "hide", "bash":
		return KindHide
	case "tmux":
		return KindTmux
	case "open":
		return KindOpen
	case "look":
		return KindLook
	}
	return KindUnknown
}

// openComment starts an HTML comment at byte k of line i.
func (p *chapterParser) openComment(st *scanState, i, k int) {
	st.comment = &commentState{start: i, col: k + 1}
	t := p.lines[i].text
	p.commentText(st, i, t[k+4:], k+4)
}

// commentText reads text (from byte off of line i) inside a comment: up to
// `-->` (which `--->` also ends with), then any further comment on the line.
func (p *chapterParser) commentText(st *scanState, i int, text string, off int) {
	for st.comment != nil {
		end := strings.Index(text, "-->")
		body := text
		if end >= 0 {
			body = text[:end]
		}
		p.commentBody(st, i, body, off)
		if end < 0 {
			return
		}
		if d := st.comment.dir; d != nil {
			p.diag(d.line, d.col, SeverityError, "directive fence is not closed before the end of its HTML comment (line %d)", p.lines[i].num)
		}
		st.comment = nil
		text, off = text[end+3:], off+end+3
		k := strings.Index(text, "<!--")
		if k < 0 {
			return
		}
		st.comment = &commentState{start: i, col: off + k + 1}
		text, off = text[k+4:], off+k+4
	}
}

func backtickRun(s string) int {
	n := 0
	for n < len(s) && s[n] == '`' {
		n++
	}
	return n
}

// commentBody finds directives in comment text: one-line ```name arg```
// fences (several per comment, several per line, text after them
// tolerated) and multi-line fences, whose closing run may be followed by
// the comment's end.
func (p *chapterParser) commentBody(st *scanState, i int, body string, off int) {
	c := st.comment
	if d := c.dir; d != nil {
		t := strings.TrimLeft(body, " \t")
		if n := backtickRun(t); n >= d.n {
			c.dir = nil
			p.directive(st, d.line, d.col, d.info, true, d.body)
			return
		}
		d.body = append(d.body, body)
		return
	}
	if off == 0 && isLabOpener(body) {
		p.diag(i, 1, SeverityWarning, "lab inside an HTML comment does not run")
		c.labOff = true
		return
	}
	for {
		k := strings.Index(body, "```")
		if k < 0 {
			return
		}
		n := backtickRun(body[k:])
		rest := body[k+n:]
		j := strings.Index(rest, "```")
		if j < 0 {
			c.dir = &openDirective{line: i, col: off + k + 1, n: n, info: rest}
			return
		}
		p.directive(st, i, off+k+1, rest[:j], false, nil)
		m := backtickRun(rest[j:])
		body = rest[j+m:]
		off += k + n + j + m
	}
}

// directive turns one directive into a step of the current lab.
func (p *chapterParser) directive(st *scanState, i, col int, info string, multi bool, body []string) {
	c := st.comment
	info = strings.TrimLeft(info, " \t")
	name, arg := strings.TrimRight(info, " \t"), ""
	if k := strings.IndexAny(info, " \t"); k >= 0 {
		name, arg = info[:k], info[k+1:]
		if name != "keys" {
			// keys types its text as written: ```keys kubectl delete pod ```
			// ends with the space before a paste.
			arg = strings.TrimSpace(arg)
		}
	}
	if multi {
		if b := dedent(body); b != "" {
			if arg != "" {
				arg += "\n" + b
			} else {
				arg = b
			}
		}
	}
	if name == "" {
		// A plain fence inside a comment: commented-out text, not a directive.
		return
	}
	if c != nil && c.labOff {
		return
	}
	lab := st.lab
	if lab == nil || st.labOff || st.sb.dropped {
		if lab == nil && !st.notes && !st.sb.dropped {
			p.diag(i, col, SeverityWarning, "directive ```%s``` outside a lab is ignored", name)
		}
		return
	}
	kind := directiveKind(name)
	step := Step{Kind: kind, Pos: p.pos(i, col), Text: arg, Directive: name, Hidden: true}
	switch kind {
	case KindUnknown:
		p.diag(i, col, SeverityWarning, "unknown directive %q is skipped", name)
	case KindWait, KindLongwait:
		ran := false
		for _, s := range lab.Steps {
			if s.Kind == KindCommand || s.Kind == KindHide || s.Kind == KindKeys || s.Kind == KindPaste || s.Kind == KindCopyPaste {
				ran = true
			}
		}
		if !ran {
			p.diag(i, col, SeverityWarning, "%s has no command before it in this lab: it waits on whatever an earlier lab left running", name)
		}
		if arg == "" {
			p.diag(i, col, SeverityError, "%s needs the text to wait for", name)
		}
	case KindCopy, KindCopyPaste:
		if arg == "" {
			p.diag(i, col, SeverityError, "%s needs a regular expression", name)
		} else if _, err := regexp.Compile(arg); err != nil {
			p.diag(i, col, SeverityError, "%s regular expression does not compile (Go syntax): %v", name, err)
		}
	case KindHide:
		if arg == "" {
			p.diag(i, col, SeverityWarning, "%s directive has no command", name)
		}
	}
	lab.Steps = append(lab.Steps, step)
}
