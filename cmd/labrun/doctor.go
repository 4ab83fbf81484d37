package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/parser"
)

func newDoctorCmd(st streams) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor [DECK...]",
		Short: "Check that this machine has what runs need, and say how to get what is missing",
		Long: `Check for bash, a kubectl (on PATH or bin/kubectl beside labrun), watch and
curl, and for the optional jq, kind and a container engine (needed only for
--cluster kind). For each missing piece, say how to install it on Debian,
Ubuntu and macOS.

Given decks or chapters, also list every program their lab commands call,
where each is found, and for each one missing the steps a run will skip
and how to install it (Debian package names where there is one).

MISSING marks what every run needs; absent marks what only some labs or
--cluster kind need. Exit status 1 when something is MISSING (for a deck:
any program its commands call), 2 when a deck cannot be read.`,
		Example: `  labrun doctor
  labrun doctor slides/kube-fullday.yml
  labrun doctor && labrun run fixtures/demo/pingpong.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			checks := cluster.Doctor(cmd.Context(), exec.LookPath, cluster.Run)
			width := 0
			for _, c := range checks {
				width = max(width, len(c.Name))
			}
			missing, absent := false, false
			for _, c := range checks {
				mark := "ok     "
				need := "needed for"
				switch {
				case !c.OK && c.Optional:
					mark, need, absent = "absent ", "needed only for", true
				case !c.OK:
					mark, missing = "MISSING", true
				}
				fmt.Fprintf(st.out, "%s %-*s  %s\n", mark, width, c.Name, c.Found)
				if !c.OK {
					pad := strings.Repeat(" ", len(mark)+1+width+2)
					fmt.Fprintf(st.out, "%s%s %s\n", pad, need, c.Need)
					fmt.Fprintf(st.out, "%sto get it: %s\n", pad, c.Fix)
				}
			}
			switch {
			case missing:
				fmt.Fprintln(st.out, "MISSING: runs cannot work without it; absent: optional, needed only where its line says.")
			case absent:
				fmt.Fprintln(st.out, "Runs have what they need; absent: optional, needed only where its line says.")
			}
			ok := cluster.Ready(checks)
			if len(args) > 0 {
				deckOK, err := doctorDeck(cmd, st, args)
				if err != nil {
					return err
				}
				ok = ok && deckOK
			}
			if !ok {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
}

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
	if k, err := executor.FindKubectl(""); err == nil {
		path = filepath.Dir(k) + string(os.PathListSeparator) + path
	}
	tools, err := executor.DeckTools(cmd.Context(), deck, path)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(st.out, "\n%s calls %d programs:\n", deck.File, len(tools))
	missing := 0
	for _, t := range tools {
		where := fmt.Sprintf("%d %s, first at %s", len(t.Steps), plural(len(t.Steps), "step", "steps"), t.Steps[0])
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
		fmt.Fprintf(st.out, "%d %s missing\n", missing, plural(missing, "program", "programs"))
	}
	return missing == 0, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
