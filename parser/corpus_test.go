package parser

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestCorpus runs every chapter and manifest under $LABRUN_CORPUS (e.g. the
// slides/ folder of container.training, which is not committed here)
// through Load and reports counts. It is skipped when the variable is unset.
func TestCorpus(t *testing.T) {
	root := os.Getenv("LABRUN_CORPUS")
	if root == "" {
		t.Skip("LABRUN_CORPUS not set")
	}
	var mds, ymls []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
		case strings.HasSuffix(p, ".md"):
			mds = append(mds, p)
		case strings.HasSuffix(p, ".yml") && filepath.Dir(p) == filepath.Clean(root):
			ymls = append(ymls, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var labs, cmds, dirs, expected, slides, bytes int
	kinds := map[Kind]int{}
	sev := map[Severity]int{}
	msgs := map[string]int{}
	var slowest time.Duration
	var slowFile string
	start := time.Now()
	for _, p := range mds {
		t0 := time.Now()
		deck, diags := Load(p, os.ReadFile)
		if d := time.Since(t0); d > slowest {
			slowest, slowFile = d, p
		}
		if fi, err := os.Stat(p); err == nil {
			bytes += int(fi.Size())
		}
		for _, ch := range deck.Chapters {
			slides += len(ch.Slides)
			for _, s := range ch.Slides {
				for _, l := range s.Labs {
					labs++
					if l.Expected != nil {
						expected++
					}
					for _, st := range l.Steps {
						kinds[st.Kind]++
						if st.Kind == KindCommand {
							cmds++
						} else {
							dirs++
						}
					}
				}
			}
		}
		for _, d := range diags {
			sev[d.Severity]++
			m := d.Message
			if i := strings.IndexAny(m, "(\"`0123456789"); i > 0 {
				m = m[:i]
			}
			msgs[string(d.Severity)+": "+m]++
			if os.Getenv("LABRUN_CORPUS_V") != "" {
				t.Log(d.Format())
			}
		}
	}
	total := time.Since(start)
	t.Logf("chapters=%d bytes=%d slides=%d labs=%d commands=%d directives=%d expected=%d", len(mds), bytes, slides, labs, cmds, dirs, expected)
	t.Logf("kinds=%v", kinds)
	t.Logf("diagnostics: %v", sev)
	keys := make([]string, 0, len(msgs))
	for k := range msgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %4d %s", msgs[k], k)
	}
	t.Logf("time: total %v, per chapter %v, slowest %v (%s)", total, total/time.Duration(max(len(mds), 1)), slowest, slowFile)
	for _, y := range ymls {
		t0 := time.Now()
		deck, diags := Load(y, os.ReadFile)
		nl, ne := 0, 0
		for _, ch := range deck.Chapters {
			for _, s := range ch.Slides {
				nl += len(s.Labs)
			}
		}
		for _, d := range diags {
			if d.Severity == SeverityError {
				ne++
			}
			if strings.HasPrefix(d.Message, "cannot read") {
				t.Log(d.Format())
			}
		}
		t.Logf("manifest %s: chapters=%d labs=%d diagnostics=%d errors=%d in %v", filepath.Base(y), len(deck.Chapters), nl, len(diags), ne, time.Since(t0))
	}
}
