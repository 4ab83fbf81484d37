package executor

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/labrun/labrun/executor/match"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
	"github.com/labrun/labrun/tmux"
)

// What a careful attendee does where typing the slide's keystrokes
// literally would not work: second terminals for commands that do not
// return, editing by hand, keys with nothing to act on, interactive
// programs that did not start, and one cause named for the failures that
// follow from it.

// terminal is a terminal of its own opened for a command that does not
// return by itself.
type terminal struct {
	pane    *tmux.Pane
	line    string
	step    int  // the index of the step (and its result) in the lab
	stopped bool // a key directive already sent it ^C
}

// program is an interactive program a command started for the keys that
// follow it.
type program struct {
	pos      parser.Pos
	line     string
	fed      bool // keys went to it while it ran: it did start
	reported bool // its not starting was reported on a step already
	// inside says the commands that follow are typed into it, as a person
	// does in a shell in a pod (run -it, exec -it with no keys after it);
	// prompt is its prompt line as it showed once started, and pane where.
	inside bool
	prompt string
	pane   *tmux.Pane
}

// closeGrace bounds what is done to a terminal at the end of a lab;
// lookQuiet is how long its screen must stay still for a last look (watch
// refreshes every 2 s).
const (
	glance     = 3 * time.Second // the longest look at a terminal just opened
	closeGrace = 15 * time.Second
	lookQuiet  = 1500 * time.Millisecond
)

func countEndless(lines []string) int {
	n := 0
	for _, l := range lines {
		if parser.NeverReturns(l) {
			n++
		}
	}
	return n
}

// inTerminals runs a block holding commands that do not return: each of
// those in a terminal opened for it, the other lines in order in pane p.
// The step's result is held until the lab ends and its terminals close.
func (st *labState) inTerminals(ctx context.Context, i int, p *tmux.Pane, lines []string, wait bool, res *report.StepResult) {
	var opened []*terminal
	var names []string
	for _, line := range lines {
		if !parser.NeverReturns(line) {
			out, err := p.Run(ctx, line)
			res.ExitStatuses = append(res.ExitStatuses, out.Statuses...)
			if err != nil {
				st.failErr(ctx, p, res, err)
				return
			}
			for _, s := range out.Statuses {
				if s != 0 {
					res.Actual = out.Output
					st.fail(res, "%q exited with status %d", strings.TrimSpace(line), s)
					return
				}
			}
			continue
		}
		tp, err := st.r.mux.Terminal(ctx, p)
		if err != nil {
			st.fail(res, "%v", err)
			return
		}
		t := &terminal{pane: tp, line: strings.TrimSpace(line), step: i}
		st.terms = append(st.terms, t)
		opened = append(opened, t)
		names = append(names, tp.Name())
		if err := tp.Start(ctx, line); err != nil {
			st.fail(res, "%s: %v", tp.Name(), err)
			return
		}
		// Look at it once it has drawn, as a person does before going on;
		// what it shows is judged when the lab ends.
		wctx, cancel := context.WithTimeout(ctx, min(st.r.opts.Timeout/4, glance))
		if tp.WaitOutput(wctx) == nil {
			tp.Settle(wctx, settleQuiet)
		}
		cancel()
		if ctx.Err() != nil {
			st.fail(res, "%s: %v", tp.Name(), ctx.Err())
			return
		}
	}
	res.Reason = fmt.Sprintf("runs in %s until the end of the lab", strings.Join(names, ", "))
	if wait {
		st.waitOn = opened
	}
}

