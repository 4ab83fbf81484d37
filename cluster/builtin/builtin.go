// Package builtin is labrun's own cluster: the upstream control plane
// (cluster/upstream) with simulated nodes (cluster/node) and what a
// kubeadm-made workshop cluster shows besides: static control-plane pods
// on node1, kube-proxy on every node, a default StorageClass `standard`
// with a local-path provisioner, as kind has.
package builtin

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labrun/labrun/cluster/busybox"
	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/cluster/network/loopback"
	"github.com/labrun/labrun/cluster/node"
	"github.com/labrun/labrun/cluster/upstream"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options say how to start the cluster.
type Options struct {
	// Dir is the run's directory; the cluster's files go in Dir/cluster
	// and are removed by Close. It must exist.
	Dir string
	// Nodes is how many nodes (node1…nodeN); default 3.
	Nodes int
	// MaxPods is each node's pod capacity; default 110 as a kubelet's
	// (a node's /24 podCIDR holds 254 at most).
	MaxPods int
	// Upstream are the control plane's options; its Dir is set here.
	Upstream upstream.Options
	// BusyboxExe is the executable the busybox applets link to; default
	// labrun's own (os.Executable), which dispatches on argv[0].
	BusyboxExe string
	// Log receives the start's progress and the agents' background
	// errors; nil discards.
	Log io.Writer
}

// Cluster is a running built-in cluster; it implements cluster.Cluster.
type Cluster struct {
	cp      *upstream.ControlPlane
	network *network.Network // nil when the cluster has no network
	// loopback maps the cluster's addresses in the network fallback; nil
	// inside the run's network namespace.
	loopback *loopback.Map
	agents   []*node.Agent
	names    []string
	addrs    map[string]string
	dir      string
	cancel   context.CancelFunc
	// cpCancel ends the control plane's context, after its Close.
	cpCancel context.CancelFunc
	wg       sync.WaitGroup
	log      io.Writer
	logMu    sync.Mutex
	// started is when Start began, for the log's timeline.
	started time.Time

	closeOnce sync.Once
	closeErr  error
}

// Start starts the control plane, registers the nodes and the system
// objects, and returns once the API server is ready, every node is Ready
// with its podCIDR and without the not-ready taint, and the default
// ServiceAccount exists. It does not wait for the controller manager,
// which starts with the API server ready: what a lab's first pod needs of
// it labrun makes as its controllers would (see initNode and
// upstream.ControlPlane.WaitReady). On error nothing is left running or
// on disk.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("builtin cluster: Options.Dir is required")
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if err := network.CheckFree(); err != nil {
		return nil, err
	}
	if opts.BusyboxExe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find busybox executable: %w", err)
		}
		opts.BusyboxExe = exe
	}
	dir, err := os.MkdirTemp(opts.Dir, "cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, addrs: map[string]string{}, log: opts.Log, started: time.Now()}
	if err := c.start(ctx, opts); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if cerr := c.Close(cctx); cerr != nil {
			err = fmt.Errorf("%w (and cleaning up: %v)", err, cerr)
		}
		return nil, err
	}
	return c, nil
}

func (c *Cluster) logf(format string, args ...any) {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	fmt.Fprintf(c.log, format+"\n", args...)
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	// client-go's event broadcaster and informers log through klog: to the
	// cluster's log, not the user's terminal.
	klogTo(opts.Log)
	binDir := filepath.Join(c.dir, "bin")
	if err := busybox.Install(binDir, opts.BusyboxExe); err != nil {
		return fmt.Errorf("install busybox applets: %w", err)
	}
	up := opts.Upstream
	up.Dir = filepath.Join(c.dir, "control-plane")
	if network.CurrentMode() != network.Outside && up.BindAddress == "" {
		// node1's address, as on kind: the `kubernetes` Service reaches it.
		up.BindAddress = network.NodeIP(1)
	}
	if up.Log == nil {
		up.Log = opts.Log
	}
	// The control plane lives until Close, not until ctx (which bounds
	// only the start): cancelling ctx during the start still stops it.
	cpCtx, cpCancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cpCancel = cpCancel
	stop := context.AfterFunc(ctx, cpCancel)
	defer stop()
	cp, err := upstream.Launch(cpCtx, up)
	if err != nil {
		return err
	}
	c.cp = cp
	// The API server serves a second or more before it is ready (its
	// post-start hooks); what labrun writes needs none of them, so it is
	// written meanwhile. WaitReady ends when the control plane is closed,
	// as Start does on an error.
	ready := make(chan error, 1)
	go func() { ready <- cp.WaitReady(cpCtx) }()
	caPEM, caKeyPEM := cp.CA()
	ca, err := parseCA(caPEM, caKeyPEM)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cfg := cp.RESTConfig()
	cfg.UserAgent = "kubelet/" + node.KubeletVersion + " (linux/amd64) labrun"
	cfg.QPS, cfg.Burst = 500, 1000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if err := waitNamespaces(ctx, client, cp); err != nil {
		return err
	}
	// The system objects and the nodes side by side: neither needs the
	// other.
	system := make(chan error, 1)
	go func() {
		if err := ensureSystem(ctx, client, opts.Nodes); err != nil {
			system <- fmt.Errorf("system objects: %w", err)
			return
		}
		if err := ensureClusterInfo(ctx, client, cfg.Host, caPEM); err != nil {
			system <- fmt.Errorf("kube-public: %w", err)
			return
		}
		c.logf("cluster: system objects created after %.2f s", time.Since(c.started).Seconds())
		system <- nil
	}()
	nodesErr := c.startNodes(ctx, opts, up.ClusterCIDR, client, ca, pool, binDir)
	if err := <-system; err != nil {
		return err
	}
	if nodesErr != nil {
		return nodesErr
	}
	c.logf("cluster: nodes registered after %.2f s", time.Since(c.started).Seconds())
	if err := network.SetNodes(c.addrs); err != nil {
		return err
	}
	// After the API server's priority classes, which the pods name.
	if err := waitPriorityClass(ctx, client, c.cp); err != nil {
		return fmt.Errorf("static pods: %w", err)
	}
	if err := createMirrorPods(ctx, client, c.names[0]); err != nil {
		return fmt.Errorf("static pods: %w", err)
	}
	if err := <-ready; err != nil {
		return err
	}
	prov := &provisioner{client: client, root: filepath.Join(c.dir, "local-path-provisioner"), logf: c.logf}
	c.wg.Add(1)
	go func() { defer c.wg.Done(); prov.run(runCtx) }()
	if err := c.waitReady(ctx, client); err != nil {
		return err
	}
	c.logf("cluster: ready after %.2f s", time.Since(c.started).Seconds())
	return nil
}

