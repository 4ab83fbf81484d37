package executor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// What cannot run here is said, never counted as passed. A step whose
// command calls a program this machine lacks (docker, helm, stern, sudo…)
// is skipped with the reason; the rest of its chapter depends on it and is
// not verified. An ssh into the workshop's nodes is skipped because the
// replay already runs as on node1.

// Callees lists the programs a block of shell runs, in order and once each:
// the first word of every simple command, in pipelines, lists, $(…),
// subshells and `bash -c '…'`, looking through sudo, env, time, nohup,
// timeout, xargs and watch (sudo itself counts too). Words that are not
// plain text ($VAR, "quoted"), paths (./x.sh) and remote commands (after
// ssh HOST, kubectl exec … --) are left out: nothing here runs them.
func Callees(text string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	calleesOf(text, add, 0)
	return out
}

func calleesOf(text string, add func(string), depth int) {
	if depth > 4 {
		return
	}
	f, err := syntax.NewParser(syntax.KeepComments(false)).Parse(strings.NewReader(text), "")
	if err != nil {
		// Slides hold placeholders and half-commands the shell grammar
		// refuses; take each line's first word instead.
		for _, l := range strings.Split(text, "\n") {
			if w := strings.Fields(l); len(w) > 0 {
				words(w, add, depth)
			}
		}
		return
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		var ws []string
		for _, a := range call.Args {
			ws = append(ws, literal(a))
		}
		words(ws, add, depth)
		return true // $(…) inside the arguments
	})
}

// literal is a word's text when it is plain or quoted text, else "".
func literal(w *syntax.Word) string {
	if l := w.Lit(); l != "" {
		return l
	}
	var b strings.Builder
	for _, p := range w.Parts {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return ""
				}
				b.WriteString(l.Value)
			}
		default:
			return ""
		}
	}
	return b.String()
}

// words handles one simple command's words.
func words(ws []string, add func(string), depth int) {
	for len(ws) > 0 {
		name := ws[0]
		if name == "" || strings.ContainsAny(name, "/$`=<>(){}[]*?") || strings.HasPrefix(name, "-") {
			return
		}
		add(name)
		rest := ws[1:]
		switch name {
		case "sudo", "env", "nohup", "time", "exec", "command", "nice", "stdbuf", "xargs", "timeout", "watch":
			rest = skipOptions(name, rest)
		case "bash", "sh":
			for i, w := range rest {
				if w == "-c" && i+1 < len(rest) {
					calleesOf(rest[i+1], add, depth+1)
				}
			}
			return
		default:
			return
		}
		if name == "watch" && len(rest) == 1 {
			calleesOf(rest[0], add, depth+1) // watch "kubectl get pods | grep x"
			return
		}
		ws = rest
	}
}