// waitTerminals is a wait right after a block run in terminals: the text
// must show on each of them.
func (st *labState) waitTerminals(ctx context.Context, terms []*terminal, step parser.Step, res *report.StepResult) {
	for _, t := range terms {
		shown, err := t.pane.WaitTextOrPrompt(ctx, step.Text)
		if err == nil && !shown {
			out, _ := t.pane.WaitPrompt(ctx)
			if n := len(out.Statuses); n > 0 && out.Statuses[n-1] != 0 {
				res.ExitStatuses, res.Actual = out.Statuses, out.Output
				st.failOn(t.pane, res, "%s: %q exited with status %d before %q showed", t.pane.Name(), t.line, out.Statuses[n-1], step.Text)
				return
			}
			if t.pane.Alone() && !strings.Contains(t.pane.Screen(), step.Text) {
				st.failOn(t.pane, res, "%s: %q finished without %q showing", t.pane.Name(), t.line, step.Text)
				return
			}
			err = t.pane.WaitText(ctx, step.Text)
		}
		if err != nil {
			st.failOn(t.pane, res, "%q did not show on %s (%s) within %s", step.Text, t.pane.Name(), t.line, st.timeout(step))
			return
		}
	}
}

// failOn is fail with another pane's screen attached.
func (st *labState) failOn(p *tmux.Pane, res *report.StepResult, format string, args ...any) {
	st.fail(res, format, args...)
	res.Screen = p.Screen()
}

// closeTerminals ends the lab's terminals the way a person does (^C, then
// close the window) and adds what they showed to the results of the steps
// that opened them: an error printed there, or a command that ended by
// itself with a failure, fails that step.
func (st *labState) closeTerminals(ctx context.Context, results []report.StepResult) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
	defer cancel()
	for _, t := range st.terms {
		res := &results[t.step]
		if t.pane.Busy() && !t.stopped {
			// One last look, once the screen stops moving (a watch between
			// two refreshes).
			sctx, scancel := context.WithTimeout(cctx, 5*time.Second)
			t.pane.Settle(sctx, lookQuiet)
			scancel()
		}
		screen := t.pane.Screen()
		ended := !t.pane.Busy() && !t.stopped
		if t.pane.Busy() {
			t.pane.Key(cctx, "^C")
		}
		wctx, wcancel := context.WithTimeout(cctx, 3*time.Second)
		out, _ := t.pane.WaitPrompt(wctx) // Kill below ends what ^C did not
		wcancel()
		res.Actual += fmt.Sprintf("── %s: %s\n%s\n", t.pane.Name(), t.line, screen)
		if res.Status == report.Passed {
			n := len(out.Statuses)
			switch {
			case ended && n > 0 && out.Statuses[n-1] != 0:
				res.ExitStatuses = append(res.ExitStatuses, out.Statuses[n-1])
				res.Status, res.Screen = report.Failed, screen
				res.Reason = fmt.Sprintf("%q in %s exited with status %d", t.line, t.pane.Name(), out.Statuses[n-1])
			case !showsOthers.MatchString(t.line) && lastingError(t.line, screen) != "":
				res.Status, res.Screen = report.Failed, screen
				res.Reason = fmt.Sprintf("%s shows an error: %s", t.pane.Name(), lastingError(t.line, screen))
			}
		}
		if err := st.r.mux.Kill(cctx, t.pane); err != nil {
			st.r.notes = append(st.r.notes, fmt.Sprintf("closing %s: %v", t.pane.Name(), err))
		}
	}
	st.terms, st.waitOn = nil, nil
}

// lastingError is the error a terminal's screen shows. For a loop that
// repeats a request (while sleep 1; do curl …; done) it is only an error
// that the loop's last lines still show: one followed by recoveredAfter
// good answers is the "short interruption" the slides tell of while a pod
// is replaced, which a person sees pass.
func lastingError(line, screen string) string {
	if !loop.MatchString(line) {
		return match.ErrorLine(screen)
	}
	good := 0
	lines := strings.Split(strings.TrimRight(screen, " \n"), "\n")
	for k := len(lines) - 1; k >= 0 && good < recoveredAfter; k-- {
		if e := match.ErrorLine(lines[k]); e != "" {
			return e
		}
		if strings.TrimSpace(lines[k]) != "" {
			good++
		}
	}
	return ""
}

// recoveredAfter is how many good lines after an error show a loop
// recovered from it.
const recoveredAfter = 3

