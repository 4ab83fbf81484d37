package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/doctor"
)

func newDoctorCmd(st streams) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor [DECK...]",
		Short: "Check that this machine has what runs need, and say how to get what is missing",
		Long: `Check for bash, a kubectl (on PATH or bin/kubectl beside labrun), watch,
curl and labrun-k8s (the built-in cluster's control plane, which every run
uses unless --cluster says otherwise: make controlplane builds it), and for
the optional jq, kind and a container engine (needed only for --cluster
kind). For each missing piece, say how to install or build it on Debian,
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
			checks := doctor.Checks(cmd.Context(), cluster.Tools{}, cluster.Run)
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
			ok := doctor.Ready(checks)
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
