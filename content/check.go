package content

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/labrun/labrun/parser"
)

// Finding is a content problem in a deck, found before running it.
type Finding struct {
	parser.Diagnostic
	// Check names the check: "path", "typo", "kubectl-flag", "kubectl-command", "include".
	Check string `json:"check"`
	// Step is where the step holding the problem starts (for hints).
	Step parser.Pos `json:"step"`
	// Fix is the likely fix, when one is known ("k8s/traefik.yaml", "kubectl").
	Fix string `json:"fix,omitempty"`
}

// Options say what Check can compare the deck with. A nil field turns its
// checks off.
type Options struct {
	// Repo is the deck's checkout: paths into ~/<Repo.Name> must exist in it.
	Repo *Repo
	// Kubectl is the kubectl the run will use: kubectl commands and flags
	// must exist in it.
	Kubectl *Kubectl
	// Read reads chapter sources, for the line a problem is on (nil: os.ReadFile).
	Read func(string) ([]byte, error)
	// LookPath says whether a program is installed (nil: exec.LookPath).
	LookPath func(string) bool
}

// checker is the state of one Check: the deck is walked in order, as one
// attendee's shell would go through it.
type checker struct {
	ctx      context.Context
	o        Options
	findings []Finding
	sources  map[string][]string
	cwd      string          // "~/…" or "/…"; "" when unknown
	created  map[string]bool // paths earlier steps made
	words    map[string]int  // first words of commands, with counts
	firstPos map[string]parser.Pos
	defined  map[string]bool // functions and aliases the deck defines
	aliases  map[string]string
	known    map[string]bool // LookPath answers
	builtins map[string]bool
	scopes   map[int]string // the directory of each subshell of the current block
}

type parsedStep struct {
	step  parser.Step
	info  blockInfo
	ok    bool
	lines int // first source line of the text
}