var loop = regexp.MustCompile(`^\s*while\s`)

// showsOthers matches commands whose screen shows what other programs
// print (an application's logs): an error there is the application's, and
// only the command's own status counts.
var showsOthers = regexp.MustCompile(`\b(logs|tail|stern|attach)\b`)

// manual opens an editor the slide leaves to the person (no keys after
// it), leaves it without saving, and reports the step as manual.
func (st *labState) manual(ctx context.Context, p *tmux.Pane, lines []string, res *report.StepResult) {
	if len(lines) > 1 {
		out, err := p.Run(ctx, strings.Join(lines[:len(lines)-1], "\n"))
		res.ExitStatuses = out.Statuses
		if err != nil {
			st.failErr(ctx, p, res, err)
			return
		}
	}
	ed := strings.TrimSpace(lines[len(lines)-1])
	if err := p.Start(ctx, ed); err != nil {
		st.failErr(ctx, p, res, err)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, st.r.opts.Timeout/2)
	out, _, err := p.WaitInteractive(wctx, settleQuiet)
	cancel()
	if err != nil && ctx.Err() != nil {
		st.failErr(ctx, p, res, err)
		return
	}
	if !p.Busy() {
		// It did not stay open: kubectl edit of something missing, say.
		res.ExitStatuses = append(res.ExitStatuses, out.Statuses...)
		res.Actual = out.Output
		if n := len(out.Statuses); n > 0 && out.Statuses[n-1] != 0 {
			st.fail(res, "%q exited with status %d instead of opening an editor", ed, out.Statuses[n-1])
			return
		}
	} else if err := quitEditor(ctx, p, ed); err != nil {
		st.recoverPane(ctx, p)
	}
	res.Status = report.Manual
	res.Reason = fmt.Sprintf("editing by hand: the slide leaves this edit to the person; labrun opened %q and left it without saving (key or keys directives after the command would automate it)", ed)
}

