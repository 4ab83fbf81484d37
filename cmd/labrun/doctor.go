package main

import (
	"fmt"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster"
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

Exit status 1 when something required is missing (for a deck: any program
its commands call), 2 when a deck cannot be read.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			checks := cluster.Doctor(cmd.Context(), exec.LookPath, cluster.Run)
			for _, c := range checks {
				mark := "ok     "
				switch {
				case !c.OK && c.Optional:
					mark = "absent "
				case !c.OK:
					mark = "MISSING"
				}
				fmt.Fprintf(st.out, "%s %-16s %s\n", mark, c.Name, c.Found)
				if !c.OK {
					fmt.Fprintf(st.out, "        needed for %s\n", c.Need)
					fmt.Fprintf(st.out, "        %s\n", c.Fix)
				}
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
