package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
)

func newListCmd(st streams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list FILE...",
		Short: "Print the steps a run would replay, without running anything",
		Long: `Print, for each chapter, the slides that hold labs and the steps a run would
replay: file:line, step kind, the command or directive argument, and the
expected output a lab's last command is checked against. --json prints the
same as JSON (schema in the README).`,
		Example: `  labrun list ../shared/seed/kubectl-run.md
  labrun list --json deck.yml | jq '.chapters[].slides[].labs[].steps[].text'`,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			deck, diags, err := loadDecks(args)
			if err != nil {
				return err
			}
			if asJSON {
				if diags == nil {
					diags = []parser.Diagnostic{}
				}
				enc := json.NewEncoder(st.out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					*parser.Deck
					Diagnostics []parser.Diagnostic `json:"diagnostics"`
				}{deck, diags})
			}
			printDiagnostics(st.err, diags)
			printDeck(st.out, deck)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

// printDeck lists labs and steps for people, each at its file:line, so a
// terminal or an editor can jump there.
func printDeck(w io.Writer, deck *parser.Deck) {
	labs, steps := 0, 0
	for _, ch := range deck.Chapters {
		fmt.Fprintf(w, "%s", ch.File)
		if ch.Title != "" {
			fmt.Fprintf(w, "  %s", ch.Title)
		}
		fmt.Fprintln(w)
		for _, sl := range ch.Slides {
			if len(sl.Labs) == 0 {
				continue
			}
			fmt.Fprintf(w, "  slide %d  %s\n", sl.Number, sl.Title)
			for _, lab := range sl.Labs {
				labs++
				fmt.Fprintf(w, "    %s:%d  lab\n", lab.Pos.File, lab.Pos.Line)
				for _, s := range lab.Steps {
					steps++
					kind := string(s.Kind)
					if s.Directive != "" && s.Directive != kind {
						kind += "(" + s.Directive + ")"
					}
					printStep(w, s.Pos.File, s.Pos.Line, kind, s.Text)
				}
				if lab.Expected != nil {
					printStep(w, lab.Expected.Pos.File, lab.Expected.Pos.Line, "expect", lab.Expected.Text)
				}
			}
		}
	}
	fmt.Fprintf(w, "%s, %s, %s\n", text.Plural(len(deck.Chapters), "chapter"), text.Plural(labs, "lab"), text.Plural(steps, "step"))
}

// printStep prints one line of the listing, the text's further lines
// aligned under its first.
func printStep(w io.Writer, file string, line int, kind, body string) {
	head := fmt.Sprintf("      %s:%d  %-10s  ", file, line, kind)
	pad := strings.Repeat(" ", utf8.RuneCountInString(head))
	fmt.Fprintf(w, "%s%s\n", head, strings.ReplaceAll(strings.TrimRight(body, "\n"), "\n", "\n"+pad))
}