// skipOptions drops a prefix command's own options (and env's VAR=value).
func skipOptions(name string, ws []string) []string {
	withArg := map[string][]string{
		"sudo":  {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
		"watch": {"-n", "--interval", "-d", "-q"},
		"nice":  {"-n"},
		"xargs": {"-I", "-n", "-P", "-L", "-d", "-s", "-E"},
		"env":   {"-u", "-C", "-S"},
	}
	for len(ws) > 0 {
		w := ws[0]
		switch {
		case name == "env" && strings.Contains(w, "=") && !strings.HasPrefix(w, "-"):
			ws = ws[1:]
		case name == "timeout" && len(w) > 0 && (w[0] >= '0' && w[0] <= '9'):
			ws = ws[1:]
		case strings.HasPrefix(w, "-"):
			ws = ws[1:]
			if slices.Contains(withArg[name], w) && len(ws) > 0 {
				ws = ws[1:]
			}
		default:
			return ws
		}
	}
	return ws
}

// Install says how to get a program on Debian or Ubuntu (package names from
// Debian 12), or where its project publishes it when no package has it.
func Install(tool string) string {
	deb := map[string]string{
		"docker": "docker.io", "docker-compose": "docker-compose", "ssh": "openssh-client", "scp": "openssh-client",
		"sudo": "sudo", "jq": "jq", "curl": "curl", "wget": "wget", "watch": "procps", "ps": "procps", "git": "git",
		"tmux": "tmux", "httping": "httping", "ab": "apache2-utils", "htpasswd": "apache2-utils", "nc": "netcat-openbsd",
		"dig": "dnsutils", "nslookup": "dnsutils", "host": "bind9-host", "ping": "iputils-ping", "make": "make",
		"python3": "python3", "vim": "vim", "vi": "vim", "nano": "nano", "tree": "tree", "unzip": "unzip", "zip": "zip",
		"openssl": "openssl", "envsubst": "gettext-base", "htop": "htop", "ip": "iproute2", "ss": "iproute2",
		"iptables": "iptables", "kubectx": "kubectx", "kubens": "kubectx", "yq": "yq", "bc": "bc", "pv": "pv",
		"tcpdump": "tcpdump", "socat": "socat", "telnet": "telnet", "gpg": "gnupg", "less": "less", "file": "file",
		"cfssl": "golang-cfssl", "etcdctl": "etcd-client", "entr": "entr", "figlet": "figlet", "psql": "postgresql-client",
	}
	upstream := map[string]string{
		"helm":      "https://helm.sh/docs/intro/install/",
		"stern":     "https://github.com/stern/stern/releases",
		"kind":      "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
		"k9s":       "https://k9scli.io/topics/install/",
		"kustomize": "https://kubectl.docs.kubernetes.io/installation/kustomize/",
		"kubeadm":   "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/",
		"kubelet":   "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/",
		"flux":      "https://fluxcd.io/flux/installation/",
		"kubeseal":  "https://github.com/bitnami-labs/sealed-secrets/releases",
		"skaffold":  "https://skaffold.dev/docs/install/",
		"tilt":      "https://docs.tilt.dev/install.html",
		"kubectl":   "https://kubernetes.io/docs/tasks/tools/ (or `make kubectl`)",
	}
	if p, ok := deb[tool]; ok {
		return "apt-get install " + p
	}
	if u, ok := upstream[tool]; ok {
		return "not packaged in Debian: " + u
	}
	return "no known package: install " + tool + " so that it is on PATH"
}

// ToolNeed is one program a deck calls, where, and whether this machine has it.
type ToolNeed struct {
	Name string
	// Steps are the places of the steps that call it, in deck order.
	Steps []parser.Pos
	// Path is where it was found, or "builtin", or "defined by the deck";
	// "" when it is missing.
	Path string
	// Typo names the program a missing name probably misspells: the slides
	// are wrong there, and a run fails the step rather than skip it.
	Typo string
}

// Missing reports whether the tool could not be found.
func (t ToolNeed) Missing() bool { return t.Path == "" }

// DeckTools lists what a deck's commands call, looked up on path (the lab
// shell's PATH) and among bash's builtins. ssh is listed, but a replay
// never needs it (see the run's rules).
func DeckTools(ctx context.Context, deck *parser.Deck, path string) ([]ToolNeed, error) {
	lk, err := newLookup(ctx, path, deck)
	if err != nil {
		return nil, err
	}
	byName := map[string]*ToolNeed{}
	var order []string
	for _, ch := range deck.Chapters {
		for _, sl := range ch.Slides {
			for _, lab := range sl.Labs {
				for _, st := range lab.Steps {
					if !runsShell(st) {
						continue
					}
					for _, n := range Callees(st.Text) {
						t := byName[n]
						if t == nil {
							t = &ToolNeed{Name: n, Path: lk.find(n)}
							if t.Path == "" {
								t.Typo = lk.typoOf(n)
							}
							byName[n] = t
							order = append(order, n)
						}
						t.Steps = append(t.Steps, st.Pos)
					}
				}
			}
		}
	}
	sort.Strings(order)
	out := make([]ToolNeed, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out, nil
}

// runsShell says whether a step's text is shell typed at a prompt.
func runsShell(st parser.Step) bool {
	return st.Kind == parser.KindCommand || st.Kind == parser.KindHide
}

// lookup finds programs the way the lab shell would.
type lookup struct {
	path    string
	builtin map[string]bool
	defined map[string]bool // functions and aliases the deck itself defines
	cache   map[string]string
	called  []string // every program the deck calls, in order
}

func newLookup(ctx context.Context, path string, deck *parser.Deck) (*lookup, error) {
	lk := &lookup{path: path, builtin: map[string]bool{}, defined: map[string]bool{}, cache: map[string]string{}}
	bash, err := exec.LookPath("bash")
	if err != nil {
		return nil, fmt.Errorf("listing bash's builtins: %w", err)
	}
	// bash's own list, so a builtin is never reported missing.
	out, err := exec.CommandContext(ctx, bash, "--norc", "--noprofile", "-c", "compgen -b; compgen -k").Output()
	if err != nil {
		return nil, fmt.Errorf("listing bash's builtins: %w", err)
	}
	for _, n := range strings.Fields(string(out)) {
		lk.builtin[n] = true
	}
	for _, ch := range deck.Chapters {
		for _, sl := range ch.Slides {
			for _, lab := range sl.Labs {
				for _, st := range lab.Steps {
					if runsShell(st) {
						definedNames(st.Text, lk.defined)
						lk.called = append(lk.called, Callees(st.Text)...)
					}
				}
			}
		}
	}
	return lk, nil
}

// definedNames adds the functions and aliases text defines.
func definedNames(text string, into map[string]bool) {
	f, err := syntax.NewParser().Parse(strings.NewReader(text), "")
	if err != nil {
		return
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.FuncDecl:
			into[x.Name.Value] = true
		case *syntax.CallExpr:
			if len(x.Args) > 1 && literal(x.Args[0]) == "alias" {
				for _, a := range x.Args[1:] {
					if name, _, ok := strings.Cut(literal(a), "="); ok && name != "" {
						into[name] = true
					}
				}
			}
		}
		return true
	})
}