// quitEditor leaves the editor without saving and waits for the prompt.
func quitEditor(ctx context.Context, p *tmux.Pane, line string) error {
	var keys []string
	switch f := strings.Fields(strings.TrimPrefix(line, "sudo ")); f[0] {
	case "nano", "pico", "mcedit":
		keys = []string{"^X", "n"}
	case "emacs", "joe":
		keys = []string{"^X", "^C", "y"}
	default: // vi, vim, and kubectl edit's default editor
		keys = []string{"Escape", ":", "q", "!", "Enter"}
	}
	for _, k := range keys {
		if !p.Busy() {
			break
		}
		if err := p.Key(ctx, k); err != nil {
			return err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := p.WaitPrompt(wctx)
	return err
}

// startProgram waits for the interactive program a command started for
// the keys after it: until it reads the terminal key by key, or is back at
// the prompt (it did not start). One still starting after half the step's
// time that printed a warning (kubectl's "couldn't attach … falling back to
// streaming logs") did not start either; otherwise the keys are typed.
func (st *labState) startProgram(ctx context.Context, p *tmux.Pane, pos parser.Pos, line string, res *report.StepResult) {
	st.program = &program{pos: pos, line: strings.TrimSpace(line)}
	wctx, cancel := context.WithTimeout(ctx, st.r.opts.Timeout/2)
	out, started, err := p.WaitInteractive(wctx, settleQuiet)
	cancel()
	res.ExitStatuses = out.Statuses
	switch {
	case err != nil && ctx.Err() == nil && wctx.Err() != nil:
		if firstMatching(out.Output, warningLine) != "" {
			st.notStarted(p, out, res)
			st.recoverPane(ctx, p)
		}
	case err != nil:
		st.failErr(ctx, p, res, err)
	case !started:
		st.notStarted(p, out, res)
	}
}

// notStarted fails a command whose interactive program came back to the
// prompt at once: the keys after it must not go to the lab's shell.
func (st *labState) notStarted(p *tmux.Pane, out tmux.Result, res *report.StepResult) {
	res.Actual = out.Output
	status := "no status"
	if n := len(out.Statuses); n > 0 {
		status = fmt.Sprintf("status %d", out.Statuses[n-1])
	}
	why := ""
	if l := firstMatching(out.Output, warningLine); l != "" {
		why = ": " + l
	}
	st.fail(res, "the interactive program did not start: %q came back to the prompt (%s)%s; the keys meant for it are not typed", st.program.line, status, why)
	st.program.reported = true
	st.lose(fmt.Sprintf("after the interactive program of %s:%d did not start", st.program.pos.File, st.program.pos.Line))
}

// programEnded looks, before keys are typed, at the interactive program
// they are meant for: one that never ran fails the step (programGone); one
// that ran and has ended leaves the keys to the shell.
func (st *labState) programEnded(p *tmux.Pane, res *report.StepResult) bool {
	if st.program == nil || p.Busy() {
		return false
	}
	if st.program.fed {
		st.program = nil
		return false
	}
	st.programGone(p, res)
	return true
}

// programGone handles a key, keys or wait step meant for an interactive
// program that is not running: the first such step fails, the next ones
// are not verified; nothing is typed into the lab's shell.
func (st *labState) programGone(p *tmux.Pane, res *report.StepResult) {
	pr := st.program
	if !pr.reported {
		pr.reported = true
		st.fail(res, "%q (%s:%d) is not running: it came back to the prompt, and what the slide meant for it is not typed into the lab's shell", pr.line, pr.pos.File, pr.pos.Line)
		st.lose(fmt.Sprintf("after the interactive program of %s:%d did not start", pr.pos.File, pr.pos.Line))
		return
	}
	res.Status = report.NotVerified
	res.Reason = fmt.Sprintf("not typed: it was meant for %q, which is not running", pr.line)
	res.Cause = fmt.Sprintf("after the interactive program of %s:%d did not start", pr.pos.File, pr.pos.Line)
}

var warningLine = regexp.MustCompile(`(?i)^(warning|error)\b.*`)

func firstMatching(text string, re *regexp.Regexp) string {
	for _, l := range strings.Split(text, "\n") {
		if m := re.FindString(strings.TrimSpace(l)); m != "" {
			return m
		}
	}
	return ""
}

// endsSomething says whether a key is written to end a running program:
// ^C interrupts it, ^D ends its input (or the shell, at an empty prompt).
func endsSomething(name string) bool {
	switch strings.ToLower(name) {
	case "^c", "c-c", "^d", "c-d":
		return true
	}
	return false
}

// idleKey handles ^C or ^D meant to end something when the active pane sits
// idle at its prompt. A ^C goes to the commands still running in the lab's
// terminals, where a person would press it; otherwise the key has nothing
// to act on and is not sent (^D would close the pane, which a person's
// terminal does not do here). It passes, with the reason: nothing that
// could be verified was left out.
func (st *labState) idleKey(ctx context.Context, p *tmux.Pane, name string, res *report.StepResult) {
	if n := strings.ToLower(name); n == "^c" || n == "c-c" {
		var sent []string
		for _, t := range st.terms {
			if t.stopped || !t.pane.Busy() {
				continue
			}
			if err := t.pane.Key(ctx, name); err != nil {
				st.fail(res, "%s: %v", t.pane.Name(), err)
				return
			}
			t.stopped = true
			sent = append(sent, t.pane.Name())
		}
		if len(sent) > 0 {
			res.Reason = fmt.Sprintf("%s went to %s, where the commands run (%s sits idle at its prompt)", name, strings.Join(sent, ", "), p.Name())
			return
		}
	}
	res.Reason = fmt.Sprintf("nothing to act on: %s sits idle at its prompt, so %s was not sent", p.Name(), name)
}

// assignment finds the shell variables a command sets.
var (
	assignment = regexp.MustCompile(`(?m)(?:^|[;&|(]\s*|\bexport\s+)([A-Za-z_][A-Za-z0-9_]*)=`)
	reference  = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
)

// noteLoss keeps track of what later steps depend on, after a step ran:
// variables a failed step should have set, a shell that died. A failed
// step whose failure follows from an earlier one says so in Cause.
func (st *labState) noteLoss(step parser.Step, res *report.StepResult) {
	if (res.Status == report.Failed || res.Status == report.Error) && res.Cause == "" {
		res.Cause = st.causeFor(step)
	}
	if step.Kind == parser.KindCommand || step.Kind == parser.KindHide {
		for _, m := range assignment.FindAllStringSubmatch(step.Text, -1) {
			if res.Status == report.Failed || res.Status == report.Error {
				st.r.unset[m[1]] = fmt.Sprintf("after $%s was not set at %s:%d", m[1], step.Pos.File, step.Pos.Line)
			} else {
				delete(st.r.unset, m[1])
			}
		}
	}
	if step.Kind == parser.KindCommand && res.Status == report.Passed {
		if name := createdName(res.Command); name != "" {
			st.r.created = name
		}
	}
	if p := st.r.mux.Active(); !p.Alive() {
		st.lose(fmt.Sprintf("after pane %d's shell exited at %s:%d", p.Index(), step.Pos.File, step.Pos.Line))
	}
}

// lose records an event that loses state later steps may need.
func (st *labState) lose(cause string) {
	st.r.lost, st.lostHere = cause, true
}

// causeFor names the earlier event a failure of step follows from: a
// variable it uses that a failed step should have set, or a lost shell
// or program (in the same lab, or later when the step uses a variable
// of the lost shell's).
func (st *labState) causeFor(step parser.Step) string {
	refs := reference.FindAllStringSubmatch(step.Text, -1)
	for _, m := range refs {
		if c, ok := st.r.unset[m[1]]; ok {
			return c
		}
	}
	if st.r.lost == "" {
		return ""
	}
	if st.lostHere {
		return st.r.lost
	}
	set := map[string]bool{}
	for _, m := range assignment.FindAllStringSubmatch(step.Text, -1) {
		set[m[1]] = true
	}
	for _, m := range refs {
		if !set[m[1]] && !envVar[m[1]] {
			return st.r.lost
		}
	}
	return ""
}

// envVar are variables every shell has, not the lab's own.
var envVar = map[string]bool{"HOME": true, "PATH": true, "USER": true, "PWD": true, "SHELL": true,
	"TERM": true, "KUBECONFIG": true, "HOSTNAME": true, "RANDOM": true, "LANG": true}

// enterProgram starts a command whose interactive program (a shell in a
// pod) is meant for the commands after it, with no keys in between: once
// it reads the terminal, those commands are typed into it.
func (st *labState) enterProgram(ctx context.Context, p *tmux.Pane, step parser.Step, text, last string, res *report.StepResult) {
	if err := p.Start(ctx, text); err != nil {
		st.failErr(ctx, p, res, err)
		return
	}
	st.startProgram(ctx, p, step.Pos, last, res)
	pr := st.program
	pr.inside, pr.pane = true, p
	if res.Status != report.Passed || !p.Busy() {
		return
	}
	pr.fed = true
	// Its prompt is the first line after the command's that is not
	// kubectl's hint. kubectl run -it attaches after the shell drew it, and
	// says so ("try pressing enter"): a person presses Enter to see it.
	typed := strings.TrimSpace(last)
	notPrompt := func(l string) bool {
		return l == "" || strings.HasSuffix(l, typed) || strings.Contains(l, "try pressing enter")
	}
	wctx, cancel := context.WithTimeout(ctx, st.r.opts.Timeout/4)
	p.WaitScreen(wctx, func(screen, _ string) bool { return !notPrompt(cursorLine(screen)) })
	cancel()
	if notPrompt(cursorLine(p.Screen())) {
		if err := p.Key(ctx, "Enter"); err == nil {
			wctx, cancel := context.WithTimeout(ctx, st.r.opts.Timeout/4)
			p.WaitScreen(wctx, func(screen, _ string) bool { return !notPrompt(cursorLine(screen)) })
			cancel()
		}
	}
	p.Settle(ctx, settleQuiet)
	if prompt := cursorLine(p.Screen()); notPrompt(prompt) {
		st.fail(res, "%q started but showed no prompt to type into (its screen ends with %q)", pr.line, prompt)
		pr.fed, pr.reported = false, true
		st.lose(fmt.Sprintf("after %q (%s:%d) showed no prompt", pr.line, pr.pos.File, pr.pos.Line))
		return
	}
	pr.prompt = cursorLine(p.Screen())
	res.Reason = fmt.Sprintf("%q runs in the foreground (prompt %q): the commands after it are typed into it", pr.line, pr.prompt)
}

// oneShot replays a kubectl run -it, exec -it or debug -it whose command
// runs and ends in the pod (curl URL, sleep 5) rather than waiting for
// commands: a person sees its output, kubectl deleting a --rm pod, and the
// prompt back, and judges it as any command, by its status and output. One
// that turns out to wait at a prompt of its own (psql, redis-cli) is
// entered as a shell is.
func (st *labState) oneShot(ctx context.Context, i int, p *tmux.Pane, step parser.Step, text, last string, res *report.StepResult) {
	if err := p.Start(ctx, text); err != nil {
		st.failErr(ctx, p, res, err)
		return
	}
	var all tmux.Result
	add := func(r tmux.Result) {
		all.Statuses = append(all.Statuses, r.Statuses...)
		all.Output += r.Output
	}
	var err error
	for {
		out, started, werr := p.WaitInteractive(ctx, settleQuiet)
		add(out)
		if err = werr; err != nil || !started {
			break
		}
		// Attached and quiet: at a prompt of its own, or still at work
		// (or not started yet: a pod's process can take a while).
		screen := p.Screen()
		if line := cursorLine(screen); promptLike(line) {
			pr := &program{pos: step.Pos, line: strings.TrimSpace(last), inside: true, pane: p, fed: true, prompt: line}
			st.program = pr
			res.Reason = fmt.Sprintf("%q runs in the foreground (prompt %q): the commands after it are typed into it", pr.line, pr.prompt)
			return
		}
		if err = p.WaitScreen(ctx, func(s, _ string) bool { return s != screen || !p.Busy() }); err != nil {
			break
		}
	}
	res.ExitStatuses, res.Actual = all.Statuses, all.Output
	if err != nil {
		st.failErr(ctx, p, res, err)
		return
	}
	st.verdict(i, all, res)
	if res.Status == report.Passed && res.Reason == "" {
		res.Reason = fmt.Sprintf("%q ran its command in the pod and came back to the prompt", strings.TrimSpace(last))
	}
}

// promptLike says whether the line a quiet program left the cursor on ends
// as a prompt does ("$", "#", ">", "%", "=#", ">>>"), not as output.
func promptLike(line string) bool {
	line = strings.TrimSpace(line)
	return line != "" && strings.ContainsAny(line[len(line)-1:], "$#>%")
}

// typedIntoProgram says whether a step is a command that goes into the
// program still in the foreground (a shell in a pod), not to node1.
func (st *labState) typedIntoProgram(step parser.Step) bool {
	pr := st.program
	return step.Kind == parser.KindCommand && pr != nil && pr.inside && pr.pane != nil && pr.pane.Alive() && pr.pane.Busy()
}

// cursorLine is the last line of a screen with text on it, without its
// trailing blanks: the prompt of a program waiting for a command.
func cursorLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, " \n"), "\n")
	return strings.TrimRight(lines[len(lines)-1], " ")
}

