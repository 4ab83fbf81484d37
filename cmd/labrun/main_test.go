package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
	"github.com/labrun/labrun/report"
)

// The tests share one built-in cluster, in a network namespace of the test
// binary's own; the binary doubles as the busybox its containers run.
func TestMain(m *testing.M) {
	// Commands that run labrun itself (git bisect run) run this binary.
	builtintest.Main(m, func() (int, bool) {
		if os.Getenv("LABRUN_TEST_AS_MAIN") != "" && len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-test.") {
			// As labrun's main does: a command that starts the built-in
			// cluster enters a network namespace of its own first.
			if code, exited := network.Enter(os.Args, os.Stderr); exited {
				return code, true
			}
			return Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr), true
		}
		return 0, false
	})
}

// labrun runs the CLI in-process and returns its exit code and outputs. A
// replay runs on the test binary's shared cluster (see onShared).
func labrun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return labrunEnv(t, context.Background(), nil, args...)
}

// labrunEnv is labrun with a context and an environment of its own (nil:
// the process's).
func labrunEnv(t *testing.T, ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		defer cancel()
	}
	var out, errw bytes.Buffer
	st := streams{in: strings.NewReader(""), out: &out, err: &errw}
	if env != nil {
		st.getenv = func(k string) string { return env[k] }
	}
	code := execute(ctx, onShared(t, args), st)
	return code, out.String(), errw.String()
}

// labrunOwn is labrun without onShared: a run starts whatever cluster its
// flags say, the built-in one by default, or fails before any starts.
func labrunOwn(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := execute(context.Background(), args, streams{in: strings.NewReader(""), out: &out, err: &errw})
	return code, out.String(), errw.String()
}

// onShared points a command that replays (run, step, regress, bisect,
// watch) at the test binary's one built-in cluster, as `--cluster
// kubeconfig --kubeconfig FILE`, so that each run works in a namespace of
// its own instead of starting a cluster: a second built-in cluster cannot
// start in the test binary's network namespace, whose cluster DNS address
// the shared one holds. Commands that name a --cluster keep it.
func onShared(t *testing.T, args []string) []string {
	t.Helper()
	if len(args) == 0 || !slices.Contains([]string{"run", "step", "regress", "bisect", "watch"}, args[0]) ||
		slices.ContainsFunc(args, func(a string) bool { return a == "--cluster" || strings.HasPrefix(a, "--cluster=") }) {
		return args
	}
	kubeconfig := builtintest.Shared(t).Kubeconfig()
	if args[0] == "watch" {
		// watch has no --kubeconfig: the kubeconfig run reads $KUBECONFIG.
		t.Setenv("KUBECONFIG", kubeconfig)
		return append([]string{args[0], "--cluster", "kubeconfig"}, args[1:]...)
	}
	return append([]string{args[0], "--cluster", "kubeconfig", "--kubeconfig", kubeconfig}, args[1:]...)
}

// needControlPlane makes labrun-k8s findable for a run that starts a
// built-in cluster of its own: bin/ at the module root, where make puts it,
// goes at the end of PATH. Without one the test skips saying why (fails
// under CI).
func needControlPlane(t *testing.T) {
	t.Helper()
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	t.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Dir(bin))
}

func needKubectl(t *testing.T) {
	t.Helper()
	if _, err := cluster.FindKubectl(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("end-to-end test needs kubectl: %v", err)
		}
		t.Skipf("skipping end-to-end test: %v (run `make test`, which builds bin/kubectl)", err)
	}
}

