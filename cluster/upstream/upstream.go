// Package upstream runs the real Kubernetes control plane for a lab run:
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler as child
// processes of labrun (from the labrun-k8s multi-call binary, or from a
// directory of separate binaries), on loopback with ephemeral ports, a CA
// made for the run, RBAC on, and the lab user cluster-admin through a
// token. It starts no nodes: node agents register against it.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options say where and how to start the control plane.
type Options struct {
	// Dir holds the run's certificates, etcd data, kubeconfigs and logs;
	// Close removes what Start made in it. "" makes a temporary directory.
	Dir string
	// Binary is labrun-k8s; "" finds it with cluster.Tools.ControlPlane.
	Binary string
	// ControlPlaneDir, if set, holds separate kube-apiserver,
	// kube-controller-manager, kube-scheduler and etcd binaries to use
	// instead of Binary.
	ControlPlaneDir string
	// ServiceCIDR is the Services' cluster IP range; default 10.96.0.0/12.
	ServiceCIDR string
	// ClusterCIDR is the pods' range the controller manager allocates the
	// nodes' podCIDRs from; default 10.244.0.0/16.
	ClusterCIDR string
	// BindAddress is the address every component listens on; default
	// 127.0.0.1.
	BindAddress string
	// AdvertiseAddress is the address the `kubernetes` Service's endpoint
	// names. Endpoints may not be loopback addresses, so the default is
	// BindAddress unless that is loopback, else the host's default
	// interface address (as kube-apiserver itself chooses); the API server
	// does not listen there.
	AdvertiseAddress string
	// Timeout bounds Start; default 2 minutes (a loaded 2-core machine).
	Timeout time.Duration
	// Log receives a line per step of the start; nil discards them. Each
	// component's own log is in Dir/logs/NAME.log until Close.
	Log io.Writer
}

func (o *Options) defaults() error {
	if o.ServiceCIDR == "" {
		o.ServiceCIDR = "10.96.0.0/12"
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = "10.244.0.0/16"
	}
	if o.BindAddress == "" {
		o.BindAddress = "127.0.0.1"
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if _, err := netip.ParsePrefix(o.ServiceCIDR); err != nil {
		return fmt.Errorf("service CIDR: %w", err)
	}
	if _, err := netip.ParsePrefix(o.ClusterCIDR); err != nil {
		return fmt.Errorf("cluster CIDR: %w", err)
	}
	bind, err := netip.ParseAddr(o.BindAddress)
	if err != nil {
		return fmt.Errorf("bind address: %w", err)
	}
	if o.AdvertiseAddress == "" {
		if !bind.IsLoopback() && !bind.IsUnspecified() {
			o.AdvertiseAddress = o.BindAddress
		} else if ip, err := utilnet.ChooseHostInterface(); err == nil {
			o.AdvertiseAddress = ip.String()
		}
	}
	return nil
}

// Users of the run as the token file names them.
const (
	// AdminUser is the lab user, in system:masters as kubeadm's admin is.
	AdminUser = "kubernetes-admin"

	controllerManagerUser = "system:kube-controller-manager"
	schedulerUser         = "system:kube-scheduler"
)

// ControlPlane is a running control plane.
type ControlPlane struct {
	opts       Options
	dir        string
	made       []string // what Start made in dir, removed by Close in reverse
	kubeconfig string
	// wroteKubeconfig is set once Dir/kubeconfig is Start's own: a
	// retried launch rewrites it.
	wroteKubeconfig bool
	rest            *rest.Config
	ca              *keyPair
	kubeletCli      *keyPair
	cmds            map[string][]string // each component's command
	files           *files
	// started is when Launch began; deadline is started+Timeout, which
	// bounds Launch and WaitReady.
	started, deadline time.Time
	// api is the API server once it serves, apiClient the lab user's
	// client for /readyz (anonymous users may read it only once the
	// bootstrap RBAC policy is in).
	api       *component
	apiClient *http.Client
	readyOnce sync.Once
	readyErr  error

	mu    sync.Mutex // guards comps and stopped
	comps []*component
	// stopped is set once stopping began: no component starts after it.
	stopped bool

	done     chan struct{}
	failOnce sync.Once
	err      error // set before done is closed

	closeOnce sync.Once
	closeErr  error
}

// grace is how long a component has between TERM and KILL.
const grace = 5 * time.Second

// Start starts etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler and returns once the API server is ready and `default`
// has its ServiceAccount and kube-root-ca.crt: Launch, then WaitReady. ctx
// bounds the start only (as for the other clusters): the control plane
// lives until Close, or until labrun itself dies, which kills the
// components too. On any error, a cancelled ctx included, nothing is left
// running and nothing Start made is left on disk.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	cp, err := Launch(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := cp.WaitReady(ctx); err != nil {
		return nil, cp.closeAfter(ctx, err)
	}
	return cp, nil
}