// find returns where name is, or "".
func (lk *lookup) find(name string) string {
	if p, ok := lk.cache[name]; ok {
		return p
	}
	p := ""
	switch {
	case lk.builtin[name]:
		p = "builtin"
	case lk.defined[name]:
		p = "defined by the deck"
	default:
		for _, dir := range filepath.SplitList(lk.path) {
			if dir == "" {
				continue
			}
			c := filepath.Join(dir, name)
			if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				p = c
				break
			}
		}
	}
	lk.cache[name] = p
	return p
}

// gate decides, before a step runs, whether it can run here. It keeps the
// chapter's state: what was skipped, and an ssh session the slides opened.
type gate struct {
	lk      *lookup
	file    string // the chapter the state belongs to
	blocked string // "helm was skipped at x.md:12": the rest is not verified
	// sshAt is where the slides ssh'd into a node with no remote command;
	// the person's shell is then on that node and a later `exit`, `logout`
	// or ^D ends the ssh session, not the replay's shell.
	sshAt   string
	missing map[string][]string // tool → places of the steps it cost
	order   []string
}

func newGate(ctx context.Context, deck *parser.Deck, env []string) (*gate, error) {
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	lk, err := newLookup(ctx, path, deck)
	if err != nil {
		return nil, err
	}
	return &gate{lk: lk, missing: map[string][]string{}}, nil
}

// hold returns the result of a step that does not run here (skipped or
// not verified), or false when the step should run. A command typed into a
// program in a pod (inPod: a shell there) calls the pod's programs, not
// this machine's.
func (g *gate) hold(step parser.Step, inPod bool) (report.StepResult, bool) {
	if step.Pos.File != g.file {
		g.file, g.blocked, g.sshAt = step.Pos.File, "", ""
	}
	res := report.StepResult{File: step.Pos.File, Line: step.Pos.Line, Kind: string(step.Kind), Command: step.Text}
	if step.Kind == parser.KindUnknown && step.Directive != "" {
		res.Kind = step.Directive
	}
	where := fmt.Sprintf("%s:%d", step.Pos.File, step.Pos.Line)
	if g.sshAt != "" && endsSession(step) {
		res.Status = report.Skipped
		res.Reason = "ends the ssh session opened at " + g.sshAt + ", which the replay did not open (it already runs as on node1)"
		g.sshAt = ""
		return res, true
	}
	if g.blocked != "" {
		res.Status = report.NotVerified
		res.Reason = "not verified: after " + g.blocked + " (what follows may depend on it)"
		res.Cause = "after " + g.blocked
		return res, true
	}
	if !runsShell(step) || inPod {
		return res, false
	}
	if g.sshAt != "" && interactive.MatchString(step.Text) {
		// Another session opens on top of the ssh one: the next exit
		// is its own. Stop tracking rather than swallow it.
		g.sshAt = ""
	}
	calls := Callees(step.Text)
	var missing []string
	for _, n := range calls {
		if n == "ssh" {
			continue
		}
		if g.lk.find(n) == "" && g.lk.typoOf(n) == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		res.Status = report.Skipped
		res.Reason = "needs " + strings.Join(missing, ", ") + ": not installed (" + Install(missing[0]) + ")"
		g.blocked = missing[0] + " was skipped at " + where
		for _, n := range missing {
			if _, ok := g.missing[n]; !ok {
				g.order = append(g.order, n)
			}
			g.missing[n] = append(g.missing[n], where)
		}
		return res, true
	}
	if host, remote, ok := sshCall(step.Text); ok {
		res.Status = report.Skipped
		if remote {
			res.Reason = "runs a command over ssh on " + host + "; the replay runs only as on node1"
		} else {
			res.Reason = "ssh " + host + ": the replay already runs as on node1"
			g.sshAt = where
		}
		return res, true
	}
	return res, false
}

