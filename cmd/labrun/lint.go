package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/content"
	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// lintFlags are `labrun lint`'s options.
type lintFlags struct {
	kubectl string
	reports []string
	noRepo  bool
}

func newLintCmd(st streams) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Report authoring mistakes and content rot in chapters or decks",
		Long: `Report what would make a lab run wrong or not at all: unclosed fences,
unbalanced brackets, unknown directives, labs hidden in notes or comments,
bad copy regexes, placeholders nothing fills in, and more. Each problem is
printed with file:line:column, the source line and a caret.

It also checks the content against the deck's repository and the kubectl a
run would use, without a cluster: paths into the repository clone
(~/container.training/k8s/x.yaml, cd, -f, --from-file, @@INCLUDE[…]) that do
not exist, with the closest existing name and the commit that renamed or
removed them; command names that are near misses of ones the deck uses
(kuectl); kubectl commands and flags that kubectl does not have (with the
version that dropped them, when kubectl.1.NN binaries are on PATH).

Under GitHub Actions (GITHUB_ACTIONS=true) each problem is also an
annotation at its line.

Exit status: 0 when there are no errors (warnings allowed), 1 on errors,
2 when a file cannot be read.`,
		Example: `  labrun lint slides/kube-fullday.yml
  labrun lint --report json=content.json slides/kube-fullday.yml
  labrun lint slides/kube-fullday.yml && labrun run slides/kube-fullday.yml`,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			reports, err := parseLintReports(f.reports)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			deck, diags, err := loadDecks(args)
			if err != nil {
				return err
			}
			var findings []content.Finding
			if !f.noRepo {
				findings, _ = checkContent(cmd.Context(), args, deck, f.kubectl, st)
			}
			all := content.Merge(diags, findings)
			errs := printDiagnostics(st.out, all)
			if st.env("GITHUB_ACTIONS") == "true" {
				githubDiagnostics(st.out, all)
			}
			if len(all) == 0 {
				fmt.Fprintln(st.out, "no problems")
			} else {
				fmt.Fprintf(st.out, "%s (%s, %s)\n", text.Plural(len(all), "problem"), text.Plural(errs, "error"), text.Plural(len(all)-errs, "warning"))
			}
			for _, path := range reports {
				var buf bytes.Buffer
				if err := content.WriteReport(&buf, deck, all, findings); err != nil {
					return &exitError{exitUsage, err}
				}
				if err := writeFileAtomic(path, buf.Bytes(), 0o644); err != nil {
					return &exitError{exitUsage, fmt.Errorf("--report json=%s: %w", path, err)}
				}
			}
			if errs > 0 {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.kubectl, "kubectl", "", "kubectl whose commands and flags the labs are checked against (default: as for run)")
	cmd.Flags().StringArrayVar(&f.reports, "report", nil, "also write the problems, grouped by chapter: json=FILE")
	cmd.Flags().BoolVar(&f.noRepo, "no-content", false, "skip the checks against the repository and kubectl")
	return cmd
}

func parseLintReports(specs []string) ([]string, error) {
	var out []string
	for _, s := range specs {
		format, path, ok := strings.Cut(s, "=")
		if !ok || path == "" || format != "json" {
			return nil, fmt.Errorf("--report %q: want json=FILE", s)
		}
		out = append(out, path)
	}
	return out, nil
}

// checkContent runs the content checks of the decks named by args: against
// the repository each deck sits in, and the kubectl a run would use (none
// when there is no kubectl; that is said on stderr).
func checkContent(ctx context.Context, args []string, deck *parser.Deck, kubectlFlag string, st streams) ([]content.Finding, *content.Repo) {
	gitrepo := ""
	for _, a := range args {
		if strings.HasSuffix(a, ".yml") || strings.HasSuffix(a, ".yaml") {
			if src, err := os.ReadFile(a); err == nil {
				m, _ := parser.ParseManifest(a, src)
				if m.GitRepo != "" {
					gitrepo = m.GitRepo
				}
			}
		}
	}
	repo, err := content.FindRepo(ctx, args[0], gitrepo)
	if err != nil {
		fmt.Fprintf(st.err, "labrun: no repository checks: %v\n", err)
	}
	var k *content.Kubectl
	if path, err := cluster.FindKubectl(kubectlFlag); err == nil {
		k = content.NewKubectl(path, "")
		k.FindOlder("")
		defer k.Save()
	} else {
		fmt.Fprintf(st.err, "labrun: no kubectl checks: %v\n", err)
	}
	return content.Check(ctx, deck, content.Options{Repo: repo, Kubectl: k}), repo
}

// attachProblems puts each chapter's content problems into the run's
// results, for the reports.
func attachProblems(res *report.Run, fs []content.Finding) {
	for i := range res.Chapters {
		ch := &res.Chapters[i]
		for _, f := range fs {
			if f.Pos.File == ch.File {
				ch.Problems = append(ch.Problems, report.Problem{File: f.Pos.File, Line: f.Pos.Line, Col: f.Pos.Col,
					Severity: string(f.Severity), Check: f.Check, Message: f.Message, Fix: f.Fix})
			}
		}
	}
}