// Launch starts the components and returns as soon as the API server
// serves, before it is ready: for about a second more it runs its
// post-start hooks (the bootstrap RBAC policy and priority classes, each
// after a fixed 1 s wait), and a caller with writes of its own to make,
// which need none of those (the lab user is in system:masters), makes
// them meanwhile. WaitReady then waits for the rest. The system
// namespaces (default, kube-system, kube-public, kube-node-lease) come
// from a hook that starts at once, yet may be a few milliseconds late. On
// an error nothing is left running or on disk; once Launch has returned,
// Close stops the control plane, whether WaitReady was called or not.
func Launch(ctx context.Context, opts Options) (*ControlPlane, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	cmds, err := commands(opts.Binary, opts.ControlPlaneDir)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{opts: opts, cmds: cmds, done: make(chan struct{}), started: time.Now()}
	cp.deadline = cp.started.Add(opts.Timeout)
	if err := cp.launchAll(ctx); err != nil {
		return nil, cp.closeAfter(ctx, err)
	}
	return cp, nil
}

// closeAfter stops what a failed start started and returns its error.
func (cp *ControlPlane) closeAfter(ctx context.Context, err error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*grace)
	defer cancel()
	if cerr := cp.Close(cctx); cerr != nil {
		err = fmt.Errorf("%w (and cleaning up: %v)", err, cerr)
	}
	return err
}

// startContext is ctx bounded by what is left of Options.Timeout, which
// bounds Launch and WaitReady together.
func (cp *ControlPlane) startContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithDeadlineCause(ctx, cp.deadline,
		fmt.Errorf("start took longer than %s: %w", cp.opts.Timeout, context.DeadlineExceeded))
}

func (cp *ControlPlane) launchAll(ctx context.Context) error {
	sctx, cancel := cp.startContext(ctx)
	defer cancel()
	if err := cp.makeDir(); err != nil {
		return err
	}
	f, err := cp.writeFiles()
	if err != nil {
		return err
	}
	cp.files = f
	for attempt := 1; ; attempt++ {
		err := cp.launch(sctx, f)
		if err == nil {
			return nil
		}
		if !cp.portsTaken(attempt) {
			return triedPorts(err, attempt)
		}
	}
}

// WaitReady waits until the API server is ready (/readyz) and `default`
// has its ServiceAccount and kube-root-ca.crt (made meanwhile), then
// starts the controller manager and the scheduler. Not before: the
// controller manager polls the API server's /healthz once a second from
// its start, and starts its controllers only once it is ok, so started
// when the API server began to serve it passed that poll most of a second
// after ready (a Deployment made at ready had its pod 0.6 s later); the
// scheduler's informers do not wait for the bootstrap RBAC policy, and a
// list refused before it backs off for a second or more. A second call
// waits for the first and returns its error. On an error the caller
// closes the control plane.
func (cp *ControlPlane) WaitReady(ctx context.Context) error {
	cp.readyOnce.Do(func() {
		sctx, cancel := cp.startContext(ctx)
		defer cancel()
		ns := make(chan error, 1)
		go func() {
			ns <- cp.ensureDefaultNamespace(sctx, filepath.Base(cp.cmds["kube-controller-manager"][0]))
		}()
		err := cp.waitAPIReady(sctx)
		if err != nil {
			cancel()
		}
		if nerr := <-ns; err == nil {
			err = nerr
		}
		if err == nil {
			err = cp.startControllerManager(cp.cmds, cp.files)
		}
		if err == nil {
			err = cp.startScheduler(cp.cmds, cp.files)
		}
		cp.readyErr = err
	})
	return cp.readyErr
}

