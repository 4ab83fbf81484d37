// Package cluster provides a running Kubernetes cluster to a lab run as an
// environment (a kubeconfig, node names) and a cleanup. It knows nothing of
// slides: the built-in cluster, kind and an existing kubeconfig all fit Cluster.
package cluster

import "context"

// Cluster is a cluster a run talks to.
type Cluster interface {
	// Kubeconfig is the path of a kubeconfig file that reaches the cluster.
	Kubeconfig() string
	// Nodes are the node names, in order; node1 is the first.
	Nodes() []string
	// NodeAddress maps a node name to an address a local client can reach
	// (the `open` directive maps node1 to it), or "" if unknown.
	NodeAddress(node string) string
	// Close stops or deletes what the cluster started. It is safe to call twice.
	Close(ctx context.Context) error
}