// Check finds content rot in deck: paths into its repository that do not
// exist, command names that are near misses of ones the deck uses, and
// kubectl commands and flags the given kubectl does not have. It runs
// nothing but git (for history) and kubectl --help (once per binary).
func Check(ctx context.Context, deck *parser.Deck, o Options) []Finding {
	if o.Read == nil {
		o.Read = os.ReadFile
	}
	if o.LookPath == nil {
		o.LookPath = func(p string) bool { _, err := exec.LookPath(p); return err == nil }
	}
	c := &checker{ctx: ctx, o: o, sources: map[string][]string{}, cwd: "~", created: map[string]bool{},
		words: map[string]int{}, firstPos: map[string]parser.Pos{}, defined: map[string]bool{},
		aliases: map[string]string{}, known: map[string]bool{}, builtins: shellBuiltins(ctx)}
	var steps []parsedStep
	for _, ch := range deck.Chapters {
		for _, sl := range ch.Slides {
			for _, lab := range sl.Labs {
				for _, st := range lab.Steps {
					if st.Kind != parser.KindCommand && st.Kind != parser.KindHide {
						continue
					}
					bi, ok := parseBlock(st.Text)
					ps := parsedStep{step: st, info: bi, ok: ok, lines: st.Pos.Line}
					if st.Kind == parser.KindCommand {
						ps.lines++ // the text starts after the fence
					}
					steps = append(steps, ps)
					for _, f := range bi.funcs {
						c.defined[f] = true
					}
					for k, v := range bi.aliases {
						c.defined[k] = true
						c.aliases[k] = v
					}
					for _, cl := range bi.calls {
						if w, ok := cl.word(0); ok && plainWord(w) {
							c.words[w]++
							if _, seen := c.firstPos[w]; !seen {
								c.firstPos[w] = st.Pos
							}
						}
					}
				}
			}
		}
	}
	for _, ch := range deck.Chapters {
		c.includes(ch.File)
	}
	for _, ps := range steps {
		if !ps.ok {
			continue
		}
		c.scopes = map[int]string{}
		outer := c.cwd
		for _, cl := range ps.info.calls {
			c.call(ps, cl)
		}
		if ps.step.Kind == parser.KindHide {
			c.cwd = outer // hidden setup runs in a shell of its own
		}
	}
	order := map[string]int{} // chapters in deck order
	for i, ch := range deck.Chapters {
		if _, ok := order[ch.File]; !ok {
			order[ch.File] = i
		}
	}
	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := c.findings[i].Pos, c.findings[j].Pos
		if a.File != b.File {
			return order[a.File] < order[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.findings
}

// plainWord is a command name (not a path, an assignment or an expansion).
func plainWord(w string) bool {
	return w != "" && !strings.ContainsAny(w, "/=$`*?[{}()<>'\"\\") && !strings.HasPrefix(w, "-")
}

// call checks one simple command and updates the walk's state. A command
// in a subshell sees the directory its subshell cd'd into, which the block's
// shell does not.
func (c *checker) call(ps parsedStep, cl call) {
	if cl.Scope != 0 {
		outer := c.cwd
		if cwd, ok := c.scopes[cl.Scope]; ok {
			c.cwd = cwd
		}
		defer func() {
			c.scopes[cl.Scope] = c.cwd
			c.cwd = outer
		}()
	}
	c.simple(ps, cl)
}

func (c *checker) simple(ps parsedStep, cl call) {
	name, ok := cl.word(0)
	if !ok {
		return
	}
	if a, isAlias := c.aliases[name]; isAlias {
		name = a
	}
	c.typo(ps, cl)
	switch name { // what the command makes, before its arguments are checked
	case "cp", "mv", "ln", "rsync", "scp", "install":
		if last, ok := cl.word(len(cl.Args) - 1); ok && len(cl.Args) > 2 && !strings.HasPrefix(last, "-") {
			c.create(last)
		}
	case "mkdir", "touch", "tee":
		for _, a := range nonFlags(cl) {
			c.create(a)
		}
	}
	// Paths into the repository, whatever the command.
	for i := 1; i < len(cl.Args); i++ {
		w, ok := cl.word(i)
		if !ok {
			continue
		}
		if _, v, found := strings.Cut(w, "="); found && strings.HasPrefix(w, "-") {
			w = v
		}
		if c.isRepoPath(w) {
			// docker -v SRC:DST and similar pairs name the source first.
			if i := strings.IndexByte(w, ':'); i > 0 {
				w = w[:i]
			}
			c.path(ps, cl, w, c.resolve(w))
		}
	}
	for _, wr := range cl.Writes {
		if v := c.resolve(wr); v != "" {
			c.created[v] = true
		}
	}
	args := nonFlags(cl)
	switch name {
	case "cd", "pushd":
		if len(cl.Args) == 1 {
			c.cwd = "~"
			return
		}
		w, ok := cl.word(1)
		if !ok || w == "-" {
			c.cwd = ""
			return
		}
		v := c.resolve(w)
		if v != "" && !c.isRepoPath(w) {
			c.path(ps, cl, w, v)
		}
		c.cwd = v
	case "popd":
		c.cwd = ""
	case "git":
		if len(args) >= 2 && args[0] == "clone" {
			dir := cloneDir(args[1])
			if len(args) >= 3 {
				dir = args[2]
			}
			// A clone of the deck's own repository is the checkout on disk.
			if v := c.resolve(dir); c.repoRel(v) != "." {
				c.create(dir)
			}
		}
	case "wget", "curl":
		for i := 1; i < len(cl.Args)-1; i++ {
			if w, _ := cl.word(i); w == "-O" || w == "-o" || w == "--output" || w == "--output-document" {
				if v, ok := cl.word(i + 1); ok {
					c.create(v)
				}
			}
		}
		if name == "wget" && len(args) > 0 {
			c.create(path.Base(args[len(args)-1]))
		}
	case "helm":
		if len(args) >= 2 && args[0] == "create" {
			c.create(args[1])
		}
		c.fileFlags(ps, cl, map[string]bool{"-f": true, "--values": true})
	case "kubectl":
		c.fileFlags(ps, cl, map[string]bool{"-f": true, "--filename": true, "--from-file": true,
			"--from-env-file": true, "-k": true, "--kustomize": true})
		c.kubectl(ps, cl)
	case "cat", "less", "more", "head", "tail", "vim", "vi", "nano", "view", "source", ".":
		if name == "vim" || name == "vi" || name == "nano" {
			for _, a := range args {
				c.create(a) // an editor makes the file it opens
			}
			return
		}
		if name == "head" || name == "tail" {
			args = nonFlagsSkipping(cl, "-n", "-c")
		}
		for _, a := range args {
			if v := c.resolve(a); v != "" && !c.isRepoPath(a) {
				c.path(ps, cl, a, v)
			}
		}
	}
	if strings.HasPrefix(cl.Args[0], "./") {
		if v := c.resolve(cl.Args[0]); v != "" {
			c.path(ps, cl, cl.Args[0], v)
		}
	}
}

// fileFlags checks the files named by flags (-f FILE, -f=FILE, --from-file=KEY=FILE).
func (c *checker) fileFlags(ps parsedStep, cl call, flags map[string]bool) {
	for i := 1; i < len(cl.Args); i++ {
		w, ok := cl.word(i)
		if !ok {
			continue
		}
		var val string
		if name, v, found := strings.Cut(w, "="); found && flags[name] {
			val = v
		} else if flags[w] {
			v, ok := cl.word(i + 1)
			if !ok {
				continue
			}
			val = v
			i++
		} else {
			continue
		}
		if strings.HasPrefix(w, "--from-file") || strings.HasPrefix(w, "--from-env-file") {
			if _, f, found := strings.Cut(val, "="); found {
				val = f
			}
		}
		if val == "-" || strings.Contains(val, "://") || c.isRepoPath(val) {
			continue // stdin, URLs, and repository paths checked already
		}
		if v := c.resolve(val); v != "" {
			c.path(ps, cl, val, v)
		}
	}
}

func nonFlags(cl call) []string {
	var out []string
	for i := 1; i < len(cl.Args); i++ {
		if w, ok := cl.word(i); ok && !strings.HasPrefix(w, "-") {
			out = append(out, w)
		}
	}
	return out
}

// nonFlagsSkipping is nonFlags, leaving out the values of the flags named.
func nonFlagsSkipping(cl call, valued ...string) []string {
	var out []string
	for i := 1; i < len(cl.Args); i++ {
		w, ok := cl.word(i)
		if ok && slices.Contains(valued, w) {
			i++
			continue
		}
		if ok && !strings.HasPrefix(w, "-") {
			out = append(out, w)
		}
	}
	return out
}

// isRepoPath says whether w names something in the deck's clone, wherever
// the shell is (~/container.training/…).
func (c *checker) isRepoPath(w string) bool {
	if c.o.Repo == nil {
		return false
	}
	root := "~/" + c.o.Repo.Name
	return w == root || strings.HasPrefix(w, root+"/")
}

// resolve turns w into a path of the walk: "~/…" or "/…", or "" when the
// shell's directory is unknown.
func (c *checker) resolve(w string) string {
	switch {
	case w == "~" || strings.HasPrefix(w, "~/"):
		return path.Clean(w)
	case strings.HasPrefix(w, "/"):
		return path.Clean(w)
	case strings.HasPrefix(w, "~"):
		return "" // ~user
	case c.cwd == "":
		return ""
	}
	return path.Join(c.cwd, w)
}

// repoRel is v relative to the clone's root, "" when v is outside it.
func (c *checker) repoRel(v string) string {
	if c.o.Repo == nil {
		return ""
	}
	root := "~/" + c.o.Repo.Name
	if v == root {
		return "."
	}
	if strings.HasPrefix(v, root+"/") {
		return v[len(root)+1:]
	}
	return ""
}

func (c *checker) create(w string) {
	if v := c.resolve(w); v != "" {
		c.created[v] = true
	}
}

// made says whether an earlier step made v or a folder holding it.
func (c *checker) made(v string) bool {
	for p := v; p != "." && p != "/" && p != "~" && p != ""; p = path.Dir(p) {
		if c.created[p] {
			return true
		}
	}
	return false
}

// path reports v (written w) when it is in the repository and missing.
func (c *checker) path(ps parsedStep, cl call, w, v string) {
	rel := c.repoRel(v)
	if rel == "" || c.o.Repo.Exists(rel) || c.made(v) {
		return
	}
	msg := fmt.Sprintf("%s: %s is not in the repository", w, rel)
	if w == rel {
		msg = fmt.Sprintf("%s is not in the repository", rel)
	}
	fix := ""
	if ch, ok := c.o.Repo.Changed(c.ctx, rel); ok {
		msg += "; git: " + ch.String()
		fix = ch.New
	}
	if fix == "" || !c.o.Repo.Exists(fix) {
		fix = c.o.Repo.Closest(rel)
	}
	if fix != "" {
		msg += "; did you mean " + fix + "?"
	}
	c.add(ps, cl, w, "path", parser.SeverityError, msg, fix)
}

// includes checks @@INCLUDE[…] and @@LINK[…] paths of a chapter, relative
// to the repository's root (where markmaker's ../ points).
func (c *checker) includes(file string) {
	if c.o.Repo == nil {
		return
	}
	lines := c.source(file)
	for i, l := range lines {
		for _, tok := range []string{"@@INCLUDE[", "@@LINK["} {
			rest := l
			for {
				j := strings.Index(rest, tok)
				if j < 0 {
					break
				}
				k := strings.IndexByte(rest[j+len(tok):], ']')
				if k < 0 {
					break
				}
				p := rest[j+len(tok) : j+len(tok)+k]
				rest = rest[j+len(tok)+k:]
				if p == "" || c.o.Repo.Exists(p) {
					continue
				}
				sev := parser.SeverityError
				if tok == "@@LINK[" {
					sev = parser.SeverityWarning
				}
				msg := fmt.Sprintf("%s%s]: %s is not in the repository", tok, p, p)
				fix := ""
				if ch, ok := c.o.Repo.Changed(c.ctx, p); ok {
					msg += "; git: " + ch.String()
					fix = ch.New
				}
				if fix == "" || !c.o.Repo.Exists(fix) {
					fix = c.o.Repo.Closest(p)
				}
				if fix != "" {
					msg += "; did you mean " + fix + "?"
				}
				pos := parser.Pos{File: file, Line: i + 1, Col: strings.Index(l, tok+p) + 1}
				c.findings = append(c.findings, Finding{
					Diagnostic: parser.Diagnostic{Pos: pos, Severity: sev, Message: msg, Source: l},
					Check:      "include", Step: pos, Fix: fix})
			}
		}
	}
}

// typo flags a command name that is not installed, not defined by the deck,
// and one or two letters away from a command the deck uses more often.
func (c *checker) typo(ps parsedStep, cl call) {
	w, ok := cl.word(0)
	if !ok || !plainWord(w) || len(w) < 3 || c.installed(w) {
		return
	}
	best, bestCount := "", 0
	for v, n := range c.words {
		if v == w || n <= c.words[w] || !c.installed(v) {
			continue
		}
		limit := 1
		if len(v) >= 6 {
			limit = 2
		}
		if distance(w, v) <= limit && (n > bestCount || n == bestCount && v < best) {
			best, bestCount = v, n
		}
	}
	if best == "" {
		return
	}
	msg := fmt.Sprintf("%s: no such command; did you mean %s (used %d times in this deck)?", w, best, bestCount)
	c.add(ps, cl, w, "typo", parser.SeverityError, msg, best)
}

// installed says whether w runs as a command: a shell builtin or keyword, a
// program on PATH, one of the tools workshop machines install, or a
// function or alias of the deck's own.
func (c *checker) installed(w string) bool {
	if c.builtins[w] || c.defined[w] || workshopTools[w] {
		return true
	}
	v, ok := c.known[w]
	if !ok {
		v = c.o.LookPath(w)
		c.known[w] = v
	}
	return v
}

//go:embed tools.txt
var toolsTxt string

// workshopTools are programs the labs' machines have that a laptop may not;
// a name here is never taken for a typo.
var workshopTools = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(toolsTxt, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			for _, f := range strings.Fields(l) {
				m[f] = true
			}
		}
	}
	return m
}()