// launch starts etcd and the API server on fresh ports and waits until the
// API server serves. They start side by side: the API server's etcd
// client dials until etcd answers. On an error every component of this
// launch stays in cp.comps for portsTaken to judge and stop.
func (cp *ControlPlane) launch(ctx context.Context, f *files) error {
	cmds := cp.cmds
	host := cp.opts.BindAddress
	ports, err := freePorts(host, 3)
	if err != nil {
		return err
	}
	etcdURL := "http://" + net.JoinHostPort(host, strconv.Itoa(ports[0]))
	peerURL := "http://" + net.JoinHostPort(host, strconv.Itoa(ports[1]))
	cp.rest.Host = "https://" + net.JoinHostPort(host, strconv.Itoa(ports[2]))
	if err := cp.writeKubeconfigs(f); err != nil {
		return err
	}
	fmt.Fprintf(cp.opts.Log, "control plane: starting etcd on %s\n", etcdURL)
	etcd, err := cp.startComponent("etcd", etcdArgs(cmds["etcd"], cp.dir, etcdURL, peerURL))
	if err != nil {
		return err
	}
	fmt.Fprintf(cp.opts.Log, "control plane: starting kube-apiserver on %s\n", cp.rest.Host)
	api, err := cp.startComponent("kube-apiserver", cp.apiServerArgs(cmds["kube-apiserver"], etcdURL, strconv.Itoa(ports[2]), f))
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	if err := cp.waitReady(ctx, etcd, func(ctx context.Context) bool {
		code, _ := httpGet(ctx, hc, etcdURL+"/health")
		return code == http.StatusOK
	}); err != nil {
		return err
	}
	cp.watch(etcd)
	cp.logStep("etcd is healthy")
	ahc, err := rest.HTTPClientFor(cp.rest)
	if err != nil {
		return fmt.Errorf("kube-apiserver client: %w", err)
	}
	ahc.Timeout = 5 * time.Second
	cp.apiClient = ahc
	if err := cp.waitReady(ctx, api, func(ctx context.Context) bool {
		code, _ := httpGet(ctx, ahc, cp.rest.Host+"/readyz")
		return code != 0
	}); err != nil {
		return err
	}
	// It serves, so its port is its own: no launch after this one.
	cp.api = api
	cp.watch(api)
	cp.logStep("kube-apiserver serves")
	return nil
}

// waitAPIReady polls /readyz until it says ok, logging which checks it
// still waits on whenever they change: the start's timeline.
func (cp *ControlPlane) waitAPIReady(ctx context.Context) error {
	var waiting string
	err := cp.waitReady(ctx, cp.api, func(ctx context.Context) bool {
		code, body := httpGet(ctx, cp.apiClient, cp.rest.Host+"/readyz")
		if code == http.StatusOK {
			return true
		}
		if w := failedChecks(body); w != waiting && w != "" {
			waiting = w
			cp.logStep("kube-apiserver not ready: " + w)
		}
		return false
	})
	if err != nil {
		return err
	}
	cp.logStep("kube-apiserver is ready")
	return nil
}

// failedChecks lists the checks a /readyz answer says failed ("[-]NAME
// failed: …" lines).
func failedChecks(body string) string {
	var names []string
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, "[-]"); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, strings.TrimPrefix(name, "poststarthook/"))
		}
	}
	return strings.Join(names, ", ")
}

// logStep logs a step of the start with the time since Launch and the
// CPU seconds each component has used so far: where a start's time goes.
func (cp *ControlPlane) logStep(what string) {
	cp.mu.Lock()
	comps := append([]*component(nil), cp.comps...)
	cp.mu.Unlock()
	var cpu []string
	for _, c := range comps {
		if s, ok := c.cpuSeconds(); ok {
			cpu = append(cpu, fmt.Sprintf("%s %.2f", c.name, s))
		}
	}
	fmt.Fprintf(cp.opts.Log, "control plane: %s after %.2f s (CPU s: %s)\n",
		what, time.Since(cp.started).Seconds(), strings.Join(cpu, ", "))
}

