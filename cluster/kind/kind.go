// Package kind gives a lab run a real Kubernetes cluster made by kind
// (Kubernetes in Docker): created for the run and deleted after it, or an
// existing kind cluster reused by name and left in place.
//
// Every kind and kubectl invocation runs in its own process group and ends
// when its context does. The run never touches ~/.kube/config: kind writes
// the cluster's kubeconfig into the run's directory.
package kind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/internal/text"
)

// RunError is a kind or kubectl command that failed, with its own output.
type RunError = cluster.RunError

// ErrKindNotFound and ErrNoEngine say why kind cannot run here; the CLI maps
// them to a setup hint (`labrun doctor`).
var (
	ErrKindNotFound = errors.New("kind not found on PATH: install it: go install sigs.k8s.io/kind@latest, and a container engine (Docker or Podman)")
	ErrNoEngine     = errors.New("no working container engine for kind: start Docker (docker info must work) or install Podman")
)

// DefaultNodes is a workshop's shape: one control plane and two workers.
const DefaultNodes = 3

// cleanupTimeout bounds deleting a partial cluster after Create failed,
// possibly because its own context was cancelled.
const cleanupTimeout = 2 * time.Minute

// Options configure Create.
type Options struct {
	// Dir is the run's sandbox directory; Create writes Dir/kubeconfig and
	// Dir/kind-config.yaml there. It must exist.
	Dir string
	// Name is the kind cluster's name. "" creates a cluster with a unique
	// name (labrun-<random>) that Close deletes; a name reuses that existing
	// cluster and Close leaves it in place.
	Name string
	// Nodes is the node count of a created cluster: 1 control plane and
	// Nodes-1 workers. 0 means DefaultNodes (3, like a workshop).
	Nodes int
	// Keep leaves a created cluster running after Close, which prints how to
	// reach it.
	Keep bool
	// Kind and Kubectl are the binaries; "" looks kind up on PATH and finds
	// kubectl as a run does (cluster.Tools).
	Kind    string
	Kubectl string
	// Wait bounds kind's own wait for the control plane and the wait for
	// every node to be Ready; 0 means 5 minutes.
	Wait time.Duration
	// Log receives kind's progress and Close's notes; nil discards them.
	Log io.Writer
}

// Cluster is a kind cluster a run uses. It implements cluster.Cluster.
type Cluster struct {
	name       string
	kubeconfig string
	nodes      cluster.Nodes
	created    bool
	keep       bool
	kind       string
	env        []string // for kind: the engine checkEngine found working
	log        io.Writer

	mu     sync.Mutex
	closed bool
}

var _ cluster.Cluster = (*Cluster)(nil)

// validName is kind's own rule for cluster names (they become container
// names and DNS labels).
var validName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// Create makes (or, with Name set, reuses) a kind cluster, waits until every
// node is Ready and reads the nodes. If anything fails after `kind create
// cluster` started, the partial cluster is deleted before Create returns,
// even when ctx was cancelled (bounded by its own timeout).
func Create(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("Options.Dir is required")
	}
	if st, err := os.Stat(opts.Dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("the cluster directory %q is not a directory", opts.Dir)
	}
	if opts.Nodes == 0 {
		opts.Nodes = DefaultNodes
	}
	if opts.Nodes < 1 {
		return nil, fmt.Errorf("Nodes must be at least 1, not %d", opts.Nodes)
	}
	if opts.Name != "" && (len(opts.Name) > 50 || !validName.MatchString(opts.Name)) {
		return nil, fmt.Errorf("invalid cluster name %q: use lowercase letters, digits, '-' and '.'", opts.Name)
	}
	if opts.Wait <= 0 {
		opts.Wait = 5 * time.Minute
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	kindBin, err := findKind(opts.Kind)
	if err != nil {
		return nil, err
	}
	kubectl, err := cluster.FindKubectl(opts.Kubectl)
	if err != nil {
		return nil, err
	}
	engine, err := checkEngine(ctx)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		name:       opts.Name,
		kubeconfig: filepath.Join(opts.Dir, "kubeconfig"),
		keep:       opts.Keep,
		kind:       kindBin,
		log:        log,
	}
	if os.Getenv("KIND_EXPERIMENTAL_PROVIDER") == "" && engine != "docker" {
		// kind prefers a docker client even when its daemon is down.
		c.env = []string{"KIND_EXPERIMENTAL_PROVIDER=" + engine}
	}
	if opts.Name != "" {
		if err := c.reuse(ctx); err != nil {
			return nil, err
		}
	} else {
		c.name = "labrun-" + text.RandomSuffix(4)
		c.created = true
		if err := c.create(ctx, opts); err != nil {
			return nil, c.cleanupAfter(ctx, err)
		}
	}
	if err := c.ready(ctx, kubectl, opts.Wait); err != nil {
		if c.created {
			return nil, c.cleanupAfter(ctx, err)
		}
		return nil, err
	}
	return c, nil
}

