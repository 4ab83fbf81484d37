// Package node simulates a cluster's nodes as API clients, as kwok does:
// each Agent registers one Node, renews its Lease, runs the pods the
// scheduler binds to it as local process groups, and serves the kubelet API
// (logs, exec, attach, port-forward) that the API server proxies to.
//
// A container's filesystem is a directory of its own under Options.Dir
// (its "root"): processes start there, volumes are mounted (copied or
// linked) at root+mountPath, and `kubectl cp` (exec with tar) reads and
// writes relative to it. Nothing is chrooted: absolute paths are the host's.
package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labrun/labrun/cluster/network/loopback"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
)

// KubeletVersion is what nodes report; it matches the control plane.
const KubeletVersion = "v1.32.4"

// Options describe one node.
type Options struct {
	// Name is the node's name (node1, node2…).
	Name string
	// Client talks to the API server with the node's credentials.
	Client kubernetes.Interface
	// Address is the node's InternalIP; its kubelet API listens there on
	// an ephemeral port, so it must be an address of this machine.
	Address string
	// ControlPlane marks the node as kubeadm marks its control-plane node
	// (role label; no taint: workshop clusters schedule pods on node1).
	ControlPlane bool
	// Taint adds kubeadm's control-plane NoSchedule taint too.
	Taint bool
	// Dir holds the containers' root directories; it must exist.
	Dir string
	// BinDir holds the busybox applets, put first in containers' PATH.
	BinDir string
	// ServingCert is the kubelet API's certificate (its SANs must cover
	// Address); ClientCAs verify the API server's client certificate.
	ServingCert tls.Certificate
	ClientCAs   *x509.CertPool
	// FallbackPodCIDR is used while the controller manager has not set
	// spec.podCIDR (or when it allocates none).
	FallbackPodCIDR string
	// Dial reaches a pod's port for port-forward; nil dials the pod IP,
	// then loopback.
	Dial func(ctx context.Context, pod *corev1.Pod, port int32) (net.Conn, error)
	// MaxPods is the node's pod capacity; default 110, the kubelet's.
	MaxPods int
	// Logf reports what goes wrong in the background; nil discards.
	Logf func(format string, args ...any)
	// Ingress and IngressTLS route the requests of ingress controller
	// pods (cluster/network's Ingress); nil: those pods answer 404.
	Ingress    http.Handler
	IngressTLS *tls.Config
	// Loopback maps the cluster's addresses to loopback ones in the
	// network fallback (package loopback): containers bind and dial them,
	// port-forward and probes dial them, and the applets find its file
	// through loopback.Env. Nil: addresses are used as they are.
	Loopback *loopback.Map
}

// Agent is one running node.
type Agent struct {
	opts     Options
	client   kubernetes.Interface
	recorder record.EventRecorder
	bcast    record.EventBroadcaster
	ln       net.Listener
	srv      *http.Server
	port     int
	kubelet  *kubelet

	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	// noOverlay holds why an overlay failed once (an error): containers'
	// system directories are bound read-only from then on (rootfs.go).
	noOverlay atomic.Value
}

// Start registers the node, starts its kubelet API and its pod informer,
// and returns once the Node object exists and reports Ready. ctx bounds
// the start; Close stops the agent.
func Start(ctx context.Context, opts Options) (*Agent, error) {
	if opts.Name == "" || opts.Client == nil || opts.Dir == "" {
		return nil, errors.New("node: Name, Client and Dir are required")
	}
	if opts.Address == "" {
		opts.Address = "127.0.0.1"
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.MaxPods <= 0 {
		opts.MaxPods = 110
	}
	if opts.FallbackPodCIDR == "" {
		opts.FallbackPodCIDR = "10.244.0.0/24"
	}
	dir := filepath.Join(opts.Dir, opts.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("node %s: %w", opts.Name, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(opts.Address, "0"))
	if err != nil {
		return nil, fmt.Errorf("node %s: kubelet listen: %w", opts.Name, err)
	}
	a := &Agent{opts: opts, client: opts.Client, ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	a.bcast = record.NewBroadcaster(record.WithContext(context.Background()))
	a.bcast.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: opts.Client.CoreV1().Events("")})
	a.recorder = a.bcast.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: opts.Name})
	a.kubelet = newKubelet(a, dir)

	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	if err := a.register(ctx); err != nil {
		a.shutdown()
		return nil, err
	}
	a.serve()
	a.wg.Add(2)
	go func() { defer a.wg.Done(); a.heartbeat(runCtx) }()
	go func() { defer a.wg.Done(); a.kubelet.watch(runCtx) }()
	return a, nil
}

// Name is the node's name.
func (a *Agent) Name() string { return a.opts.Name }

// Port is the kubelet API's port.
func (a *Agent) Port() int { return a.port }

// Close stops the pods' processes (TERM, then KILL), the informers and the
// kubelet API. The Node object stays: the cluster goes with it.
func (a *Agent) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		a.kubelet.shutdown(ctx)
		a.shutdown()
	})
	return a.closeErr
}

func (a *Agent) shutdown() {
	if a.cancel != nil {
		a.cancel()
	}
	if a.srv != nil {
		_ = a.srv.Close()
	} else {
		_ = a.ln.Close()
	}
	a.wg.Wait()
	a.bcast.Shutdown()
}

func (a *Agent) logf(format string, args ...any) {
	a.opts.Logf("node %s: "+format, append([]any{a.opts.Name}, args...)...)
}

