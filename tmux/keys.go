package tmux

import (
	"fmt"
	"github.com/hinshun/vt10x"
	"strings"
	"unicode/utf8"
)

// UnknownKeyError reports a key name that tmux would not know either, so a
// deck's typo fails loudly instead of typing the name as text.
type UnknownKeyError struct {
	Name string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("unknown key name %q", e.Name)
}

// namedKey maps tmux key names (lower case; tmux compares them without
// case) to the bytes an xterm sends for them in normal (not application)
// mode.
func namedKey(name string) (string, bool) {
	switch name {
	case "escape":
		return "\x1b", true
	case "space":
		return " ", true
	case "enter":
		return "\r", true
	case "tab":
		return "\t", true
	case "btab":
		return "\x1b[Z", true
	case "bspace":
		return "\x7f", true
	case "up":
		return "\x1b[A", true
	case "down":
		return "\x1b[B", true
	case "right":
		return "\x1b[C", true
	case "left":
		return "\x1b[D", true
	case "home":
		return "\x1b[H", true
	case "end":
		return "\x1b[F", true
	case "ppage", "pageup", "pgup":
		return "\x1b[5~", true
	case "npage", "pagedown", "pgdn":
		return "\x1b[6~", true
	case "ic", "insert":
		return "\x1b[2~", true
	case "dc", "delete":
		return "\x1b[3~", true
	case "f1":
		return "\x1bOP", true
	case "f2":
		return "\x1bOQ", true
	case "f3":
		return "\x1bOR", true
	case "f4":
		return "\x1bOS", true
	case "f5":
		return "\x1b[15~", true
	case "f6":
		return "\x1b[17~", true
	case "f7":
		return "\x1b[18~", true
	case "f8":
		return "\x1b[19~", true
	case "f9":
		return "\x1b[20~", true
	case "f10":
		return "\x1b[21~", true
	case "f11":
		return "\x1b[23~", true
	case "f12":
		return "\x1b[24~", true
	}
	return "", false
}

// KeyBytes returns the bytes a terminal sends for one key named the way tmux
// names keys: ^C, C-c, M-x, C-M-x, Escape, Space, Enter, Tab, BSpace, arrows,
// Home, End, PageUp/PPage, PageDown/NPage, F1–F12, DC/Delete, IC/Insert. A
// single character is itself. Anything else is an *UnknownKeyError.
func KeyBytes(name string) ([]byte, error) {
	b, ok := keyBytes(name)
	if !ok {
		return nil, &UnknownKeyError{Name: name}
	}
	return b, nil
}

func keyBytes(name string) ([]byte, bool) {
	if name == "" {
		return nil, false
	}
	if utf8.RuneCountInString(name) == 1 {
		if r, _ := utf8.DecodeRuneInString(name); r == utf8.RuneError {
			return nil, false
		}
		return []byte(name), true
	}
	if s, ok := namedKey(strings.ToLower(name)); ok {
		return []byte(s), true
	}
	switch {
	case len(name) == 2 && name[0] == '^':
		return ctrl(name[1])
	case len(name) > 2 && (name[:2] == "C-" || name[:2] == "c-"):
		rest := name[2:]
		if len(rest) > 2 && (rest[:2] == "M-" || rest[:2] == "m-") {
			b, ok := keyBytes("C-" + rest[2:])
			return append([]byte{0x1b}, b...), ok
		}
		if strings.EqualFold(rest, "space") {
			return []byte{0}, true
		}
		if len(rest) == 1 {
			return ctrl(rest[0])
		}
	case len(name) > 2 && (name[:2] == "M-" || name[:2] == "m-"):
		b, ok := keyBytes(name[2:])
		if !ok {
			return nil, false
		}
		return append([]byte{0x1b}, b...), true
	}
	return nil, false
}

// ctrl maps the character after ^ or C- to its control code.
func ctrl(c byte) ([]byte, bool) {
	switch {
	case c >= 'a' && c <= 'z':
		return []byte{c - 'a' + 1}, true
	case c >= '@' && c <= '_': // @, A–Z, [, \, ], ^, _
		return []byte{c - '@'}, true
	case c == '?':
		return []byte{0x7f}, true
	case c == ' ':
		return []byte{0}, true
	}
	return nil, false
}

// appCursor rewrites arrow, Home and End keys for a program that switched
// the terminal to application cursor mode (vim, less), as a terminal would.
func appCursor(b []byte) []byte {
	if len(b) == 3 && b[0] == 0x1b && b[1] == '[' && strings.IndexByte("ABCDHF", b[2]) >= 0 {
		return []byte{0x1b, 'O', b[2]}
	}
	return b
}

const appCursorMode = vt10x.ModeAppCursor
