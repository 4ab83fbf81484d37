package content_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/content/contenttest"
	"github.com/labrun/labrun/parser"
)

// knownRot is the real content rot of the corpus snapshot, each checked by
// hand: every other finding would be a false positive.
var knownRot = map[string]string{
	"k8s/ingress.md:257": "k8s/traefik.yml is not in the repository", // the repository has k8s/traefik.yaml
	"k8s/openebs.md:338": "kuectl: no such command",                  // a typo of kubectl
	"k8s/record.md:27":   "--record: deprecated",                     // kubectl says it will go
	"k8s/record.md:32":   "--record: deprecated",
	"k8s/record.md:97":   "--record: deprecated",
}

// TestCorpus: kube-fullday reports the renamed Traefik manifest and the
// kuectl typo; no deck of the corpus gets any other content finding.
func TestCorpus(t *testing.T) {
	root := contenttest.CloneCorpus(t)
	var k *content.Kubectl
	if path, err := exec.LookPath("kubectl"); err == nil {
		k = content.NewKubectl(path, t.TempDir())
	} else {
		t.Logf("no kubectl: the kubectl checks are left out (%v)", err)
	}
	ctx := context.Background()
	decks, _ := filepath.Glob(filepath.Join(root, "slides", "*.yml"))
	if len(decks) < 5 {
		t.Fatalf("only %d decks in %s/slides", len(decks), root)
	}
	for _, d := range decks {
		t.Run(filepath.Base(d), func(t *testing.T) {
			deck, _ := parser.Load(d, os.ReadFile)
			src, _ := os.ReadFile(d)
			m, _ := parser.ParseManifest(d, src)
			repo, err := content.FindRepo(ctx, d, m.GitRepo)
			if err != nil {
				t.Fatal(err)
			}
			fs := content.Check(ctx, deck, content.Options{Repo: repo, Kubectl: k})
			var got []string
			for _, f := range fs {
				rel, _ := filepath.Rel(filepath.Join(root, "slides"), f.Pos.File)
				place := fmt.Sprintf("%s:%d", rel, f.Pos.Line)
				got = append(got, place)
				if w, ok := knownRot[place]; !ok || !strings.Contains(f.Message, w) {
					t.Errorf("false positive? %s: %s", place, f.Message)
				}
			}
			if filepath.Base(d) == "kube-fullday.yml" {
				sort.Strings(got)
				if strings.Join(got, " ") != "k8s/ingress.md:257 k8s/openebs.md:338" {
					t.Errorf("kube-fullday: findings at %v, want the Traefik manifest and the kuectl typo", got)
				}
			}
		})
	}
}