// files are the paths writeFiles made for the components' flags.
type files struct {
	caCert, caKey                    string
	servingCert, servingKey          string
	kubeletClientCert, kubeletCliKey string
	saKey, saPub                     string
	tokenFile                        string
	controllerKubeconfig             string
	schedulerKubeconfig              string
	schedulerConfig                  string
	// tokens maps each user of the token file to its token.
	tokens map[string]string
}

// makeDir makes Dir (or a temporary one) and the directories Start fills,
// refusing to reuse any: what Close removes must be only what Start made.
func (cp *ControlPlane) makeDir() error {
	if cp.opts.Dir == "" {
		d, err := os.MkdirTemp("", "labrun-controlplane-")
		if err != nil {
			return fmt.Errorf("control-plane directory: %w", err)
		}
		cp.dir = d
		cp.made = append(cp.made, d)
	} else {
		cp.dir = cp.opts.Dir
		switch err := os.Mkdir(cp.dir, 0o700); {
		case err == nil:
			cp.made = append(cp.made, cp.dir)
		case errors.Is(err, os.ErrExist):
		default:
			return fmt.Errorf("control-plane directory: %w", err)
		}
	}
	for _, sub := range []string{"pki", "etcd", "logs"} {
		p := filepath.Join(cp.dir, sub)
		if err := os.Mkdir(p, 0o700); err != nil {
			return fmt.Errorf("control-plane directory: %w", err)
		}
		cp.made = append(cp.made, p)
	}
	return nil
}

// writeFiles makes the run's CA, certificates, service-account key and
// tokens, and the kubeconfigs of the lab user and the controllers.
func (cp *ControlPlane) writeFiles() (*files, error) {
	now := time.Now()
	ca, err := newCA(now)
	if err != nil {
		return nil, err
	}
	cp.ca = ca
	ips := []net.IP{net.ParseIP(cp.opts.BindAddress), net.ParseIP("127.0.0.1"), net.IPv6loopback}
	if svc, err := firstServiceIP(cp.opts.ServiceCIDR); err == nil {
		ips = append(ips, svc)
	} else {
		return nil, err
	}
	if a := net.ParseIP(cp.opts.AdvertiseAddress); a != nil {
		ips = append(ips, a)
	}
	serving, err := ca.sign(now, certSpec{
		commonName: "kube-apiserver",
		dnsNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		ips:    ips,
		server: true,
	})
	if err != nil {
		return nil, err
	}
	// The API server's identity towards the kubelets (logs, exec,
	// port-forward); kubeadm gives it the same name and group.
	kubeletCli, err := ca.sign(now, certSpec{commonName: "kube-apiserver-kubelet-client",
		organization: []string{"system:masters"}, client: true})
	if err != nil {
		return nil, err
	}
	cp.kubeletCli = kubeletCli
	saKey, saPub, err := newServiceAccountKey()
	if err != nil {
		return nil, err
	}
	pki := filepath.Join(cp.dir, "pki")
	f := &files{
		caCert: filepath.Join(pki, "ca.crt"), caKey: filepath.Join(pki, "ca.key"),
		servingCert: filepath.Join(pki, "apiserver.crt"), servingKey: filepath.Join(pki, "apiserver.key"),
		kubeletClientCert: filepath.Join(pki, "apiserver-kubelet-client.crt"),
		kubeletCliKey:     filepath.Join(pki, "apiserver-kubelet-client.key"),
		saKey:             filepath.Join(pki, "sa.key"), saPub: filepath.Join(pki, "sa.pub"),
		tokenFile:            filepath.Join(pki, "tokens.csv"),
		controllerKubeconfig: filepath.Join(pki, "controller-manager.conf"),
		schedulerKubeconfig:  filepath.Join(pki, "scheduler.conf"),
		schedulerConfig:      filepath.Join(pki, "scheduler-config.yaml"),
		tokens: map[string]string{AdminUser: newToken(),
			controllerManagerUser: newToken(), schedulerUser: newToken()},
	}
	// The controllers' users are those the bootstrap RBAC policy binds.
	tokens := fmt.Sprintf("%s,%s,%s,\"system:masters\"\n%s,%s,%s\n%s,%s,%s\n",
		f.tokens[AdminUser], AdminUser, AdminUser,
		f.tokens[controllerManagerUser], controllerManagerUser, controllerManagerUser,
		f.tokens[schedulerUser], schedulerUser, schedulerUser)
	for path, data := range map[string][]byte{
		f.caCert: ca.cert, f.caKey: ca.key,
		f.servingCert: serving.cert, f.servingKey: serving.key,
		f.kubeletClientCert: kubeletCli.cert, f.kubeletCliKey: kubeletCli.key,
		f.saKey: saKey, f.saPub: saPub,
		f.tokenFile:       []byte(tokens),
		f.schedulerConfig: []byte(schedulerConfig(f.schedulerKubeconfig)),
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("control-plane files: %w", err)
		}
	}
	cp.rest = &rest.Config{
		Host:            "https://" + net.JoinHostPort(cp.opts.BindAddress, "0"), // port set once known
		BearerToken:     f.tokens[AdminUser],
		TLSClientConfig: rest.TLSClientConfig{CAData: ca.cert},
		QPS:             -1, // no client-side throttling: the API server's own limits apply
	}
	return f, nil
}