func findKind(bin string) (string, error) {
	if bin == "" {
		p, err := exec.LookPath("kind")
		if err != nil {
			return "", ErrKindNotFound
		}
		return p, nil
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%q is not an executable: %w", bin, err)
	}
	return p, nil
}

// checkEngine asks the container engine kind will use whether it works, so
// that a Docker client without a daemon fails here, in one clear line,
// rather than deep inside `kind create cluster`. KIND_EXPERIMENTAL_PROVIDER
// picks the engine as kind itself does. It returns the working engine.
func checkEngine(ctx context.Context) (string, error) {
	engines := []string{"docker", "podman"}
	if p := os.Getenv("KIND_EXPERIMENTAL_PROVIDER"); p != "" {
		engines = []string{p}
	}
	var problems []string
	for _, name := range engines {
		p, err := exec.LookPath(name)
		if err != nil {
			problems = append(problems, name+" not on PATH")
			continue
		}
		infoCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = cluster.Command{Name: p, Args: []string{"info"}}.CombinedOutput(infoCtx)
		cancel()
		if err == nil {
			return name, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("check container engine: %w", ctx.Err())
		}
		problems = append(problems, fmt.Sprintf("`%s info` failed: %s", name, lastLine(err)))
	}
	return "", fmt.Errorf("%w (%s)", ErrNoEngine, strings.Join(problems, "; "))
}

// lastLine keeps the one line of a RunError that says why (docker info
// prints a page of client details before "Cannot connect to the Docker
// daemon").
func lastLine(err error) string {
	var re *RunError
	if errors.As(err, &re) {
		if out := strings.TrimSpace(string(re.Output)); out != "" {
			lines := strings.Split(out, "\n")
			return strings.TrimSpace(lines[len(lines)-1])
		}
		return re.Err.Error()
	}
	return err.Error()
}

// config is the kind cluster configuration for n nodes.
func config(n int) string {
	var b strings.Builder
	b.WriteString("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n")
	for i := 1; i < n; i++ {
		b.WriteString("- role: worker\n")
	}
	return b.String()
}

