package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/labrun/labrun/executor"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

func newWatchCmd(st streams) *cobra.Command {
	var f runFlags
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "watch FILE...",
		Short: "Replay a chapter, then again from the first changed slide each time it is saved",
		Long: `Replay the labs like run, then watch the files: after each save, replay
from the first slide that changed. A save during a replay cuts it short.
Ctrl-C stops.

The built-in cluster (and a kind cluster created for the watch) is started
once and kept warm: after each replay, what the labs added to it is deleted
and what they changed or deleted is put back (namespaces, cluster-scoped
objects such as CRDs, ClusterRoles and PersistentVolumes, node labels,
taints and cordons), so every replay sees a fresh cluster without waiting
for one. Each replay gets fresh shells, and the labs before the changed
slide are replayed quickly and quietly first (as --prepare does): their
state is rebuilt, not reused, since the last replay went past them.`,
		Example: `  labrun watch --cluster builtin fixtures/authors/colours.md`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWatch(cmd, st, f, poll, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "builtin", "cluster to run against: builtin (default) or kind (started once and kept warm), kind:NAME, kubeconfig[:CONTEXT] (a fresh namespace per replay)")
	fl.StringVar(&f.controlPlane, "control-plane", "", "with --cluster builtin: use the kube-apiserver, kube-controller-manager, kube-scheduler and etcd binaries in this `DIR` instead of labrun-k8s")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "with --cluster kubeconfig: read the context from this `FILE` (default: $KUBECONFIG or ~/.kube/config)")
	fl.IntVar(&f.nodes, "nodes", 3, "number of nodes of the built-in cluster (node1…nodeN)")
	fl.StringVar(&f.kubectl, "kubectl", "", "kubectl to use (default: kubectl on PATH, else bin/kubectl beside labrun)")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "time limit for each step (longwait gets ten times as much)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only failures and the summary")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also print the output of passing steps")
	fl.StringVar(&f.color, "color", "auto", "colours: auto, always, never")
	fl.DurationVar(&poll, "poll", 200*time.Millisecond, "how often to look at the files")
	_ = cmd.RegisterFlagCompletionFunc("cluster", completeCluster)
	return cmd
}

func runWatch(cmd *cobra.Command, st streams, f runFlags, poll time.Duration, args []string) error {
	if err := f.validate(); err != nil {
		return &exitError{exitUsage, err}
	}
	color, err := useColor(f.color, st.out, st.env)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if executor.KeepsWarm(f.cluster) {
		fmt.Fprintf(st.out, "labrun watch: starting the %s cluster once, for every replay\n", f.cluster)
	}
	live, width := terminal(st.out)
	var sink *report.Console
	err = executor.Watch(cmd.Context(), executor.WatchOptions{
		Paths: args,
		Load:  func() (*parser.Deck, []parser.Diagnostic, error) { return loadDecks(args) },
		Run: executor.Options{Cluster: f.cluster, Kubectl: f.kubectl, Timeout: f.timeout,
			Nodes: f.nodes, ControlPlane: f.controlPlane, Kubeconfig: f.kubeconfig, Log: st.err},
		NewSink: func() report.Sink {
			sink = report.NewConsole(st.out, report.ConsoleOptions{Color: color, Quiet: f.quiet, Verbose: f.verbose, Live: live, Width: width})
			return sink
		},
		Started: func(round int, from string, prepared int) {
			if from == "" {
				fmt.Fprintf(st.out, "labrun watch: replaying %d file(s)\n", len(args))
				return
			}
			fmt.Fprintf(st.out, "\nlabrun watch: saved; replaying from %s (the %d labs before it quietly first)\n", from, prepared)
		},
		Ended: func(round int, res *report.Run, err error) {
			if sink != nil {
				sink.Close()
			}
			switch {
			case err != nil:
				fmt.Fprintf(st.out, "labrun watch: %v\n", err)
			case res == nil:
				fmt.Fprintf(st.out, "labrun watch: replay cut short by a save\n")
			}
			fmt.Fprintf(st.out, "labrun watch: watching %d file(s) for changes (Ctrl-C to stop)\n", len(args))
		},
		Reset: func(round int, did string, err error) {
			switch {
			case err != nil:
				fmt.Fprintf(st.out, "labrun watch: putting the cluster back: %v\n", err)
			case f.verbose:
				fmt.Fprintf(st.out, "labrun watch: cluster put back as it started: %s\n", did)
			}
		},
		Diagnostics: func(d []parser.Diagnostic) { printDiagnostics(st.err, d) },
		Poll:        poll,
	})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	return nil
}
