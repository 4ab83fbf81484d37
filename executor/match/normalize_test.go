package match

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		// Generated names.
		{"pod/pingpong-5f8d7b9c4c-q2w7x", "pod/pingpong-<hash>-<id>"},
		{"pingpong-xxxxxxxxxx-yyyyy", "pingpong-<hash>-<id>"},
		{"pingpong-xxxxxxxxxxx-yyyyy", "pingpong-<hash>-<id>"},
		{"replicaset.apps/pingpong-5f8d7b9c4c", "replicaset.apps/pingpong-<hash>"},
		{"replicaset.apps/pingpong-xxxxxxxxxx", "replicaset.apps/pingpong-<hash>"},
		{"coredns-76f75df574-9xkvq", "coredns-<hash>-<id>"},
		{"my-web-app-5d8f7c9b64-q7w2z", "my-web-app-<hash>-<id>"},
		{"kube-proxy-x7k2p", "kube-proxy-<id>"},
		{"app=pingpong,pod-template-hash=5f8d7b9c4c", "app=pingpong,pod-template-hash=<hash>"},
		{"pod/web-0", "pod/web-0"},                               // StatefulSet ordinals are stable
		{"deployment.apps/pingpong", "deployment.apps/pingpong"}, // no suffix
		{"node-exporter", "node-exporter"},                       // vowels: a word, not a hash
		{"pod/pingpong", "pod/pingpong"},
		// Ages.
		{"pod/pingpong   1/1   Running   0   11s", "pod/pingpong   1/1   Running   0   <age>"},
		{"a 6m02s 2h18 2h18m 7d6h 2y3d 0s", "a <age> <age> <age> <age> <age> <age>"},
		{"<invalid>   <unknown>", "<age>   <age>"},
		{"web-0   1/1   Running   1 (47h ago)   2d3h", "web-0   1/1   Running   1 (<age> ago)   <age>"},
		{"Normal  Scheduled  2m (x3 over 5m)  default-scheduler", "Normal   Scheduled   <age> (x3 over <age>)   default-scheduler"},
		{"    cpu:     100m", "cpu:   100m"}, // a quantity after a key, not an age
		{"Last Seen: 5m ago", "Last Seen: <age> ago"},
		{"RESTARTS 0 READY 1/1 443/TCP", "RESTARTS 0 READY 1/1 443/TCP"},
		// Addresses and ports.
		{"service/kubernetes   ClusterIP   10.96.0.1   <none>   443/TCP", "service/kubernetes   ClusterIP   <ip>   <none>   443/TCP"},
		{"Node:  node1/10.10.0.11", "Node:   node1/<ip>"},
		{"podCIDR: 10.244.0.0/24", "podCIDR: <ip>/24"},
		{"IPs: fd00:10:244::5, ::1, fe80::1 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "IPs: <ip>, <ip>, <ip> and <ip>"},
		{"curl http://10.96.12.4:8080/", "curl http://<ip>:8080/"},
		{"80:31234/TCP   30000 32767 32768 29999", "80:<nodeport>/TCP   <nodeport> <nodeport> 32768 29999"},
		{"17:06:28 is not an address", "17:06:28 is not an address"},
		// Timestamps.
		{"2026-11-26T17:06:28Z", "<time>"},
		{"2026-11-26T17:06:28.104356921+01:00 hello", "<time> hello"},
		{"2026-11-26 17:06:28", "<time>"},
		{"2026-11-26 17:06:28.123456 +0000 UTC m=+0.001234", "<time>"},
		{"Thu Nov 26 17:06:28 UTC 2026", "<time>"},
		{"Fri Nov  6 09:01:02 UTC 2026", "<time>"},
		{"Start Time:       Thu, 26 Nov 2026 17:06:28 +0000", "Start Time:   <time>"},
		// Identifiers, digests, versions.
		{"uid: 1b4e28ba-2fa1-11d2-883f-0016d3cca427", "uid: <uid>"},
		{`resourceVersion: "12345"`, `resourceVersion: "<rv>"`},
		{`"resourceVersion": "12345",`, `"resourceVersion": "<rv>",`},
		{"alpine@sha256:56fa17d2a7e7f168a043a2712e63aed1f8543aeafdcee47c58dcffe38ed51099", "alpine@sha256:<digest>"},
		{"Container ID:  containerd://8d3c4b1f6e2a9075c1d4e8f3a6b2c9d0e7f1a4b8c3d6e9f2a5b8c1d4e7f0a3b6", "Container ID:   containerd://<id>"},
		{"Server Version: v1.32.4", "Server Version: <version>"},
		{"GitVersion:\"v1.30.0+k3s1\"", "GitVersion:\"<version>\""},
		{"image: nginx:1.25", "image: nginx:1.25"}, // image tags are the author's choice
		// Durations.
		{"64 bytes from 127.0.0.1: seq=0 ttl=64 time=0.072 ms", "64 bytes from <ip>: seq=0 ttl=64 time=<duration>"},
		{"pulled in 1.337s (1.337s including waiting)", "pulled in <duration> (<duration> including waiting)"},
		// Spacing and control characters.
		{"  NAME\tREADY     STATUS  \r", "NAME   READY   STATUS"},
		{"\x1b[1mpod/pingpong\x1b[0m created", "pod/pingpong created"},
		{"", ""},
		// Elisions are left for Match.
		{"pod/pingpong ... Running […] …", "pod/pingpong ... Running […] …"},
	}
	for _, tc := range tests {
		got := Normalize(tc.in)
		if got != tc.want {
			t.Errorf("Normalize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if again := Normalize(got); again != got {
			t.Errorf("Normalize is not idempotent on %q: %q", got, again)
		}
	}
}