func (c *Cluster) create(ctx context.Context, opts Options) error {
	cfg := filepath.Join(opts.Dir, "kind-config.yaml")
	if err := os.WriteFile(cfg, []byte(config(opts.Nodes)), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	fmt.Fprintf(c.log, "labrun: creating kind cluster %s (%d nodes)\n", c.name, opts.Nodes)
	_, err := cluster.Command{Name: c.kind, Env: c.env, Args: []string{
		"create", "cluster", "--name", c.name, "--config", cfg,
		"--kubeconfig", c.kubeconfig, "--wait", opts.Wait.String(),
	}, Log: c.log}.CombinedOutput(ctx)
	if err != nil {
		return fmt.Errorf("create cluster %s: %w", c.name, err)
	}
	return nil
}

// reuse checks that the named cluster exists and writes its kubeconfig into
// the run's directory (not `kind export kubeconfig`, which would edit the
// user's ~/.kube/config).
func (c *Cluster) reuse(ctx context.Context) error {
	out, err := cluster.Command{Name: c.kind, Env: c.env, Args: []string{"get", "clusters"}}.Output(ctx)
	if err != nil {
		return fmt.Errorf("list clusters: %w", err)
	}
	names := strings.Fields(string(out))
	found := false
	for _, n := range names {
		found = found || n == c.name
	}
	if !found {
		have := "none"
		if len(names) > 0 {
			have = strings.Join(names, ", ")
		}
		return fmt.Errorf("no cluster named %q (kind get clusters lists: %s); omit the name to create one", c.name, have)
	}
	kc, err := cluster.Command{Name: c.kind, Env: c.env, Args: []string{"get", "kubeconfig", "--name", c.name}}.Output(ctx)
	if err != nil {
		return fmt.Errorf("get kubeconfig of %s: %w", c.name, err)
	}
	if err := os.WriteFile(c.kubeconfig, kc, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	fmt.Fprintf(c.log, "labrun: using existing kind cluster %s\n", c.name)
	return nil
}

// ready waits until every node is Ready, then reads the nodes.
func (c *Cluster) ready(ctx context.Context, kubectl string, wait time.Duration) error {
	_, err := cluster.Command{Name: kubectl, Args: []string{
		"--kubeconfig", c.kubeconfig, "wait", "--for=condition=Ready", "nodes", "--all",
		"--timeout", wait.String(),
	}, Log: c.log}.CombinedOutput(ctx)
	if err != nil {
		return fmt.Errorf("wait for nodes of %s to be Ready: %w", c.name, err)
	}
	nodes, err := cluster.ReadNodes(ctx, kubectl, c.kubeconfig, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if len(nodes) == 0 {
		return fmt.Errorf("cluster %s has no nodes", c.name)
	}
	c.nodes = nodes
	return nil
}

// cleanupAfter deletes a partial cluster after cause, on a context of its
// own since ctx may be the very reason Create failed.
func (c *Cluster) cleanupAfter(ctx context.Context, cause error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := c.delete(dctx); err != nil {
		return errors.Join(cause, fmt.Errorf("kind: the partial cluster is left behind: %w; delete it with: kind delete cluster --name %s", err, c.name))
	}
	return cause
}

func (c *Cluster) delete(ctx context.Context) error {
	fmt.Fprintf(c.log, "labrun: deleting kind cluster %s\n", c.name)
	_, err := cluster.Command{Name: c.kind, Env: c.env, Args: []string{
		"delete", "cluster", "--name", c.name, "--kubeconfig", c.kubeconfig,
	}, Log: c.log}.CombinedOutput(ctx)
	return err
}

// Name is the kind cluster's name.
func (c *Cluster) Name() string { return c.name }

// Kubeconfig is the run's own kubeconfig for the cluster, in Options.Dir.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// Nodes are the node names, control plane first (kind names them
// NAME-control-plane, NAME-worker, NAME-worker2…).
func (c *Cluster) Nodes() []string { return c.nodes.Names() }

// NodeAddress is the node's InternalIP, which the host reaches on Linux
// (kind's Docker network); on macOS and Windows Docker runs in a VM and
// the address is not reachable. Workshop names node1, node2… also resolve,
// to the nodes in order.
func (c *Cluster) NodeAddress(node string) string { return c.nodes.Address(node) }

// Close deletes a cluster Create made, unless Keep; a reused or kept
// cluster stays and Close says how to reach it. Close honours ctx: after a
// cancelled run pass a fresh one (context.WithoutCancel with a timeout). A
// failed Close can be retried; after success it does nothing.
func (c *Cluster) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	if !c.created || c.keep {
		how := "kept"
		if !c.created {
			how = "left in place (reused)"
		}
		fmt.Fprintf(c.log, "labrun: kind cluster %s %s; reach it with\n  kubectl --kubeconfig %s …   (while the run's directory exists)\n  kind export kubeconfig --name %s   (sets your ~/.kube/config)\ndelete it with: kind delete cluster --name %s\n",
			c.name, how, c.kubeconfig, c.name, c.name)
		c.closed = true
		return nil
	}
	if err := c.delete(ctx); err != nil {
		return fmt.Errorf("kind: delete cluster %s: %w; delete it by hand: kind delete cluster --name %s", c.name, err, c.name)
	}
	c.closed = true
	return nil
}
