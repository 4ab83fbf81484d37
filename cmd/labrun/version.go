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
		Short: "Print labrun's version and commit, and the kubectl it would use",
		Long: `Print labrun's version (a release tag, or (devel) for a build from a
checkout), the git commit it was built from (+dirty when the checkout had
local changes; "make build" records it, a plain "go build" with
-buildvcs=false does not), the Go it was built with, and the kubectl a run
would use. With --cluster, also start that cluster and print its version.`,
		Example: `  labrun version
  labrun version --cluster builtin
  labrun --version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(st.out, "labrun %s\n", readBuild())
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
	cmd.Flags().StringVar(&clusterMode, "cluster", "", "also start this cluster (as for run: builtin, kind, kubeconfig[:CONTEXT]) and print its server version")
	_ = cmd.RegisterFlagCompletionFunc("cluster", completeCluster)
	return cmd
}

// ldCommit is the commit `make build` passes with -ldflags -X, for the
// builds Go's VCS stamping misses (git worktrees). It is the one variable
// the linker sets; nothing else writes it.
var ldCommit string

// build is what Go recorded about labrun's own build.
type build struct {
	version   string // module version: a tag, or (devel)
	commit    string // vcs.revision, +dirty when modified; "" when not recorded
	goVersion string
}

// readBuild reads labrun's build information: the module version and, for
// a build from a git checkout with VCS stamping on (make build), the commit.
func readBuild() build {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return build{version: "(devel)"}
	}
	b := build{version: bi.Main.Version, goVersion: bi.GoVersion}
	if b.version == "" {
		b.version = "(devel)"
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if b.commit != "" && dirty {
		b.commit += "+dirty"
	}
	if b.commit == "" {
		b.commit = ldCommit
	}
	return b
}

// String reads "(devel) commit 0123456789ab+dirty go1.26.0", or says the
// commit is unknown.
func (b build) String() string {
	commit := "commit unknown (built without VCS stamping: use make build)"
	if b.commit != "" {
		short, dirty := strings.CutSuffix(b.commit, "+dirty")
		if len(short) > 12 {
			short = short[:12]
		}
		if dirty {
			short += "+dirty"
		}
		commit = "commit " + short
	}
	return strings.TrimSpace(b.version + " " + commit + " " + b.goVersion)
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
