// Package kubeconfig gives a lab run an existing cluster, reached through a
// context of the user's kubeconfig. The run gets its own copy of that one
// context (minified, with credentials inlined) and, unless told otherwise, a
// fresh namespace deleted afterwards: the user's file and namespaces are
// never changed.
package kubeconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/internal/text"
)

// RunError is a kubectl command that failed, with its own output.
type RunError = cluster.RunError

// ErrContextNotFound is returned when the kubeconfig has no such context.
var ErrContextNotFound = errors.New("context not found")

// Options configure Open.
type Options struct {
	// Dir is the run's sandbox directory; Open writes Dir/kubeconfig.
	Dir string
	// Kubeconfig is the user's kubeconfig; "" means $KUBECONFIG or
	// ~/.kube/config, as kubectl itself chooses.
	Kubeconfig string
	// Context is the context to use; "" means the current context.
	Context string
	// Namespace is the namespace the run works in. "" creates a fresh
	// labrun-<random> namespace that Close deletes; a name uses that
	// namespace (creating it if it is missing) and Close keeps it.
	Namespace string
	// Kubectl is the kubectl binary; "" finds one as a run does (cluster.Tools).
	Kubectl string
	// DeleteWait bounds how long Close waits for the namespace to be gone;
	// 0 means 1 minute. A namespace still terminating then is reported in
	// the log, not as an error: Kubernetes finishes deleting it.
	DeleteWait time.Duration
	// Log receives notes (namespace created, deleted); nil discards them.
	Log io.Writer
}

// Cluster is an existing cluster a run uses. It implements cluster.Cluster.
type Cluster struct {
	kubeconfig string
	context    string
	namespace  string
	created    bool
	nodes      cluster.Nodes
	kubectl    string
	deleteWait time.Duration
	log        io.Writer

	mu     sync.Mutex
	closed bool
}

var _ cluster.Cluster = (*Cluster)(nil)

// Open copies the chosen context into Dir/kubeconfig with the run's
// namespace set on it, makes the namespace and reads the nodes.
func Open(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("Options.Dir is required")
	}
	if st, err := os.Stat(opts.Dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("the cluster directory %q is not a directory", opts.Dir)
	}
	if opts.DeleteWait <= 0 {
		opts.DeleteWait = time.Minute
	}
	kubectl, err := cluster.FindKubectl(opts.Kubectl)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		kubeconfig: filepath.Join(opts.Dir, "kubeconfig"),
		kubectl:    kubectl,
		deleteWait: opts.DeleteWait,
		log:        opts.Log,
	}
	if c.log == nil {
		c.log = io.Discard
	}
	source := "$KUBECONFIG or ~/.kube/config"
	var srcArgs []string
	if opts.Kubeconfig != "" {
		source = opts.Kubeconfig
		srcArgs = []string{"--kubeconfig", opts.Kubeconfig}
	}
	c.context = opts.Context
	if c.context == "" {
		out, err := cluster.Command{Name: kubectl, Args: append(srcArgs, "config", "current-context")}.Output(ctx)
		if err != nil {
			return nil, fmt.Errorf("no current context in %s: pass a context (--cluster kubeconfig:CONTEXT): %w", source, err)
		}
		c.context = strings.TrimSpace(string(out))
	} else {
		out, err := cluster.Command{Name: kubectl, Args: append(srcArgs, "config", "get-contexts", "-o", "name")}.Output(ctx)
		if err != nil {
			return nil, fmt.Errorf("read contexts of %s: %w", source, err)
		}
		names := strings.Fields(string(out))
		found := false
		for _, n := range names {
			found = found || n == c.context
		}
		if !found {
			have := "none"
			if len(names) > 0 {
				have = strings.Join(names, ", ")
			}
			return nil, fmt.Errorf("%w: %q is not in %s (contexts: %s)", ErrContextNotFound, c.context, source, have)
		}
	}
	flat, err := cluster.Command{Name: kubectl, Args: append(srcArgs, "config", "view", "--minify", "--flatten", "--raw", "--context", c.context)}.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy context %q of %s: %w", c.context, source, err)
	}
	if err := os.WriteFile(c.kubeconfig, flat, 0o600); err != nil {
		return nil, fmt.Errorf("write run's kubeconfig: %w", err)
	}
	c.namespace = opts.Namespace
	if c.namespace == "" {
		c.namespace = "labrun-" + text.RandomSuffix(3)
		if err := c.kube(ctx, "create", "namespace", c.namespace); err != nil {
			return nil, fmt.Errorf("create namespace %s (use an existing one with --namespace): %w", c.namespace, err)
		}
		c.created = true
		fmt.Fprintf(c.log, "labrun: created namespace %s in context %s\n", c.namespace, c.context)
	} else if err := c.ensureNamespace(ctx); err != nil {
		return nil, err
	}
	if err := c.setup(ctx); err != nil {
		return nil, c.cleanupAfter(ctx, err)
	}
	return c, nil
}

