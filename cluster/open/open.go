// Package open starts or opens the cluster a run names (--cluster), so that
// the executor and the CLI see only the cluster.Cluster interface. It is a
// package of its own, not cluster.Open, because every implementation
// imports package cluster for its process and node helpers: cluster
// importing them back would be a cycle.
package open

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/builtin"
	"github.com/labrun/labrun/cluster/kind"
	"github.com/labrun/labrun/cluster/kubeconfig"
	"github.com/labrun/labrun/cluster/upstream"
)

// Modes lists the values Spec.Mode takes, for help and error texts.
const Modes = "builtin, kind, kind:NAME, kubeconfig or kubeconfig:CONTEXT"

// Spec is everything any cluster needs to start; each mode reads its part.
type Spec struct {
	// Mode is "builtin" (default: the real control plane with labrun's
	// simulated nodes), "kind" (a cluster created for the run),
	// "kind:NAME" (an existing kind cluster, left in place), "kubeconfig" or
	// "kubeconfig:CONTEXT" (an existing cluster, in a namespace of the run's).
	Mode string
	// Dir is an existing directory for the cluster's files (kubeconfig,
	// certificates, data); the run removes it afterwards.
	Dir string
	// Kubectl is the kubectl the cluster is checked with.
	Kubectl string
	// Nodes is the built-in cluster's node count.
	Nodes int
	// Keep leaves a kind cluster the run created in place.
	Keep bool
	// Namespace is the namespace a kubeconfig run uses (and keeps).
	Namespace string
	// Kubeconfig is the file a kubeconfig run reads; "" means $KUBECONFIG
	// or ~/.kube/config.
	Kubeconfig string
	// ControlPlaneDir holds kube-apiserver, kube-controller-manager,
	// kube-scheduler and etcd binaries for the built-in cluster, instead of
	// labrun-k8s (--control-plane).
	ControlPlaneDir string
	// Log receives diagnostics (kind's progress, notes); nil discards them.
	Log io.Writer
}

// Cluster starts or opens the cluster spec names. Its errors say which
// --cluster failed; what failed inside comes from the mode's package.
func Cluster(ctx context.Context, spec Spec) (cluster.Cluster, error) {
	if spec.Mode == "" {
		spec.Mode = "builtin"
	}
	mode, name, _ := strings.Cut(spec.Mode, ":")
	if spec.ControlPlaneDir != "" && mode != "builtin" {
		return nil, fmt.Errorf("--control-plane is for --cluster builtin, not %s", spec.Mode)
	}
	if spec.Kubeconfig != "" && mode != "kubeconfig" {
		return nil, fmt.Errorf("--kubeconfig is for --cluster kubeconfig, not %s", spec.Mode)
	}
	var (
		cl  cluster.Cluster
		err error
	)
	switch mode {
	case "builtin":
		if name != "" {
			return nil, fmt.Errorf("--cluster %s: the built-in cluster takes no name", spec.Mode)
		}
		cl, err = builtin.Start(ctx, builtin.Options{Dir: spec.Dir, Nodes: spec.Nodes,
			Upstream: upstream.Options{ControlPlaneDir: spec.ControlPlaneDir}})
	case "kind":
		cl, err = kind.Create(ctx, kind.Options{Dir: spec.Dir, Name: name, Keep: spec.Keep,
			Kubectl: spec.Kubectl, Log: spec.Log})
	case "kubeconfig":
		cl, err = kubeconfig.Open(ctx, kubeconfig.Options{Dir: spec.Dir, Context: name, Kubeconfig: spec.Kubeconfig,
			Namespace: spec.Namespace, Kubectl: spec.Kubectl, Log: spec.Log})
	default:
		return nil, fmt.Errorf("unknown --cluster %q (want %s)", spec.Mode, Modes)
	}
	if err != nil {
		return nil, fmt.Errorf("--cluster %s: %w", spec.Mode, err)
	}
	return cl, nil
}
