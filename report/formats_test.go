package report

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// runs are the runs every report format is checked with.
func runs() map[string]*Run {
	return map[string]*Run{
		"sample":  sampleRun(),
		"passing": passingRun(),
		"empty":   {Deck: []string{"empty.md"}, Cluster: "builtin", Status: Skipped},
	}
}

func compileRunSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat() // "started" must really be a date-time
	sch, err := c.Compile(filepath.Join("testdata", "run.schema.json"))
	if err != nil {
		t.Fatalf("compiling the JSON schema: %v", err)
	}
	return sch
}

func writeJSON(t *testing.T, r *Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// JSON validation uses github.com/santhosh-tekuri/jsonschema/v6, a full
// JSON Schema 2020-12 validator, against testdata/run.schema.json.
func TestJSONMatchesSchema(t *testing.T) {
	sch := compileRunSchema(t)
	for name, r := range runs() {
		t.Run(name, func(t *testing.T) {
			out := writeJSON(t, r)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("WriteJSON wrote invalid JSON: %v", err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("WriteJSON's output does not match run.schema.json: %v", err)
			}
			if name == "sample" {
				golden(t, "run.golden.json", out)
			}
		})
	}
}

// The schema is strict enough to catch what a careless change would do.
func TestJSONSchemaRejects(t *testing.T) {
	sch := compileRunSchema(t)
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"unknown status", func(m map[string]any) { m["status"] = "ok" }},
		{"undocumented field", func(m map[string]any) { m["host"] = "x" }},
		{"null chapters", func(m map[string]any) { m["chapters"] = nil }},
		{"no duration in seconds", func(m map[string]any) { delete(m, "duration_s") }},
		{"bad start time", func(m map[string]any) { m["started"] = "yesterday" }},
		{"step without a line", func(m map[string]any) { delete(step0(m), "line") }},
		{"step with a string pane", func(m map[string]any) { step0(m)["pane"] = "1" }},
		{"negative duration", func(m map[string]any) { step0(m)["duration_ns"] = -1 }},
		{"deck as one string", func(m map[string]any) { m["deck"] = "a.md b.md" }},
		{"commit not a revision", func(m map[string]any) { m["labrun_commit"] = "unknown" }},
		{"unknown status of a lab", func(m map[string]any) { lab0(m)["status"] = "not_run" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(writeJSON(t, sampleRun()), &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			if err := sch.Validate(m); err == nil {
				t.Error("the schema accepts it")
			}
		})
	}
}

func lab0(m map[string]any) map[string]any {
	ch := m["chapters"].([]any)[0].(map[string]any)
	return ch["labs"].([]any)[0].(map[string]any)
}

func step0(m map[string]any) map[string]any {
	return lab0(m)["steps"].([]any)[0].(map[string]any)
}