// backAtPrompt says whether the screen shows line typed at prompt with the
// prompt back below it, and returns what the command printed between them.
func backAtPrompt(screen, prompt, line string) (string, bool) {
	lines := strings.Split(strings.TrimRight(screen, " \n"), "\n")
	n := len(lines)
	if prompt == "" || n < 2 {
		return "", false
	}
	// Output without a final newline (curl's) has the prompt at its end,
	// as in any shell.
	// A shell that starts its prompt with a carriage return draws it over
	// such a last line instead.
	tail := ""
	if last := strings.TrimRight(lines[n-1], " "); !samePrompt(last, prompt) {
		f := strings.Fields(prompt)
		core := f[len(f)-1]
		switch {
		case strings.HasSuffix(last, core):
			tail = strings.TrimSuffix(last, core)
		case strings.HasPrefix(last, core+" "):
			tail = strings.TrimPrefix(last, core+" ")
		default:
			return "", false
		}
	}
	for k := n - 2; k >= 0; k-- {
		l := strings.TrimRight(lines[k], " ")
		if strings.HasSuffix(l, line) && samePrompt(strings.TrimSuffix(l, line), prompt) {
			out := lines[k+1 : n-1]
			if tail != "" {
				out = append(out[:len(out):len(out)], tail)
			}
			return strings.Join(out, "\n"), true
		}
	}
	return "", false
}