func TestRunDemo(t *testing.T) {
	needKubectl(t)
	code, out, errs := labrun(t, "run", "--color", "never", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"ok   ../../fixtures/demo/pingpong.md:16  $ kubectl run pingpong", "PASS 1 chapter, 4 labs, 7 steps: 7 passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunWrongExpectedOutput(t *testing.T) {
	needKubectl(t)
	src, err := os.ReadFile("../../fixtures/demo/pingpong.md")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pingpong.md")
	bad := strings.Replace(string(src), "pod/pingpong created", "pod/pingpong configured", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := labrun(t, "run", "--color", "never", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"FAIL " + path + ":16  $ kubectl run pingpong",
		path + ":25",
		"- pod/pingpong configured",
		"+ pod/pingpong created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "labrun run: no FILE given: name at least one chapter (.md) or deck manifest (.yml)\nRun 'labrun run --help' for usage.\n"},
		{[]string{"lint"}, "labrun lint: no FILE given"},
		{[]string{"run", "/nonexistent/deck.md"}, "cannot read /nonexistent/deck.md"},
		{[]string{"run", "--report", "xml=out", "x.md"}, "unknown format"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"run", "--bogus", "x.md"}, "labrun run: unknown flag: --bogus\nRun 'labrun run --help' for usage.\n"},
		{[]string{"cluster", "start", "--bogus"}, "Run 'labrun cluster start --help' for usage."},
		{[]string{"version", "extra"}, `labrun version: unexpected argument "extra"`},
		{[]string{"run", "--timeout", "0s", "x.md"}, "--timeout 0s: each step needs a time limit above zero"},
		{[]string{"run", "--timeout", "-5s", "x.md"}, "--timeout -5s: each step needs a time limit above zero"},
		{[]string{"run", "--slide", "", "x.md"}, "--slide is empty"},
		{[]string{"run", "--slide", "0", "x.md"}, `--slide "0": slide numbers are whole numbers from 1`},
		{[]string{"run", "--slide", "-1", "x.md"}, `--slide "-1": slide numbers are whole numbers from 1`},
		{[]string{"run", "--color", "sometimes", "x.md"}, `--color "sometimes": want auto, always or never`},
		{[]string{"run", "--nodes", "0", "x.md"}, "--nodes 0: the built-in cluster needs at least one node"},
		{[]string{"run", "--seed", "1", "x.md"}, "unknown flag: --seed"},
	} {
		code, _, errs := labrunOwn(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("labrun %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// A machine without labrun-k8s: the run stops before any lab with exit 2,
// says how to build it or what --control-plane wants, and leaves nothing on
// disk.
func TestRunWithoutControlPlane(t *testing.T) {
	needKubectl(t)
	kubectl, err := cluster.FindKubectl("")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("PATH", t.TempDir()) // no labrun-k8s there; the test binary has none beside it
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"--cluster builtin: labrun-k8s not found beside labrun nor on PATH: run `make controlplane` in labrun's source tree",
			"several minutes on 2 cores the first time", "or pass --control-plane DIR"}},
		{[]string{"--control-plane", "/nonexistent"}, []string{"--cluster builtin: ", "/nonexistent has no executable etcd, kube-apiserver"}},
	} {
		// A labrun of its own, in a namespace of its own: the test
		// binary's may hold the shared cluster already.
		args := append([]string{"run", "--kubectl", kubectl}, tc.args...)
		cmd := exec.Command(os.Args[0], append(args, "../../fixtures/demo/pingpong.md")...)
		cmd.Env = asLabrun(t, tmp)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		code, out, errs := cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
		if code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s\n%s", tc.args, code, out, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, errs)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
			t.Errorf("%v: left on disk: %v", tc.args, left)
		}
	}
}

func TestListDemo(t *testing.T) {
	code, out, errs := labrun(t, "list", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"    ../../fixtures/demo/pingpong.md:13  lab\n",
		"      ../../fixtures/demo/pingpong.md:16  command     kubectl run pingpong --image alpine ping 127.0.0.1\n",
		"hide", "../../fixtures/demo/pingpong.md:25  expect      pod/pingpong created", "\n1 chapter, 4 labs, 7 steps\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunSelection(t *testing.T) {
	needKubectl(t)
	code, out, errs := labrun(t, "run", "--color", "never", "--slide", "2", "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "1 lab, 2 steps") && !strings.Contains(out, "1 labs, 2 steps") {
		t.Errorf("want one lab of two steps:\n%s", out)
	}
	if !strings.Contains(errs, "3 labs left out by --slide 2;") {
		t.Errorf("stderr does not say what was left out: %q", errs)
	}
	code, _, errs = labrun(t, "run", "--from", "no such title", "../../fixtures/demo/pingpong.md")
	if code != 2 || !strings.Contains(errs, "keeps no lab") {
		t.Errorf("an empty selection: exit %d, %q", code, errs)
	}
}

// --report writes a JSON report readable as a Run and a JUnit file with a
// test case per lab; both schemas are checked by report's own tests.
func TestRunReports(t *testing.T) {
	needKubectl(t)
	dir := t.TempDir()
	js, ju := filepath.Join(dir, "run.json"), filepath.Join(dir, "junit.xml")
	code, out, errs := labrun(t, "run", "-q", "--report", "json="+js, "--report", "junit="+ju, "../../fixtures/demo/pingpong.md")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	f, err := os.Open(js)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != report.Passed || len(run.Chapters) != 1 || len(run.Chapters[0].Labs) != 4 {
		t.Errorf("JSON report: %s, %d chapters", run.Status, len(run.Chapters))
	}
	// What reproduces the run.
	if !reflect.DeepEqual(run.Deck, []string{"../../fixtures/demo/pingpong.md"}) || run.Version != "(devel)" ||
		run.Timeout != time.Minute || run.KubectlVersion == "" || run.ServerVersion == "" || run.Cluster != "kubeconfig" ||
		!reflect.DeepEqual(run.CommandLine[:2], []string{"labrun", "run"}) || !slices.Contains(run.CommandLine, "-q") {
		t.Errorf("JSON report: deck %q, version %q, timeout %v, kubectl %q, server %q, cluster %q, command line %q",
			run.Deck, run.Version, run.Timeout, run.KubectlVersion, run.ServerVersion, run.Cluster, run.CommandLine)
	}
	if fi, err := os.Stat(js); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the JSON report's mode: %v, %v", fi.Mode(), err)
	}
	x, err := os.ReadFile(ju)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(x), "<testcase "); n != 7 || !strings.Contains(string(x), `failures="0"`) {
		t.Errorf("JUnit report has %d test cases:\n%s", n, x)
	}
}

