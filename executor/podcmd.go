package executor

import (
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// What a `kubectl run -it`, `exec -it` or `debug -it` line runs in its pod
// decides how a person goes on: a shell waits for the commands typed after
// it, a one-shot command (curl URL, sleep 5) prints and gives the prompt
// back.

// podCommand returns the command a kubectl run, exec or debug line runs in
// its container (after `--`, or run's and exec's words after the pod's
// name), and whether the line is such a kubectl command at all. An empty
// command is the image's own (run, debug) or none (attach).
func podCommand(line string) (argv []string, ok bool) {
	words := shellWords(line)
	for len(words) > 0 && (words[0] == "sudo" || strings.Contains(words[0], "=")) {
		words = words[1:] // sudo, VAR=value before the command
	}
	if len(words) == 0 || path.Base(words[0]) != "kubectl" {
		return nil, false
	}
	var sub string
	var pos []string
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			if sub == "" {
				return nil, false
			}
			return words[i+1:], true
		case strings.HasPrefix(w, "--"):
			if !strings.Contains(w, "=") && !boolFlag[w] {
				i++ // its value
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			if len(w) == 2 && !strings.ContainsRune("itq", rune(w[1])) {
				i++ // -n NS, -c NAME, -l LABELS…
			}
		case sub == "":
			sub = w
		default:
			pos = append(pos, w)
		}
	}
	switch sub {
	case "run", "exec":
		if len(pos) > 1 {
			return pos[1:], true // kubectl run NAME --image=X ARGS…
		}
		return nil, true
	case "debug", "attach":
		return nil, true
	}
	return nil, false
}

// boolFlag are the long flags of kubectl run, exec, debug and attach (and
// the global ones) that take no value; any other without `=` takes the next
// word.
var boolFlag = map[string]bool{
	"--rm": true, "--stdin": true, "--tty": true, "--attach": true, "--command": true, "--quiet": true,
	"--leave-stdin-open": true, "--privileged": true, "--expose": true, "--force": true, "--wait": true,
	"--insecure-skip-tls-verify": true, "--share-processes": true, "--same-node": true, "--replace": true,
	"--keep-annotations": true, "--keep-labels": true, "--keep-liveness": true, "--keep-readiness": true,
	"--keep-startup": true, "--keep-init-containers": true, "--dry-run": true, "--cascade": true,
	"--show-managed-fields": true, "--allow-missing-template-keys": true, "--match-server-version": true,
	"--warnings-as-errors": true, "--disable-compression": true,
}

// isShell says whether a command run in a pod is a shell waiting for
// commands (sh, bash, su postgres) rather than one that runs and ends
// (sh -c '…', curl URL).
func isShell(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	name, args := path.Base(argv[0]), argv[1:]
	if name == "busybox" && len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "fish", "tcsh", "csh", "su", "login":
	default:
		return false
	}
	for _, a := range args {
		if a == "-c" || a == "--command" || (name == "su" && strings.HasPrefix(a, "--command=")) {
			return false
		}
	}
	return true
}

// shellWords splits a command line into its words as the shell would
// (quotes removed, comments dropped); words the shell would expand ($VAR,
// $(…)) are kept as typed. A line the grammar refuses is split on spaces.
func shellWords(line string) []string {
	f, err := syntax.NewParser(syntax.KeepComments(false)).Parse(strings.NewReader(line), "")
	if err != nil || len(f.Stmts) == 0 {
		return strings.Fields(line)
	}
	call, ok := f.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok {
		return strings.Fields(line)
	}
	var out []string
	for _, a := range call.Assigns {
		out = append(out, a.Name.Value+"=") // VAR=value before the command
	}
	for _, a := range call.Args {
		w := literal(a)
		if w == "" {
			var b strings.Builder
			_ = syntax.NewPrinter().Print(&b, a)
			w = b.String()
		}
		out = append(out, w)
	}
	return out
}
