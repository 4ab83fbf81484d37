package parser

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labrun/labrun/internal/testshared"
)

// FuzzParseChapter checks that any input gives a chapter and diagnostics
// whose positions lie inside the input, never a panic or a hang. Seeds:
// testdata/fuzz/FuzzParseChapter plus the case files and the seed chapter.
func FuzzParseChapter(f *testing.F) {
	files, _ := filepath.Glob("testdata/cases/*.md")
	// The seed chapter when it is beside the repository; the fuzzer's own
	// corpus does not need it.
	if p, err := testshared.Path("seed/kubectl-run.md"); err == nil {
		files = append(files, p)
	}
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		opts := Options{Exclude: []string{"x"}, Tokens: map[string]string{"@@A@@": "a\n---\n"},
			Includes: map[string]string{"i": "```\n.lab[\n"}, LinkBase: "https://e/"}
		ch, diags := ParseChapter("f.md", src, opts)
		if ch == nil || ch.Slides == nil {
			t.Fatal("nil chapter")
		}
		last := strings.Count(string(src), "\n") + 1
		check := func(what string, p Pos) {
			if p.File != "f.md" || p.Line < 1 || p.Line > last || p.Col < 0 {
				t.Fatalf("%s at %v outside the input (%d lines)", what, p, last)
			}
		}
		prev := 0
		for _, s := range ch.Slides {
			check("slide", s.Pos)
			if s.Number <= prev {
				t.Fatalf("slide numbers not increasing: %d after %d", s.Number, prev)
			}
			prev = s.Number
			for _, l := range s.Labs {
				check("lab", l.Pos)
				for _, st := range l.Steps {
					check("step", st.Pos)
					if st.Kind == KindCommand && strings.Contains(st.Text, "`") {
						t.Fatalf("backtick left in command %q", st.Text)
					}
				}
				if l.Expected != nil {
					check("expected", l.Expected.Pos)
				}
			}
		}
		for _, d := range diags {
			check("diagnostic", d.Pos)
			_ = d.Format()
		}
		if _, err := json.Marshal(ch); err != nil {
			t.Fatal(err)
		}
	})
}

// genCorpus builds n chapters shaped like container.training's (prose,
// lists, labs with bash, directives, yaml fences, notes), deterministically.
func genCorpus(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	prose := []string{
		"- `kubectl run` is convenient to start a single pod\n",
		"- We need to specify at least a *name* and the image we want to use\n\n  (Good thing there's only one in ours!)\n",
		"Note: `kubectl get all` is a lie. It doesn't show everything.\n",
		"- Kubernetes 1.17 is [EOL since January 2021][nonactive] <!-- ##VERSION## -->\n",
		".small[\n- nested content class with [a link](https://example.com)\n]\n",
	}
	cmds := []string{
		"kubectl run pingpong --image alpine ping 127.0.0.1",
		"kubectl get pods -o wide |\n    grep `Running`",
		"kubectl apply -f - <<EOF\n  apiVersion: v1\n  kind: Pod\n  metadata:\n    name: web\n  EOF",
		"kubectl logs `blue-xxxxxxxx-yyyyy` --tail 1",
		"for i in 1 2 3; do\n    curl -s http://`X.X.X.X`:8000/\n  done",
	}
	dirs := []string{
		"<!-- ```wait seq=3``` -->\n",
		"<!--\n```wait Every 2.0s```\n```tmux split-pane -v```\n```key ^C```\n-->\n",
		"<!-- ```hide\nkubectl wait pod --for condition=ready\n``` -->\n",
	}
	out := make([][]byte, 0, n)
	for c := 0; c < n; c++ {
		var b strings.Builder
		fmt.Fprintf(&b, "# Chapter %d\n\n", c)
		for s := 0; s < 13; s++ {
			if s > 0 {
				b.WriteString("\n---\n\n")
			}
			if r.IntN(4) == 0 {
				b.WriteString("class: extra-details\n\n")
			}
			fmt.Fprintf(&b, "## Slide %d with `code` and *emphasis*\n\n", s)
			for k := r.IntN(3) + 1; k > 0; k-- {
				b.WriteString(prose[r.IntN(len(prose))])
				b.WriteString("\n")
			}
			if r.IntN(2) == 0 {
				b.WriteString(".lab[\n\n")
				for k := r.IntN(3) + 1; k > 0; k-- {
					fmt.Fprintf(&b, "- Do step %d:\n  ```bash\n  %s\n  ```\n\n", k, cmds[r.IntN(len(cmds))])
					if r.IntN(3) == 0 {
						b.WriteString(dirs[r.IntN(len(dirs))])
						b.WriteString("\n")
					}
				}
				b.WriteString("]\n\n")
				if r.IntN(3) == 0 {
					b.WriteString("The output:\n```\nNAME       READY   STATUS    RESTARTS   AGE\npingpong   1/1     Running   0          11s\n```\n")
				}
			} else if r.IntN(3) == 0 {
				b.WriteString("```yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\nspec:\n  replicas: 3\n```\n")
			}
			if r.IntN(5) == 0 {
				b.WriteString("\n--\n\n- And one more thing\n")
			}
			if r.IntN(4) == 0 {
				b.WriteString("\n???\n\n:EN:- Running pods\n:FR:- Lancer des pods\n")
			}
		}
		out = append(out, []byte(b.String()))
	}
	return out
}

// BenchmarkParseCorpus parses a generated corpus about the size of
// container.training's slides (~1.7 MB in 335 chapters) and reports MB/s.
func BenchmarkParseCorpus(b *testing.B) {
	corpus := genCorpus(335)
	total := 0
	for _, c := range corpus {
		total += len(c)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i, c := range corpus {
			ParseChapter(fmt.Sprintf("c%d.md", i), c, Options{Exclude: []string{"self-paced"}})
		}
	}
}

func TestGenCorpusShape(t *testing.T) {
	corpus := genCorpus(335)
	total, labs := 0, 0
	for i, c := range corpus {
		total += len(c)
		ch, ds := ParseChapter(fmt.Sprintf("c%d.md", i), c, Options{})
		if HasErrors(ds) {
			t.Fatalf("generated chapter %d has errors: %v", i, ds)
		}
		labs += len(allLabs(ch))
	}
	if total < 1_500_000 || total > 1_900_000 || labs < 1000 {
		t.Errorf("corpus is %d bytes with %d labs; want about 1.7 MB", total, labs)
	}
	t.Logf("generated corpus: %d chapters, %d bytes, %d labs", len(corpus), total, labs)
}