// shellBuiltins asks bash for its builtins and keywords.
func shellBuiltins(ctx context.Context) map[string]bool {
	m := map[string]bool{}
	out, err := exec.CommandContext(ctx, "bash", "-c", "compgen -b; compgen -k").Output()
	if err != nil {
		return m
	}
	for _, f := range strings.Fields(string(out)) {
		m[f] = true
	}
	return m
}

// kubectl checks a kubectl command line against the kubectl's own tree.
func (c *checker) kubectl(ps parsedStep, cl call) {
	k := c.o.Kubectl
	if k == nil {
		return
	}
	cmdPath := ""
	subDone := false
	for i := 1; i < len(cl.Args); i++ {
		w, ok := cl.word(i)
		if w == "--" && ok {
			return
		}
		if !ok {
			subDone = true
			continue
		}
		if strings.HasPrefix(w, "-") && len(w) > 1 {
			name, _, hasVal := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if !strings.HasPrefix(w, "--") && len(name) > 1 {
				name = name[:1] // -it, -oyaml: the first shorthand decides
				hasVal = hasVal || len(strings.TrimLeft(w, "-")) > 1
			}
			fs := k.flag(c.ctx, cmdPath, name)
			switch {
			case !fs.Known:
				c.unknownFlag(ps, cl, w, cmdPath, name)
			case fs.Deprecated != "":
				c.add(ps, cl, w, "kubectl-flag", parser.SeverityWarning,
					fmt.Sprintf("%s: deprecated in %s %s: %s", dashes(name), strings.TrimSpace("kubectl "+cmdPath), k.Version(c.ctx), fs.Deprecated), "")
			}
			if fs.TakesValue && !hasVal && fs.Known {
				i++
			}
			continue
		}
		if subDone {
			continue
		}
		child := k.child(c.ctx, cmdPath, w)
		if child == "" {
			if cmdPath == "" {
				c.unknownCommand(ps, cl, w)
				return
			}
			subDone = true
			continue
		}
		cmdPath = child
	}
}

