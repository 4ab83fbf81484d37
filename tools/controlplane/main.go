// Command labrun-k8s is the control plane of labrun's built-in cluster:
// kube-apiserver, kube-controller-manager, kube-scheduler and etcd, built from
// their upstream Go modules at a pinned version into one multi-call binary
// (like hyperkube). labrun starts each component as a child process:
//
//	labrun-k8s etcd ARGS…
//	labrun-k8s kube-apiserver ARGS…
//	labrun-k8s kube-controller-manager ARGS…
//	labrun-k8s kube-scheduler ARGS…
//
// It lives in a module of its own so that labrun's go.mod stays free of
// k8s.io/kubernetes and its replace lines.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if name == "labrun-k8s" {
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "usage: labrun-k8s etcd|kube-apiserver|kube-controller-manager|kube-scheduler|version ARGS…")
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	var cmd *cobra.Command
	switch name {
	case "etcd":
		// etcdmain.Main reads os.Args itself and exits on failure.
		etcdmain.Main(append([]string{"etcd"}, args...))
		return
	case "kube-apiserver":
		cmd = apiserver.NewAPIServerCommand()
	case "kube-controller-manager":
		cmd = controllermanager.NewControllerManagerCommand()
	case "kube-scheduler":
		cmd = scheduler.NewSchedulerCommand()
	default:
		fmt.Fprintf(os.Stderr, "labrun-k8s: unknown component %q (want etcd, kube-apiserver, kube-controller-manager or kube-scheduler)\n", name)
		os.Exit(2)
	}
	cmd.SetArgs(args)
	os.Exit(cli.Run(cmd))
}
