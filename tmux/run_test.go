package tmux

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRunStatusesAndOutput(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	tests := []struct {
		name     string
		block    string
		statuses []int
		output   string
	}{
		{"one line, two commands", "true; false", []int{1}, ""},
		{"two lines", "true\nfalse\n", []int{0, 1}, ""},
		{"status kept across the prompt", "false\necho $?", []int{1, 0}, "1\n"},
		{"subshell status", "(exit 3)", []int{3}, ""},
		{"comments and blank lines run nothing", "# a comment\n\necho hi", []int{0}, "hi\n"},
		{"heredoc", "cat <<EOF\nline one\n  line two\nEOF", []int{0}, "line one\n  line two\n"},
		{"quoted heredoc keeps $", "cat <<'EOF'\n$HOME\nEOF", []int{0}, "$HOME\n"},
		{"backslash continuation", "echo a \\\n  b \\\n  c", []int{0}, "a b c\n"},
		{"open quote", "echo 'x\ny'", []int{0}, "x\ny\n"},
		{"loop", "for i in 1 2 3; do\n  echo n$i\ndone\necho after", []int{0, 0}, "n1\nn2\nn3\nafter\n"},
		{"tab typed literally, not completed", "cat <<EOF\na\tb\nEOF", []int{0}, "a       b\n"},
		{"CRLF block", "echo one\r\necho two\r\n", []int{0, 0}, "one\ntwo\n"},
		{"stderr is output too", "echo oops >&2; exit_code=4; (exit $exit_code)", []int{4}, "oops\n"},
		{"carriage return overwrites", "printf '50%%\\r100%%\\n'", []int{0}, "100%\n"},
		{"colors are stripped", "printf '\\e[31mred\\e[0m\\n'", []int{0}, "red\n"},
		{"unicode", "echo héllo ✓", []int{0}, "héllo ✓\n"},
		{"empty block", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, p, tt.block)
			if !reflect.DeepEqual(r.Statuses, tt.statuses) {
				t.Errorf("statuses = %v, want %v\nscreen:\n%s", r.Statuses, tt.statuses, p.Screen())
			}
			if r.Output != tt.output {
				t.Errorf("output = %q, want %q", r.Output, tt.output)
			}
			if p.Output() != r.Output {
				t.Errorf("Output() = %q, want the Result's %q", p.Output(), r.Output)
			}
			if p.Busy() {
				t.Errorf("busy after Run")
			}
		})
	}
}

func TestRunShowsLikeATerminal(t *testing.T) {
	m := newMux(t, Options{Host: "node7"})
	p := m.Active()
	run(t, p, "echo visible")
	want := "[node7] ~# echo visible\nvisible\n[node7] ~#"
	if os.Geteuid() != 0 {
		want = strings.ReplaceAll(want, "#", "$")
	}
	if got := p.Screen(); got != want {
		t.Errorf("screen =\n%s\nwant\n%s", got, want)
	}
}

func TestIncompleteBlock(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	_, err := p.Run(testCtx(t), "cat <<EOF\nnever ends")
	var ie *IncompleteError
	if !errors.As(err, &ie) || ie.Line != "never ends" {
		t.Fatalf("err = %v, want *IncompleteError for the last line", err)
	}
	if p.Busy() {
		t.Fatalf("busy after the incomplete block was cancelled")
	}
	if r := run(t, p, "echo ok"); r.Output != "ok\n" {
		t.Errorf("next Run output = %q", r.Output)
	}
}

func TestState(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	dir := filepath.Join(t.TempDir(), "lab dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, p, "cd '"+dir+"'\nexport GREETING='hello \"world\"'\nNOTEXPORTED=1")
	gotDir, envFile := p.State()
	if gotDir != dir {
		t.Errorf("dir = %q, want %q", gotDir, dir)
	}
	// A hidden step: another bash with the lab's cwd and exported variables.
	cmd := exec.Command("bash", "-c", `source "$1" && cd "$2" && printf '%s|%s|%s' "$GREETING" "$PWD" "${NOTEXPORTED-unset}"`, "-", envFile, gotDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hidden step: %v: %s", err, out)
	}
	if want := `hello "world"|` + dir + `|unset`; string(out) != want {
		t.Errorf("hidden step printed %q, want %q", out, want)
	}
}

func TestShellExitAndRespawn(t *testing.T) {
	m := newMux(t, Options{})
	p := m.Active()
	_, err := p.Run(testCtx(t), "exit 7")
	var se *ShellExitedError
	if !errors.As(err, &se) || se.Status != 7 {
		t.Fatalf("err = %v, want *ShellExitedError with status 7", err)
	}
	if a := m.Active(); a != p || a.Alive() {
		t.Fatalf("the last pane should stay, dead")
	}
	if _, err := p.Run(testCtx(t), "true"); !errors.As(err, &se) {
		t.Fatalf("Run on a dead pane: %v, want *ShellExitedError", err)
	}
	np, err := m.Respawn(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !np.Alive() || np.Index() != 0 {
		t.Fatalf("respawned pane alive=%v index=%d", np.Alive(), np.Index())
	}
	if r := run(t, np, "echo back"); r.Output != "back\n" {
		t.Errorf("output %q", r.Output)
	}
}

func TestTypeDelay(t *testing.T) {
	m := newMux(t, Options{TypeDelay: 2 * 1000 * 1000})
	p := m.Active()
	if r := run(t, p, "echo slow"); r.Output != "slow\n" {
		t.Errorf("output %q", r.Output)
	}
}
