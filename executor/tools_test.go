package executor

import (
	"slices"
	"testing"

	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

func TestCallees(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"kubectl get pods", []string{"kubectl"}},
		{"helm install x y && kubectl get pods | grep web; stern web", []string{"helm", "kubectl", "grep", "stern"}},
		{"sudo -u root docker ps", []string{"sudo", "docker"}},
		{"env FOO=1 BAR=2 docker-compose up", []string{"env", "docker-compose"}},
		{"timeout 5 curl x", []string{"timeout", "curl"}},
		{"echo $(jq -r .a f.json)", []string{"echo", "jq"}},
		{"watch -n1 'kubectl get pods | grep x'", []string{"watch", "kubectl", "grep"}},
		{"watch kubectl get pods", []string{"watch", "kubectl"}},
		{"bash -c 'httping -c 3 x'", []string{"bash", "httping"}},
		{"ssh node2 sudo reboot", []string{"ssh"}},
		{"kubectl exec -ti web -- apk add curl", []string{"kubectl"}},
		{"./run.sh && $EDITOR x && FOO=1 make", []string{"make"}},
		{"(cd x; git pull)", []string{"cd", "git"}},
		{"if true; then figlet hi; fi", []string{"true", "figlet"}},
		{"kubectl get pod <podname> -o 'yaml", []string{"kubectl"}}, // not shell: each line's first word
		{"# a comment\nls", []string{"ls"}},
	} {
		if got := Callees(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Callees(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestSSHCall(t *testing.T) {
	for _, tc := range []struct {
		text         string
		host         string
		remote, isIt bool
	}{
		{"ssh node2", "node2", false, true},
		{"ssh -p 2222 -o StrictHostKeyChecking=no node3", "node3", false, true},
		{"ssh node2 sudo cat /etc/hosts", "node2", true, true},
		{"kubectl get nodes", "", false, false},
	} {
		host, remote, ok := sshCall(tc.text)
		if host != tc.host || remote != tc.remote || ok != tc.isIt {
			t.Errorf("sshCall(%q) = %q %v %v, want %q %v %v", tc.text, host, remote, ok, tc.host, tc.remote, tc.isIt)
		}
	}
}

// The gate skips a step that needs a missing program and holds the rest of
// the chapter as not verified; an ssh and the exit ending its session are
// skipped without holding anything; a new chapter starts clean.
func TestGate(t *testing.T) {
	g := &gate{lk: &lookup{builtin: map[string]bool{"echo": true, "exit": true}, defined: map[string]bool{},
		cache: map[string]string{"kubectl": "/bin/kubectl", "ssh": "/bin/ssh", "sh": "/bin/sh"}}, missing: map[string][]string{}}
	cmd := func(file string, line int, text string) parser.Step {
		return parser.Step{Kind: parser.KindCommand, Pos: parser.Pos{File: file, Line: line}, Text: text}
	}
	type want struct {
		held   bool
		status report.Status
	}
	steps := []struct {
		step parser.Step
		want want
	}{
		{cmd("a.md", 1, "kubectl get pods"), want{false, ""}},
		{cmd("a.md", 2, "ssh node1"), want{true, report.Skipped}},
		{cmd("a.md", 3, "echo on node1"), want{false, ""}},
		{cmd("a.md", 4, "exit"), want{true, report.Skipped}},
		{cmd("a.md", 5, "exit"), want{false, ""}}, // no session left: a real exit
		{cmd("a.md", 6, "ssh node2"), want{true, report.Skipped}},
		{cmd("a.md", 7, "kubectl exec -ti web -- sh"), want{false, ""}},
		{cmd("a.md", 8, "exit"), want{false, ""}}, // the pod's shell's exit
		{cmd("a.md", 9, "nosuchtool install x"), want{true, report.Skipped}},
		{cmd("a.md", 10, "kubectl get pods"), want{true, report.NotVerified}},
		{parser.Step{Kind: parser.KindWait, Pos: parser.Pos{File: "a.md", Line: 11}, Text: "x"}, want{true, report.NotVerified}},
		{cmd("b.md", 1, "kubectl get pods"), want{false, ""}},
	}
	for _, s := range steps {
		res, held := g.hold(s.step, false)
		if held != s.want.held || held && res.Status != s.want.status {
			t.Errorf("%s:%d %q: held %v %s (%s), want %v %s", s.step.Pos.File, s.step.Pos.Line, s.step.Text, held, res.Status, res.Reason, s.want.held, s.want.status)
		}
	}
	if n := g.notes(); len(n) != 1 || !slices.Contains(n, "nosuchtool is not installed: 1 step skipped (first at a.md:9); no known package: install nosuchtool so that it is on PATH") {
		t.Errorf("notes %q", n)
	}
	// Typed into a shell in a pod, a command calls the pod's programs.
	if res, held := g.hold(cmd("c.md", 1, "nosuchtool --list"), true); held {
		t.Errorf("a command typed into a pod's shell is held: %s (%s)", res.Status, res.Reason)
	}
}

func TestTypo(t *testing.T) {
	lk := &lookup{builtin: map[string]bool{}, defined: map[string]bool{},
		cache:  map[string]string{"kubectl": "/bin/kubectl", "docker": "", "kuectl": "", "helm": "", "hlem": "", "ls": "/bin/ls"},
		called: []string{"kubectl", "docker", "helm", "ls"}}
	for name, want := range map[string]string{"kuectl": "kubectl", "kubetcl": "kubectl", "docker": "", "hlem": "", "sl": "", "wobblectl": ""} {
		if got := lk.typoOf(name); got != want {
			t.Errorf("typoOf(%q) = %q, want %q", name, got, want)
		}
	}
}