// firstServiceIP is the first address of the service range: the
// `kubernetes` Service's cluster IP, which the serving certificate names.
func firstServiceIP(cidr string) (net.IP, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("service CIDR: %w", err)
	}
	return net.IP(p.Masked().Addr().Next().AsSlice()), nil
}

// startAttempts is how often the components are started afresh when a
// port chosen for them was taken before they could bind it.
const startAttempts = 3

// etcdArgs are etcd's flags for a single-member cluster in dir.
func etcdArgs(argv []string, dir, client, peer string) []string {
	return append(append([]string(nil), argv...),
		"--name=labrun",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+client,
		"--advertise-client-urls="+client,
		"--listen-peer-urls="+peer,
		"--initial-advertise-peer-urls="+peer,
		"--initial-cluster=labrun="+peer,
		"--initial-cluster-state=new",
		// A lab cluster lives for one run: its data need not survive a
		// power cut, and fsync is most of etcd's write latency.
		"--unsafe-no-fsync=true",
		// A single member elects itself after a randomised election
		// timeout (1 to 2 s by default, less the ticks etcd skips on
		// start); there is no peer whose heartbeats could be late, so a
		// short one costs nothing and saves most of a second.
		"--heartbeat-interval=10",
		"--election-timeout=100",
		"--log-level=warn",
	)
}

// apiServerArgs are kube-apiserver's flags.
func (cp *ControlPlane) apiServerArgs(argv []string, etcdURL, port string, f *files) []string {
	args := append(append([]string(nil), argv...),
		"--etcd-servers="+etcdURL,
		"--bind-address="+cp.opts.BindAddress,
		"--secure-port="+port,
		"--tls-cert-file="+f.servingCert,
		"--tls-private-key-file="+f.servingKey,
		"--client-ca-file="+f.caCert,
		"--token-auth-file="+f.tokenFile,
		"--enable-bootstrap-token-auth=true",
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		"--service-cluster-ip-range="+cp.opts.ServiceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+f.saPub,
		"--service-account-signing-key-file="+f.saKey,
		"--kubelet-client-certificate="+f.kubeletClientCert,
		"--kubelet-client-key="+f.kubeletCliKey,
		"--kubelet-certificate-authority="+f.caCert,
		"--kubelet-preferred-address-types=InternalIP",
		"--cert-dir="+filepath.Join(cp.dir, "pki"),
		"--profiling=false",
	)
	if cp.opts.AdvertiseAddress != "" {
		return append(args, "--advertise-address="+cp.opts.AdvertiseAddress)
	}
	// No address an Endpoints object accepts: the `kubernetes` Service is
	// left without an endpoint rather than the API server logging a failed
	// write every few seconds.
	fmt.Fprintf(cp.opts.Log, "control plane: no non-loopback address to advertise; the kubernetes Service has no endpoint\n")
	return append(args, "--endpoint-reconciler-type=none")
}

