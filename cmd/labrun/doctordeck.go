package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/internal/text"
	"github.com/labrun/labrun/parser"
)

// doctorDeck lists what the decks' commands call and what of it is missing.
func doctorDeck(cmd *cobra.Command, st streams, args []string) (bool, error) {
	deck, diags, err := loadDecks(args)
	if err != nil {
		return false, err
	}
	if parser.HasErrors(diags) {
		var errs []parser.Diagnostic
		for _, d := range diags {
			if d.Severity == parser.SeverityError {
				errs = append(errs, d)
			}
		}
		printDiagnostics(st.err, errs)
		return false, &exitError{exitUsage, fmt.Errorf("the input has errors (%d, shown above; labrun lint shows the warnings too)", len(errs))}
	}
	// The lab shell's PATH: kubectl comes first from the sandbox, the
	// rest from this one.
	path := os.Getenv("PATH")
	if k, err := cluster.FindKubectl(""); err == nil {
		path = filepath.Dir(k) + string(os.PathListSeparator) + path
	}
	tools, err := executor.DeckTools(cmd.Context(), deck, path)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(st.out, "\n%s calls %d programs:\n", deck.File, len(tools))
	missing := 0
	for _, t := range tools {
		where := fmt.Sprintf("%s, first at %s", text.Plural(len(t.Steps), "step"), t.Steps[0])
		switch {
		case t.Name == "ssh":
			fmt.Fprintf(st.out, "not needed %-14s %s: the replay already runs as on node1\n", t.Name, where)
		case t.Missing() && t.Typo != "":
			missing++
			fmt.Fprintf(st.out, "MISSING    %-14s %s: a typo of %s? A run fails there, as it would for a person\n", t.Name, where, t.Typo)
		case t.Missing():
			missing++
			fmt.Fprintf(st.out, "MISSING    %-14s %s: a run skips them and does not verify what follows in their chapters\n", t.Name, where)
			fmt.Fprintf(st.out, "           %s\n", executor.Install(t.Name))
		default:
			fmt.Fprintf(st.out, "ok         %-14s %s\n", t.Name, t.Path)
		}
	}
	if missing > 0 {
		fmt.Fprintf(st.out, "%s missing\n", text.Plural(missing, "program"))
	}
	return missing == 0, nil
}
