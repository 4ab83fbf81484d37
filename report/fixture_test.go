package report

import (
	"testing"
	"time"

	goldenpkg "github.com/labrun/labrun/internal/golden"
)

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenpkg.Check(t, name, got)
}

// sampleRun is a hand-built run with every status: several failures in one
// lab, a skip, a manual step, a step not verified, an error with a hint and a
// cause, a full-screen program, and an interruption with labs and a chapter
// never reached. It also has a diff, screens, panes, placeholders, a chapter
// without labs and text that needs escaping in every output format.
// Durations are fixed so that the goldens are stable.
func sampleRun() *Run {
	ms := time.Millisecond
	started := time.Date(2025, 11, 26, 17, 30, 0, 0, time.FixedZone("CET", 3600))
	ch1 := ChapterResult{
		File: "k8s/kubectl-run.md", Title: "Our first pods", Status: Failed, Duration: 9456 * ms,
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
						Screen: "$ kubectl logs pingpong --tail 1 | grep -c 100%\n0\nerror,\n$ "},
				},
			},
			{
				File: "k8s/kubectl-run.md", Line: 60, Slide: 6, SlideTitle: "Watching pods", Status: Failed, Duration: 6000 * ms,
				Steps: []StepResult{
					{File: "k8s/kubectl-run.md", Line: 62, Kind: "command", Command: "watch kubectl get pods -o wide", Status: Failed,
						Reason: `timed out after 6s waiting for "Running"`, Duration: 6000 * ms,
						// What a full-screen program leaves in the stream once its cursor moves are gone.
						Actual: "Every 2.0s: kubectl get pods -o wide<none><none>512345678910s7:01234 IPNODE\n",
						Screen: "Every 2.0s: kubectl get pods -o wide        node1: Wed Nov 26 17:30:09 2025\n\nNAME       READY   STATUS              RESTARTS   AGE   IP       NODE\npingpong   0/1     ContainerCreating   0          9s    <none>   node2\n"},
				},
			},
			{
				File: "k8s/kubectl-run.md", Line: 70, Slide: 7, SlideTitle: "Editing by hand", Status: Passed, Duration: 30 * ms,
				Steps: []StepResult{
					{File: "k8s/kubectl-run.md", Line: 72, Kind: "command", Command: "kubectl edit pod pingpong", Status: Manual,
						Reason: "an editor opens and no keys follow: left to the person", Duration: 20 * ms},
					{File: "k8s/kubectl-run.md", Line: 75, Kind: "command", Command: "kind create cluster", Status: NotVerified,
						Reason: "kind is not installed here, so this step was not tried", Duration: 0},
				},
			},
		},
	}
	ch2 := ChapterResult{
		File: "k8s/deployments.md", Title: "Deployments", Status: Interrupted, Duration: 61 * time.Second,
		Labs: []LabResult{{
			File: "k8s/deployments.md", Line: 10, Slide: 2, Status: Failed, Duration: 61 * time.Second,
			Steps: []StepResult{
				{File: "k8s/deployments.md", Line: 12, Kind: "command", Command: "kubectl create deployment web --image nginx", Status: Passed,
					Duration: 95 * ms, ExitStatuses: []int{0}, Actual: "deployment.apps/web created\n"},
				{File: "k8s/deployments.md", Line: 14, Kind: "longwait", Command: "Running", Pane: 1, Status: Error,
					Reason: "the shell in pane 1 died (exit status 137); it was replaced", Duration: 60900 * ms,
					Hint: "the pod's image is pulled at k8s/deployments.md:12", Cause: "after pane 1 was replaced at k8s/deployments.md:9",
					Screen: "$ kubectl get pods -w\nNAME                   READY   STATUS    RESTARTS   AGE\nweb-5d9c7b6f4d-x2k9q   0/1     Pending   0          0s\n$ echo ']]>' '<none>' &"},
			},
		}, {
			// A lab with nothing to replay (the executor marks it skipped).
			File: "k8s/deployments.md", Line: 30, Slide: 4, SlideTitle: "Cleaning up", Status: Skipped,
		}, {
			File: "k8s/deployments.md", Line: 40, Slide: 5, SlideTitle: "Scaling", Status: Interrupted, Duration: 1500 * ms,
			Steps: []StepResult{
				{File: "k8s/deployments.md", Line: 42, Kind: "command", Command: "kubectl scale deployment web --replicas 3", Status: Passed,
					Duration: 80 * ms, ExitStatuses: []int{0}, Actual: "deployment.apps/web scaled\n"},
				{File: "k8s/deployments.md", Line: 44, Kind: "command", Command: "kubectl rollout status deployment web", Status: Interrupted,
					Reason: "interrupted (Ctrl-C)", Duration: 1420 * ms,
					Actual: "Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available...\n",
					Screen: "$ kubectl rollout status deployment web\nWaiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available...\n^C"},
			},
		}, {
			// The interrupted run never reached it.
			File: "k8s/deployments.md", Line: 60, Slide: 7, SlideTitle: "Rolling back", Status: Interrupted,
		}},
	}
	ch3 := ChapterResult{File: "shared/title.md", Title: "Title slide", Status: Skipped, Duration: 0}
	ch4 := ChapterResult{File: "k8s/services.md", Title: "Services", Status: Interrupted, Labs: []LabResult{
		{File: "k8s/services.md", Line: 12, Slide: 2, SlideTitle: "Exposing", Status: Interrupted},
		{File: "k8s/services.md", Line: 30, Slide: 4, SlideTitle: "Testing", Status: Interrupted},
	}}
	return &Run{
		Deck:        []string{"k8s.yml"},
		CommandLine: []string{"labrun", "run", "--report", "json=run.json", "k8s.yml"},
		Version:     "(devel)", Commit: "0123456789abcdef0123456789abcdef01234567+dirty",
		Cluster: "builtin", Kubectl: "/usr/lib/google-cloud-sdk/bin/kubectl.1.32", KubectlVersion: "v1.32.4", ServerVersion: "v1.32.4",
		Timeout: 60 * time.Second,
		Started: started, Duration: 70500 * ms, Status: Interrupted,
		Chapters: []ChapterResult{ch1, ch2, ch3, ch4},
		Notes:    []string{"pane 1: shell replaced after exit status 137"},
	}
}

// passingRun is a one-chapter run where everything passed.
func passingRun() *Run {
	return &Run{
		Deck: []string{"fixtures/demo/pingpong.md"}, Cluster: "builtin", Timeout: time.Minute, Started: time.Date(2025, 11, 26, 16, 0, 0, 0, time.UTC),
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
