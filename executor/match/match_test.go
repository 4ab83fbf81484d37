package match

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden diffs in testdata/")

// TestForgiven: what legitimately varies between runs must match.
func TestForgiven(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual string
	}{
		{"seed pod created", seedCreated, "pod/pingpong created\n"},
		{"seed scale error", seedNotFound, seedNotFound},
		{"seed get all: suffixes, ages, column widths", seedGetAll, getAll132},
		{"seed get all: leftover rows and tables", seedGetAll, getAllLeftovers},
		{"placeholder pod name, wide columns, IP", slidePodsWide, podsWide132},
		{"describe with elisions, timestamps, IPs", slideDescribe, describe132},
		{"ping logs with elision", slideLogs, logs132},
		{"versions", slideVersion, version131},
		{"NodePorts and cluster IPs", slideServices, services132},
		{"events: LAST SEEN ages and <unknown>", slideEvents, events132},
		{"date(1) with a space-padded day", slideDate, date},
		{"logs --timestamps", slideTimestamps, timestamps132},
		{"warning and blank lines around", "deployment.apps/pingpong scaled\n",
			"Warning: spec.template.spec.containers[0].image: short name\n\ndeployment.apps/pingpong scaled\n\n"},
		{"CRLF and trailing spaces", "pod/pingpong created  \r\n", "pod/pingpong created\r\n"},
		{"single-space hand-typed table row", "pod/pingpong 1/1 Running 0 6m02s\n",
			"NAME           READY   STATUS    RESTARTS   AGE\npod/pingpong   1/1     Running   0          19s\n"},
		{"restarts with ago", "pingpong   1/1   Running   2 (3m ago)   10m\n",
			"pingpong   1/1     Running   2 (47s ago)   9m12s\n"},
		{"inline elision inside a name", "pod/pingpong-... created\n", "pod/pingpong-7d9c8b5f4d-x2vqp created\n"},
		{"inline elision for whole cells", "pingpong ... Running ...\n",
			"pingpong   1/1     Running   0          6m2s\n"},
		{"bracketed elision line between rows", "NAME READY\n[...]\npod/b 1/1\n",
			"NAME   READY\npod/a  1/1\npod/b  1/1\n"},
		{"empty expected", "\n\n", "anything\n"},
		{"only elisions", "...\n…\n", ""},
		{"pod suffix without hash (DaemonSet)", "kube-proxy-x7k2p   1/1   Running\n", "kube-proxy-9qvbl   1/1   Running\n"},
		{"hand placeholder 11 x's", "pod/pingpong-xxxxxxxxxxx-yyyyy   1/1   Running   0   11s\n",
			"pod/pingpong-5f8d7b9c4c-q2w7x   1/1     Running   0          3s\n"},
		{"ipv6", "IP: fd00:10:244::5\n", "IP: fd00:10:244:1::2a\n"},
		{"digests and container IDs", "Image ID:  docker.io/library/alpine@sha256:" + strings.Repeat("a", 64) + "\n",
			"    Image ID:      docker.io/library/alpine@sha256:" + strings.Repeat("0", 64) + "\n"},
		{"uid and resourceVersion", "  uid: 1b4e28ba-2fa1-11d2-883f-0016d3cca427\n  resourceVersion: \"4242\"\n",
			"  resourceVersion: \"17\"\n  uid: 0c6cd1f1-0000-4d2b-9c5e-2b1a56c8d3e4\n  resourceVersion: \"18\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Match(tc.expected, tc.actual)
			if !r.OK {
				t.Fatalf("want OK, got %s\n%s", r.Explanation, r.Diff)
			}
			if r.Diff != "" || r.Explanation != "" || len(r.Missing) != 0 {
				t.Errorf("OK result carries failure details: %+v", r)
			}
		})
	}
}

