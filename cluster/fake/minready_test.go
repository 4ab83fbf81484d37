package fake

import (
	"strings"
	"testing"
	"time"
)

// A deployment's pods count as available only once they have been ready
// for minReadySeconds, as kubectl's AVAILABLE column and rollout status show.
func TestMinReadySeconds(t *testing.T) {
	s := startCluster(t, Options{})
	k := newKubectl(t, s, "")
	apply := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: slow
spec:
  replicas: 2
  minReadySeconds: 2
  selector:
    matchLabels: {app: slow}
  template:
    metadata:
      labels: {app: slow}
    spec:
      containers:
      - name: c
        image: busybox
        command: ["sleep", "1000"]
`
	if out, errs, code := k.runIn(apply, nil, "apply", "-f", "-"); code != 0 {
		t.Fatalf("apply: %s %s", out, errs)
	}
	waitStore(t, s, 10*time.Second, "2 ready pods", func() bool { return countReady(s.pods("default", "app=slow")) == 2 })
	ready := time.Now()
	// Ready, but not yet for two seconds: not available.
	if out := k.ok("get", "deploy", "slow", "--no-headers"); !strings.Contains(strings.Join(strings.Fields(out), " "), "slow 2/2 2 0") && time.Since(ready) < 1500*time.Millisecond {
		t.Errorf("right after the pods are ready: %q, want 0 available", out)
	}
	// rollout status waits for availability, which comes by itself.
	last := lastLine(k.ok("rollout", "status", "deploy/slow", "--timeout=30s"))
	if last != `deployment "slow" successfully rolled out` {
		t.Errorf("rollout status: %q", last)
	}
	if time.Since(ready) < 1500*time.Millisecond {
		t.Errorf("rolled out %s after the pods were ready, before minReadySeconds", time.Since(ready))
	}
	if out := k.ok("get", "deploy", "slow", "--no-headers"); !strings.Contains(strings.Join(strings.Fields(out), " "), "slow 2/2 2 2") {
		t.Errorf("after minReadySeconds: %q, want 2 available", out)
	}
}
