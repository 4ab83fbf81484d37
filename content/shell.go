package content

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// call is one simple command of a block, as the shell would see it.
type call struct {
	// Args are the words; a word the shell would expand at run time (a
	// variable other than $HOME, a command substitution) is opaque: ok[i] false.
	Args []string
	ok   []bool
	// Line is the command's line within the block, from 0.
	Line int
	// Writes are the files its redirections create (> FILE, >> FILE, &> FILE).
	Writes []string
	// Scope is 0 for the block's shell, and numbers each ( … ) and $( … ):
	// a cd there lasts only until its end.
	Scope int
}

// word is the i-th argument when it is known before run time.
func (c call) word(i int) (string, bool) {
	if i < 0 || i >= len(c.Args) {
		return "", false
	}
	return c.Args[i], c.ok[i]
}

// blockInfo is what one parsed block holds besides its calls.
type blockInfo struct {
	calls []call
	funcs []string // functions it defines
	// aliases maps alias names to the first word they stand for (k → kubectl).
	aliases map[string]string
	scopes  int // subshells numbered so far
}

// parseBlock reads a command block with a real shell parser (mvdan.cc/sh,
// bash dialect). A block the parser rejects (placeholders such as
// <ClusterIP> that a person fills in) gives ok false, and no checks.
func parseBlock(text string) (blockInfo, bool) {
	p := syntax.NewParser(syntax.Variant(syntax.LangBash))
	f, err := p.Parse(strings.NewReader(text), "")
	if err != nil {
		return blockInfo{}, false
	}
	var bi blockInfo
	for _, st := range f.Stmts {
		walkStmt(&bi, st, 0)
	}
	return bi, true
}

func walkStmt(bi *blockInfo, st *syntax.Stmt, sub int) {
	if st == nil {
		return
	}
	var writes []string
	for _, r := range st.Redirs {
		switch r.Op {
		case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.RdrClob:
			if s, ok := wordString(r.Word); ok {
				writes = append(writes, s)
			}
		}
	}
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		walkWords(bi, c.Args, sub)
		for _, a := range c.Assigns {
			if a.Value != nil {
				walkWords(bi, []*syntax.Word{a.Value}, sub)
			}
		}
		if len(c.Args) == 0 {
			return
		}
		cl := call{Line: int(c.Args[0].Pos().Line()) - 1, Writes: writes, Scope: sub}
		for _, w := range c.Args {
			s, ok := wordString(w)
			cl.Args = append(cl.Args, s)
			cl.ok = append(cl.ok, ok)
		}
		if name, ok := cl.word(0); ok && name == "alias" {
			for i := 1; i < len(cl.Args); i++ {
				if k, v, found := strings.Cut(cl.Args[i], "="); found {
					if fs := strings.Fields(v); len(fs) > 0 {
						if bi.aliases == nil {
							bi.aliases = map[string]string{}
						}
						bi.aliases[k] = fs[0]
					}
				}
			}
		}
		bi.calls = append(bi.calls, cl)
	case *syntax.BinaryCmd:
		walkStmt(bi, c.X, sub)
		walkStmt(bi, c.Y, sub)
	case *syntax.Subshell:
		bi.scopes++
		inner := bi.scopes
		for _, s := range c.Stmts {
			walkStmt(bi, s, inner)
		}
	case *syntax.Block:
		for _, s := range c.Stmts {
			walkStmt(bi, s, sub)
		}
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			for _, s := range ic.Cond {
				walkStmt(bi, s, sub)
			}
			for _, s := range ic.Then {
				walkStmt(bi, s, sub)
			}
		}
	case *syntax.WhileClause:
		for _, s := range c.Cond {
			walkStmt(bi, s, sub)
		}
		for _, s := range c.Do {
			walkStmt(bi, s, sub)
		}
	case *syntax.ForClause:
		for _, s := range c.Do {
			walkStmt(bi, s, sub)
		}
	case *syntax.FuncDecl:
		bi.funcs = append(bi.funcs, c.Name.Value)
	case *syntax.DeclClause:
		for _, a := range c.Args {
			if a.Value != nil {
				walkWords(bi, []*syntax.Word{a.Value}, sub)
			}
		}
	}
	if len(writes) > 0 && len(bi.calls) > 0 {
		last := &bi.calls[len(bi.calls)-1]
		if last.Writes == nil {
			last.Writes = writes
		}
	}
}

// walkWords visits the commands inside $( … ) and ` … ` of words.
func walkWords(bi *blockInfo, words []*syntax.Word, sub int) {
	for _, w := range words {
		syntax.Walk(w, func(n syntax.Node) bool {
			if cs, ok := n.(*syntax.CmdSubst); ok {
				bi.scopes++
				inner := bi.scopes
				for _, s := range cs.Stmts {
					walkStmt(bi, s, inner)
				}
				return false
			}
			return true
		})
	}
}

// wordString is a word's text when the shell gives it without running
// anything: literals, quotes, and $HOME (written as ~). ok is false for other
// expansions.
func wordString(w *syntax.Word) (string, bool) {
	if w == nil {
		return "", false
	}
	var b strings.Builder
	ok := true
	var part func(p syntax.WordPart)
	part = func(p syntax.WordPart) {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				part(q)
			}
		case *syntax.ParamExp:
			if x.Param != nil && x.Param.Value == "HOME" && x.Exp == nil && x.Index == nil && !x.Length {
				b.WriteString("~")
				return
			}
			ok = false
		default:
			ok = false
		}
	}
	for _, p := range w.Parts {
		part(p)
	}
	return b.String(), ok
}