func TestJSONRoundTrip(t *testing.T) {
	want := sampleRun()
	got, err := ReadJSON(bytes.NewReader(writeJSON(t, want)))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Started.Equal(want.Started) {
		t.Errorf("started: got %v, want %v", got.Started, want.Started)
	}
	got.Started = want.Started
	// Lists are written as [] even when nil in the model.
	for i := range want.Chapters {
		if want.Chapters[i].Labs == nil {
			want.Chapters[i].Labs = []LabResult{}
		}
		for j := range want.Chapters[i].Labs {
			if want.Chapters[i].Labs[j].Steps == nil {
				want.Chapters[i].Labs[j].Steps = []StepResult{}
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the run read back differs:\n got %+v\nwant %+v", got, want)
	}
	if _, err := ReadJSON(strings.NewReader(`{"deck": 3}`)); err == nil {
		t.Error("ReadJSON accepted a number for deck")
	}
}

func TestJSONDetails(t *testing.T) {
	out := string(writeJSON(t, sampleRun()))
	for _, want := range []string{
		`"duration_ns": 1250000000,`, `"duration_s": 1.25`, `"labs": []`, `"steps": []`,
		`Starting a <simple> pod & more`, `"started": "2025-11-26T17:30:00+01:00"`,
		`"deck": [`, `"timeout_ns": 60000000000,`, `"timeout_s": 60`, `"status": "interrupted"`,
		`"labrun_commit": "0123456789abcdef0123456789abcdef01234567+dirty"`, `"server_version": "v1.32.4"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON report lacks %s", want)
		}
	}
	if err := WriteJSON(&bytes.Buffer{}, nil); err == nil {
		t.Error("WriteJSON(nil) returned no error")
	}
}

// Every JSON field of the model is in the JSON schema and in SCHEMA.md,
// and the schema lists nothing the model lacks: the docs cannot drift.
func TestSchemaDocumentsEveryField(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "run.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	for def, typ := range map[string]reflect.Type{
		"run": reflect.TypeFor[Run](), "chapter": reflect.TypeFor[ChapterResult](),
		"lab": reflect.TypeFor[LabResult](), "step": reflect.TypeFor[StepResult](),
	} {
		fields := map[string]bool{"duration_s": true} // added by MarshalJSON
		if def == "run" {
			fields["timeout_s"] = true
		}
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = true
			}
		}
		props := schema.Defs[def].Properties
		for name := range fields {
			if _, ok := props[name]; !ok {
				t.Errorf("run.schema.json: %s lacks %q", def, name)
			}
			if !bytes.Contains(doc, []byte("`"+name+"`")) {
				t.Errorf("SCHEMA.md does not document %s.%s", def, name)
			}
		}
		for name := range props {
			if !fields[name] {
				t.Errorf("run.schema.json: %s has %q, which %s does not", def, name, typ.Name())
			}
		}
	}
}

func writeJUnit(t *testing.T, r *Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// xmllint validates doc against testdata/junit.xsd and returns its verdict.
// Without xmllint the test fails on CI (CI=true) and is skipped elsewhere.
func xmllint(t *testing.T, doc []byte) error {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		const why = "xmllint is not installed, so the JUnit report cannot be validated against testdata/junit.xsd " +
			"(Debian/Ubuntu: apt-get install libxml2-utils)"
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--noout", "--nonet", "--schema", filepath.Join("testdata", "junit.xsd"), "-")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &lintError{err: err, out: string(out)}
	}
	return nil
}

type lintError struct {
	err error
	out string
}

func (e *lintError) Error() string { return e.err.Error() + ": " + e.out }

func TestJUnitMatchesSchema(t *testing.T) {
	for name, r := range runs() {
		t.Run(name, func(t *testing.T) {
			out := writeJUnit(t, r)
			if err := xmllint(t, out); err != nil {
				t.Errorf("the JUnit report does not match junit.xsd: %v\n%s", err, out)
			}
		})
	}
}

// The XSD and xmllint really check: broken reports are rejected.
func TestJUnitSchemaRejects(t *testing.T) {
	good := string(writeJUnit(t, sampleRun()))
	tests := []struct{ name, old, new string }{
		{"case without a name", `<testcase name="First contact: $ kubectl get nodes"`, `<testcase`},
		{"negative count", `<testsuite name="k8s/kubectl-run.md" tests="9"`, `<testsuite name="k8s/kubectl-run.md" tests="-9"`},
		{"zoned timestamp", `timestamp="2025-11-26T16:30:00"`, `timestamp="2025-11-26T16:30:00Z"`},
		{"unknown element", `<system-out>`, `<stdout>`},
		{"line zero", `line="22"`, `line="0"`},
		{"time not a number", `time="0.183"`, `time="183ms"`},
		{"property without a value", `<property name="kind" value="command"></property>`, `<property name="kind"></property>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the report lacks %q:\n%s", tt.old, good)
			}
			if err := xmllint(t, []byte(strings.Replace(good, tt.old, tt.new, 1))); err == nil {
				t.Error("xmllint accepts it")
			}
		})
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name     string         `xml:"name,attr"`
		Tests    int            `xml:"tests,attr"`
		Failures int            `xml:"failures,attr"`
		Cases    []junitDocCase `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitDocCase struct {
	Name       string `xml:"name,attr"`
	File       string `xml:"file,attr"`
	Line       int    `xml:"line,attr"`
	Time       string `xml:"time,attr"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Failure *struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Error *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
	} `xml:"error"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut string `xml:"system-out"`
}

func (c junitDocCase) property(name string) string {
	for _, p := range c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func TestJUnitContent(t *testing.T) {
	out := writeJUnit(t, sampleRun())
	golden(t, "junit.golden.xml", out)
	var doc junitDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("the JUnit report is not XML: %v", err)
	}
	cases := map[string]junitDocCase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if _, dup := cases[s.Name+" "+c.Name]; dup {
				t.Errorf("two test cases of %s are named %q", s.Name, c.Name)
			}
			cases[s.Name+" "+c.Name] = c
		}
	}
	// A case per step (and per lab without steps): every failure counts, as
	// the console counts it.
	if doc.Tests != 17 || doc.Failures != 3 || doc.Errors != 2 || doc.Skipped != 7 {
		t.Errorf("totals: tests %d failures %d errors %d skipped %d; want 17 3 2 7", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	if n := StepCounts(sampleRun().Chapters[0].Labs); doc.Suites[0].Failures != n.Failed {
		t.Errorf("the first suite has %d failures where the console counts %d", doc.Suites[0].Failures, n.Failed)
	}
	failed, ok := cases["k8s/kubectl-run.md Starting a <simple> pod & more: $ kubectl run pingpong --image alpine ping 127.0.0.1"]
	if !ok {
		t.Fatalf("no case named after the slide title and the command; cases: %v", keys(cases))
	}
	if failed.Failure == nil || failed.File != "k8s/kubectl-run.md" || failed.Line != 42 || failed.Time != "1.250" ||
		failed.property("file") != "k8s/kubectl-run.md" || failed.property("line") != "42" || failed.property("expected") != "k8s/kubectl-run.md:47" {
		t.Fatalf("the failed step's case: %+v", failed)
	}
	for _, want := range []string{"k8s/kubectl-run.md:42", "- pod/pingpong created", "+ pod/pingpong configured", "k8s/kubectl-run.md:47"} {
		if !strings.Contains(failed.Failure.Text, want) {
			t.Errorf("the failure text lacks %q:\n%s", want, failed.Failure.Text)
		}
	}
	if failed.Failure.Message != "k8s/kubectl-run.md:42: the output differs from the expected output" {
		t.Errorf("failure message: %q", failed.Failure.Message)
	}
	second := cases["k8s/kubectl-run.md Starting a <simple> pod & more: $ kubectl logs pingpong --tail 1 | grep -c 100%"]
	if second.Failure == nil || !strings.Contains(second.SystemOut, "error,") {
		t.Errorf("the lab's second failure is not a case of its own with its output: %+v", second)
	}
	if c := cases["k8s/deployments.md slide 2: longwait Running"]; c.Error == nil || c.Error.Type != "error" || !strings.Contains(c.Error.Message, "shell in pane 1 died") {
		t.Errorf("a step that could not run is not an <error>: %+v", c)
	}
	if c := cases["k8s/deployments.md Scaling: $ kubectl rollout status deployment web"]; c.Error == nil || c.Error.Type != "interrupted" || !strings.Contains(c.Error.Message, "interrupted (Ctrl-C)") {
		t.Errorf("the interrupted step is not an <error type=interrupted>: %+v", c)
	}
	for name, want := range map[string]string{
		"k8s/kubectl-run.md Editing by hand: $ kubectl edit pod pingpong": "manual: an editor opens",
		"k8s/kubectl-run.md Editing by hand: $ kind create cluster":       "not verified: kind is not installed",
		"k8s/kubectl-run.md First contact: youtube https://youtu.be/x":    "skipped: unknown directive",
		"k8s/deployments.md Cleaning up: (lab)":                           "nothing to replay",
		"k8s/deployments.md Rolling back: (lab)":                          "not run: the run was interrupted",
		"k8s/services.md Exposing: (lab)":                                 "not run: the run was interrupted",
	} {
		if c, ok := cases[name]; !ok || c.Skipped == nil || !strings.HasPrefix(c.Skipped.Message, want) {
			t.Errorf("%s: want <skipped message=%q…>, got %+v", name, want, c)
		}
	}
	for name := range cases {
		if strings.Contains(name, "line") {
			t.Errorf("a case name holds a line number: %q", name)
		}
	}
	// The pane's escape sequence became a replacement character, not invalid XML.
	if bytes.Contains(out, []byte("\x1b")) {
		t.Error("the JUnit report holds a raw ESC")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Two identical steps on one slide get distinct, stable names.
func TestJUnitDuplicateNames(t *testing.T) {
	st := StepResult{File: "a.md", Line: 3, Kind: "command", Command: "kubectl get pods", Status: Passed}
	st2 := st
	st2.Line = 5
	r := &Run{Deck: []string{"a.md"}, Chapters: []ChapterResult{{File: "a.md", Labs: []LabResult{{File: "a.md", Line: 1, Slide: 1, SlideTitle: "T", Steps: []StepResult{st, st2}}}}}}
	out := string(writeJUnit(t, r))
	for _, want := range []string{`name="T: $ kubectl get pods"`, `name="T: $ kubectl get pods #2"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %s:\n%s", want, out)
		}
	}
}

