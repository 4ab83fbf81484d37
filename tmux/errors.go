package tmux

import "fmt"

// ShellExitedError says the pane's shell is gone (`exit`, ^D, killed). If it
// was the last pane, Mux.Respawn gives a fresh shell.
type ShellExitedError struct {
	Pane   int // the pane's index when it exited (-1 if unknown)
	Status int // bash's exit status; -1 when killed by a signal
}

func (e *ShellExitedError) Error() string {
	return fmt.Sprintf("pane %d: shell exited with status %d", e.Pane, e.Status)
}

// ShellReplacedError is returned by Interrupt when the shell could not be
// brought back to a prompt (or had died) and was replaced by a fresh one in
// the same pane, started in the old cwd with the old exported variables.
type ShellReplacedError struct {
	Pane   int
	Reason string
}

func (e *ShellReplacedError) Error() string {
	return fmt.Sprintf("pane %d: shell replaced: %s", e.Pane, e.Reason)
}

// UnknownCommandError is a `tmux` directive labrun does not implement.
type UnknownCommandError struct {
	Command string
}

func (e *UnknownCommandError) Error() string {
	return fmt.Sprintf("unknown tmux command %q (supported: split-window/split-pane/splitw, select-pane/selectp, last-pane/lastp, select-layout/selectl, kill-pane/killp)", e.Command)
}

// CommandError is a known `tmux` command with arguments labrun (or tmux)
// rejects: a bad flag, a missing pane, no last pane, a pane too small.
type CommandError struct {
	Args   string
	Reason string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("tmux %s: %s", e.Args, e.Reason)
}

// IncompleteError says a block left the shell at a continuation prompt
// (an unterminated heredoc, quote or loop); labrun cancelled it with ^C.
type IncompleteError struct {
	Pane int
	Line string // the last line typed
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("pane %d: the block is incomplete: after %q the shell still waits for more input", e.Pane, e.Line)
}
