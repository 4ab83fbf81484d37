// Package parser reads container.training decks (remark.js markdown) into
// slides, labs and typed steps. It is pure: bytes in, a model and diagnostics
// out, every item with its file and line. It imports nothing of labrun's.
package parser

import "fmt"

// Pos is a place in a source file. Line and Col count from 1; Col counts bytes.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	if p.Col > 0 {
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Kind says what a step does; the executor has one handler per kind.
type Kind string

// The step kinds. Command comes from a ```bash block a person types; every
// other kind comes from a hidden directive in an HTML comment.
const (
	KindCommand   Kind = "command"
	KindWait      Kind = "wait"
	KindLongwait  Kind = "longwait"
	KindKey       Kind = "key"
	KindKeys      Kind = "keys"
	KindCopy      Kind = "copy"
	KindPaste     Kind = "paste"
	KindCopyPaste Kind = "copypaste"
	KindCheck     Kind = "check"
	KindHide      Kind = "hide" // also ```bash inside a comment
	KindTmux      Kind = "tmux"
	KindOpen      Kind = "open"
	KindLook      Kind = "look"
	KindUnknown   Kind = "unknown"
)

// Kinds lists every step kind, so tests can check each has a handler.
var Kinds = []Kind{KindCommand, KindWait, KindLongwait, KindKey, KindKeys, KindCopy,
	KindPaste, KindCopyPaste, KindCheck, KindHide, KindTmux, KindOpen, KindLook, KindUnknown}

// Step is one thing the executor does.
type Step struct {
	Kind Kind `json:"kind"`
	Pos  Pos  `json:"pos"`
	// Text is the command block (dedented, highlighting backticks removed)
	// for commands and hide, or the directive's argument (`wait TEXT` gives TEXT).
	Text string `json:"text"`
	// Directive is the directive's name as written (`selectl`, `bash`, an
	// unknown name); empty for commands typed from a slide.
	Directive string `json:"directive,omitempty"`
	// Hidden is true for steps from HTML comments: not shown on the slide.
	Hidden bool `json:"hidden,omitempty"`
	// Placeholders found in Text that a person would fill in by hand.
	Placeholders []Placeholder `json:"placeholders,omitempty"`
}

// Placeholder is text in a command that a person replaces before typing it,
// such as `blue-xxxxxxxx-yyyyy`, `X.X.X.X`, `<ClusterIP>` or `IP-ADDRESS`.
type Placeholder struct {
	Text string `json:"text"`
	// Pattern is a regular expression for the text that fits the placeholder
	// (a pod name with the same prefix, an IPv4 address...).
	Pattern string `json:"pattern"`
}

// Expected is a plain fence shown after a lab: the output of its last command.
type Expected struct {
	Pos  Pos    `json:"pos"`
	Text string `json:"text"`
	// Distance is how many slides after the lab's slide the fence sits
	// (0: the same slide or one of its increments), so a report can say
	// why this fence was taken as the output.
	Distance int `json:"distance"`
}

// Lab is a `.lab[ … ]` (or older `.exercise[ … ]`) section.
type Lab struct {
	Pos      Pos       `json:"pos"`
	Steps    []Step    `json:"steps"`
	Expected *Expected `json:"expected,omitempty"`
}

// Slide is one remark slide (increments `--` belong to the slide they continue).
type Slide struct {
	Number  int      `json:"number"` // 1-based within its chapter
	Pos     Pos      `json:"pos"`
	Title   string   `json:"title,omitempty"`
	Name    string   `json:"name,omitempty"`
	Classes []string `json:"classes,omitempty"`
	Labs    []Lab    `json:"labs,omitempty"`
}

// Chapter is one markdown file.
type Chapter struct {
	File   string  `json:"file"`
	Title  string  `json:"title,omitempty"`
	Slides []Slide `json:"slides"`
}

// Deck is what a run replays: one chapter, or the chapters a manifest lists.
type Deck struct {
	File  string `json:"file"`
	Title string `json:"title,omitempty"`
	// GitRepo is the manifest's `gitrepo:` (github.com/owner/name), the
	// repository the labs clone; "" for a lone chapter.
	GitRepo  string    `json:"gitrepo,omitempty"`
	Chapters []Chapter `json:"chapters"`
}

// Severity of a diagnostic.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is a problem found in the input. The parser collects them
// instead of stopping at the first one.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Source is the offending source line, for a caret display.
	Source string `json:"source,omitempty"`
}
