package content

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// Facts are what a hint may use besides the run's history: what Check found
// before the run, the deck (to find steps that did not run), and the
// machine (which programs are installed).
type Facts struct {
	Findings []Finding
	Deck     *parser.Deck
	Repo     *Repo
	// Installed says whether a program is on the lab shell's PATH (nil: no
	// program counts as installed).
	Installed func(string) bool
}

// Hint names the probable cause of a failed step, and the place to fix it,
// in one line; "" when no known cause fits. It is a pure function of the
// steps run before (history, in order), the failed step, and facts.
func Hint(history []report.StepResult, failed report.StepResult, f Facts) string {
	if !failed.Status.Bad() {
		return ""
	}
	if failed.Kind == string(parser.KindWait) || failed.Kind == string(parser.KindLongwait) {
		// A wait printed nothing; its screen still shows earlier steps' errors.
		if h := hintFinding(history, failed, "", f); h != "" {
			return h
		}
		return hintWait(history, failed, "", f)
	}
	// What the step printed; when that was not captured, the screen from
	// where its command was typed (above that, earlier steps' errors).
	out := failed.Actual
	if strings.TrimSpace(out) == "" {
		out = screenSince(failed.Screen, failed.Command)
	}
	for _, rule := range hintRules {
		if h := rule(history, failed, out, f); h != "" {
			return h
		}
	}
	return ""
}

var hintRules = []func(history []report.StepResult, failed report.StepResult, out string, f Facts) string{
	hintFinding,
	hintNotFoundCommand,
	hintAlreadyExists,
	hintNotFound,
	hintImage,
	hintMissingPath,
	hintFlag,
	hintWait,
}

// screenSince is the part of screen after the last line showing the
// command's first line; "" when the command is not on it.
func screenSince(screen, command string) string {
	first := strings.TrimSpace(strings.SplitN(command, "\n", 2)[0])
	if first == "" {
		return ""
	}
	lines := strings.Split(screen, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], first) {
			return strings.Join(lines[i+1:], "\n")
		}
	}
	return ""
}

func at(file string, line int) string { return fmt.Sprintf("%s:%d", file, line) }

// hintFinding: the step has a problem Check found before the run.
func hintFinding(_ []report.StepResult, failed report.StepResult, _ string, f Facts) string {
	for _, fd := range f.Findings {
		if fd.Step.File == failed.File && fd.Step.Line == failed.Line && fd.Severity == parser.SeverityError {
			return fmt.Sprintf("%s (fix at %s)", fd.Message, at(fd.Pos.File, fd.Pos.Line))
		}
	}
	return ""
}

var notFoundCmd = regexp.MustCompile(`(?m)(?:^|: )([^\s:]+): command not found`)

// hintNotFoundCommand: bash could not find a program.
func hintNotFoundCommand(history []report.StepResult, failed report.StepResult, out string, f Facts) string {
	m := notFoundCmd.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	name := m[1]
	best, bestN := "", 0
	for w, n := range commandWords(history, f.Deck) {
		if w == name || n <= bestN || (f.Installed != nil && !f.Installed(w) && !workshopTools[w]) {
			continue
		}
		limit := 1
		if len(w) >= 6 {
			limit = 2
		}
		if distance(w, name) <= limit {
			best, bestN = w, n
		}
	}
	if best != "" {
		return fmt.Sprintf("%s is a typo of %s (fix at %s)", name, best, at(failed.File, failed.Line))
	}
	return fmt.Sprintf("%s is not installed on this machine (the step at %s needs it)", name, at(failed.File, failed.Line))
}

// commandWords counts the first words of the deck's commands (or, without
// a deck, of the commands run so far).
func commandWords(history []report.StepResult, deck *parser.Deck) map[string]int {
	words := map[string]int{}
	count := func(text string) {
		bi, ok := parseBlock(text)
		if !ok {
			return
		}
		for _, cl := range bi.calls {
			if w, ok := cl.word(0); ok && plainWord(w) {
				words[w]++
			}
		}
	}
	if deck != nil {
		for _, ch := range deck.Chapters {
			for _, sl := range ch.Slides {
				for _, lab := range sl.Labs {
					for _, st := range lab.Steps {
						if st.Kind == parser.KindCommand {
							count(st.Text)
						}
					}
				}
			}
		}
		return words
	}
	for _, h := range history {
		if h.Kind == string(parser.KindCommand) {
			count(h.Command)
		}
	}
	return words
}

var (
	alreadyExists = regexp.MustCompile(`([\w.-]+) "([^"]+)" already exists`)
	notFound      = regexp.MustCompile(`\(NotFound\):\s*([\w.-]+) "([^"]+)" not found`)
	createdLine   = regexp.MustCompile(`(?m)^([\w.-]+)/([\w.-]+) created\b`)
)