// samePrompt says whether a line is the program's prompt. The first one
// seen may carry a second copy of it ("# #": the shell drew its prompt
// before kubectl attached, then again for the Enter pressed): a later
// prompt is a suffix of the first.
func samePrompt(line, prompt string) bool {
	line = strings.TrimSpace(line)
	return line != "" && strings.HasSuffix(prompt, line)
}

// inProgram replays a command meant for the interactive program still in
// the foreground: typed into it line by line, done when its prompt comes
// back, and judged by what shows (there is no exit status inside it): the
// slide's expected output, an announced error, error wording. What cannot
// be judged is not verified.
func (st *labState) inProgram(ctx context.Context, i int, text string, res *report.StepResult) {
	pr := st.program
	p := pr.pane
	res.Pane = p.Index()
	var printed []string
	for _, line := range (parser.Step{Text: text}).CommandLines() {
		line = strings.TrimSpace(line)
		err := p.Type(ctx, line)
		if err == nil {
			err = p.Key(ctx, "Enter")
		}
		if err != nil {
			st.failErr(ctx, p, res, err)
			return
		}
		var out string
		for {
			err = p.WaitScreen(ctx, func(screen, _ string) bool {
				if !p.Busy() {
					return true
				}
				o, ok := backAtPrompt(screen, pr.prompt, line)
				out = o
				return ok
			})
			if err != nil || !p.Busy() {
				break
			}
			// Still there once the screen stops moving: not a line of
			// output that looks like the prompt.
			if _, err = p.Settle(ctx, settleQuiet); err != nil {
				break
			}
			if o, ok := backAtPrompt(p.Screen(), pr.prompt, line); ok || !p.Busy() {
				out = o
				break
			}
		}
		if err == nil && !p.Busy() {
			// It ended (exit typed into it): its own status is back.
			r, _ := p.WaitPrompt(ctx)
			res.ExitStatuses, res.Actual = r.Statuses, strings.Join(append(printed, r.Output), "\n")
			st.program = nil
			st.verdict(i, r, res)
			if res.Status == report.Passed {
				res.Reason = fmt.Sprintf("%q ended and node1's prompt is back", pr.line)
			}
			return
		}
		if err != nil {
			res.Actual = strings.Join(printed, "\n")
			if ctx.Err() != nil {
				st.fail(res, "typed into %q: its prompt %q did not come back within %s", pr.line, pr.prompt, st.r.opts.Timeout)
				res.Screen = p.Screen()
				st.recoverPane(ctx, p)
				// What comes after was meant for it: not typed on node1.
				pr.fed, pr.reported = false, true
				st.lose(fmt.Sprintf("after %q (%s:%d) stopped answering", pr.line, pr.pos.File, pr.pos.Line))
				return
			}
			st.failErr(ctx, p, res, err)
			return
		}
		printed = append(printed, out)
	}
	out := strings.Join(printed, "\n")
	res.Actual = out
	st.judgeInside(i, pr, out, res)
}

