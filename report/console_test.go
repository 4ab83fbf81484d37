package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func render(r *Run, opts ConsoleOptions) string {
	var b bytes.Buffer
	c := NewConsole(&b, opts)
	Replay(c, r)
	_ = c.Close()
	return b.String()
}

func TestConsoleGolden(t *testing.T) {
	tests := []struct {
		name    string
		run     *Run
		opts    ConsoleOptions
		want    []string // must appear
		notWant []string // must not appear
	}{
		{
			name: "pipe", run: sampleRun(), opts: ConsoleOptions{},
			want: []string{
				"=== Our first pods (k8s/kubectl-run.md)\n",
				"ok   k8s/kubectl-run.md:22  $ kubectl get nodes  183ms\n",
				"skip k8s/kubectl-run.md:27  youtube https://youtu.be/x  40µs\n",
				"FAIL k8s/kubectl-run.md:42  $ kubectl run pingpong --image alpine ping 127.0.0.1  1.2s\n",
				"expected output at k8s/kubectl-run.md:47 (-) against the actual output of k8s/kubectl-run.md:42 (+):\n",
				"     - pod/pingpong created\n     + pod/pingpong configured\n",
				"     placeholder <podname> → pingpong-7c9d5f\n",
				"     exit statuses: 0 1\n",
				"FAIL k8s/kubectl-run.md:52  [pane 1] $ kubectl logs pingpong --tail 1 | grep -c 100%  2.0s\n",
				"     output:\n     | 0\n     | error,\n",
				// A full-screen program: its screen, not its flattened stream.
				"     ┌─ screen of pane 0 (a full-screen program: its raw output is left out) ",
				"     │ pingpong   0/1     ContainerCreating",
				"hand k8s/kubectl-run.md:72  $ kubectl edit pod pingpong  20ms\n     an editor opens",
				"n/v  k8s/kubectl-run.md:75  $ kind create cluster  0µs\n     kind is not installed here",
				"ERR  k8s/deployments.md:14  [pane 1] longwait Running  1m01s\n",
				"     (after pane 1 was replaced at k8s/deployments.md:9)\n     hint: the pod's image is pulled at k8s/deployments.md:12\n",
				"STOP k8s/deployments.md:44  $ kubectl rollout status deployment web  1.4s\n     interrupted (Ctrl-C)\n",
				"--- k8s/kubectl-run.md: FAIL  4 labs, 9 steps: 3 passed, 3 failed, 1 skipped, 1 manual, 1 not verified in 9.5s\n",
				"--- k8s/deployments.md: STOP  4 labs (1 not run), 4 steps: 2 passed, 1 error, 1 interrupted in 1m01s\n",
				"--- shared/title.md: SKIP  no labs in 0µs\n",
				"    slide 4: Cleaning up  (k8s/deployments.md:30)\nskip k8s/deployments.md:30  nothing to replay in this lab\n",
				"chapters:\n  FAIL k8s/kubectl-run.md  4 labs, 9 steps",
				"  STOP k8s/services.md     2 labs, not run in 0µs\n",
				"STOP 4 chapters, 10 labs (3 not run), 13 steps: 5 passed, 3 failed, 1 error, 1 interrupted, 1 skipped, 1 manual, 1 not verified in 1m11s\n",
				"note: pane 1: shell replaced after exit status 137\n",
			},
			// The screens of steps 42, 52 and 44 say nothing their output and
			// command do not: they are left out; the watch's noise too.
			notWant: []string{"\x1b", "\r", "| NAME", "screen of pane 0 ─", "512345678910s7", "=== Services", "Rolling back"},
		},
		{
			name: "pipe-quiet", run: sampleRun(), opts: ConsoleOptions{Quiet: true},
			want: []string{
				"FAIL k8s/kubectl-run.md:42", "- pod/pingpong created", "STOP k8s/deployments.md:44",
				"failed steps:\n", "STOP 4 chapters, 10 labs (3 not run), 13 steps",
			},
			notWant: []string{"ok   ", "skip ", "hand ", "===", "--- k8s", "\x1b", "::group::"},
		},
		{
			name: "github", run: sampleRun(), opts: ConsoleOptions{GitHub: true},
			want: []string{
				"::group::Our first pods (k8s/kubectl-run.md)\n=== Our first pods",
				"in 9.5s\n\n::endgroup::\n::group::Deployments (k8s/deployments.md)\n",
			},
		},
		{
			name: "github-quiet", run: sampleRun(), opts: ConsoleOptions{GitHub: true, Quiet: true},
			want: []string{"::group::Deployments (k8s/deployments.md)\nERR  k8s/deployments.md:14", "::endgroup::\n"},
		},
		{
			name: "pipe-verbose", run: sampleRun(), opts: ConsoleOptions{Verbose: true},
			want: []string{
				"ok   k8s/kubectl-run.md:22  $ kubectl get nodes  183ms\n     | NAME    STATUS",
				"     | deployment.apps/web created\n",
				// -v shows every screen, and the full-screen program's stream too.
				"     ┌─ screen of pane 0 ─", "     ┌─ screen of pane 1 ─", "512345678910s7",
			},
			notWant: []string{"\x1b"},
		},
		{
			name: "terminal", run: sampleRun(), opts: ConsoleOptions{Color: true},
			want: []string{
				"\x1b[32mok  \x1b[0m k8s/kubectl-run.md:22",
				"\x1b[31;1mFAIL\x1b[0m k8s/kubectl-run.md:42",
				"     \x1b[31m- pod/pingpong created\x1b[0m\n     \x1b[32m+ pod/pingpong configured\x1b[0m\n",
				"     \x1b[31mthe output differs from the expected output\x1b[0m\n",
			},
			// The pane's own colour codes and carriage return never reach the console.
			notWant: []string{"\x1b[31merror", "\r"},
		},
		{
			name: "terminal-quiet", run: sampleRun(), opts: ConsoleOptions{Color: true, Quiet: true},
			want:    []string{"\x1b[31;1mFAIL\x1b[0m k8s/kubectl-run.md:42", "\x1b[1mfailed steps:\x1b[0m"},
			notWant: []string{"\x1b[32mok  "},
		},
		{
			name: "terminal-verbose", run: sampleRun(), opts: ConsoleOptions{Color: true, Verbose: true},
			want: []string{"     \x1b[2m| NAME    STATUS"},
		},
		{
			name: "pipe-passing", run: passingRun(), opts: ConsoleOptions{},
			want:    []string{"PASS 1 chapter, 1 lab, 1 step: 1 passed in 2.0s\n"},
			notWant: []string{"failed steps:", "chapters:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(tt.run, tt.opts)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("output has %q", w)
				}
			}
			golden(t, "console-"+tt.name+".golden", []byte(got))
		})
	}
}