// singular turns a resource as kubectl names it in errors (deployments.apps)
// and in output (deployment.apps) into one form: "deployment".
func singular(kind string) string {
	kind = strings.ToLower(strings.SplitN(kind, ".", 2)[0])
	switch {
	case strings.HasSuffix(kind, "ies"):
		return strings.TrimSuffix(kind, "ies") + "y"
	case strings.HasSuffix(kind, "sses"), strings.HasSuffix(kind, "ches"):
		return strings.TrimSuffix(kind, "es")
	case strings.HasSuffix(kind, "s") && !strings.HasSuffix(kind, "ss"):
		return strings.TrimSuffix(kind, "s")
	}
	return kind
}

// creates says whether step r made the object kind/name: its output says
// so (deployment.apps/blue created), or its command is `kubectl create KIND
// NAME`, `kubectl run NAME` (a pod) or `kubectl expose … NAME` (a service).
func creates(r report.StepResult, kind, name string) bool {
	for _, m := range createdLine.FindAllStringSubmatch(r.Actual, -1) {
		if singular(m[1]) == kind && m[2] == name {
			return true
		}
	}
	return commandCreates(r.Command, kind, name)
}

func commandCreates(text, kind, name string) bool {
	bi, ok := parseBlock(text)
	if !ok {
		return false
	}
	for _, cl := range bi.calls {
		if w, _ := cl.word(0); w != "kubectl" {
			continue
		}
		args := nonFlagsSkipping(cl, "-n", "--namespace", "--image", "-o", "--output", "-l", "--selector", "--port", "-f", "--filename")
		switch {
		case len(args) >= 3 && args[0] == "create" && singular(args[1]) == kind && args[2] == name:
			return true
		case len(args) >= 4 && args[0] == "create" && singular(args[1]) == kind && args[3] == name:
			return true // create secret generic NAME, create service clusterip NAME
		case len(args) >= 2 && args[0] == "run" && kind == "pod" && args[1] == name:
			return true
		case len(args) >= 2 && args[0] == "expose" && kind == "service" && exposedName(cl, args) == name:
			return true
		}
	}
	return false
}

// exposedName is the service `kubectl expose` makes: --name, else the
// object's name (deployment/web, or deployment web).
func exposedName(cl call, args []string) string {
	for i := 1; i < len(cl.Args); i++ {
		w, _ := cl.word(i)
		if v, ok := strings.CutPrefix(w, "--name="); ok {
			return v
		}
		if w == "--name" {
			v, _ := cl.word(i + 1)
			return v
		}
	}
	if _, n, ok := strings.Cut(args[1], "/"); ok {
		return n
	}
	if len(args) >= 3 {
		return args[2]
	}
	return ""
}

// hintAlreadyExists: an earlier step made the object this one creates.
func hintAlreadyExists(history []report.StepResult, failed report.StepResult, out string, _ Facts) string {
	m := alreadyExists.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	kind, name := singular(m[1]), m[2]
	for i := len(history) - 1; i >= 0; i-- {
		if creates(history[i], kind, name) {
			return fmt.Sprintf("%s %q was already created at %s; delete it before %s, or give one of them another name",
				kind, name, at(history[i].File, history[i].Line), at(failed.File, failed.Line))
		}
	}
	return fmt.Sprintf("%s %q existed before %s, but no earlier step of this run created it: the cluster was not fresh, or a step left out by the selection made it", kind, name, at(failed.File, failed.Line))
}

// hintNotFound: the object was to be made by a step that failed, was
// skipped or did not run.
func hintNotFound(history []report.StepResult, failed report.StepResult, out string, f Facts) string {
	m := notFound.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	kind, name := singular(m[1]), m[2]
	ran := map[string]bool{}
	for i := len(history) - 1; i >= 0; i-- {
		h := history[i]
		ran[at(h.File, h.Line)] = true
		if !creates(h, kind, name) && !(h.Status != report.Passed && mentions(h.Command, name)) {
			continue
		}
		if h.Status == report.Passed {
			return "" // made, then gone: no simple cause
		}
		return fmt.Sprintf("%s %q should have been created at %s, which %s", kind, name, at(h.File, h.Line), statusWord(h.Status))
	}
	if f.Deck != nil {
		for _, ch := range f.Deck.Chapters {
			for _, sl := range ch.Slides {
				for _, lab := range sl.Labs {
					for _, st := range lab.Steps {
						if st.Kind == parser.KindCommand && !ran[at(st.Pos.File, st.Pos.Line)] && commandCreates(st.Text, kind, name) {
							return fmt.Sprintf("%s %q is created at %s, which this run did not replay before %s", kind, name, at(st.Pos.File, st.Pos.Line), at(failed.File, failed.Line))
						}
					}
				}
			}
		}
	}
	return ""
}

