package parser

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// dump renders a chapter and its diagnostics as text a person can review
// line by line: every slide with labs, every step in order with its place.
// show renders each text taken from the chapter (titles, commands, outputs,
// diagnostics): as it is for our own cases, as a fingerprint for the seed
// chapter, whose text stays out of this repository.
func dump(ch *Chapter, diags []Diagnostic, show func(string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "chapter %s title=%q slides=%d\n", ch.File, show(ch.Title), len(ch.Slides))
	for _, s := range ch.Slides {
		if len(s.Labs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "slide %d %s title=%q", s.Number, s.Pos, show(s.Title))
		if s.Name != "" {
			fmt.Fprintf(&b, " name=%q", show(s.Name))
		}
		if len(s.Classes) > 0 {
			fmt.Fprintf(&b, " classes=%s", strings.Join(s.Classes, ","))
		}
		b.WriteByte('\n')
		for _, l := range s.Labs {
			fmt.Fprintf(&b, "  lab %s\n", l.Pos)
			for _, st := range l.Steps {
				fmt.Fprintf(&b, "    %s %s", st.Kind, st.Pos)
				if st.Directive != "" {
					fmt.Fprintf(&b, " directive=%s", st.Directive)
				}
				if st.Hidden {
					b.WriteString(" hidden")
				}
				b.WriteByte('\n')
				if st.Kind == KindCommand || strings.Contains(st.Text, "\n") {
					for _, t := range strings.Split(st.Text, "\n") {
						fmt.Fprintf(&b, "      | %s\n", show(t))
					}
				} else {
					fmt.Fprintf(&b, "      text=%q\n", show(st.Text))
				}
				for _, ph := range st.Placeholders {
					fmt.Fprintf(&b, "      placeholder %q ~ %s\n", show(ph.Text), show(ph.Pattern))
				}
			}
			if l.Expected != nil {
				fmt.Fprintf(&b, "    expected %s\n", l.Expected.Pos)
				for _, t := range strings.Split(l.Expected.Text, "\n") {
					fmt.Fprintf(&b, "      > %s\n", show(t))
				}
			}
		}
	}
	if len(diags) > 0 {
		b.WriteString("diagnostics:\n")
		for _, d := range diags {
			for _, t := range strings.Split(d.Format(), "\n") {
				fmt.Fprintf(&b, "  %s\n", show(t))
			}
		}
	}
	return b.String()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
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
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n--- got\n%s", path, got)
	}
}

func TestSeedGolden(t *testing.T) {
	_, src := seedChapter(t)
	ch, diags := ParseChapter("kubectl-run.md", src, Options{Exclude: []string{"self-paced"}})
	golden(t, "seed/kubectl-run.golden", dump(ch, diags, fingerprint))
}

// verbatim shows our own cases' text as it is.
func verbatim(s string) string { return s }

// fingerprint stands for a text of the seed chapter in its goldens: its
// length and a hash, so that a change in what the parser takes from the
// chapter still shows, while the chapter's words stay in ../shared.
func fingerprint(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("#%s/%d", hex.EncodeToString(sum[:5]), len(s))
}

// fingerprintJSON replaces every string of a JSON value with its
// fingerprint, but for the fields that are ours (kinds, directives, the
// file's name), which keep the golden readable.
func fingerprintJSON(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = fingerprintJSON(e, k)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = fingerprintJSON(e, key)
		}
		return v
	case string:
		switch key {
		case "kind", "directive", "file", "severity", "lang":
			return v
		}
		return fingerprint(v)
	}
	return v
}

// TestSeedJSON pins the JSON the executor and `labrun list --json` see.
func TestSeedJSON(t *testing.T) {
	_, src := seedChapter(t)
	// The same name as before the chapter moved out of testdata/, so the
	// golden file names no path of this machine.
	deck, diags := Load("testdata/seed/kubectl-run.md", func(string) ([]byte, error) { return src, nil })
	raw, err := json.Marshal(struct {
		Deck        *Deck        `json:"deck"`
		Diagnostics []Diagnostic `json:"diagnostics"`
	}{deck, diags})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(fingerprintJSON(v, ""), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "seed/kubectl-run.json", string(out)+"\n")
}
