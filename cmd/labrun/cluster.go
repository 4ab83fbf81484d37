package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster/fake"
)

func newClusterCmd(st streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Work with labrun's built-in fake cluster by hand",
	}
	var kubeconfig string
	var nodes int
	var seed int64
	var verbose bool
	start := &cobra.Command{
		Use:   "start",
		Short: "Serve the fake cluster in the foreground until Ctrl-C",
		Long: `Start labrun's built-in fake Kubernetes cluster (the one runs use by default)
and keep it serving until Ctrl-C, for trying commands by hand. It listens on
127.0.0.1 only, with a CA and token made for this session, written into a
kubeconfig: point KUBECONFIG at it. The kubeconfig is removed on exit, since
the cluster it names is gone.`,
		Example: `  labrun cluster start --kubeconfig /tmp/fake.kubeconfig &
  KUBECONFIG=/tmp/fake.kubeconfig kubectl get nodes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return clusterStart(cmd.Context(), st, kubeconfig, nodes, seed, verbose)
		},
	}
	start.Flags().StringVar(&kubeconfig, "kubeconfig", "", "also write the kubeconfig here (default: only in a temporary directory, whose path is printed)")
	start.Flags().IntVar(&nodes, "nodes", 3, "number of nodes (node1…nodeN)")
	start.Flags().Int64Var(&seed, "seed", 0, "make generated names reproducible (0: random)")
	start.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every request to stderr")
	cmd.AddCommand(start)
	return cmd
}

func clusterStart(ctx context.Context, st streams, kubeconfig string, nodes int, seed int64, verbose bool) error {
	dir, err := os.MkdirTemp("", "labrun-cluster-")
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer os.RemoveAll(dir)
	opts := fake.Options{Dir: dir, Nodes: nodes, Seed: seed}
	if verbose {
		opts.Log = st.err
	}
	srv, err := fake.Start(ctx, opts)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("starting the fake cluster: %w", err)}
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		srv.Close(cctx)
	}()
	path := srv.Kubeconfig()
	if kubeconfig != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		if kubeconfig, err = filepath.Abs(kubeconfig); err != nil {
			return &exitError{exitUsage, err}
		}
		if err := writeFileAtomic(kubeconfig, data, 0o600); err != nil {
			return &exitError{exitUsage, fmt.Errorf("--kubeconfig: %w", err)}
		}
		defer os.Remove(kubeconfig)
		path = kubeconfig
	}
	fmt.Fprintf(st.out, "fake cluster serving at %s with nodes %v\n", srv.URL(), srv.Nodes())
	fmt.Fprintf(st.out, "export KUBECONFIG=%s\n", path)
	fmt.Fprintf(st.out, "Ctrl-C stops it.\n")
	<-ctx.Done()
	fmt.Fprintf(st.out, "stopping the fake cluster\n")
	return nil
}