// judgeInside judges by what a command printed inside a program, saying
// how: there is no exit status to read there.
func (st *labState) judgeInside(i int, pr *program, out string, res *report.StepResult) {
	where := fmt.Sprintf("judged inside %q (no exit status there)", pr.line)
	step := st.lab.Steps[i]
	errLine := match.ErrorLine(out)
	if announced := match.AnnouncesError(step.Text); announced != "" {
		if errLine == "" {
			st.fail(res, "the slide says this fails (%q) but no error showed; %s", announced, where)
			return
		}
		res.Reason = fmt.Sprintf("%s: the error the slide announces showed: %s", where, errLine)
		return
	}
	skipped := ""
	if exp := st.lab.Expected; exp != nil && i == st.last {
		m := match.Match(exp.Text, out)
		switch {
		case m.OK:
			res.Expected, res.ExpectedFile, res.ExpectedLine = exp.Text, exp.Pos.File, exp.Pos.Line
			res.Reason = fmt.Sprintf("%s: the output matches the slide's (%s:%d)", where, exp.Pos.File, exp.Pos.Line)
			return
		case exp.Distance == 0:
			res.Expected, res.ExpectedFile, res.ExpectedLine = exp.Text, exp.Pos.File, exp.Pos.Line
			reason := "the output does not match the slides"
			if m.Explanation != "" {
				reason += ": " + m.Explanation
			}
			st.fail(res, "%s; %s", reason, where)
			res.Diff = m.Diff
			return
		default:
			// A fence slides later is only a guess at this command's
			// output; one that does not fit it is not taken as such.
			skipped = fmt.Sprintf("; the fence at %s:%d, %d slide(s) later, does not fit this output and was not taken as it", exp.Pos.File, exp.Pos.Line, exp.Distance)
		}
	}
	switch {
	case errLine != "":
		st.fail(res, "the output shows an error: %q; %s%s", errLine, where, skipped)
	case strings.TrimSpace(out) == "":
		res.Status = report.NotVerified
		res.Reason = fmt.Sprintf("not verified: it printed nothing, and inside %q there is no exit status to read%s", pr.line, skipped)
	default:
		res.Reason = fmt.Sprintf("%s: its output shows no error%s", where, skipped)
	}
}

