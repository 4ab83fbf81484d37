package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/cluster/fake"
	"github.com/labrun/labrun/cluster/open"
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
	var controlPlane string
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
			if controlPlane != "" {
				return builtinStart(cmd.Context(), st, kubeconfig, nodes, controlPlane)
			}
			return clusterStart(cmd.Context(), st, kubeconfig, nodes, seed, verbose)
		},
	}
	start.Flags().StringVar(&kubeconfig, "kubeconfig", "", "also write the kubeconfig here (default: only in a temporary directory, whose path is printed)")
	start.Flags().IntVar(&nodes, "nodes", 3, "number of nodes (node1…nodeN)")
	start.Flags().Int64Var(&seed, "seed", 0, "make generated names reproducible (0: random)")
	start.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every request to stderr")
	start.Flags().StringVar(&controlPlane, "control-plane", "", "start the built-in cluster with the kube-apiserver, kube-controller-manager, kube-scheduler and etcd binaries in this directory")
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
	path, err := exportKubeconfig(srv.Kubeconfig(), kubeconfig)
	if err != nil {
		return err
	}
	if path != srv.Kubeconfig() {
		defer os.Remove(path)
	}
	fmt.Fprintf(st.out, "fake cluster serving at %s with nodes %v\n", srv.URL(), srv.Nodes())
	fmt.Fprintf(st.out, "export KUBECONFIG=%s\n", path)
	fmt.Fprintf(st.out, "Ctrl-C stops it.\n")
	<-ctx.Done()
	fmt.Fprintf(st.out, "stopping the fake cluster\n")
	return nil
}

// builtinStart serves the built-in cluster, its control plane from the
// binaries in controlPlane, until ctx ends.
func builtinStart(ctx context.Context, st streams, kubeconfig string, nodes int, controlPlane string) error {
	dir, err := os.MkdirTemp("", "labrun-cluster-")
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer os.RemoveAll(dir)
	cl, err := open.Cluster(ctx, open.Spec{Mode: "builtin", Dir: dir, Nodes: nodes, ControlPlaneDir: controlPlane, Log: st.err})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		cl.Close(cctx)
	}()
	path, err := exportKubeconfig(cl.Kubeconfig(), kubeconfig)
	if err != nil {
		return err
	}
	if path != cl.Kubeconfig() {
		defer os.Remove(path)
	}
	fmt.Fprintf(st.out, "built-in cluster serving with nodes %v\n", cl.Nodes())
	fmt.Fprintf(st.out, "export KUBECONFIG=%s\n", path)
	fmt.Fprintf(st.out, "Ctrl-C stops it.\n")
	<-ctx.Done()
	fmt.Fprintf(st.out, "stopping the built-in cluster\n")
	return nil
}

// exportKubeconfig copies the cluster's kubeconfig src to dst (--kubeconfig)
// and returns the path to tell the user: dst, or src when dst is "".
func exportKubeconfig(src, dst string) (string, error) {
	if dst == "" {
		return src, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", &exitError{exitUsage, err}
	}
	if dst, err = filepath.Abs(dst); err != nil {
		return "", &exitError{exitUsage, err}
	}
	if err := writeFileAtomic(dst, data, 0o600); err != nil {
		return "", &exitError{exitUsage, fmt.Errorf("--kubeconfig: %w", err)}
	}
	return dst, nil
}