func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func (c *checker) unknownFlag(ps parsedStep, cl call, w, cmdPath, name string) {
	k := c.o.Kubectl
	cmd := strings.TrimSpace("kubectl " + cmdPath)
	msg := fmt.Sprintf("%s: %s %s has no such flag", dashes(name), cmd, k.Version(c.ctx))
	last, asked := k.lastWith(c.ctx, cmdPath, name)
	switch {
	case last != "":
		msg += fmt.Sprintf(" (removed after kubectl %s)", last)
	case len(asked) > 0:
		msg += fmt.Sprintf(" (not in kubectl %s either)", strings.Join(asked, ", "))
	}
	c.add(ps, cl, w, "kubectl-flag", parser.SeverityError, msg, "")
}

func (c *checker) unknownCommand(ps parsedStep, cl call, w string) {
	k := c.o.Kubectl
	k.mu.Lock()
	sugg := k.data.Unknown[w]
	k.mu.Unlock()
	if sugg == "" {
		return // a plugin (kubectl-NAME), which this machine may not have
	}
	c.add(ps, cl, w, "kubectl-command", parser.SeverityError,
		fmt.Sprintf("kubectl %s: kubectl %s has no such command; did you mean kubectl %s?", w, k.Version(c.ctx), sugg), sugg)
}