// writeKubeconfigs writes the lab user's kubeconfig to Dir/kubeconfig and
// the controller manager's and scheduler's beside the certificates.
func (cp *ControlPlane) writeKubeconfigs(f *files) error {
	cp.kubeconfig = filepath.Join(cp.dir, "kubeconfig")
	for path, user := range map[string]string{
		cp.kubeconfig:          AdminUser,
		f.controllerKubeconfig: controllerManagerUser,
		f.schedulerKubeconfig:  schedulerUser,
	} {
		if path == cp.kubeconfig && !cp.wroteKubeconfig {
			if _, err := os.Lstat(path); err == nil {
				return fmt.Errorf("control-plane directory: %s exists already", path)
			}
			cp.made = append(cp.made, path)
			cp.wroteKubeconfig = true
		}
		if err := clientcmd.WriteToFile(kubeconfigFor(cp.rest.Host, cp.ca.cert, user, f.tokens[user]), path); err != nil {
			return fmt.Errorf("kubeconfig: %w", err)
		}
	}
	return nil
}

// kubeconfigFor is a kubeconfig reaching host as user with token, named
// like kind's so that `kubectl config` output looks like a workshop's.
func kubeconfigFor(host string, caPEM []byte, user, token string) clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["labrun"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["labrun"] = &clientcmdapi.Context{Cluster: "labrun", AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = "labrun"
	return *cfg
}

// startControllerManager starts the controller manager. Neither it nor the
// scheduler serves anything labrun reads, so their secure ports are off
// (0): no port to choose, none to collide; a death is seen by its exit.
func (cp *ControlPlane) startControllerManager(cmds map[string][]string, f *files) error {
	km := append(append([]string(nil), cmds["kube-controller-manager"]...),
		"--kubeconfig="+f.controllerKubeconfig,
		"--authentication-kubeconfig="+f.controllerKubeconfig,
		"--authorization-kubeconfig="+f.controllerKubeconfig,
		"--bind-address="+cp.opts.BindAddress,
		"--secure-port=0",
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--cluster-signing-cert-file="+f.caCert,
		"--cluster-signing-key-file="+f.caKey,
		"--root-ca-file="+f.caCert,
		"--service-account-private-key-file="+f.saKey,
		"--use-service-account-credentials=true",
		"--allocate-node-cidrs=true",
		"--cluster-cidr="+cp.opts.ClusterCIDR,
		"--service-cluster-ip-range="+cp.opts.ServiceCIDR,
		"--leader-elect=false",
		"--profiling=false",
		// The default 20 requests a second makes a 1,000-replica
		// Deployment take 50 s to create its pods (a pod and an event
		// each); one API server on this machine takes far more, and its
		// priority and fairness keep the lab user's requests first.
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
	)
	fmt.Fprintf(cp.opts.Log, "control plane: starting kube-controller-manager\n")
	c, err := cp.startComponent("kube-controller-manager", km)
	if err != nil {
		return err
	}
	cp.watch(c)
	return nil
}

// startScheduler starts kube-scheduler.
func (cp *ControlPlane) startScheduler(cmds map[string][]string, f *files) error {
	ks := append(append([]string(nil), cmds["kube-scheduler"]...),
		"--config="+f.schedulerConfig,
		"--authentication-kubeconfig="+f.schedulerKubeconfig,
		"--authorization-kubeconfig="+f.schedulerKubeconfig,
		"--bind-address="+cp.opts.BindAddress,
		"--secure-port=0",
	)
	fmt.Fprintf(cp.opts.Log, "control plane: starting kube-scheduler\n")
	c, err := cp.startComponent("kube-scheduler", ks)
	if err != nil {
		return err
	}
	cp.watch(c)
	return nil
}

// schedulerConfig is kube-scheduler's configuration: its flags for the
// client and leader election are deprecated in favour of this file.
// The default 50 requests a second would bound a 1,000-replica Deployment
// to 40 s (a binding and an event per pod); one API server on this machine
// takes far more. 500 rather than 200: that Deployment was available
// 14-17 % sooner in two interleaved pairs of runs.
func schedulerConfig(kubeconfig string) string {
	return fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: 500
  burst: 1000
leaderElection:
  leaderElect: false
enableProfiling: false
`, kubeconfig)
}

// ensureDefaultNamespace creates in `default` the two objects the
// controller manager would, which a lab's first pod needs: the default
// ServiceAccount (admission refuses a pod without it) and the
// kube-root-ca.crt ConfigMap (its token volume projects it), exactly as
// the serviceaccount and root-ca-cert-publisher controllers make them.
// Those start one or more seconds after the API server is ready; they find
// the objects there and leave them. The namespace itself comes from the
// API server's system namespaces controller just after it begins to
// serve: until then a create is retried.
func (cp *ControlPlane) ensureDefaultNamespace(ctx context.Context, cmName string) error {
	cfg := cp.RESTConfig()
	// The field manager the controllers' own writes record: client-go's
	// user agent starts with the command's name (labrun-k8s, or
	// kube-controller-manager from a --control-plane directory).
	cfg.UserAgent = cmName
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kube-apiserver client: %w", err)
	}
	ns := metav1.NamespaceDefault
	create := map[string]func() error{
		"the default ServiceAccount": func() error {
			_, err := client.CoreV1().ServiceAccounts(ns).Create(ctx,
				&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
			return err
		},
		"kube-root-ca.crt": func() error {
			_, err := client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Annotations: map[string]string{
					"kubernetes.io/description": rootCADescription}},
				Data: map[string]string{"ca.crt": string(cp.ca.cert)},
			}, metav1.CreateOptions{})
			return err
		},
	}
	for what, f := range create {
		for {
			err := f()
			if err == nil || apierrors.IsAlreadyExists(err) {
				break
			}
			if !apierrors.IsNotFound(err) { // the namespace, not yet made
				return fmt.Errorf("create %s: %w", what, err)
			}
			select {
			case <-cp.done:
				return cp.err
			case <-ctx.Done():
				return fmt.Errorf("create %s: %w", what, context.Cause(ctx))
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// rootCADescription is the root-ca-cert-publisher controller's annotation.
const rootCADescription = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
	"No other usage is guaranteed across distributions of Kubernetes clusters."

// startComponent starts one component, to be stopped with the others.
func (cp *ControlPlane) startComponent(name string, argv []string) (*component, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.stopped {
		if cp.err != nil {
			return nil, cp.err
		}
		return nil, errors.New("control plane closed while starting")
	}
	c, err := startComponent(name, argv, componentEnv(name), filepath.Join(cp.dir, "logs", name+".log"))
	if err != nil {
		return nil, err
	}
	cp.comps = append(cp.comps, c)
	return c, nil
}

// componentEnv is what a component gets beside labrun's environment. The
// API server collects its garbage at 75 % heap growth instead of Go's
// 100 %: idle after a start, its resident heap is about 160 MB instead of
// 185 MB, which keeps the whole cluster under 600 MB (591 MB instead of
// 612, medians of four and six starts). GOGC=50 took 15 MB more off but
// cost the control plane about 15 % more CPU time in a 1,000-replica
// Deployment. A GOGC in labrun's own environment is left to apply to every
// component.
func componentEnv(name string) []string {
	if name == "kube-apiserver" && os.Getenv("GOGC") == "" {
		return []string{"GOGC=75"}
	}
	return nil
}

// watch fails the whole control plane when c exits unasked. It starts once
// c is up: until then an exit is the start's own error (and may be retried).
func (cp *ControlPlane) watch(c *component) {
	go func() {
		<-c.exited
		if !c.stopping.Load() {
			cp.fail(c.exitError())
		}
	}()
}

// waitReady polls ready until it says yes, the component exits, or ctx ends.
func (cp *ControlPlane) waitReady(ctx context.Context, c *component, ready func(context.Context) bool) error {
	for {
		if ready(ctx) {
			return nil
		}
		select {
		case <-c.exited:
			return c.exitError()
		case <-cp.done:
			return cp.err
		case <-ctx.Done():
			cause := context.Cause(ctx)
			return &ComponentError{Component: c.name, Status: "not ready: " + cause.Error(), Tail: c.tail.lines(), Err: cause}
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// portsTaken reports whether the launch failed because a port was taken
// between our choosing it and a component's binding it, and attempts are
// left. Either way it stops the launch's components; if so, it forgets
// them, for the next launch to start afresh on other ports.
func (cp *ControlPlane) portsTaken(attempt int) bool {
	cp.mu.Lock()
	comps := append([]*component(nil), cp.comps...)
	cp.mu.Unlock()
	for _, c := range comps {
		c.stop(grace, nil)
	}
	taken := false
	for _, c := range comps {
		if c.tail.contains("address already in use") {
			taken = true
			fmt.Fprintf(cp.opts.Log, "control plane: %s's port was taken, retrying on other ports\n", c.name)
		}
	}
	if !taken || attempt >= startAttempts || cp.Err() != nil {
		return false
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.comps = nil
	return true
}

// triedPorts says that err came after attempts starts on different ports.
func triedPorts(err error, attempts int) error {
	if attempts > 1 {
		return fmt.Errorf("%w\n(started %d times, each on other ports)", err, attempts)
	}
	return err
}

// freePorts asks the kernel for n distinct free ports on host. Another
// process may take one before the component binds it: portTaken retries.
func freePorts(host string, n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// httpGet is the status and (first 64 KiB of the) body of a GET of url;
// status 0 if there was no answer.
func httpGet(ctx context.Context, hc *http.Client, url string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, string(body)
}

// fail records the first reason the control plane stopped, closes Done and
// stops the other components: a control plane missing one is no use.
func (cp *ControlPlane) fail(err error) {
	cp.failOnce.Do(func() {
		cp.err = err
		close(cp.done)
		go cp.stopAll(nil)
	})
}

// stopAll stops the components in the reverse order of their start, so
// none is left talking to one already gone.
func (cp *ControlPlane) stopAll(abort <-chan struct{}) {
	cp.mu.Lock()
	cp.stopped = true
	comps := append([]*component(nil), cp.comps...)
	cp.mu.Unlock()
	for _, c := range comps {
		c.stopping.Store(true)
	}
	for i := len(comps) - 1; i >= 0; i-- {
		comps[i].stop(grace, abort)
	}
}

// Kubeconfig is the path of the lab user's kubeconfig (cluster-admin
// through a token, namespace default).
func (cp *ControlPlane) Kubeconfig() string { return cp.kubeconfig }

// RESTConfig is a client configuration for the lab user.
func (cp *ControlPlane) RESTConfig() *rest.Config { return rest.CopyConfig(cp.rest) }

// CA is the run's CA, which the API server trusts for client certificates
// and the kubelets' serving certificates: node agents sign theirs with it
// (CN system:node:NAME, O system:nodes for the Node authorizer).
func (cp *ControlPlane) CA() (certPEM, keyPEM []byte) { return cp.ca.cert, cp.ca.key }

// KubeletClientCert is the client certificate the API server presents to
// the kubelets (logs, exec, attach, port-forward): CN
// kube-apiserver-kubelet-client, signed by CA. A node agent's kubelet API
// accepts client certificates signed by CA and may check this name.
func (cp *ControlPlane) KubeletClientCert() (certPEM []byte, commonName string) {
	return cp.kubeletCli.cert, cp.kubeletCli.parsed.Subject.CommonName
}

// Dir is the control plane's directory (logs in Dir/logs until Close).
func (cp *ControlPlane) Dir() string { return cp.dir }

// Done is closed when a component died (Err says which and why), or
// once Close began.
func (cp *ControlPlane) Done() <-chan struct{} { return cp.done }

// Err is why the control plane stopped (a *ComponentError names the
// component, its exit status and last log lines), or nil while it runs and
// after Close.
func (cp *ControlPlane) Err() error {
	select {
	case <-cp.done:
		return cp.err
	default:
		return nil
	}
}

// Close stops every component (TERM, then KILL after a grace period or
// once ctx ends) and removes what Start made in Dir. It is safe to call
// twice.
func (cp *ControlPlane) Close(ctx context.Context) error {
	cp.closeOnce.Do(func() {
		cp.failOnce.Do(func() { close(cp.done) }) // stopped by request: Err stays nil
		cp.stopAll(ctx.Done())
		var errs []error
		for i := len(cp.made) - 1; i >= 0; i-- {
			if err := os.RemoveAll(cp.made[i]); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			cp.closeErr = fmt.Errorf("remove control-plane files: %w", err)
		}
	})
	return cp.closeErr
}
