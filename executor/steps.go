package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labrun/labrun/executor/match"
	"github.com/labrun/labrun/internal/proc"
	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
	"github.com/labrun/labrun/tmux"
)

// labState is what a lab's steps share: the clipboard, which command the
// expected output belongs to, the terminals opened for commands that do not
// return, and what went wrong that later steps depend on.
type labState struct {
	r         *runner
	lab       parser.Lab
	cur       parser.Step // the step being replayed
	last      int         // index of the lab's last command
	clipboard string
	// terms are the terminals of their own opened in this lab, closed (and
	// judged) when it ends.
	terms []*terminal
	// waitOn are the terminals a wait right after their block looks at.
	waitOn []*terminal
	// program is the interactive program the keys that follow are meant
	// for; nil when keys go to the shell.
	program *program
	// stale says the wait after the command just started looks for text
	// the screen showed before: only what the command prints counts.
	stale bool
	// lostHere says the lab lost state (a shell, a program) that its later
	// steps may need: their failures name it as their cause.
	lostHere bool
}

// handler runs one kind of step and fills in its result.
type handler func(st *labState, ctx context.Context, i int, step parser.Step, res *report.StepResult)

// handlers maps every step kind to what replays it; a test checks that no
// kind is missing.
var handlers = map[parser.Kind]handler{
	parser.KindCommand:   (*labState).command,
	parser.KindWait:      (*labState).wait,
	parser.KindLongwait:  (*labState).wait,
	parser.KindKey:       (*labState).key,
	parser.KindKeys:      (*labState).keys,
	parser.KindCopy:      (*labState).copy,
	parser.KindPaste:     (*labState).paste,
	parser.KindCopyPaste: (*labState).copypaste,
	parser.KindCheck:     (*labState).check,
	parser.KindHide:      (*labState).hide,
	parser.KindTmux:      (*labState).tmux,
	parser.KindOpen:      (*labState).open,
	parser.KindLook:      (*labState).look,
	parser.KindUnknown:   (*labState).unknown,
}

func (st *labState) step(ctx context.Context, i int, step parser.Step) report.StepResult {
	res := report.StepResult{
		File: step.Pos.File, Line: step.Pos.Line, Kind: string(step.Kind),
		Command: step.Text, Pane: st.r.mux.Active().Index(), Status: report.Passed,
	}
	if step.Kind == parser.KindUnknown && step.Directive != "" {
		res.Kind = step.Directive
	}
	if ss, ok := st.r.opts.Sink.(report.StepStarter); ok {
		ss.StepStarted(res)
	}
	start := time.Now()
	st.cur = step
	h, ok := handlers[step.Kind]
	if !ok {
		res.Status, res.Reason = report.Error, fmt.Sprintf("no handler for step kind %q", step.Kind)
	} else {
		// Every step has a deadline, typing included: a program that stops
		// reading its terminal must not hang the run.
		sctx, cancel := context.WithTimeout(ctx, st.timeout(step))
		st.safely(sctx, h, i, step, &res)
		cancel()
		// The run was cancelled (Ctrl-C), not the step timed out: whatever
		// the handler made of it, the step did not fail.
		if ctx.Err() != nil && res.Status != report.Passed {
			res.Status, res.Reason = report.Interrupted, "interrupted ("+context.Cause(ctx).Error()+")"
		}
	}
	st.noteLoss(step, &res)
	res.Duration = time.Since(start)
	return res
}

// safely runs a handler so that a bug in labrun fails one step, with the
// stack in the log, rather than the whole run (which would lose its report).
func (st *labState) safely(ctx context.Context, h handler, i int, step parser.Step, res *report.StepResult) {
	defer func() {
		if v := recover(); v != nil {
			res.Status = report.Error
			res.Reason = fmt.Sprintf("labrun bug: panic in the %s handler: %v (please report it)", step.Kind, v)
			fmt.Fprintf(st.r.opts.Log, "labrun: panic replaying %s:%d: %v\n%s", step.Pos.File, step.Pos.Line, v, debug.Stack())
		}
	}()
	h(st, ctx, i, step, res)
}

// timeout is the bound for one step.
func (st *labState) timeout(step parser.Step) time.Duration {
	if step.Kind == parser.KindLongwait {
		return 10 * st.r.opts.Timeout
	}
	return st.r.opts.Timeout
}