// add records a finding at the source line of the call, the column of tok.
func (c *checker) add(ps parsedStep, cl call, tok, check string, sev parser.Severity, msg, fix string) {
	lines := c.source(ps.step.Pos.File)
	line := ps.lines + cl.Line
	pos := parser.Pos{File: ps.step.Pos.File, Line: line}
	// Included text or a directive may sit elsewhere: find the token nearby.
	for _, d := range []int{0, 1, -1, 2, -2, 3} {
		n := line + d
		if n >= 1 && n <= len(lines) && strings.Contains(lines[n-1], tok) {
			pos.Line, pos.Col = n, strings.Index(lines[n-1], tok)+1
			break
		}
	}
	d := parser.Diagnostic{Pos: pos, Severity: sev, Message: msg}
	if pos.Line >= 1 && pos.Line <= len(lines) {
		d.Source = lines[pos.Line-1]
	}
	for _, f := range c.findings {
		if f.Pos == d.Pos && f.Message == d.Message {
			return
		}
	}
	c.findings = append(c.findings, Finding{Diagnostic: d, Check: check, Step: ps.step.Pos, Fix: fix})
}

func (c *checker) source(file string) []string {
	if l, ok := c.sources[file]; ok {
		return l
	}
	b, err := c.o.Read(file)
	var lines []string
	if err == nil {
		lines = strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	}
	c.sources[file] = lines
	return lines
}

// Diagnostics are the findings as lint prints them.
func Diagnostics(fs []Finding) []parser.Diagnostic {
	out := make([]parser.Diagnostic, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Diagnostic)
	}
	return out
}
