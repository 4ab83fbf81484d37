package parser

import (
	"strings"
	"testing"
)

// A command that runs until interrupted needs a wait or key after it; lint
// says so, and leaves alone what only looks similar.
func TestLintNeverReturns(t *testing.T) {
	for _, tc := range []struct {
		cmd, after string
		warn       bool
	}{
		{"watch kubectl get pods", "", true},
		{"kubectl get pods -w", "", true},
		{"kubectl get events --watch", "", true},
		{"kubectl logs deploy/worker --tail=10 --follow", "", true},
		{"kubectl logs -f pingpong", "", true},
		{"tail -f /tmp/x.log", "", true},
		{"kubectl port-forward svc/web 8080:80", "", true},
		{"watch kubectl get pods", "<!-- ```wait Every``` -->", false},
		{"kubectl logs -f pingpong", "<!-- ```key ^C``` -->", false},
		{"kubectl apply -f deploy.yaml", "", false},
		{"kubectl delete -f deploy.yaml", "", false},
		{"kubectl api-resources | grep -w nodes", "", false},
		{"kubectl port-forward svc/web 8080:80 &", "", false},
		{"kubectl get pods", "", false},
	} {
		src := "# T\n\n---\n\n## S\n\n.lab[\n\n```bash\n" + tc.cmd + "\n```\n\n" + tc.after + "\n\n]\n"
		_, diags := ParseChapter("t.md", []byte(src), Options{})
		got := false
		for _, d := range diags {
			if strings.Contains(d.Message, "does not return by itself") {
				got = true
				if d.Pos.Line != 9 || d.Severity != SeverityWarning {
					t.Errorf("%q: diagnostic at %s, %s", tc.cmd, d.Pos, d.Severity)
				}
			}
		}
		if got != tc.warn {
			t.Errorf("%q followed by %q: warned %v, want %v (%v)", tc.cmd, tc.after, got, tc.warn, diags)
		}
	}
}
