package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/doctor"
)

func newDoctorCmd(st streams) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine has what runs need, and say how to get what is missing",
		Long: `Check for bash, a kubectl (on PATH or bin/kubectl beside labrun), watch and
curl, and for the optional jq, kind and a container engine (needed only for
--cluster kind). For each missing piece, say how to install it on Debian,
Ubuntu and macOS. Exit status 1 when something required is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			checks := doctor.Checks(cmd.Context(), cluster.Tools{}, cluster.Run)
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
			if !doctor.Ready(checks) {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
}
