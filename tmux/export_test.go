package tmux

// The methods below are the tests' view of a mux; labrun itself drives panes
// through tmux commands (see command.go) and reads results from Run.

import (
	"context"
	"fmt"
)

// Split splits the active pane, top/bottom (tmux -v) or side by side
// (horizontal, tmux -h); the new pane starts in Options.Dir and becomes
// active, like tmux.
func (m *Mux) Split(ctx context.Context, horizontal bool) (*Pane, error) {
	return m.split(ctx, splitOpts{horizontal: horizontal})
}

// Select makes pane index active (select-pane -t N).
func (m *Mux) Select(index int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if index < 0 || index >= len(m.panes) {
		return &CommandError{Args: fmt.Sprintf("select-pane -t %d", index), Reason: fmt.Sprintf("can't find pane: %d", index)}
	}
	m.selectLocked(m.panes[index])
	return nil
}

// PID is the pid of the pane's shell, which is also its session id.
func (p *Pane) PID() int { return p.shell().pid }

// Output is what the commands of the last Run or WaitPrompt printed, as
// plain text, including what scrolled off the screen (the last 4 MiB).
func (p *Pane) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastRes.Output
}

// Files lists the casts written so far.
func (r *Recorder) Files() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.files...)
}