func TestGitHubAnnotations(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGitHub(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	golden(t, "github.golden.txt", b.Bytes())
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	// 3 failed, 1 error, 1 interrupted, 1 not verified, 1 manual, and the labs never reached.
	if len(lines) != 8 {
		t.Fatalf("want 8 annotations, got %d:\n%s", len(lines), b.String())
	}
	for _, want := range []string{
		"::error file=k8s/deployments.md,line=44,title=labrun%3A command interrupted::",
		"::warning file=k8s/kubectl-run.md,line=75,title=labrun%3A command not verified::",
		"::notice file=k8s/kubectl-run.md,line=72,title=labrun%3A command left to the person::",
		"::warning title=labrun%3A interrupted::3 labs not run: the run was interrupted first\n",
		"hint: the pod's image is pulled at k8s/deployments.md:12",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the annotations lack %q", want)
		}
	}
	b.Reset()
	if err := WriteGitHub(&b, passingRun()); err != nil || b.Len() != 0 {
		t.Errorf("a passing run annotated %q (err %v)", b.String(), err)
	}
}

func TestGitHubSummary(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGitHubSummary(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	golden(t, "github-summary.golden.md", b.Bytes())
	for _, want := range []string{
		"## ⏹️ labrun: interrupted\n",
		"4 chapters, 10 labs (3 not run), 13 steps: 5 passed, 3 failed, 1 error, 1 interrupted, 1 skipped, 1 manual, 1 not verified in 1m11s",
		"| ❌ | Our first pods `k8s/kubectl-run.md` | 4 |",
		"- ❌ `k8s/kubectl-run.md:52` `$ kubectl logs pingpong --tail 1 | grep -c 100%`: exit status 1",
		"  ```diff\n  - pod/pingpong created\n  + pod/pingpong configured\n  ```\n",
		"- ⏹️ `k8s/deployments.md:44`",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := WriteGitHubSummary(&b, passingRun()); err != nil || !strings.HasPrefix(b.String(), "## ✅ labrun: passed\n") || strings.Contains(b.String(), "Failed steps") {
		t.Errorf("a passing run's summary: %q (err %v)", b.String(), err)
	}
}

func TestGitHubAnnotation(t *testing.T) {
	tests := []struct {
		name string
		st   StepResult
		want string
	}{
		{
			name: "plain",
			st:   StepResult{File: "a.md", Line: 3, Kind: "wait", Command: "Running", Status: Failed, Reason: "timed out after 1m"},
			want: "::error file=a.md,line=3,title=labrun%3A wait failed::wait Running: timed out after 1m\n",
		},
		{
			name: "properties escape comma, colon, percent, newlines",
			st:   StepResult{File: "dir,x/c:d%.md", Line: 7, Kind: "command", Command: "echo 100%", Status: Failed, Reason: "two\r\nlines\x1b[0m"},
			want: "::error file=dir%2Cx/c%3Ad%25.md,line=7,title=labrun%3A command failed::$ echo 100%25: two%0Alines\n",
		},
		{
			name: "data keeps colons and commas",
			st:   StepResult{File: "a.md", Line: 1, Kind: "check", Status: Error, Reason: "no shell: a, b"},
			want: "::error file=a.md,line=1,title=labrun%3A check could not run::check: no shell: a, b\n",
		},
		{
			name: "diff with the expected block's place",
			st: StepResult{File: "a.md", Line: 5, Kind: "command", Command: "kubectl get pods", Status: Failed, Reason: "differs",
				ExpectedLine: 9, Diff: "- a\n+ b\n"},
			want: "::error file=a.md,line=5,title=labrun%3A command failed::$ kubectl get pods: differs%0Aexpected output at a.md:9 (-) against the actual output (+):%0A- a%0A+ b\n",
		},
		{
			name: "no line",
			st:   StepResult{File: "a.md", Kind: "command", Command: "x", Status: Failed, Reason: "r"},
			want: "::error file=a.md,title=labrun%3A command failed::$ x: r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GitHubAnnotation(tt.st)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if strings.Count(got, "\n") != 1 || strings.Contains(got, "\r") {
				t.Errorf("an annotation must be one line: %q", got)
			}
		})
	}
}

func TestGitHubEscaping(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"50%", "50%25", "50%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"k: v, w", "k: v, w", "k%3A v%2C w"},
		{"%0A", "%250A", "%250A"}, // already-escaped text stays literal
	}
	for _, tt := range tests {
		if got := ghData(tt.in); got != tt.data {
			t.Errorf("ghData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := ghProperty(tt.in); got != tt.prop {
			t.Errorf("ghProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
}