// fail marks the step failed and attaches the active pane's screen.
func (st *labState) fail(res *report.StepResult, format string, args ...any) {
	res.Status = report.Failed
	res.Reason = fmt.Sprintf(format, args...)
	res.Screen = st.r.mux.Active().Screen()
}

// recoverPane brings a pane back to a prompt after a timeout: ^C, then a kill
// of its foreground processes; a dead shell is replaced.
func (st *labState) recoverPane(ctx context.Context, p *tmux.Pane) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.Interrupt(rctx); err != nil {
		st.r.notes = append(st.r.notes, fmt.Sprintf("%s: %v", p.Name(), err))
		var re *tmux.ShellReplacedError
		if errors.As(err, &re) {
			st.lose(fmt.Sprintf("after %s was replaced at %s:%d", p.Name(), st.cur.Pos.File, st.cur.Pos.Line))
		}
	}
}

// ready makes sure the active pane has a live shell at a prompt before
// something is typed into it.
func (st *labState) ready(ctx context.Context) (*tmux.Pane, error) {
	p := st.r.mux.Active()
	if !p.Alive() {
		np, err := st.r.mux.Respawn(ctx)
		if err != nil {
			return nil, fmt.Errorf("pane %d: its shell exited and could not be replaced: %w", p.Index(), err)
		}
		st.r.notes = append(st.r.notes, fmt.Sprintf("pane %d: the shell had exited; a new one was started", p.Index()))
		p = np
	}
	if p.Busy() {
		// A command typed ahead is still running: let it finish first.
		if _, err := p.WaitPrompt(ctx); err != nil {
			return p, fmt.Errorf("pane %d is still busy with an earlier command: %w", p.Index(), err)
		}
	}
	return p, nil
}

func (st *labState) command(ctx context.Context, i int, step parser.Step, res *report.StepResult) {
	text, subs, err := st.fillPlaceholders(ctx, step)
	res.Substituted = subs
	if err != nil {
		st.fail(res, "%v", err)
		return
	}
	res.Command = text
	if pr := st.program; pr != nil && pr.inside {
		switch {
		case pr.pane.Alive() && pr.pane.Busy():
			st.inProgram(ctx, i, text, res)
			return
		case !pr.fed:
			// Meant for a program that did not start: not typed into the
			// lab's shell.
			st.programGone(pr.pane, res)
			return
		}
		st.program = nil
	}
	p, err := st.ready(ctx)
	if err != nil {
		st.fail(res, "%v", err)
		return
	}
	res.Pane = p.Index()
	st.program = nil
	var next parser.Kind
	if i+1 < len(st.lab.Steps) {
		next = st.lab.Steps[i+1].Kind
	}
	wait := next == parser.KindWait || next == parser.KindLongwait
	keys := next == parser.KindKey || next == parser.KindKeys
	lines := parser.Step{Text: text}.CommandLines()
	if endless := countEndless(lines); endless > 1 || (endless == 1 && !next.TakesOver()) {
		// A person opens a terminal for each command that does not return
		// and goes on in the first one.
		st.inTerminals(ctx, i, p, lines, wait, res)
		return
	}
	if !keys && parser.OpensEditor(lines[len(lines)-1]) {
		st.manual(ctx, p, lines, res)
		return
	}
	if wait {
		// The command never returns by itself (watch, logs -f): the wait
		// directive that follows watches the screen instead of the prompt,
		// or only what the command prints if the screen shows the text
		// already (an earlier command's log line).
		st.stale = strings.Contains(p.Screen(), st.lab.Steps[i+1].Text)
		if err := p.Start(ctx, text); err != nil {
			st.failErr(ctx, p, res, err)
		}
		if last := lines[len(lines)-1]; parser.Interactive(last) {
			st.program = &program{pos: step.Pos, line: strings.TrimSpace(last)}
		}
		return
	}
	if keys {
		// Keys go to the program the command starts (vim, a shell in a
		// pod) or to the prompt once it is back: type them when it settles.
		if err := p.Start(ctx, text); err != nil {
			st.failErr(ctx, p, res, err)
			return
		}
		if last := lines[len(lines)-1]; parser.Interactive(last) {
			st.startProgram(ctx, p, step.Pos, last, res)
			return
		}
		out, err := settle(ctx, p)
		if err != nil {
			st.failErr(ctx, p, res, err)
			return
		}
		res.ExitStatuses = out.Statuses
		return
	}
	if last := lines[len(lines)-1]; parser.Interactive(last) && (next == parser.KindCommand || next == "") {
		if argv, _ := podCommand(last); len(argv) > 0 && !isShell(argv) {
			// A command that runs and ends in the pod: the commands
			// after it go to node1's prompt once it is back.
			st.oneShot(ctx, i, p, step, text, last, res)
			return
		}
		// A shell in a pod for the commands after it: a person types them
		// there.
		st.enterProgram(ctx, p, step, text, last, res)
		return
	}
	out, err := p.Run(ctx, text)
	res.ExitStatuses = out.Statuses
	res.Actual = out.Output
	if err != nil {
		st.failErr(ctx, p, res, err)
		return
	}
	st.verdict(i, out, res)
}

