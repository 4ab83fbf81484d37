package parser

import (
	"regexp"
	"strings"
)

// What a command line does to the terminal it is typed into decides how a
// replay treats it, and lint warns where a replay would have to guess. The
// rules live here, once, for both.

// TakesOver reports whether a step of this kind, right after a command,
// deals with that command still running: a wait watches its screen, keys go
// to the program it started.
func (k Kind) TakesOver() bool {
	switch k {
	case KindWait, KindLongwait, KindKey, KindKeys:
		return true
	}
	return false
}

// neverReturns matches a command that runs until interrupted: watch, tail -f,
// kubectl logs -f, get -w, port-forward, proxy and attach, stern, and an
// endless loop (while true / while sleep N; do …; done).
var neverReturns = regexp.MustCompile(`^\s*(` +
	`watch\s|` +
	`while\s+(true|:|sleep\s+[0-9.]+)\s*;\s*do\s[^\n]*\bdone\s*$|` +
	`stern\s|` +
	`tail\s(.*\s)?-[fF]\b|` +
	`kubectl\s(.*\s)?logs\s(.*\s)?(-f|--follow)(\s|$)|` +
	`kubectl\s(.*\s)?(-w|--watch|--watch-only)(\s|$)|` +
	`kubectl\s(.*\s)?(port-forward|proxy|attach)(\s|$))`)

// editor matches a command that opens a text editor for a person to type in.
var editor = regexp.MustCompile(`^\s*(sudo\s+)?(` +
	`(vim?|nvim|nano|emacs|pico|joe|mcedit)(\s|$)|` +
	`(\w+=\S*\s+)*kubectl\s(.*\s)?edit(\s|$))`)

// interactive matches a command that starts a program reading the terminal:
// a shell in a pod or container, an editor, a remote login.
var interactive = regexp.MustCompile(`^\s*(sudo\s+)?(` +
	`kubectl\s(.*\s)?(run|exec|attach|debug)\s(.*\s)?(-ti|-it|-i|--stdin|--tty)(\s|=|$)|` +
	`docker\s(.*\s)?(run|exec)\s(.*\s)?(-ti|-it|-i|--interactive)(\s|$)|` +
	`ssh\s|` +
	`(vim?|nvim|nano|emacs)(\s|$)|` +
	`kubectl\s(.*\s)?edit(\s|$))`)

// command returns the part of a line that names the program: `a | grep -w x`
// is about a, not grep's -w.
func command(line string) string {
	first, _, _ := strings.Cut(line, "|")
	return first
}

// NeverReturns reports whether a command line runs until interrupted, in
// the foreground (a line ending in & returns at once).
func NeverReturns(line string) bool {
	if strings.HasSuffix(strings.TrimSpace(line), "&") {
		return false
	}
	return neverReturns.MatchString(command(line))
}

// OpensEditor reports whether a command line opens an editor for a person
// (vim FILE, nano FILE, kubectl edit …).
func OpensEditor(line string) bool {
	if strings.HasSuffix(strings.TrimSpace(line), "&") {
		return false
	}
	return editor.MatchString(command(line))
}

// Interactive reports whether a command line starts a program that reads
// the terminal, so keys typed after it are meant for that program.
func Interactive(line string) bool {
	return interactive.MatchString(command(line))
}

// CommandLines splits a command step into the command lines a person types,
// joining lines continued with a backslash. A block with a heredoc or an
// open quote is one line: it cannot be split safely.
func (s Step) CommandLines() []string {
	raw := strings.Split(strings.TrimRight(s.Text, "\n"), "\n")
	if strings.Contains(s.Text, "<<") || strings.Count(s.Text, "'")%2 != 0 || strings.Count(s.Text, `"`)%2 != 0 {
		return []string{strings.Join(raw, "\n")}
	}
	var out []string
	var cur []string
	for _, l := range raw {
		cur = append(cur, l)
		if strings.HasSuffix(l, `\`) {
			continue
		}
		out = append(out, strings.Join(cur, "\n"))
		cur = nil
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}
