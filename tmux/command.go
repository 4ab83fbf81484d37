package tmux

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// command is one tmux command labrun knows: its flags without a value and
// its flags taking one.
type command struct {
	bools, values string
	run           func(ctx context.Context, m *Mux, f flags) error
}

type flags struct {
	set  map[byte]bool
	vals map[byte]string
	args []string
	line string
}

// lookupCommand maps tmux command names and aliases to their handlers.
func lookupCommand(name string) (*command, bool) {
	switch name {
	case "split-window", "splitw", "split-pane", "splitp":
		return &command{bools: "vhdbfPI", values: "tlpcF", run: cmdSplit}, true
	case "select-pane", "selectp":
		return &command{bools: "lUDLRdeMm", values: "tT", run: cmdSelect}, true
	case "last-pane", "lastp":
		return &command{bools: "deZ", values: "t", run: cmdLast}, true
	case "select-layout", "selectl":
		return &command{bools: "Enop", values: "t", run: cmdLayout}, true
	case "kill-pane", "killp":
		return &command{bools: "a", values: "t", run: cmdKill}, true
	}
	return nil, false
}

// Command runs the arguments of a `tmux` directive: split-window/split-pane
// [-v|-h] [-d] [-b] [-l N|-p N] [-c DIR], select-pane -t N|-l, last-pane,
// select-layout NAME, kill-pane [-t N] [-a]. An unknown command is an
// *UnknownCommandError; bad arguments a *CommandError.
func (m *Mux) Command(ctx context.Context, args string) error {
	fields := strings.Fields(args)
	if len(fields) == 0 {
		return &CommandError{Args: args, Reason: "no command"}
	}
	c, ok := lookupCommand(fields[0])
	if !ok {
		return &UnknownCommandError{Command: fields[0]}
	}
	f, err := parseFlags(c, fields[1:])
	if err != nil {
		return &CommandError{Args: args, Reason: err.Error()}
	}
	f.line = args
	return c.run(ctx, m, f)
}

// parseFlags reads getopt-style flags: -vd, -t 0, -t0.
func parseFlags(c *command, words []string) (flags, error) {
	f := flags{set: map[byte]bool{}, vals: map[byte]string{}}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			f.args = append(f.args, words[i+1:]...)
			break
		}
		if len(w) < 2 || w[0] != '-' {
			f.args = append(f.args, w)
			continue
		}
		for j := 1; j < len(w); j++ {
			ch := w[j]
			switch {
			case strings.IndexByte(c.bools, ch) >= 0:
				f.set[ch] = true
			case strings.IndexByte(c.values, ch) >= 0:
				v := w[j+1:]
				if v == "" {
					if i+1 >= len(words) {
						return f, fmt.Errorf("-%c needs a value", ch)
					}
					i++
					v = words[i]
				}
				f.vals[ch] = v
				j = len(w)
			default:
				return f, fmt.Errorf("unknown flag -%c", ch)
			}
		}
	}
	return f, nil
}

func cmdSplit(ctx context.Context, m *Mux, f flags) error {
	if f.set['v'] && f.set['h'] {
		return &CommandError{Args: f.line, Reason: "-v and -h together"}
	}
	if len(f.args) > 0 {
		return &CommandError{Args: f.line, Reason: "labrun does not run a command given to split-window: " + strings.Join(f.args, " ")}
	}
	if t, ok := f.vals['t']; ok {
		p, err := m.target(t)
		if err != nil {
			return &CommandError{Args: f.line, Reason: err.Error()}
		}
		m.mu.Lock()
		m.selectLocked(p)
		m.mu.Unlock()
	}
	o := splitOpts{horizontal: f.set['h'], detached: f.set['d'], before: f.set['b'], dir: f.vals['c']}
	for flag, dst := range map[byte]*int{'l': &o.size, 'p': &o.percent} {
		if v, ok := f.vals[flag]; ok {
			n, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
			if err != nil || n <= 0 {
				return &CommandError{Args: f.line, Reason: fmt.Sprintf("bad size -%c %s", flag, v)}
			}
			if strings.HasSuffix(v, "%") {
				o.percent = n
			} else {
				*dst = n
			}
		}
	}
	_, err := m.split(ctx, o)
	return err
}

func cmdSelect(ctx context.Context, m *Mux, f flags) error {
	if f.set['l'] {
		return m.Last()
	}
	for _, d := range "UDLR" {
		if f.set[byte(d)] {
			return &CommandError{Args: f.line, Reason: "directional select-pane is not supported; use -t N"}
		}
	}
	t, ok := f.vals['t']
	if !ok {
		return nil // select-pane alone keeps the active pane
	}
	p, err := m.target(t)
	if err != nil {
		return &CommandError{Args: f.line, Reason: err.Error()}
	}
	m.mu.Lock()
	m.selectLocked(p)
	m.mu.Unlock()
	return nil
}

func cmdLast(ctx context.Context, m *Mux, f flags) error {
	return m.Last()
}

func cmdLayout(ctx context.Context, m *Mux, f flags) error {
	if len(f.args) != 1 {
		return &CommandError{Args: f.line, Reason: "select-layout needs one layout name"}
	}
	return m.SelectLayout(f.args[0])
}

func cmdKill(ctx context.Context, m *Mux, f flags) error {
	target := m.Active()
	if t, ok := f.vals['t']; ok {
		p, err := m.target(t)
		if err != nil {
			return &CommandError{Args: f.line, Reason: err.Error()}
		}
		target = p
	}
	if f.set['a'] {
		for _, p := range m.Panes() {
			if p != target {
				if err := m.Kill(ctx, p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return m.Kill(ctx, target)
}

// target resolves a pane target: N, .N, :.N, +/-, :.+/:.-, {last}/!,
// {next}, {previous}, {top}/{bottom}... only the forms decks use.
func (m *Mux) target(t string) (*Pane, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t = strings.TrimPrefix(t, ":")
	t = strings.TrimPrefix(t, ".")
	n := len(m.panes)
	cur := m.indexLocked(m.active)
	switch t {
	case "", "{active}":
		return m.active, nil
	case "!", "{last}":
		if m.last == nil || m.last.removed {
			return nil, fmt.Errorf("no last pane")
		}
		return m.last, nil
	case "+", "{next}":
		return m.panes[(cur+1)%n], nil
	case "-", "{previous}":
		return m.panes[(cur-1+n)%n], nil
	}
	i, err := strconv.Atoi(t)
	if err != nil || i < 0 || i >= n {
		return nil, fmt.Errorf("can't find pane: %s", t)
	}
	return m.panes[i], nil
}