// endLab ends what the lab left running as a person would: its terminals,
// then an interactive program still in the foreground (a shell in a pod),
// left with ^D so the next lab starts at node1's prompt.
func (st *labState) endLab(ctx context.Context, results []report.StepResult) {
	if len(st.terms) > 0 {
		st.closeTerminals(ctx, results)
	}
	pr := st.program
	st.program = nil
	if pr == nil || pr.pane == nil || !pr.pane.Alive() || !pr.pane.Busy() {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
	defer cancel()
	how := "^D"
	err := pr.pane.Key(cctx, "^D")
	if err == nil {
		wctx, wcancel := context.WithTimeout(cctx, 5*time.Second)
		_, err = pr.pane.WaitPrompt(wctx)
		wcancel()
	}
	if err != nil && pr.pane.Alive() && pr.pane.Busy() {
		how = "^D, then exit"
		_ = pr.pane.Type(cctx, "exit")
		_ = pr.pane.Key(cctx, "Enter")
		_, err = pr.pane.WaitPrompt(cctx)
	}
	if err != nil {
		st.recoverPane(ctx, pr.pane)
		st.r.notes = append(st.r.notes, fmt.Sprintf("%s: %q (%s:%d) did not end with %s at the end of the lab; it was interrupted", pr.pane.Name(), pr.line, pr.pos.File, pr.pos.Line, how))
		return
	}
	st.r.notes = append(st.r.notes, fmt.Sprintf("%s: left %q (%s:%d) with %s at the end of the lab, as a person would: the next lab starts at node1's prompt", pr.pane.Name(), pr.line, pr.pos.File, pr.pos.Line, how))
}