// Help texts name values as people write them, not as Go types.
func TestHelp(t *testing.T) {
	code, out, _ := labrun(t, "run", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--report FORMAT=FILE", "--slide SLIDES", "130 when interrupted"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
	for _, bad := range []string{"--slide labrun list", "stringArray"} {
		if strings.Contains(out, bad) {
			t.Errorf("run --help shows %q", bad)
		}
	}
	for _, sub := range []string{"lint", "version", "list", "run"} {
		if _, out, _ := labrun(t, sub, "--help"); !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help has no examples", sub)
		}
	}
	code, out, _ = labrun(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "labrun (devel) ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestLintCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.md")
	deck := "# One\n\n---\n\n## A slide\n\n.lab[\n\n```bash\nkubectl get pods\n```\n\n<!-- ```frobnicate now``` -->\n\n]\n"
	if err := os.WriteFile(path, []byte(deck), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := labrunEnv(t, context.Background(), map[string]string{"GITHUB_ACTIONS": "true"}, "lint", path)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "\n1 problem (0 errors, 1 warning)\n") {
		t.Errorf("lint's count:\n%s", out)
	}
	if !strings.Contains(out, "::warning file="+path+",line=13,") {
		t.Errorf("no GitHub annotation for the warning:\n%s", out)
	}
}

// A report is for everyone to read.
func TestReportFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	if err := writeFileAtomic(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("report written with mode %v, want 0644", fi.Mode().Perm())
	}
}

// Ctrl-C in the middle of a step: exit 130, the step interrupted (not a Go
// error), the labs after it counted as not run, and the reports say so.
func TestRunInterrupted(t *testing.T) {
	needKubectl(t)
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	deck := filepath.Join(dir, "long.md")
	src := "# Long\n\n---\n\n## Sleeping\n\n.lab[\n\n```bash\ntouch " + started + "; sleep 300\n```\n\n]\n\n---\n\n## Never reached\n\n.lab[\n\n```bash\necho never\n```\n\n]\n"
	if err := os.WriteFile(deck, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		for {
			if _, err := os.Stat(started); err == nil {
				cancel(signalCause(os.Interrupt))
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	js, ju := filepath.Join(dir, "run.json"), filepath.Join(dir, "junit.xml")
	summary := filepath.Join(dir, "summary.md")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary}
	code, out, errs := labrunEnv(t, ctx, env, "run", "--color", "never", "--timeout", "10m", "--report", "json="+js, "--report", "junit="+ju, deck)
	if code != exitSignals {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitSignals, out, errs)
	}
	for _, want := range []string{
		"STOP " + deck + ":9  $ touch " + started + "; sleep 300",
		"     interrupted (Ctrl-C)\n",
		"STOP 1 chapter, 2 labs (1 not run), 1 step: 0 passed, 1 interrupted in ",
		"::group::Long (" + deck + ")\n",
		"::warning title=labrun%3A interrupted::1 lab not run",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "context canceled") {
		t.Errorf("a Go error reached the console:\n%s", out)
	}
	f, err := os.Open(js)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != report.Interrupted || len(run.Chapters) != 1 || len(run.Chapters[0].Labs) != 2 || !run.Chapters[0].Labs[1].NotRun() {
		t.Errorf("JSON report: %+v", run)
	}
	x, err := os.ReadFile(ju)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`type="interrupted"`, `not run: the run was interrupted before this lab`} {
		if !strings.Contains(string(x), want) {
			t.Errorf("JUnit report lacks %s:\n%s", want, x)
		}
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(md), "## ⏹️ labrun: interrupted\n") {
		t.Errorf("step summary:\n%s", md)
	}
}
