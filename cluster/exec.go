package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"sync"

	"github.com/labrun/labrun/internal/proc"
)

// Command, RunError and WaitGroup live in internal/proc, the one place for
// process handling; these names keep the cluster packages' callers as they are.
type (
	Command  = proc.Command
	RunError = proc.RunError
)

// WaitGroup is proc.WaitGroup.
func WaitGroup(cmd *exec.Cmd, locked sync.Locker) error { return proc.WaitGroup(cmd, locked) }

// Run runs name with args in its own process group and returns its combined
// output: the run function Doctor takes.
func Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return Command{Name: name, Args: args}.CombinedOutput(ctx)
}

// Node is a node as a run sees it: its name and an address a local client
// can try (the InternalIP; reachable from the host with kind on Linux).
type Node struct {
	Name    string
	Address string
}

// ReadNodes lists the cluster's nodes with `kubectl get nodes -o json`:
// control-plane nodes first, then by name with numbers in numeric order
// (worker2 before worker10), so that node1 means the same node every run.
func ReadNodes(ctx context.Context, kubectl, kubeconfig string, log io.Writer) (Nodes, error) {
	out, err := Command{Name: kubectl, Args: []string{"--kubeconfig", kubeconfig, "get", "nodes", "-o", "json"}, Log: log}.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	return parseNodes(out)
}

func parseNodes(data []byte) (Nodes, error) {
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Status struct {
				Addresses []struct {
					Type    string `json:"type"`
					Address string `json:"address"`
				} `json:"addresses"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("read nodes: kubectl printed no node list: %w", err)
	}
	type entry struct {
		Node
		control bool
	}
	var entries []entry
	for _, it := range list.Items {
		e := entry{Node: Node{Name: it.Metadata.Name}}
		_, cp := it.Metadata.Labels["node-role.kubernetes.io/control-plane"]
		_, master := it.Metadata.Labels["node-role.kubernetes.io/master"]
		e.control = cp || master
		for _, a := range it.Status.Addresses {
			if a.Type == "InternalIP" && e.Address == "" {
				e.Address = a.Address
			}
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].control != entries[j].control {
			return entries[i].control
		}
		return naturalLess(entries[i].Name, entries[j].Name)
	})
	nodes := make(Nodes, len(entries))
	for i, e := range entries {
		nodes[i] = e.Node
	}
	return nodes, nil
}

// naturalLess compares names with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// Nodes are a cluster's nodes in the order ReadNodes gives.
type Nodes []Node

// Names lists the node names, in order.
func (ns Nodes) Names() []string {
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.Name
	}
	return names
}

// Address is the address of the node named node; the workshop names node1,
// node2… also resolve, to the nodes in order. "" if there is no such node.
func (ns Nodes) Address(node string) string {
	for _, n := range ns {
		if n.Name == node {
			return n.Address
		}
	}
	var i int
	if _, err := fmt.Sscanf(node, "node%d", &i); err == nil && node == fmt.Sprintf("node%d", i) && i >= 1 && i <= len(ns) {
		return ns[i-1].Address
	}
	return ""
}