// setup points the run's context at the namespace and reads the nodes.
// A user who may not list nodes (a namespace-only role) still gets a
// cluster, without node names.
func (c *Cluster) setup(ctx context.Context) error {
	if err := c.kube(ctx, "config", "set-context", "--current", "--namespace", c.namespace); err != nil {
		return fmt.Errorf("set namespace: %w", err)
	}
	nodes, err := cluster.ReadNodes(ctx, c.kubectl, c.kubeconfig, nil)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w", err)
		}
		fmt.Fprintf(c.log, "labrun: cannot list nodes (labs that name nodes will fail): %v\n", err)
	}
	c.nodes = nodes
	return nil
}

// ensureNamespace makes a named namespace if it does not exist; if the user
// may not read namespaces, it assumes the namespace is theirs.
func (c *Cluster) ensureNamespace(ctx context.Context) error {
	err := c.kube(ctx, "get", "namespace", c.namespace)
	var re *RunError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re) && strings.Contains(string(re.Output), "(NotFound)"):
		if err := c.kube(ctx, "create", "namespace", c.namespace); err != nil {
			return fmt.Errorf("create namespace %s: %w", c.namespace, err)
		}
		fmt.Fprintf(c.log, "labrun: created namespace %s (kept after the run)\n", c.namespace)
		return nil
	case errors.As(err, &re) && strings.Contains(string(re.Output), "(Forbidden)"):
		fmt.Fprintf(c.log, "labrun: may not read namespace %s; using it as is\n", c.namespace)
		return nil
	default:
		return fmt.Errorf("check namespace %s: %w", c.namespace, err)
	}
}

func (c *Cluster) kube(ctx context.Context, args ...string) error {
	_, err := cluster.Command{Name: c.kubectl, Args: append([]string{"--kubeconfig", c.kubeconfig}, args...)}.Output(ctx)
	return err
}

func (c *Cluster) cleanupAfter(ctx context.Context, cause error) error {
	if !c.created {
		return cause
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if err := c.Close(dctx); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// Kubeconfig is the run's own kubeconfig, in Options.Dir.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// Context is the user's context the run copied.
func (c *Cluster) Context() string { return c.context }

// Namespace is the namespace the run works in.
func (c *Cluster) Namespace() string { return c.namespace }

// Nodes are the node names, control plane first; empty if the user may not
// list nodes.
func (c *Cluster) Nodes() []string { return c.nodes.Names() }

// NodeAddress is the node's InternalIP, which may or may not be reachable
// from here (it is inside a cloud's network, usually). Workshop names node1,
// node2… also resolve, to the nodes in order.
func (c *Cluster) NodeAddress(node string) string { return c.nodes.Address(node) }

// Close deletes the namespace Open created (waiting up to DeleteWait for it
// to be gone) and keeps a named one. Close honours ctx: after a cancelled
// run pass a fresh one. A failed Close can be retried.
func (c *Cluster) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	if !c.created {
		c.closed = true
		return nil
	}
	err := c.kube(ctx, "delete", "namespace", c.namespace, "--wait=true", "--timeout", c.deleteWait.String())
	var re *RunError
	switch {
	case err == nil:
		fmt.Fprintf(c.log, "labrun: deleted namespace %s\n", c.namespace)
	case errors.As(err, &re) && strings.Contains(string(re.Output), "(NotFound)"):
		// Someone (a lab?) deleted it already.
	case ctx.Err() == nil && errors.As(err, &re) && strings.Contains(string(re.Output), "timed out"):
		fmt.Fprintf(c.log, "labrun: namespace %s is still terminating after %s; Kubernetes finishes deleting it\n", c.namespace, c.deleteWait)
	default:
		return fmt.Errorf("kubeconfig: delete namespace %s (delete it by hand: kubectl --context %s delete namespace %s): %w", c.namespace, c.context, c.namespace, err)
	}
	c.closed = true
	return nil
}