// verdict judges a finished command by its exit statuses and, for the lab's
// last command, by the expected output the slides show.
func (st *labState) verdict(i int, out tmux.Result, res *report.StepResult) {
	exp := st.lab.Expected
	checkOutput := exp != nil && i == st.last
	step := st.lab.Steps[i]
	announced := match.AnnouncesError(step.Text)
	failed := false
	for _, s := range out.Statuses {
		failed = failed || s != 0
	}
	switch {
	case announced != "":
		if !failed {
			st.fail(res, "the slide says this fails (%q) but the command succeeded", announced)
		}
	case checkOutput && match.ExpectsError(exp.Text):
		if !failed {
			st.fail(res, "the slide says this fails: it shows an error as the output (%s:%d), but the command succeeded", exp.Pos.File, exp.Pos.Line)
		}
	default:
		for k, s := range out.Statuses {
			if s != 0 {
				what := "the command"
				if len(out.Statuses) > 1 {
					what = fmt.Sprintf("command %d of %d", k+1, len(out.Statuses))
				}
				st.fail(res, "%s exited with status %d", what, s)
				break
			}
		}
	}
	if !checkOutput {
		return
	}
	res.Expected, res.ExpectedFile, res.ExpectedLine = exp.Text, exp.Pos.File, exp.Pos.Line
	m := match.Match(exp.Text, out.Output)
	if !m.OK {
		reason := "the output does not match the slides"
		if m.Explanation != "" {
			reason += ": " + m.Explanation
		}
		if res.Status == report.Failed {
			reason = res.Reason + "; " + reason
		}
		st.fail(res, "%s", reason)
		res.Diff = m.Diff
	}
}

// failErr turns an error from a pane into a failed step, recovering the pane
// after a timeout so the run can go on.
func (st *labState) failErr(ctx context.Context, p *tmux.Pane, res *report.StepResult, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		st.fail(res, "timed out after %s", st.r.opts.Timeout)
		st.recoverPane(ctx, p)
		return
	}
	st.fail(res, "%v", err)
}

func (st *labState) wait(ctx context.Context, _ int, step parser.Step, res *report.StepResult) {
	p := st.r.mux.Active()
	res.Pane = p.Index()
	if terms := st.waitOn; len(terms) > 0 {
		st.waitOn = nil
		st.waitTerminals(ctx, terms, step, res)
		return
	}
	waitText, stale := p.WaitTextOrPrompt, st.stale
	if stale {
		st.stale = false
		waitText = p.WaitPrinted
	}
	shown, err := waitText(ctx, step.Text)
	if err == nil && shown && st.program != nil {
		st.program.fed = true // it shows what it was waited for: it runs
	}
	if err == nil && !shown && st.program != nil && !st.program.fed {
		st.programGone(p, res)
		return
	}
	if err == nil && !shown {
		// Back at the prompt before the text showed: a failure ends the
		// wait now; a success may still print it (a job in the background).
		out, _ := p.WaitPrompt(ctx)
		if n := len(out.Statuses); n > 0 && out.Statuses[n-1] != 0 {
			res.ExitStatuses, res.Actual = out.Statuses, out.Output
			st.fail(res, "the command exited with status %d before %q showed", out.Statuses[n-1], step.Text)
			return
		}
		if p.Alone() && (stale || !strings.Contains(p.Screen(), step.Text)) {
			res.ExitStatuses, res.Actual = out.Statuses, out.Output
			st.fail(res, "the command finished without %q showing, and nothing left running on pane %d could print it", step.Text, p.Index())
			return
		}
		err = p.WaitText(ctx, step.Text)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			st.fail(res, "%q did not show on pane %d within %s", step.Text, p.Index(), st.timeout(step))
			st.recoverPane(ctx, p)
			return
		}
		st.fail(res, "waiting for %q: %v", step.Text, err)
	}
}