// startNodes starts the network, then the node agents side by side, each
// given its podCIDR and rid of the not-ready taint once registered Ready.
// Inside the run's network namespace, cluster addresses answer: nodes get
// kind's addresses and the network serves Services, DNS, Ingress. In the
// network fallback each of them answers on a loopback address of its own
// (package loopback). A process that went through neither (a test binary
// holding several clusters) gets no network.
func (c *Cluster) startNodes(ctx context.Context, opts Options, clusterCIDR string, client kubernetes.Interface, ca *runCA, pool *x509.CertPool, binDir string) error {
	var err error
	var ingress *network.Ingress
	if network.FallbackReason() != "" {
		if c.loopback, err = loopback.New(filepath.Join(c.dir, "loopback.json")); err != nil {
			return err
		}
		if err := busybox.Link(filepath.Join(c.dir, "lab-bin"), opts.BusyboxExe, busybox.NetClients()...); err != nil {
			return fmt.Errorf("install the lab's network applets: %w", err)
		}
	}
	if network.CurrentMode() != network.Outside || c.loopback != nil {
		nw, err := network.Start(ctx, network.Options{Client: client, Log: logWriter(c.logf), Loopback: c.loopback})
		if err != nil {
			return err
		}
		c.network = nw
		if ingress, err = nw.Ingress(ctx); err != nil {
			return err
		}
	}
	podsDir := filepath.Join(c.dir, "nodes")
	if err := os.MkdirAll(podsDir, 0o755); err != nil {
		return err
	}
	agents := make([]*node.Agent, opts.Nodes)
	errs := make([]error, opts.Nodes)
	var wg sync.WaitGroup
	for i := range opts.Nodes {
		name := fmt.Sprintf("node%d", i+1)
		addr := "127.0.0.1"
		switch {
		case c.loopback != nil:
			addr = loopback.Addr(network.NodeIP(i + 1))
		case c.network != nil:
			addr = network.NodeIP(i + 1)
		}
		c.names = append(c.names, name)
		c.addrs[name] = addr
		wg.Add(1)
		go func() {
			defer wg.Done()
			agents[i], errs[i] = c.startNode(ctx, opts, i, name, addr, clusterCIDR, client, ca, pool, binDir, podsDir, ingress)
		}()
	}
	wg.Wait()
	for _, a := range agents {
		if a != nil {
			c.agents = append(c.agents, a)
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) startNode(ctx context.Context, opts Options, i int, name, addr, clusterCIDR string, client kubernetes.Interface,
	ca *runCA, pool *x509.CertPool, binDir, podsDir string, ingress *network.Ingress) (*node.Agent, error) {
	cert, err := ca.serving(name, addr)
	if err != nil {
		return nil, err
	}
	nopts := node.Options{
		Name: name, Client: client, Address: addr, ControlPlane: i == 0,
		Dir: podsDir, BinDir: binDir, ServingCert: cert, ClientCAs: pool, MaxPods: opts.MaxPods,
		FallbackPodCIDR: podCIDR(clusterCIDR, i),
		Logf:            c.logf,
		Loopback:        c.loopback,
	}
	if ingress != nil {
		nopts.Ingress, nopts.IngressTLS = ingress, ingress.TLSConfig()
	}
	a, err := node.Start(ctx, nopts)
	if err != nil {
		return nil, err
	}
	if err := initNode(ctx, client, name, nopts.FallbackPodCIDR); err != nil {
		return a, err
	}
	return a, nil
}

// waitPriorityClass waits until the API server's post-start hook has made
// the priority class the static pods name, about a second after it began
// to serve.
func waitPriorityClass(ctx context.Context, client kubernetes.Interface, cp *upstream.ControlPlane) error {
	return wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := cp.Err(); err != nil {
			return false, err
		}
		_, err := client.SchedulingV1().PriorityClasses().Get(ctx, "system-node-critical", metav1.GetOptions{})
		return err == nil, nil
	})
}