// A failure in quiet mode must still say everything a person needs to fix it.
func TestConsoleQuietKeepsFailureDetails(t *testing.T) {
	full := render(sampleRun(), ConsoleOptions{})
	quiet := render(sampleRun(), ConsoleOptions{Quiet: true})
	start := strings.Index(full, "FAIL k8s/kubectl-run.md:42")
	end := strings.Index(full, "ok   k8s/kubectl-run.md:50")
	if start < 0 || end < start {
		t.Fatalf("cannot find the failed step in the full output:\n%s", full)
	}
	if block := full[start:end]; !strings.Contains(quiet, block) {
		t.Errorf("quiet output lacks the failure block:\n%s\nquiet output:\n%s", block, quiet)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{0, "0µs"}, {999, "0µs"}, {40_000, "40µs"}, {2_000_000, "2ms"}, {999_999_999, "999ms"},
		{1_250_000_000, "1.2s"}, {59_940_000_000, "59.9s"}, {64_500_000_000, "1m05s"},
		{3_725_000_000_000, "1h02m05s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(timeNS(tt.ns)); got != tt.want {
			t.Errorf("FormatDuration(%dns) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestStepLabel(t *testing.T) {
	tests := []struct {
		s    StepResult
		want string
	}{
		{StepResult{Kind: "command", Command: "kubectl get pods"}, "$ kubectl get pods"},
		{StepResult{Kind: "command", Command: "cat <<EOF\nhello\nEOF"}, "$ cat <<EOF …"},
		{StepResult{Kind: "command", Command: "  echo hi\n\n"}, "$ echo hi"},
		{StepResult{Kind: "command", Command: "kubectl run web \\\n  --image nginx \\\n  --port 80\nkubectl get pods"}, "$ kubectl run web --image nginx --port 80 …"},
		{StepResult{Kind: "command", Command: "echo a \\\n  b"}, "$ echo a b"},
		{StepResult{Kind: "wait", Command: "Running"}, "wait Running"},
		{StepResult{Kind: "paste"}, "paste"},
	}
	for _, tt := range tests {
		if got := StepLabel(tt.s); got != tt.want {
			t.Errorf("StepLabel(%q %q) = %q, want %q", tt.s.Kind, tt.s.Command, got, tt.want)
		}
	}
}

func TestCounts(t *testing.T) {
	labs := sampleRun().Chapters[0].Labs
	n := StepCounts(labs)
	if n != (Counts{Passed: 3, Failed: 3, Skipped: 1, Manual: 1, NotVerified: 1}) {
		t.Errorf("StepCounts = %+v", n)
	}
	if got, want := n.String(), "9 steps: 3 passed, 3 failed, 1 skipped, 1 manual, 1 not verified"; got != want {
		t.Errorf("Counts.String() = %q, want %q", got, want)
	}
	if got, want := (Counts{Passed: 1, Errors: 2, Interrupted: 1}).String(), "4 steps: 1 passed, 2 errors, 1 interrupted"; got != want {
		t.Errorf("Counts.String() = %q, want %q", got, want)
	}
	if got := (Counts{}).String(); got != "no steps" {
		t.Errorf("empty Counts = %q", got)
	}
	if got := labCount(sampleRun().Chapters[1].Labs); got != "4 labs (1 not run)" {
		t.Errorf("labCount = %q", got)
	}
}

func TestFullScreen(t *testing.T) {
	for cmd, want := range map[string]bool{
		"watch kubectl get pods":                 true,
		"kubectl get pods | less":                true,
		"KUBE_EDITOR=nano kubectl edit pod web":  true,
		"sudo /usr/bin/top -b":                   true,
		"kubectl get pods -w":                    false,
		"echo watch":                             false,
		"kubectl logs web | grep edit":           false,
		"kubectl apply -f x.yaml && vim x.yaml":  true,
		"kubectl describe pod web # then watch!": false,
	} {
		if got := FullScreen(cmd); got != want {
			t.Errorf("FullScreen(%q) = %v, want %v", cmd, got, want)
		}
	}
}

func TestScreenSaysMore(t *testing.T) {
	tests := []struct {
		name, screen, shown, command string
		want                         bool
	}{
		{"only the prompt, the command and its output", "$ kubectl get pods\nNo resources found\n$", "No resources found", "kubectl get pods", false},
		{"a continuation prompt", "$ echo a \\\n> b\na b\n$", "a b", "echo a \\\n  b", false},
		{"an error the output lacks", "$ kubectl get pods\nerror: You must be logged in\n$", "", "kubectl get pods", true},
		{"a prompt of its own", "user@node1:~$\n", "", "true", false},
		{"what earlier steps left", "[node1] ~# watch kubectl get pods\n[node1] ~# ^C\n[node1] ~# kubectl get pods\nNo resources found\n[node1] ~#", "No resources found", "kubectl get pods\nfalse", false},
		{"an error after the command", "[node1] ~# kubectl get pods\nerror: forbidden\n[node1] ~#", "", "kubectl get pods", true},
	}
	for _, tt := range tests {
		if got := screenSaysMore(tt.screen, tt.shown, tt.command); got != tt.want {
			t.Errorf("%s: screenSaysMore = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Zero values and nil runs render without panicking, in every mode.
func TestZeroValues(t *testing.T) {
	empty := &Run{Chapters: []ChapterResult{{Labs: []LabResult{{}, {Steps: []StepResult{{}, {Status: Failed}, {Status: Error, Diff: "x", Screen: "\n\n"}}}}}}}
	for _, opts := range []ConsoleOptions{{}, {Color: true}, {Quiet: true}, {Verbose: true}, {Live: true, Width: 1}} {
		var b bytes.Buffer
		c := NewConsole(&b, opts)
		Replay(c, empty)
		Replay(c, nil)
		c.RunDone(nil)
		_ = c.Close()
		if b.Len() == 0 {
			t.Errorf("%+v: no output at all", opts)
		}
	}
	for _, w := range []func(*bytes.Buffer, *Run) error{
		func(b *bytes.Buffer, r *Run) error { return WriteJSON(b, r) },
		func(b *bytes.Buffer, r *Run) error { return WriteJUnit(b, r) },
		func(b *bytes.Buffer, r *Run) error { return WriteGitHub(b, r) },
	} {
		if err := w(&bytes.Buffer{}, empty); err != nil {
			t.Error(err)
		}
		if err := w(&bytes.Buffer{}, nil); err == nil {
			t.Error("a nil run gave no error")
		}
	}
}

func BenchmarkConsole(b *testing.B) {
	r := sampleRun()
	for b.Loop() {
		c := NewConsole(io.Discard, ConsoleOptions{Color: true, Verbose: true})
		Replay(c, r)
	}
}

func BenchmarkJUnit(b *testing.B) {
	r := sampleRun()
	for b.Loop() {
		if err := WriteJUnit(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCollapseRepeats(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb":                   "a\nb",
		"a\na\nb":                "a\na\nb",
		"e\ne\ne\ne\nok":         "e\n[the same line 3 more times]\nok",
		"x\n\n\n\ny":             "x\n\n\ny",
		"":                       "",
		"$ loop\ne\ne\ne\n^C\n$": "$ loop\ne\n[the same line 2 more times]\n^C\n$",
	} {
		if got := collapseRepeats(in); got != want {
			t.Errorf("collapseRepeats(%q) = %q, want %q", in, got, want)
		}
	}
}
