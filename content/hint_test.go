package content_test

import (
	"strings"
	"testing"

	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

func step(file string, line int, kind, cmd string, st report.Status, actual string) report.StepResult {
	return report.StepResult{File: file, Line: line, Kind: kind, Command: cmd, Status: st, Actual: actual}
}

// TestHint: each known cause, from a history of earlier steps, names the
// place to fix; failures with no known cause get no hint.
func TestHint(t *testing.T) {
	const cmd = "command"
	ok, failed := report.Passed, report.Failed
	deck := &parser.Deck{Chapters: []parser.Chapter{{File: "setup.md", Slides: []parser.Slide{{Labs: []parser.Lab{{Steps: []parser.Step{
		{Kind: parser.KindCommand, Pos: parser.Pos{File: "setup.md", Line: 7}, Text: "kubectl create deployment red --image=nginx\n"},
		{Kind: parser.KindCommand, Pos: parser.Pos{File: "setup.md", Line: 12}, Text: "kubectl get pods\nkubectl get nodes\n"},
	}}}}}}}}
	finding := content.Finding{
		Diagnostic: parser.Diagnostic{Pos: parser.Pos{File: "ingress.md", Line: 257, Col: 20}, Severity: parser.SeverityError,
			Message: "~/workshop/k8s/traefik.yml: k8s/traefik.yml is not in the repository; did you mean k8s/traefik.yaml?"},
		Check: "path", Step: parser.Pos{File: "ingress.md", Line: 255},
	}
	tests := []struct {
		name    string
		history []report.StepResult
		failed  report.StepResult
		facts   content.Facts
		want    []string // substrings; none means no hint
	}{
		{
			name: "AlreadyExists names the step that created it",
			history: []report.StepResult{
				step("kubectlexpose.md", 52, cmd, "kubectl create deployment blue --image=nginx", ok, "deployment.apps/blue created\n"),
				step("other.md", 9, cmd, "kubectl get pods", ok, "No resources found\n"),
			},
			failed: step("rollout.md", 30, cmd, "kubectl create deployment blue --image=nginx", failed,
				`error: failed to create deployment: deployments.apps "blue" already exists`+"\n"),
			want: []string{`deployment "blue" was already created at kubectlexpose.md:52`, "rollout.md:30"},
		},
		{
			name:    "AlreadyExists from the command, when the output is not kept",
			history: []report.StepResult{step("a.md", 5, cmd, "kubectl run web --image=nginx", ok, "")},
			failed:  step("b.md", 8, cmd, "kubectl run web --image=nginx", failed, `Error from server (AlreadyExists): pods "web" already exists`),
			want:    []string{`pod "web" was already created at a.md:5`},
		},
		{
			name:   "AlreadyExists with no creator in the run",
			failed: step("b.md", 8, cmd, "kubectl create namespace x", failed, `Error from server (AlreadyExists): namespaces "x" already exists`),
			want:   []string{`namespace "x" existed before b.md:8`, "not fresh"},
		},
		{
			name: "NotFound after the creating step failed",
			history: []report.StepResult{
				step("a.md", 10, cmd, "kubectl create deployment green --image=nginx --replicas=many", failed, "error: invalid argument\n"),
			},
			failed: step("a.md", 14, cmd, "kubectl get deployment green", failed, `Error from server (NotFound): deployments.apps "green" not found`),
			want:   []string{`deployment "green" should have been created at a.md:10, which failed`},
		},
		{
			name: "NotFound after the creating step was skipped",
			history: []report.StepResult{
				step("a.md", 10, cmd, "kubectl expose deployment green --port=80", report.Skipped, ""),
			},
			failed: step("a.md", 14, cmd, "kubectl get service green", failed, `Error from server (NotFound): services "green" not found`),
			want:   []string{`service "green" should have been created at a.md:10, which was skipped`},
		},
		{
			name:   "NotFound when the creating step was not replayed",
			failed: step("b.md", 3, cmd, "kubectl scale deployment red --replicas=3", failed, `Error from server (NotFound): deployments.apps "red" not found`),
			facts:  content.Facts{Deck: deck},
			want:   []string{`deployment "red" is created at setup.md:7, which this run did not replay before b.md:3`},
		},
		{
			name:    "NotFound after it was made and deleted: no simple cause",
			history: []report.StepResult{step("a.md", 3, cmd, "kubectl create deployment red --image=nginx", ok, "deployment.apps/red created\n")},
			failed:  step("a.md", 9, cmd, "kubectl get deployment red", failed, `Error from server (NotFound): deployments.apps "red" not found`),
		},
		{
			name:   "command not found, a near miss of the deck's commands",
			failed: step("openebs.md", 337, cmd, "kuectl get storageclasses", failed, "bash: kuectl: command not found\n"),
			facts:  content.Facts{Deck: deck, Installed: func(p string) bool { return p == "kubectl" }},
			want:   []string{"kuectl is a typo of kubectl (fix at openebs.md:337)"},
		},
		{
			name:   "command not found, a tool not installed",
			failed: step("helm.md", 20, cmd, "helm install x y", failed, "bash: line 1: helm: command not found\n"),
			facts:  content.Facts{Deck: deck, Installed: func(string) bool { return false }},
			want:   []string{"helm is not installed on this machine (the step at helm.md:20 needs it)"},
		},
		{
			name:   "a problem found before the run",
			failed: step("ingress.md", 255, cmd, "kubectl apply -f ~/workshop/k8s/traefik.yml", failed, `error: the path "/home/u/workshop/k8s/traefik.yml" does not exist`),
			facts:  content.Facts{Findings: []content.Finding{finding}},
			want:   []string{"did you mean k8s/traefik.yaml? (fix at ingress.md:257)"},
		},
		{
			name:   "a path missing, no finding",
			failed: step("a.md", 4, cmd, "kubectl apply -f mine.yaml", failed, `error: the path "mine.yaml" does not exist`),
			want:   []string{"mine.yaml does not exist when a.md:4 runs"},
		},
		{
			name:    "an image the cluster cannot pull",
			history: []report.StepResult{step("a.md", 3, cmd, "kubectl create deployment w --image=ngnix", ok, "deployment.apps/w created\n")},
			failed: step("a.md", 6, cmd, "kubectl get pods", failed,
				"NAME      READY   STATUS             RESTARTS   AGE\nw-1-2     0/1     ImagePullBackOff   0          1m\n  Warning  Failed  Failed to pull image \"ngnix\": not found\n"),
			want: []string{`the cluster cannot pull image "ngnix" (ImagePullBackOff); it is named at a.md:3`},
		},
		{
			name:   "a flag kubectl rejects",
			failed: step("run.md", 12, cmd, "kubectl run x --generator=run-pod/v1 --image=nginx", failed, "error: unknown flag: --generator\nSee 'kubectl run --help' for usage.\n"),
			want:   []string{"this kubectl has no flag --generator", "run.md:12"},
		},
		{
			name: "a wait whose text never shows",
			history: []report.StepResult{
				step("w.md", 10, cmd, "kubectl get pods -w", ok, ""),
			},
			failed: report.StepResult{File: "w.md", Line: 13, Kind: "wait", Command: "Running", Status: failed,
				Screen: "$ kubectl get pods -w\nNAME   READY   STATUS    RESTARTS   AGE\nweb    0/1     Pending   0          1s\n\n"},
			want: []string{`"Running" never showed although w.md:10 ran`, "web    0/1     Pending   0          1s", "w.md:13"},
		},
		{
			name: "an earlier step's error on the screen is not this step's",
			failed: report.StepResult{File: "a.md", Line: 20, Kind: cmd, Command: "curl http://blue.example", Status: failed,
				Screen: "$ kubectl create deployment blue --image=nginx\nerror: failed to create deployment: deployments.apps \"blue\" already exists\n$ curl http://blue.example\ncurl: (6) Could not resolve host\n"},
		},
		{
			name: "the screen below the command, when the output was not kept",
			failed: report.StepResult{File: "a.md", Line: 20, Kind: cmd, Command: "kuectl get pods", Status: failed,
				Screen: "$ kubectl get pods\nNo resources found\n$ kuectl get pods\nbash: kuectl: command not found\n$ "},
			facts: content.Facts{Deck: deck},
			want:  []string{"kuectl is a typo of kubectl"},
		},
		{
			name:   "a passed step gets no hint",
			failed: step("a.md", 1, cmd, "kubectl create deployment blue --image=nginx", ok, `deployments.apps "blue" already exists`),
		},
		{
			name:   "an unknown cause gets no hint",
			failed: step("a.md", 1, cmd, "false", failed, ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := content.Hint(tt.history, tt.failed, tt.facts)
			if len(tt.want) == 0 {
				if got != "" {
					t.Errorf("hint %q, want none", got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("hint %q lacks %q", got, w)
				}
			}
		})
	}
}

// TestHinterHistory: the Hinter gives each result to Hint with the steps
// before it, and a nil Hinter does nothing.
func TestHinterHistory(t *testing.T) {
	h := content.NewHinter(content.Facts{})
	first := step("a.md", 3, "command", "kubectl create deployment blue --image=nginx", report.Passed, "deployment.apps/blue created\n")
	again := step("b.md", 9, "command", "kubectl create deployment blue --image=nginx", report.Failed, `deployments.apps "blue" already exists`)
	h.Explain(&first)
	h.Explain(&again)
	if first.Hint != "" || !strings.Contains(again.Hint, "created at a.md:3") {
		t.Errorf("hints %q, %q", first.Hint, again.Hint)
	}
	var none *content.Hinter
	none.Explain(&again)
}