func statusWord(s report.Status) string {
	switch s {
	case report.Skipped:
		return "was skipped"
	case report.NotVerified:
		return "was not run"
	case report.Interrupted:
		return "was interrupted"
	}
	return string(s)
}

// mentions says whether name is a word of text.
func mentions(text, name string) bool {
	return regexp.MustCompile(`(^|[\s/=])` + regexp.QuoteMeta(name) + `($|[\s])`).MatchString(text)
}

var (
	imageErr  = regexp.MustCompile(`\b(ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull)\b`)
	imageName = regexp.MustCompile(`(?:image|Image:?)\s+"?([\w./:@-]+)"?`)
)

// hintImage: a pod could not start because the cluster cannot pull its image.
func hintImage(history []report.StepResult, failed report.StepResult, out string, _ Facts) string {
	m := imageErr.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	img := ""
	if n := imageName.FindStringSubmatch(out); n != nil {
		img = n[1]
	}
	if img != "" {
		for _, h := range append(history, failed) {
			if strings.Contains(h.Command, img) {
				return fmt.Sprintf("the cluster cannot pull image %q (%s); it is named at %s", img, m[1], at(h.File, h.Line))
			}
		}
		return fmt.Sprintf("the cluster cannot pull image %q (%s)", img, m[1])
	}
	return fmt.Sprintf("a pod's image cannot be pulled (%s): check the image names of the steps before %s", m[1], at(failed.File, failed.Line))
}

var missingPath = regexp.MustCompile(`the path "([^"]+)" does not exist|([^\s:'"]+): No such file or directory`)

// hintMissingPath: a file the step reads is not there; in the repository,
// say what it became.
func hintMissingPath(_ []report.StepResult, failed report.StepResult, out string, f Facts) string {
	m := missingPath.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	p := m[1] + m[2]
	if f.Repo != nil {
		marker := "/" + f.Repo.Name + "/"
		if i := strings.Index(p, marker); i >= 0 {
			rel := path.Clean(p[i+len(marker):])
			msg := fmt.Sprintf("%s is not in the repository", rel)
			if c := f.Repo.Closest(rel); c != "" {
				msg += "; did you mean " + c + "?"
			}
			return fmt.Sprintf("%s (fix at %s)", msg, at(failed.File, failed.Line))
		}
	}
	return fmt.Sprintf("%s does not exist when %s runs: an earlier step should make it, or the path is wrong", p, at(failed.File, failed.Line))
}

var unknownFlag = regexp.MustCompile(`unknown (?:shorthand )?flag:? ('?-*[\w-]+'?)`)

// hintFlag: kubectl (or another cobra program) rejected a flag.
func hintFlag(_ []report.StepResult, failed report.StepResult, out string, _ Facts) string {
	m := unknownFlag.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("this kubectl has no flag %s: it was removed or misspelt (fix at %s)", strings.Trim(m[1], "'"), at(failed.File, failed.Line))
}

// hintWait: the command ran, but the text waited for never showed.
func hintWait(history []report.StepResult, failed report.StepResult, _ string, _ Facts) string {
	if failed.Kind != string(parser.KindWait) && failed.Kind != string(parser.KindLongwait) {
		return ""
	}
	var cmd *report.StepResult
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Kind == string(parser.KindCommand) {
			cmd = &history[i]
			break
		}
	}
	if cmd == nil || cmd.Status.Bad() {
		return ""
	}
	var last []string
	lines := strings.Split(strings.TrimRight(failed.Screen, "\n "), "\n")
	for i := len(lines) - 1; i >= 0 && len(last) < 3; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			last = append([]string{l}, last...)
		}
	}
	return fmt.Sprintf("%q never showed although %s ran; it printed last: %s (fix the wait at %s or the command)",
		failed.Command, at(cmd.File, cmd.Line), strings.Join(last, " | "), at(failed.File, failed.Line))
}

// Hinter keeps a run's history for Hint. The executor gives it each step's
// final result; its methods are safe on a nil *Hinter (no hints).
type Hinter struct {
	facts   Facts
	mu      sync.Mutex
	history []report.StepResult
}

// NewHinter starts a run's history.
func NewHinter(f Facts) *Hinter { return &Hinter{facts: f} }

// Explain sets res.Hint when res failed and a known cause fits, and adds res
// to the history.
func (h *Hinter) Explain(res *report.StepResult) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if res.Hint == "" {
		res.Hint = Hint(h.history, *res, h.facts)
	}
	h.history = append(h.history, *res)
}
