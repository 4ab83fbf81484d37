package parser

import (
	"slices"
	"strings"
	"testing"
)

func TestStripTranscript(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    string
		changed []int // indexes of lines changed or dropped
	}{
		{"plain commands stay", "kubectl get pods\nkubectl get nodes", "kubectl get pods\nkubectl get nodes", nil},
		{"dollar prompt and output", "$ kubectl get pods\nNAME READY\nweb  1/1\n$ echo hi", "kubectl get pods\necho hi", []int{0, 1, 2, 3}},
		{"user@host prompt", "alice@node1:~$ ls -l", "ls -l", []int{0}},
		{"root prompt with brackets", "[root@node2 tmp]# id", "id", []int{0}},
		{"prompt with a space before the dir", "alice@node1 ~/src$ make", "make", []int{0}},
		{"a comment is not a prompt", "# hello\nls", "# hello\nls", nil},
		{"a variable is not a prompt", "$HOME/bin/tool\n$(date)", "$HOME/bin/tool\n$(date)", nil},
		{"continuation after a prompt", "$ kubectl get pods \\\n    -o wide\nout", "kubectl get pods \\\n    -o wide", []int{0, 2}},
		{"pipe continuation", "$ kubectl get pods |\n  grep web", "kubectl get pods |\n  grep web", []int{0}},
		{"here-document kept whole", "$ cat <<EOF\n$ not a prompt\nNAME  READY\nEOF\nout", "cat <<EOF\n$ not a prompt\nNAME  READY\nEOF", []int{0, 4}},
		{"here-document without prompts", "cat <<'X'\npod/a created\nX", "cat <<'X'\npod/a created\nX", nil},
		{"kubectl verdict without a prompt", "kubectl apply -f x.yaml\ndeployment.apps/web created", "kubectl apply -f x.yaml", []int{1}},
		{"kubectl table header without a prompt", "kubectl get pods\nNAME   READY   STATUS", "kubectl get pods", []int{1}},
		{"an upper-case command is no header", "FOO=1 ./run", "FOO=1 ./run", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, changed := stripTranscript(strings.Split(tc.in, "\n"))
			if got := strings.Join(out, "\n"); got != tc.want {
				t.Errorf("typed %q, want %q", got, tc.want)
			}
			var idx []int
			for _, c := range changed {
				idx = append(idx, c.index)
			}
			if !slices.Equal(idx, tc.changed) {
				t.Errorf("changed lines %v, want %v", idx, tc.changed)
			}
		})
	}
}

// The lint points at the first prompt and the first output line of each
// transcript block, and the steps hold only what a person types.
func TestTranscriptCase(t *testing.T) {
	ch, ds := parseCase(t, "transcript.md")
	var texts []string
	for _, s := range allSteps(ch) {
		texts = append(texts, s.Text)
	}
	want := []string{
		"kubectl get deployments\nkubectl get pods \\\n    -o wide",
		"kubectl create deployment web --image=nginx\ncat <<EOF > note.txt\nNAME    READY   STATUS\n$ not a prompt inside a here-document\nEOF",
		"kubectl delete pod web",
		"# make a file\n$EDITOR_CMD notes.txt",
	}
	if !slices.Equal(texts, want) {
		t.Errorf("steps\n%q\nwant\n%q", texts, want)
	}
	for _, c := range []struct {
		line int
		msg  string
	}{
		{7, `shell prompt "trainer@node1:~$"`},
		{8, "output, not a command"},
		{16, `shell prompt "$"`},
		{17, "output, not a command"},
		{27, "output, not a command"},
	} {
		if !hasDiag(ds, SeverityWarning, c.line, c.msg) {
			t.Errorf("no warning at line %d with %q in\n%v", c.line, c.msg, ds)
		}
	}
	if len(ds) != 5 {
		t.Errorf("%d diagnostics, want 5: %v", len(ds), ds)
	}
}
