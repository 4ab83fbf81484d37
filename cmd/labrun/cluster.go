package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/labrun/labrun/cluster/builtin"
	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/cluster/upstream"
)

func newClusterCmd(st streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Work with labrun's built-in cluster by hand",
	}
	var kubeconfig string
	var nodes int
	var verbose bool
	var controlPlane string
	start := &cobra.Command{
		Use:   "start",
		Short: "Serve the built-in cluster in the foreground until Ctrl-C",
		Long: `Start labrun's built-in Kubernetes cluster (the one runs use by default: the
real control plane, labrun-k8s, with labrun's own nodes) and keep it serving
until Ctrl-C, for trying commands by hand. It listens on 127.0.0.1 only, with
a CA and token made for this session, written into a kubeconfig: point
KUBECONFIG at it. The kubeconfig is removed on exit, since the cluster it
names is gone.

The cluster runs in a network namespace of its own, as a run's does, so that
pods, Services, the cluster DNS and NodePorts answer inside it; kubectl reaches
the API server from any shell through a port on the host's 127.0.0.1 that
labrun relays into the namespace: get, apply, describe, logs, exec, attach,
cp, debug and port-forward work. Pod and Service addresses (10.244.x.x,
10.96.x.x) and NodePorts do not answer from your shell: use kubectl
port-forward, or curl from a pod. Where no namespace can be made, labrun says
so and runs the cluster in the network fallback: NodePorts answer on
127.0.0.1, and pods, Services and nodes on loopback addresses of their own
(10.244.x.y on 127.244.x.y, 10.96.x.y on 127.96.x.y).`,
		Example: `  labrun cluster start --kubeconfig /tmp/labrun.kubeconfig &
  KUBECONFIG=/tmp/labrun.kubeconfig kubectl get nodes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodes < 1 {
				return &exitError{exitUsage, fmt.Errorf("--nodes %d: the cluster needs at least one node", nodes)}
			}
			return clusterStart(cmd.Context(), st, kubeconfig, nodes, controlPlane, verbose)
		},
	}
	start.Flags().StringVar(&kubeconfig, "kubeconfig", "", "also write the kubeconfig here (default: only in a temporary directory, whose path is printed)")
	start.Flags().IntVar(&nodes, "nodes", 3, "number of nodes (node1…nodeN)")
	start.Flags().BoolVarP(&verbose, "verbose", "v", false, "log the cluster's start and its nodes' errors to stderr")
	start.Flags().StringVar(&controlPlane, "control-plane", "", "use the kube-apiserver, kube-controller-manager, kube-scheduler and etcd binaries in this directory instead of labrun-k8s")
	cmd.AddCommand(start)
	return cmd
}

// clusterStart serves the built-in cluster until ctx ends.
func clusterStart(ctx context.Context, st streams, kubeconfig string, nodes int, controlPlane string, verbose bool) error {
	// Inside the cluster's network namespace, the host reaches the API
	// server through the listener Enter opened on the host's loopback.
	host, err := network.HostListener()
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if host != nil {
		defer host.Close()
	}
	dir, err := os.MkdirTemp("", "labrun-cluster-")
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer os.RemoveAll(dir)
	opts := builtin.Options{Dir: dir, Nodes: nodes, Upstream: upstream.Options{ControlPlaneDir: controlPlane}}
	if verbose {
		opts.Log = st.err
	}
	fmt.Fprintf(st.out, "starting the built-in cluster (%d nodes)\n", nodes)
	cl, err := builtin.Start(ctx, opts)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("starting the built-in cluster: %w", err)}
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := cl.Close(cctx); err != nil {
			fmt.Fprintf(st.err, "labrun: stopping the built-in cluster: %v\n", err)
		}
	}()
	src, server := cl.Kubeconfig(), cl.RESTConfig().Host
	if host != nil {
		u, err := url.Parse(server)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		rctx, stop := context.WithCancel(ctx)
		relayed := relay(rctx, host, u.Host)
		defer func() { stop(); <-relayed }()
		server = "https://" + host.Addr().String()
		if src, err = hostKubeconfig(cl.Kubeconfig(), dir, server); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	path, err := exportKubeconfig(src, kubeconfig)
	if err != nil {
		return err
	}
	if path != src {
		defer os.Remove(path)
	}
	fmt.Fprintf(st.out, "built-in cluster serving at %s with nodes %v\n", server, cl.Nodes())
	fmt.Fprintf(st.out, "export KUBECONFIG=%s\n", path)
	fmt.Fprintf(st.out, "Ctrl-C stops it.\n")
	select {
	case <-ctx.Done():
	case <-cl.Done():
		return &exitError{exitUsage, fmt.Errorf("the built-in cluster stopped: %w", cl.Err())}
	}
	fmt.Fprintf(st.out, "stopping the built-in cluster\n")
	return nil
}

// hostKubeconfig writes dir/host.kubeconfig: the cluster's kubeconfig
// with server as its address (the API server's certificate names
// 127.0.0.1, where the host listener is).
func hostKubeconfig(kubeconfig, dir, server string) (string, error) {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return "", err
	}
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	path := filepath.Join(dir, "host.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", err
	}
	return path, nil
}

// relay copies each connection ln accepts (on the host) to target (inside
// the namespace) and back, until ctx ends; the channel closes once every
// connection is closed.
func relay(ctx context.Context, ln net.Listener, target string) <-chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	go func() {
		defer close(done)
		defer wg.Wait()
		defer stop()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				var d net.Dialer
				t, err := d.DialContext(ctx, "tcp", target)
				if err != nil {
					return
				}
				defer t.Close()
				end := context.AfterFunc(ctx, func() { c.Close(); t.Close() })
				defer end()
				up := make(chan struct{})
				go func() {
					defer close(up)
					_, _ = io.Copy(t, c)
					_ = t.(*net.TCPConn).CloseWrite()
				}()
				_, _ = io.Copy(c, t)
				c.Close() // ends the copy the other way
				<-up
			}()
		}
	}()
	return done
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