// waitNamespaces waits until the system namespaces exist: the API server
// makes them just after it begins to serve.
func waitNamespaces(ctx context.Context, client kubernetes.Interface, cp *upstream.ControlPlane) error {
	want := []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := cp.Err(); err != nil {
			return false, err
		}
		for _, ns := range want {
			if _, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// waitReady waits until every node is Ready, without the not-ready taint,
// with a podCIDR, and the default ServiceAccount exists.
func (c *Cluster) waitReady(ctx context.Context, client kubernetes.Interface) error {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.cp.Err(); err != nil {
			return false, err
		}
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue && n.Spec.PodCIDR != "" && !notReadyTaint(n) {
					ready++
				}
			}
		}
		if ready < len(c.names) {
			return false, nil
		}
		_, err = client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

// notReadyTaint tells whether a node still has the taint a new node gets
// (admission's TaintNodesByCondition) until the node lifecycle controller
// sees it Ready: the scheduler places no pod there meanwhile, and `kubectl
// describe node` shows it, so the cluster is not ready for a lab yet.
func notReadyTaint(n corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return true
		}
	}
	return false
}

// podCIDR is the i-th /24 of the cluster CIDR (default 10.244.0.0/16):
// what the controller manager's range allocator gives the i-th node it
// sees (it hands out /24s of --cluster-cidr in order), or "" when the
// range has no i-th /24.
func podCIDR(clusterCIDR string, i int) string {
	if clusterCIDR == "" {
		clusterCIDR = "10.244.0.0/16"
	}
	p, err := netip.ParsePrefix(clusterCIDR)
	if err != nil || !p.Addr().Is4() || p.Bits() > 24 || i >= 1<<(24-p.Bits()) {
		return ""
	}
	a := p.Masked().Addr().As4()
	n := binary.BigEndian.Uint32(a[:]) + uint32(i)<<8
	binary.BigEndian.PutUint32(a[:], n)
	return netip.PrefixFrom(netip.AddrFrom4(a), 24).String()
}

// Kubeconfig is the lab user's kubeconfig (cluster-admin).
func (c *Cluster) Kubeconfig() string { return c.cp.Kubeconfig() }

// RESTConfig is the lab user's client configuration.
func (c *Cluster) RESTConfig() *rest.Config { return c.cp.RESTConfig() }

// Nodes are node1…nodeN.
func (c *Cluster) Nodes() []string { return append([]string(nil), c.names...) }

// NodeAddress is a node's InternalIP.
func (c *Cluster) NodeAddress(name string) string { return c.addrs[name] }

// Note says what the run's report should know of this cluster: that it
// ran in the network fallback, and why; "" inside labrun's namespace.
func (c *Cluster) Note() string {
	if c.loopback == nil {
		return ""
	}
	return network.FallbackNote()
}

// LabEnv is what a lab's shell adds for this cluster: in the network
// fallback, a directory to put first on PATH, whose curl and wget reach
// the cluster's addresses and names, and the map they read; nothing
// inside labrun's namespace, where those answer as they are.
func (c *Cluster) LabEnv() (path, env []string) {
	if c.loopback == nil {
		return nil, nil
	}
	return []string{filepath.Join(c.dir, "lab-bin")}, []string{loopback.Env + "=" + c.loopback.Path()}
}

// DialContext connects to an address of the cluster as a client on its
// first node would (the `open` directive): in the network fallback, to the
// loopback address and port that answer for it.
func (c *Cluster) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.loopback.DialContext(ctx, network, addr)
}

// Done is closed when the control plane stops; Err says why.
func (c *Cluster) Done() <-chan struct{} { return c.cp.Done() }

// Err is why the control plane stopped, or nil.
func (c *Cluster) Err() error { return c.cp.Err() }

// Close stops the pods, the agents and the control plane and removes the
// cluster's files. It is safe to call twice.
func (c *Cluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		var errs []error
		if c.cancel != nil {
			c.cancel()
		}
		c.wg.Wait()
		if c.network != nil {
			_ = c.network.Close()
		}
		for _, a := range c.agents {
			if err := a.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if c.cp != nil {
			if err := c.cp.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if err := c.loopback.Close(); err != nil {
			errs = append(errs, err)
		}
		if c.cpCancel != nil {
			c.cpCancel()
		}
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// logWriter turns the network's log lines into the cluster's log.
type logWriter func(format string, args ...any)

func (l logWriter) Write(p []byte) (int, error) {
	l("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