// TestCaught: broken promises must fail, with a golden diff that explains.
func TestCaught(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual string
		missing          []int
		explanation      string // substring
	}{
		{"wrong status word", seedCreated, "pod/pingpong configured\n", []int{0},
			`expected line 1 "pod/pingpong created" not found in the actual output; closest is actual line 1 "pod/pingpong configured"`},
		{"wrong name", seedCreated, "pod/pongping created\n", []int{0}, `closest is actual line 1 "pod/pongping created"`},
		{"missing table row", seedGetAll, getAllMissingRS, []int{10, 11},
			`expected line 11 "NAME DESIRED CURRENT READY AGE" not found after actual line 9 (1 more expected line missing)`},
		{"wrong counts", seedGetAll, getAllNotReady, []int{2, 8, 11},
			`expected line 3 "pod/pingpong-<hash>-<id> 1/1 Running 0 <age>" not found after actual line 2`},
		{"different error message", seedNotFound, "Error from server (NotFound): pods \"pingpong\" not found\n", []int{0}, `not found in the actual output`},
		{"error where success was promised", seedCreated,
			"Error from server (AlreadyExists): pods \"pingpong\" already exists\n", []int{0},
			`; the output shows an error: "Error from server (AlreadyExists): pods \"pingpong\" already exists"`},
		{"success where an error was promised", seedNotFound, "deployment.apps/pingpong scaled\n", []int{0}, `not found in the actual output`},
		{"nothing printed", seedCreated, "\n", []int{0}, `the command printed nothing`},
		{"rows out of order", "pod/a created\npod/b created\n", "pod/b created\npod/a created\n", []int{1},
			`expected line 2 "pod/b created" not found after actual line 2`},
		{"different image in describe", slideDescribe, strings.Replace(describe132, `"alpine"`, `"busybox"`, -1), []int{14, 15}, `Pulling image \"alpine\"`},
		{"different node", slidePodsWide, strings.Replace(podsWide132, "node2", "node1", 1), []int{1}, "closest is actual line 2"},
		{"NodePort must stay a NodePort", slideServices, strings.Replace(services132, "NodePort ", "ClusterIP", 1), []int{1}, "closest"},
		{"long output one missing row", "NAME READY STATUS RESTARTS AGE\npingpong-5f8d7b9c4c-q2w7x 1/1 Running 0 3s\nweb-0 1/1 Running 0 3s\n",
			podList(200), []int{2}, `expected line 3 "web-0 1/1 Running 0 <age>" not found after actual line 2`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Match(tc.expected, tc.actual)
			if r.OK {
				t.Fatalf("want a failure, got OK")
			}
			if !slices.Equal(r.Missing, tc.missing) {
				t.Errorf("Missing = %v, want %v\n%s", r.Missing, tc.missing, r.Diff)
			}
			if !strings.Contains(r.Explanation, tc.explanation) {
				t.Errorf("Explanation = %q, want it to contain %q", r.Explanation, tc.explanation)
			}
			if r.Diff == "" || strings.Contains(r.Explanation, "\n") {
				t.Errorf("want a diff and a one-line explanation, got %q / %q", r.Diff, r.Explanation)
			}
			var minus []string
			for _, l := range strings.Split(r.Diff, "\n") {
				if rest, ok := strings.CutPrefix(l, "- "); ok {
					minus = append(minus, tokens(rest))
				}
			}
			for _, m := range r.Missing {
				if !slices.Contains(minus, tokens(r.Expected[m])) {
					t.Errorf("diff does not show missing line %d %q", m, r.Expected[m])
				}
			}
			golden(t, r.Explanation+"\n"+r.Diff)
		})
	}
}