func (st *labState) key(ctx context.Context, _ int, step parser.Step, res *report.StepResult) {
	p := st.r.mux.Active()
	res.Pane = p.Index()
	name := strings.TrimSpace(step.Text)
	if st.programEnded(p, res) {
		return
	}
	if endsSomething(name) && p.AtPrompt() {
		st.idleKey(ctx, p, name, res)
		return
	}
	if st.program != nil {
		st.program.fed = true
	}
	if err := p.Key(ctx, name); err != nil {
		st.fail(res, "%v", err)
	}
}

func (st *labState) keys(ctx context.Context, _ int, step parser.Step, res *report.StepResult) {
	p := st.r.mux.Active()
	res.Pane = p.Index()
	if st.programEnded(p, res) {
		return
	}
	if st.program != nil {
		st.program.fed = true
	}
	text := step.Text
	// A lone tmux key name (`^C`, `Escape`) is sent as that key.
	if _, err := tmux.KeyBytes(strings.TrimSpace(text)); err == nil && isKeyName(strings.TrimSpace(text)) {
		if err := p.Key(ctx, strings.TrimSpace(text)); err != nil {
			st.fail(res, "%v", err)
		}
		return
	}
	if err := p.Type(ctx, text); err != nil {
		st.fail(res, "%v", err)
	}
}

// isKeyName tells a key name (^C, C-x, Escape) from plain text of one
// character, which KeyBytes also accepts.
func isKeyName(s string) bool { return len([]rune(s)) > 1 && !strings.ContainsAny(s, " ") }

func (st *labState) copy(ctx context.Context, _ int, step parser.Step, res *report.StepResult) {
	p := st.r.mux.Active()
	res.Pane = p.Index()
	re, err := regexp.Compile(step.Text)
	if err != nil {
		st.fail(res, "copy: bad regular expression: %v", err)
		return
	}
	// Like a person, look until the text shows: a program redrawing its
	// screen (watch after a resize) may not have drawn it yet.
	var found string
	err = p.WaitScreen(ctx, func(screen, _ string) bool {
		all := re.FindAllString(screen, -1)
		if len(all) == 0 {
			return false
		}
		found = all[len(all)-1]
		return true
	})
	if err != nil {
		st.fail(res, "copy: nothing on pane %d matches %q (waited %s)", p.Index(), step.Text, st.timeout(step))
		return
	}
	st.clipboard = strings.ReplaceAll(found, "\n", "")
	res.Actual = st.clipboard
}

func (st *labState) paste(ctx context.Context, _ int, _ parser.Step, res *report.StepResult) {
	p := st.r.mux.Active()
	res.Pane = p.Index()
	if st.clipboard == "" {
		st.fail(res, "paste: the clipboard is empty (no copy before it in this lab)")
		return
	}
	res.Command = st.clipboard
	if err := p.Type(ctx, st.clipboard); err != nil {
		st.fail(res, "%v", err)
	}
}

func (st *labState) copypaste(ctx context.Context, i int, step parser.Step, res *report.StepResult) {
	if st.copy(ctx, i, step, res); res.Status != report.Passed {
		return
	}
	st.paste(ctx, i, step, res)
}

func (st *labState) check(ctx context.Context, _ int, _ parser.Step, res *report.StepResult) {
	p := st.r.mux.Active()
	res.Pane = p.Index()
	out, err := p.WaitPrompt(ctx)
	res.ExitStatuses = out.Statuses
	res.Actual = out.Output
	if err != nil {
		st.failErr(ctx, p, res, err)
		return
	}
	if n := len(out.Statuses); n > 0 && out.Statuses[n-1] != 0 {
		st.fail(res, "check: the last command exited with status %d", out.Statuses[n-1])
	}
}

// hide runs a command the audience does not see, with the cwd and exported
// variables of the active shell, in its own process group.
func (st *labState) hide(ctx context.Context, _ int, step parser.Step, res *report.StepResult) {
	p := st.r.mux.Active()
	res.Pane = p.Index()
	dir, envFile := p.State()
	script := step.Text
	if envFile != "" {
		script = ". " + text.ShellQuote(envFile) + " 2>/dev/null\n" + script
	}
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir = dir
	cmd.Env = st.r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	if err == nil {
		// Background jobs of the hidden command go with it.
		err = proc.WaitGroup(cmd, nil)
	}
	res.Actual = out.String()
	if ctx.Err() != nil {
		st.fail(res, "hidden command timed out after %s", st.timeout(step))
		return
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitStatuses = []int{ee.ExitCode()}
		st.fail(res, "hidden command exited with status %d", ee.ExitCode())
		return
	}
	if err != nil {
		st.fail(res, "hidden command: %v", err)
		return
	}
	res.ExitStatuses = []int{0}
}

