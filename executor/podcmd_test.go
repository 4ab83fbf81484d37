package executor

import (
	"strings"
	"testing"
)

// What a kubectl line runs in its pod, and whether that is a shell to type
// into or a command that ends by itself.
func TestPodCommand(t *testing.T) {
	for _, tc := range []struct {
		line  string
		ok    bool
		argv  string // words joined by |
		shell bool
	}{
		{"kubectl run --rm -it --restart=Never --image=nixery.dev/curl my-test-pod \\\n        curl color.blue.svc", true, "curl|color.blue.svc", false},
		{"kubectl run --rm -it --image=busybox sandbox-shell", true, "", false},
		{"kubectl run pause --image=alpine --rm -ti --restart=Never -- sleep 5", true, "sleep|5", false},
		{"kubectl run testcurl --rm -i --image centos -- curl -m3 $IP", true, "curl|-m3|$IP", false},
		{"kubectl run httpclient --rm -it --image alpine/httpie -- --ignore-stdin GET ollama", true, "--ignore-stdin|GET|ollama", false},
		{"kubectl run eyepod --rm -ti --restart=Never --image nixery.dev/shell/curl/kubectl -- bash", true, "bash", true},
		{"kubectl exec -ti postgres-0 -- su postgres", true, "su|postgres", true},
		{"kubectl exec -ti postgres-0 -- su postgres -c 'psql -l'", true, "su|postgres|-c|psql -l", false},
		{"kubectl -n shpod exec -it shpod -- bash", true, "bash", true},
		{"kubectl exec -it web -c nginx -- /bin/sh", true, "/bin/sh", true},
		{`kubectl exec -it web -- sh -c "echo hi > /tmp/x"`, true, "sh|-c|echo hi > /tmp/x", false},
		{"kubectl exec -it web -- busybox sh", true, "busybox|sh", true},
		{"kubectl exec deployment/ollama -ti -- top", true, "top", false},
		{"kubectl debug -it web --image=busybox --target=web", true, "", false},
		{"kubectl debug -it node/node1 --image=alpine -- chroot /host", true, "chroot|/host", false},
		{"kubectl attach -ti my-pod", true, "", false},
		{"kubectl run --rm -it --image=alpine x -- sh   # a comment", true, "sh", true},
		{"docker run -it alpine sh", false, "", false},
		{"ssh node2", false, "", false},
	} {
		argv, ok := podCommand(tc.line)
		if ok != tc.ok || strings.Join(argv, "|") != tc.argv {
			t.Errorf("podCommand(%q) = %q, %v; want %q, %v", tc.line, strings.Join(argv, "|"), ok, tc.argv, tc.ok)
		}
		if got := isShell(argv); got != tc.shell {
			t.Errorf("isShell(%q) = %v, want %v", argv, got, tc.shell)
		}
	}
}

func TestPromptLike(t *testing.T) {
	for line, want := range map[string]bool{
		"127.0.0.1:6379>": true,
		"postgres=#":      true,
		"/ #":             true,
		"bash-5.2$":       true,
		">>>":             true,
		"If you don't see a command prompt, try pressing enter.": false,
		"64 bytes from 10.244.1.3: seq=0 ttl=64 time=0.084 ms":   false,
		"": false,
	} {
		if got := promptLike(line); got != want {
			t.Errorf("promptLike(%q) = %v, want %v", line, got, want)
		}
	}
}