func golden(t *testing.T, got string) {
	t.Helper()
	name := strings.NewReplacer(" ", "_", ":", "", "'", "").Replace(t.Name())
	path := filepath.Join("testdata", filepath.Base(name)+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("diff differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func TestDiffIsCompact(t *testing.T) {
	// Many missing lines spread over a long output: the diff is capped.
	var exp strings.Builder
	for i := range 100 {
		exp.WriteString("nope-" + strings.Repeat("z", i%7+1) + " 1/1 Running 0 3s\n")
	}
	r := Match(exp.String(), podList(500))
	lines := strings.Count(r.Diff, "\n")
	if lines > diffMaxLines+2 {
		t.Errorf("diff has %d lines, want at most %d", lines, diffMaxLines+2)
	}
	if !strings.Contains(r.Diff, "@@ diff truncated:") {
		t.Errorf("diff does not say it was truncated:\n%s", r.Diff)
	}
	if len(r.Missing) != 100 {
		t.Errorf("Missing has %d lines, want 100", len(r.Missing))
	}
}

func TestExpectsError(t *testing.T) {
	tests := []struct {
		expected string
		want     bool
	}{
		{seedNotFound, true},
		{"error: the server doesn't have a resource type \"pod2\"\n", true},
		{"Error: unknown flag: --replica\nSee 'kubectl scale --help' for usage.\n", true},
		{"deployment.apps/web created\nError from server (AlreadyExists): services \"web\" already exists\n", true},
		{"Error from server (BadRequest): container \"pingpong\" in pod \"pingpong\" is waiting to start: ContainerCreating", true},
		{seedCreated, false},
		{seedGetAll, false},
		{"    Message:  Error: ImagePullBackOff\n", false}, // indented: part of describe
		{"errors: none\n", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := ExpectsError(tc.expected); got != tc.want {
			t.Errorf("ExpectsError(%q) = %v, want %v", tc.expected, got, tc.want)
		}
		if got := Match(tc.expected, tc.expected); got.ExpectError != tc.want || !got.OK {
			t.Errorf("Match(%q, itself) = OK %v ExpectError %v, want OK and %v", tc.expected, got.OK, got.ExpectError, tc.want)
		}
	}
}

func TestResultLines(t *testing.T) {
	r := Match("pod/pingpong created\n\n...\n", "pod/pingpong created\r\n\n\n")
	if want := []string{"pod/pingpong created", "", "..."}; !slices.Equal(r.Expected, want) {
		t.Errorf("Expected = %q, want %q", r.Expected, want)
	}
	if want := []string{"pod/pingpong created"}; !slices.Equal(r.Actual, want) {
		t.Errorf("Actual = %q, want %q", r.Actual, want)
	}
}

// podList renders a `kubectl get pods` of n pods of one Deployment.
func podList(n int) string {
	var b strings.Builder
	b.WriteString("NAME                        READY   STATUS    RESTARTS   AGE\n")
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	for i := range n {
		id := []byte("q2w7x")
		for k, x := 0, i; k < 5; k, x = k+1, x/len(alphabet) {
			id[k] = alphabet[x%len(alphabet)]
		}
		b.WriteString("pingpong-7d9c8b5f4d-" + string(id) + "   1/1     Running   0          " + []string{"3s", "14s", "2m5s", "9m"}[i%4] + "\n")
	}
	return b.String()
}

func BenchmarkMatch200Pods(b *testing.B) {
	actual := podList(200)
	// The worst case for a match: the last row is the one expected.
	lines := strings.Split(strings.TrimSpace(actual), "\n")
	expected := lines[0] + "\n" + lines[1] + "\n...\n" + lines[len(lines)-1] + "\n"
	b.ReportAllocs()
	for b.Loop() {
		if r := Match(expected, actual); !r.OK {
			b.Fatal(r.Explanation)
		}
	}
}

func BenchmarkMatch200PodsMissing(b *testing.B) {
	actual := podList(200)
	expected := "NAME READY STATUS RESTARTS AGE\nweb-0 1/1 Running 0 3s\n"
	b.ReportAllocs()
	for b.Loop() {
		if r := Match(expected, actual); r.OK {
			b.Fatal("want a failure")
		}
	}
}

func TestElisions(t *testing.T) {
	tests := []struct {
		expected, actual string
		want             bool
	}{
		{"a ... b", "a b", true},
		{"a ... b", "a x y z b", true},
		{"a ... b", "ab", false},
		{"a ... b", "a x y z c", false},
		{"... created", "pod/pingpong created", true},
		{"... created", "pod/pingpong configured", false},
		{"pod/pingpong-... created", "pod/pongping-x2vqp created", false},
		{"pod/pingpong [...]", "pod/pingpong   1/1   Running", true},
		{"Error from server (NotFound): ...", seedNotFound, true},
		{"Error from server (NotFound): ...", "Error from server (AlreadyExists): pods \"x\" already exists", false},
		{"a (x.*+?) …", "a (x.*+?) anything", true}, // regexp metacharacters are literal
		{"a (x.*+?) …", "a (xyz) anything", false},
	}
	for _, tc := range tests {
		if got := Match(tc.expected, tc.actual).OK; got != tc.want {
			t.Errorf("Match(%q, %q).OK = %v, want %v", tc.expected, tc.actual, got, tc.want)
		}
	}
}

func TestErrorWordings(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"cat: nope.yaml: No such file or directory\n", "cat: nope.yaml: No such file or directory"},
		{"bash: helm: command not found\n", "bash: helm: command not found"},
		{"curl: (7) Failed to connect to 10.0.0.1 port 80 after 0 ms: Couldn't connect to server\n", "curl: (7) Failed to connect to 10.0.0.1 port 80 after 0 ms: Couldn't connect to server"},
		{"NAME   READY\nweb    1/1\n", ""},
		{"  cat: x: No such file or directory\n", ""}, // indented: quoted output
		{"Every 2.0s: kubectl get pods\n\nerror: the server doesn't have a resource type \"pods2\"\n", `error: the server doesn't have a resource type "pods2"`},
	} {
		if got := ErrorLine(tc.text); got != tc.want {
			t.Errorf("ErrorLine(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestAnnouncesError(t *testing.T) {
	for _, tc := range []struct {
		block, want string
	}{
		{"kubectl create -f deployment-purple.yaml\n# This gives an error (\"AlreadyExists\")\n", `# This gives an error ("AlreadyExists")`},
		{"kubectl get pods nope   # this fails: there is no such pod\n", "# this fails: there is no such pod"},
		{"kubectl apply -f x.yaml\n# This should not give an error\n", ""},
		{"kubectl apply -f x.yaml   # no error this time\n", ""},
		{"echo 'not # an error'\n", ""},
		{"curl http://blue.nip.io/hello   # does not work\n", ""},
		{"cat > x.sh <<EOF\n# fail on error\nset -e\nEOF\n", ""},
		{"kubectl get pods\n", ""},
	} {
		if got := AnnouncesError(tc.block); got != tc.want {
			t.Errorf("AnnouncesError(%q) = %q, want %q", tc.block, got, tc.want)
		}
	}
}
