package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/executor"
)

func newVersionCmd(st streams) *cobra.Command {
	var kubectl, clusterMode string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print labrun's version and the kubectl it would use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(st.out, "labrun %s\n", labrunVersion())
			path, err := cluster.FindKubectl(kubectl)
			if err != nil {
				fmt.Fprintf(st.out, "kubectl: %v\n", err)
				return nil
			}
			fmt.Fprintf(st.out, "kubectl %s (%s)\n", kubectlVersion(cmd.Context(), path), path)
			if clusterMode == "" {
				return nil
			}
			v, err := executor.ServerVersion(cmd.Context(), executor.Options{Cluster: clusterMode, Kubectl: path})
			if err != nil {
				return &exitError{exitUsage, fmt.Errorf("server version of --cluster %s: %w", clusterMode, err)}
			}
			fmt.Fprintf(st.out, "server %s (--cluster %s)\n", v, clusterMode)
			return nil
		},
	}
	cmd.Flags().StringVar(&kubectl, "kubectl", "", "kubectl to report on (default: the one a run would use)")
	cmd.Flags().StringVar(&clusterMode, "cluster", "", "also start this cluster (as for run: fake, kind, kubeconfig[:CONTEXT]) and print its server version")
	return cmd
}

// labrunVersion comes from the module's build information.
func labrunVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v + " " + bi.GoVersion
}

func kubectlVersion(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version", "--client").Output()
	if err != nil {
		return "(version unknown: " + err.Error() + ")"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "Client Version:"))
}