func (st *labState) tmux(ctx context.Context, _ int, step parser.Step, res *report.StepResult) {
	if err := st.r.mux.Command(ctx, step.Text); err != nil {
		st.fail(res, "tmux %s: %v", step.Text, err)
	}
	res.Pane = st.r.mux.Active().Index()
}

// open fetches the URL a slide would open in a browser, with node names
// mapped to the cluster's nodes, and records the status.
func (st *labState) open(ctx context.Context, _ int, step parser.Step, res *report.StepResult) {
	raw, subs, err := st.fillPlaceholders(ctx, parser.Step{Text: strings.TrimSpace(step.Text)})
	res.Substituted = subs
	if err != nil {
		st.fail(res, "open: %v", err)
		return
	}
	res.Command = raw
	u, perr := url.Parse(raw)
	if perr != nil || u.Host == "" {
		st.fail(res, "open: not a URL: %q", raw)
		return
	}
	host, port := u.Hostname(), u.Port()
	if addr := st.r.cluster.NodeAddress(host); addr != "" {
		host = addr
	}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else {
		u.Host = host
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		st.fail(res, "open: %v", err)
		return
	}
	client := http.DefaultClient
	if d, ok := st.r.cluster.(interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	}); ok {
		// The built-in cluster's network fallback answers for node and
		// cluster addresses on loopback ones.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = d.DialContext
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr}
	}
	resp, err := client.Do(req)
	if err != nil {
		st.fail(res, "open %s: %v", u, err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	res.Actual = fmt.Sprintf("%s %s\n%s", resp.Proto, resp.Status, body)
	if resp.StatusCode >= 400 {
		st.fail(res, "open %s: %s", u, resp.Status)
	}
}

// look pauses a live demo so the audience can look at the screen; a
// verifying run has nothing to check there, and says so.
func (st *labState) look(_ context.Context, _ int, _ parser.Step, res *report.StepResult) {
	res.Status = report.Skipped
	res.Reason = "look pauses for the audience to read the screen: nothing to verify"
}

func (st *labState) unknown(_ context.Context, _ int, step parser.Step, res *report.StepResult) {
	res.Status = report.Skipped
	res.Reason = fmt.Sprintf("unknown directive %q: nothing to do", step.Directive)
}

// fillPlaceholders completes a command as a person would, from the most
// recent text that fits each placeholder: in the terminals the lab opened,
// else on the active pane. A NodePort (3xxxx) comes from a service's
// ports; an address the slide means as a node's (A.B.C.D in a URL with a
// NodePort, a nip.io name, NODE-IP) is node1's, as is any address
// placeholder nothing on the screens fits.
func (st *labState) fillPlaceholders(ctx context.Context, step parser.Step) (string, []string, error) {
	text := step.Text
	var subs []string
	phs := append([]parser.Placeholder(nil), step.Placeholders...)
	for _, np := range nodePortPlaceholder.FindAllString(text, -1) {
		phs = append(phs, parser.Placeholder{Text: np, Pattern: nodePortPattern})
	}
	for _, ph := range phs {
		if ph.Pattern == ipv4Pattern && meansNode(text, ph.Text) {
			if addr := st.r.cluster.NodeAddress("node1"); addr != "" {
				text = strings.ReplaceAll(text, ph.Text, addr)
				subs = append(subs, ph.Text+" → "+addr+" (node1)")
				continue
			}
		}
		re, err := regexp.Compile(ph.Pattern)
		if err != nil {
			return "", subs, fmt.Errorf("placeholder %s: bad pattern: %w", ph.Text, err)
		}
		v, ok := st.lookFor(ctx, re)
		if !ok && ph.Pattern == ipv4Pattern {
			if addr := st.r.cluster.NodeAddress("node1"); addr != "" {
				text = strings.ReplaceAll(text, ph.Text, addr)
				subs = append(subs, ph.Text+" → "+addr+" (node1: no address on the screen)")
				continue
			}
		}
		if !ok {
			return "", subs, fmt.Errorf("placeholder %s: nothing on pane %d fits it", ph.Text, st.r.mux.Active().Index())
		}
		text = strings.ReplaceAll(text, ph.Text, v)
		subs = append(subs, ph.Text+" → "+v)
	}
	return text, subs, nil
}

// The parser's address pattern, and NodePort placeholders (3xxxx) with the
// text that fits them: the node port of a service's "80:31234/TCP".
const (
	ipv4Pattern     = `(?:[0-9]{1,3}\.){3}[0-9]{1,3}`
	nodePortPattern = `[0-9]+:(3[0-9]{4})/(?:TCP|UDP|SCTP)`
)

var nodePortPlaceholder = regexp.MustCompile(`\b3[xX]{4}\b`)

// meansNode says whether an address placeholder stands for a node's
// address: next to a NodePort, in a nip.io name, or named so.
func meansNode(text, ph string) bool {
	if strings.Contains(ph, "NODE") {
		return true
	}
	i := strings.Index(text, ph)
	rest := text[i+len(ph):]
	return strings.HasPrefix(rest, ".nip.io") || nodePortPlaceholder.MatchString(rest) ||
		regexp.MustCompile(`^:3[0-9]{4}\b`).MatchString(rest)
}

// lookFor returns the most recent text fitting re (its first group if it
// has one) on the lab's running terminals, newest first, else on the
// active pane.
// What runs in a terminal (a watch) may not show it yet: a person looks
// until it does, as long as the step may take.
func (st *labState) lookFor(ctx context.Context, re *regexp.Regexp) (string, bool) {
	if v, ok := st.lookNow(re); ok || len(st.terms) == 0 {
		return v, ok
	}
	for ctx.Err() == nil {
		running := false
		for _, t := range st.terms {
			if !t.pane.Busy() {
				continue
			}
			running = true
			wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			err := t.pane.WaitScreen(wctx, func(screen, _ string) bool { return re.MatchString(screen) })
			cancel()
			if err == nil {
				return st.lookNow(re)
			}
		}
		if !running {
			break
		}
	}
	return "", false
}

func (st *labState) lookNow(re *regexp.Regexp) (string, bool) {
	// A terminal still running shows the present (a watch); the active
	// pane's text may be older.
	var screens []string
	for k := len(st.terms) - 1; k >= 0; k-- {
		if st.terms[k].pane.Busy() {
			screens = append(screens, st.terms[k].pane.Screen())
		}
	}
	screens = append(screens, st.r.mux.Active().Screen())
	for _, sc := range screens {
		if v, ok := pickFit(sc, re, st.r.created); ok {
			return v, true
		}
	}
	return "", false
}

// pickFit returns the text fitting re (its first group if it has one) that
// a person would take from a screen. In a table (kubectl get), that is the
// row the slides are talking about: the last whose name starts with the
// resource created last (the pods of deployment blue), else the youngest
// by AGE, else the last row; elsewhere the last fitting text.
func pickFit(screen string, re *regexp.Regexp, created string) (string, bool) {
	lines := strings.Split(screen, "\n")
	lastAt := -1
	for k := len(lines) - 1; k >= 0 && lastAt < 0; k-- {
		if re.MatchString(lines[k]) {
			lastAt = k
		}
	}
	if lastAt < 0 {
		// Only across lines (soft-wrapped): the last fit of the screen.
		return lastFit(screen, re)
	}
	header := -1
	for k := lastAt; k >= 0 && header < 0; k-- {
		if tableHeader.MatchString(lines[k]) {
			header = k
		}
	}
	if header < 0 || header == lastAt {
		return lastFit(lines[lastAt], re)
	}
	var rows []string
	for _, l := range lines[header+1 : lastAt+1] {
		if re.MatchString(l) {
			rows = append(rows, l)
		}
	}
	row := rows[len(rows)-1]
	if r, ok := rowNamed(rows, created); ok {
		row = r
	} else if r, ok := youngestRow(lines[header], rows); ok {
		row = r
	}
	return lastFit(row, re)
}

// tableHeader is the header line of kubectl's tables.
var tableHeader = regexp.MustCompile(`^(?:NAMESPACE\s+)?NAME\s{2,}[A-Z]`)

func lastFit(text string, re *regexp.Regexp) (string, bool) {
	all := re.FindAllStringSubmatch(text, -1)
	if len(all) == 0 {
		return "", false
	}
	m := all[len(all)-1]
	if len(m) > 1 {
		return m[1], true
	}
	return m[0], true
}

// rowNamed is the last row whose NAME is the resource's or one of its
// children's (blue, blue-6d4f8b-x2x9q).
func rowNamed(rows []string, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	for k := len(rows) - 1; k >= 0; k-- {
		for _, f := range strings.Fields(rows[k])[:min(2, len(strings.Fields(rows[k])))] {
			f = f[strings.LastIndex(f, "/")+1:] // pod/blue-…
			if f == name || strings.HasPrefix(f, name+"-") {
				return rows[k], true
			}
		}
	}
	return "", false
}

// youngestRow is the row with the smallest AGE (the last of equals), when
// the table has an AGE column every row fills in.
func youngestRow(header string, rows []string) (string, bool) {
	col := regexp.MustCompile(`\bAGE\b`).FindStringIndex(header)
	if col == nil {
		return "", false
	}
	best, bestAge := "", time.Duration(-1)
	for _, r := range rows {
		if len(r) <= col[0] {
			return "", false
		}
		f := strings.Fields(r[col[0]:])
		if len(f) == 0 {
			return "", false
		}
		age, ok := parseAge(f[0])
		if !ok {
			return "", false
		}
		if bestAge < 0 || age <= bestAge {
			best, bestAge = r, age
		}
	}
	return best, best != ""
}

// parseAge reads kubectl's ages: 45s, 3m12s, 5h, 2d3h, 400d, 3y.
func parseAge(s string) (time.Duration, bool) {
	m := ageText.FindAllStringSubmatch(s, -1)
	if m == nil || ageText.ReplaceAllString(s, "") != "" {
		return 0, false
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "y": 365 * 24 * time.Hour}
	var d time.Duration
	for _, p := range m {
		n, err := strconv.Atoi(p[1])
		if err != nil {
			return 0, false
		}
		d += time.Duration(n) * unit[p[2]]
	}
	return d, true
}

var ageText = regexp.MustCompile(`([0-9]+)([smhdy])`)

// createdName is the name of what a command line of the step creates
// (kubectl create KIND NAME, kubectl run NAME, kubectl expose KIND NAME),
// the last one in the step; "" when it creates nothing by name.
func createdName(command string) string {
	name := ""
	for _, line := range (parser.Step{Text: command}).CommandLines() {
		f := strings.Fields(strings.ReplaceAll(line, "\\\n", " "))
		for k := 0; k+1 < len(f); k++ {
			if f[k] != "kubectl" {
				continue
			}
			var args []string
			skip := false
			for _, a := range f[k+1:] {
				if a == "|" || a == "&&" || a == ";" || a == "--" {
					break
				}
				switch {
				case skip:
					skip = false
				case strings.HasPrefix(a, "-"):
					skip = valueFlag[a]
				default:
					args = append(args, a)
				}
			}
			if len(args) < 2 {
				continue
			}
			switch args[0] {
			case "run":
				name = args[1]
			case "expose":
				if len(args) >= 3 {
					name = args[2]
				}
			case "create":
				// create KIND NAME, or create KIND TYPE NAME (secret
				// generic, service clusterip).
				i := 2
				switch args[1] {
				case "secret", "service", "svc":
					i = 3
				}
				if i < len(args) {
					name = args[i]
				}
			}
			if n := nameFlag.FindStringSubmatch(line); n != nil && (args[0] == "expose" || args[0] == "create") {
				name = n[1]
			}
		}
	}
	if !resourceName.MatchString(name) {
		return ""
	}
	return name
}

var (
	resourceName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
	nameFlag     = regexp.MustCompile(`--name[= ]([a-z0-9][a-z0-9.-]*)`)
	// valueFlag are kubectl flags the decks write with their value as the
	// next word.
	valueFlag = map[string]bool{"-n": true, "--namespace": true, "--image": true, "--port": true,
		"-o": true, "--output": true, "--type": true, "--replicas": true, "-l": true, "--selector": true,
		"--name": true, "--target-port": true, "--restart": true, "-f": true, "--filename": true}
)

// settleQuiet is how long a command followed by keys must print nothing
// to be taken as waiting for them.
const settleQuiet = 500 * time.Millisecond

// settle waits for a command followed by keys to return to the prompt, or
// to sit quietly waiting for input (vim, a shell in a pod).
func settle(ctx context.Context, p *tmux.Pane) (tmux.Result, error) {
	return p.Settle(ctx, settleQuiet)
}