// nodeObject is the Node as a kubeadm-made workshop node registers it.
func (a *Agent) nodeObject() *corev1.Node {
	o := a.opts
	labels := map[string]string{
		"beta.kubernetes.io/arch": "amd64",
		"beta.kubernetes.io/os":   "linux",
		"kubernetes.io/arch":      "amd64",
		"kubernetes.io/hostname":  o.Name,
		"kubernetes.io/os":        "linux",
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   o.Name,
			Labels: labels,
			Annotations: map[string]string{
				"kubeadm.alpha.kubernetes.io/cri-socket":                 "unix:///run/containerd/containerd.sock",
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
	}
	if o.ControlPlane {
		labels["node-role.kubernetes.io/control-plane"] = ""
		labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
		if o.Taint {
			n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
		}
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("2"),
		corev1.ResourceMemory:           resource.MustParse("4030216Ki"),
		corev1.ResourcePods:             *resource.NewQuantity(int64(o.MaxPods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("81106868Ki"),
		"hugepages-1Gi":                 resource.MustParse("0"),
		"hugepages-2Mi":                 resource.MustParse("0"),
	}
	alloc := capacity.DeepCopy()
	alloc[corev1.ResourceMemory] = resource.MustParse("3927816Ki")
	alloc[corev1.ResourceEphemeralStorage] = resource.MustParse("74748089270")
	n.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: alloc,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: o.Address},
			{Type: corev1.NodeHostName, Address: o.Name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.port)}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               machineID(o.Name),
			SystemUUID:              machineID(o.Name + "-uuid"),
			BootID:                  machineID(o.Name + "-boot"),
			KernelVersion:           "6.8.0-1024-aws",
			OSImage:                 "Ubuntu 24.04.2 LTS",
			ContainerRuntimeVersion: "containerd://1.7.27",
			KubeletVersion:          KubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
		Conditions: a.conditions(nil),
	}
	return n
}

// conditions are the node's conditions now, keeping transition times.
func (a *Agent) conditions(prev []corev1.NodeCondition) []corev1.NodeCondition {
	now := metav1.Now()
	type c struct {
		t           corev1.NodeConditionType
		st          corev1.ConditionStatus
		reason, msg string
	}
	want := []c{
		{corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"},
		{corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
		{corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
		{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"},
	}
	out := make([]corev1.NodeCondition, 0, len(want))
	for _, w := range want {
		nc := corev1.NodeCondition{Type: w.t, Status: w.st, Reason: w.reason, Message: w.msg, LastHeartbeatTime: now, LastTransitionTime: now}
		for _, p := range prev {
			if p.Type == w.t && p.Status == w.st {
				nc.LastTransitionTime = p.LastTransitionTime
			}
		}
		out = append(out, nc)
	}
	return out
}

// register creates the Node (or takes over one of the same name) and sets
// its status, as a kubelet does at start.
func (a *Agent) register(ctx context.Context) error {
	want := a.nodeObject()
	nodes := a.client.CoreV1().Nodes()
	created, err := nodes.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = nodes.Get(ctx, want.Name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("node %s: register: %w", a.opts.Name, err)
	}
	// The controller manager writes the node too (podCIDR, taints):
	// retry on conflict with its latest version.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := nodes.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status = want.Status
		_, err = nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("node %s: status: %w", a.opts.Name, err)
	}
	if err := a.renewLease(ctx); err != nil {
		return fmt.Errorf("node %s: lease: %w", a.opts.Name, err)
	}
	a.recorder.Eventf(&corev1.ObjectReference{Kind: "Node", Name: a.opts.Name, UID: created.UID}, corev1.EventTypeNormal, "Starting", "Starting kubelet.")
	a.recorder.Eventf(&corev1.ObjectReference{Kind: "Node", Name: a.opts.Name, UID: created.UID}, corev1.EventTypeNormal, "NodeReady", "Node %s status is now: NodeReady", a.opts.Name)
	return nil
}

// heartbeat renews the Lease every 10 s and the Node's conditions every
// minute, as a kubelet does with its default intervals.
func (a *Agent) heartbeat(ctx context.Context) {
	lease := time.NewTicker(10 * time.Second)
	defer lease.Stop()
	status := time.NewTicker(time.Minute)
	defer status.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lease.C:
			if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
				a.logf("lease: %v", err)
			}
		case <-status.C:
			if err := a.updateConditions(ctx); err != nil && ctx.Err() == nil {
				a.logf("status: %v", err)
			}
		}
	}
}

func (a *Agent) updateConditions(ctx context.Context) error {
	nodes := a.client.CoreV1().Nodes()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, a.opts.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Conditions = a.conditions(n.Status.Conditions)
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

func (a *Agent) renewLease(ctx context.Context) error {
	leases := a.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, a.opts.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n, gerr := a.client.CoreV1().Nodes().Get(ctx, a.opts.Name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: a.opts.Name, Namespace: corev1.NamespaceNodeLease,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}},
			},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &a.opts.Name, LeaseDurationSeconds: ptr(int32(40)), RenewTime: &now},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func ptr[T any](v T) *T { return &v }

// machineID is a stable 32-hex-digit id for a name.
func machineID(name string) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	s := strconv.FormatUint(h, 16) + strconv.FormatUint(h*31+7, 16)
	for len(s) < 32 {
		s += "0"
	}
	return s[:32]
}
