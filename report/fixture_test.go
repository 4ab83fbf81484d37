package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if string(got) == string(want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s differs from the output at line %d (run go test ./report -update if the change is intended):\n got: %q\nwant: %q", path, i+1, gl, wl)
			return
		}
	}
}

// sampleRun is a hand-built run with every status, a diff, a screen, panes,
// placeholders, a chapter without labs and text that needs escaping in every
// output format. Durations are fixed so that the goldens are stable.
func sampleRun() *Run {
	ms := time.Millisecond
	started := time.Date(2025, 11, 26, 17, 30, 0, 0, time.FixedZone("CET", 3600))
	ch1 := ChapterResult{
		File: "k8s/kubectl-run.md", Title: "Running our first containers on Kubernetes", Status: Failed, Duration: 3456 * ms,
		Labs: []LabResult{
			{
				File: "k8s/kubectl-run.md", Line: 20, Slide: 3, SlideTitle: "First contact", Status: Passed, Duration: 190 * ms,
				Steps: []StepResult{
					{File: "k8s/kubectl-run.md", Line: 22, Kind: "command", Command: "kubectl get nodes", Status: Passed, Duration: 183 * ms,
						ExitStatuses: []int{0},
						Actual:       "NAME    STATUS   ROLES           AGE   VERSION\nnode1   Ready    control-plane   5s    v1.32.4\n"},
					{File: "k8s/kubectl-run.md", Line: 25, Kind: "wait", Command: "Ready", Status: Passed, Duration: 2 * ms},
					{File: "k8s/kubectl-run.md", Line: 27, Kind: "youtube", Command: "https://youtu.be/x", Status: Skipped,
						Reason: "unknown directive youtube: nothing to replay", Duration: 40 * time.Microsecond},
				},
			},
			{
				File: "k8s/kubectl-run.md", Line: 40, Slide: 5, SlideTitle: "Starting a <simple> pod & more", Status: Failed, Duration: 3266 * ms,
				Steps: []StepResult{
					{File: "k8s/kubectl-run.md", Line: 42, Kind: "command", Command: "kubectl run pingpong --image alpine \\\n  ping 127.0.0.1", Pane: 0,
						Status: Failed, Reason: "the output differs from the expected output", Duration: 1250 * ms,
						ExitStatuses: []int{0},
						Expected:     "pod/pingpong created\n", ExpectedFile: "k8s/kubectl-run.md", ExpectedLine: 47,
						Actual:      "pod/pingpong configured\n",
						Diff:        "- pod/pingpong created\n+ pod/pingpong configured\n",
						Screen:      "$ kubectl run pingpong --image alpine \\\n>   ping 127.0.0.1          \npod/pingpong configured\n$ \n\n\n",
						Substituted: []string{"<podname> → pingpong-7c9d5f"}},
					{File: "k8s/kubectl-run.md", Line: 50, Kind: "tmux", Command: "split-pane -v", Pane: 0, Status: Passed, Duration: 16 * ms},
					{File: "k8s/kubectl-run.md", Line: 52, Kind: "command", Command: "kubectl logs pingpong --tail 1 | grep -c 100%", Pane: 1,
						Status: Failed, Reason: "exit status 1 where the slide expects success", Duration: 2000 * ms,
						ExitStatuses: []int{0, 1}, Actual: "0\n\x1b[31merror,\r\n",
						Screen: "$ kubectl logs pingpong --tail 1 | grep -c 100%\n0\n$ "},
				},
			},
		},
	}
	ch2 := ChapterResult{
		File: "k8s/deployments.md", Title: "Deployments", Status: Failed, Duration: 61 * time.Second,
		Labs: []LabResult{{
			File: "k8s/deployments.md", Line: 10, Slide: 2, Status: Failed, Duration: 61 * time.Second,
			Steps: []StepResult{
				{File: "k8s/deployments.md", Line: 12, Kind: "command", Command: "kubectl create deployment web --image nginx", Status: Passed,
					Duration: 95 * ms, ExitStatuses: []int{0}, Actual: "deployment.apps/web created\n"},
				{File: "k8s/deployments.md", Line: 14, Kind: "longwait", Command: "Running", Pane: 1, Status: Error,
					Reason: "the shell in pane 1 died (exit status 137); it was replaced", Duration: 60900 * ms,
					Screen: "$ kubectl get pods -w\nNAME                   READY   STATUS    RESTARTS   AGE\nweb-5d9c7b6f4d-x2k9q   0/1     Pending   0          0s\n$ echo ']]>' '<none>' &"},
			},
		}, {
			// A lab with nothing to replay (the executor marks it skipped).
			File: "k8s/deployments.md", Line: 30, Slide: 4, SlideTitle: "Cleaning up", Status: Skipped,
		}},
	}
	ch3 := ChapterResult{File: "shared/title.md", Title: "Title slide", Status: Skipped, Duration: 0}
	return &Run{
		Deck: "k8s.yml", Cluster: "fake", Kubectl: "/usr/lib/google-cloud-sdk/bin/kubectl.1.32",
		Started: started, Duration: 64500 * ms, Status: Failed,
		Chapters: []ChapterResult{ch1, ch2, ch3},
		Notes:    []string{"pane 1: shell replaced after exit status 137"},
	}
}

// passingRun is a one-chapter run where everything passed.
func passingRun() *Run {
	return &Run{
		Deck: "fixtures/demo/pingpong.md", Cluster: "fake", Started: time.Date(2025, 11, 26, 16, 0, 0, 0, time.UTC),
		Duration: 2 * time.Second, Status: Passed,
		Chapters: []ChapterResult{{
			File: "fixtures/demo/pingpong.md", Status: Passed, Duration: 1900 * time.Millisecond,
			Labs: []LabResult{{
				File: "fixtures/demo/pingpong.md", Line: 8, Slide: 1, SlideTitle: "Ping", Status: Passed, Duration: 1900 * time.Millisecond,
				Steps: []StepResult{{File: "fixtures/demo/pingpong.md", Line: 10, Kind: "command", Command: "echo hi", Status: Passed,
					Duration: 1900 * time.Millisecond, Actual: "hi\n"}},
			}},
		}},
	}
}

func timeNS(ns int64) time.Duration { return time.Duration(ns) }