// notes sums up what the run could not do, for the report.
func (g *gate) notes() []string {
	var out []string
	for _, n := range g.order {
		places := g.missing[n]
		steps := "1 step"
		if len(places) > 1 {
			steps = fmt.Sprintf("%d steps", len(places))
		}
		out = append(out, fmt.Sprintf("%s is not installed: %s skipped (first at %s); %s", n, steps, places[0], Install(n)))
	}
	return out
}

// sshCall finds an ssh in a block: the host, and whether a remote command
// follows it.
func sshCall(text string) (host string, remote, ok bool) {
	f, err := syntax.NewParser().Parse(strings.NewReader(text), "")
	if err != nil {
		return "", false, false
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		call, isCall := n.(*syntax.CallExpr)
		if ok || !isCall || len(call.Args) == 0 || literal(call.Args[0]) != "ssh" {
			return !ok
		}
		ok = true
		args := call.Args[1:]
		for i := 0; i < len(args); i++ {
			a := literal(args[i])
			if strings.HasPrefix(a, "-") {
				if len(a) == 2 && strings.Contains("bcDEeFIiJLlmOopQRSWw", a[1:]) {
					i++
				}
				continue
			}
			if host == "" {
				host = a
				if host == "" {
					host = "a node"
				}
				continue
			}
			remote = true
			break
		}
		return false
	})
	return host, remote, ok
}

// interactive matches a command that opens a shell of its own (kubectl or
// docker exec/run/attach with -ti, a bare shell), whose exit is not the
// ssh session's.
var interactive = regexp.MustCompile(`(?m)(\b(kubectl|docker|podman)\b.*\b(exec|run|attach)\b.*\s(-[a-z]*(it|ti)[a-z]*|-i|--stdin|--tty)(\s|=|$))|^\s*(bash|sh|su|sudo -i|sudo su)\s*$`)

// endsSession says whether a step ends an interactive session: `exit`,
// `logout` or ^D.
func endsSession(step parser.Step) bool {
	switch step.Kind {
	case parser.KindCommand:
		t := strings.TrimSpace(step.Text)
		return t == "exit" || t == "logout"
	case parser.KindKey:
		return strings.TrimSpace(step.Text) == "^D"
	}
	return false
}

// strict fails a run that left anything unverified, saying how much.
func strict(res *report.Run) {
	n := map[report.Status]int{}
	for _, ch := range res.Chapters {
		for _, lab := range ch.Labs {
			for _, st := range lab.Steps {
				n[st.Status]++
			}
		}
	}
	if k := n[report.Skipped] + n[report.NotVerified] + n[report.Manual]; k > 0 {
		res.Status = report.Failed
		res.Notes = append(res.Notes, fmt.Sprintf("--strict: %d steps were not verified (%d skipped, %d not verified, %d manual), which fails the run",
			k, n[report.Skipped], n[report.NotVerified], n[report.Manual]))
	}
}

// rollUp is a lab's status from its steps': a failure stays; otherwise it
// passed only if some step passed, and a lab with nothing verified takes
// the status of its first unverified step (skipped, not verified, manual),
// so nothing unverified reads as passed.
func rollUp(cur report.Status, steps []report.StepResult) report.Status {
	parts := make([]report.Status, len(steps))
	for i, s := range steps {
		parts[i] = s.Status
	}
	return rollUpStatuses(cur, parts)
}

// rollUpLabs is rollUp for a chapter and its labs.
func rollUpLabs(cur report.Status, labs []report.LabResult) report.Status {
	parts := make([]report.Status, len(labs))
	for i, l := range labs {
		parts[i] = l.Status
	}
	return rollUpStatuses(cur, parts)
}

func rollUpStatuses(cur report.Status, parts []report.Status) report.Status {
	if cur != report.Passed || len(parts) == 0 {
		return cur
	}
	for _, s := range parts {
		if s == report.Passed {
			return report.Passed
		}
	}
	return parts[0]
}

// typoOf returns the program the deck calls elsewhere that a missing name
// is most likely a misspelling of (`kuectl` for kubectl), or "". A typo is
// a mistake in the slides: the step runs, and fails as it would for a person.
func (lk *lookup) typoOf(name string) string {
	if len(name) < 4 {
		return ""
	}
	best, bestD := "", 3
	for _, c := range append(lk.called, "kubectl") {
		if c == name || lk.find(c) == "" {
			continue
		}
		if d := editDistance(name, c); d < bestD && d <= len(c)/4 {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein distance (adjacent swaps count one).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
