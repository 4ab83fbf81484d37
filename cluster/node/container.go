package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/busybox"
	"github.com/labrun/labrun/cluster/images"
	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/cluster/network/loopback"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
)

// The image catalogue: what a container does when its pod spec names no
// command. Images are not pulled; a container is the command of its spec
// run as a local process, with busybox applets ahead of the host's PATH.
//
//	image (any tag)            no command, no args           args only
//	alpine, busybox            sh (exits at once without     args are the command
//	                           stdin, as without a terminal)
//	jpetazzo/clock             prints the date every second  args are the command
//	anything else              idles until deleted, after    args are the command
//	                           logging one line saying it    (as for an image with
//	                           is simulated                  no entrypoint)
//
// A command (spec.command) always runs as given, followed by spec.args.

// builtinFunc is a container behaviour run in-process; it returns the exit
// code, and ends early with 128+signal when ctx is cancelled.
type builtinFunc func(ctx context.Context, out io.Writer) int

// imageName strips registry, tag and digest: "docker.io/library/alpine:3"
// → "alpine", "jpetazzo/clock:latest" → "jpetazzo/clock".
func imageName(img string) string {
	if i := strings.IndexByte(img, '@'); i >= 0 {
		img = img[:i]
	}
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		img = img[:i]
	}
	if first, rest, ok := strings.Cut(img, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		img = rest
	}
	return strings.TrimPrefix(img, "library/")
}

// containerArgv returns the argv to run, or a built-in behaviour.
func containerArgv(c corev1.Container) ([]string, builtinFunc) {
	if len(c.Command) > 0 {
		return append(append([]string(nil), c.Command...), c.Args...), nil
	}
	if len(c.Args) > 0 {
		return append([]string(nil), c.Args...), nil
	}
	if c.Stdin && images.IsShell(c.Image) {
		return []string{"sh"}, nil
	}
	switch imageName(c.Image) {
	case "alpine", "busybox":
		return nil, func(context.Context, io.Writer) int { return 0 }
	case "jpetazzo/clock":
		return nil, clock
	}
	return nil, idle(c.Image)
}

// systemImage says whether an image is one of the cluster's own
// components (kube-proxy, the control plane's): what they do is done by
// labrun itself, so their containers idle whatever their command.
func systemImage(img string) bool {
	switch imageName(img) {
	case "kube-proxy", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "coredns/coredns":
		return true
	}
	return false
}

// MirrorAnnotation marks a static pod's mirror, as the kubelet makes it.
const MirrorAnnotation = "kubernetes.io/config.mirror"

// idle is a container that says it is simulated and waits to be stopped.
func idle(img string) builtinFunc {
	return func(ctx context.Context, out io.Writer) int {
		fmt.Fprintf(out, "labrun: image %q is simulated: this container has no command to run and idles until it is deleted\n", img)
		<-ctx.Done()
		return exitCodeOf(ctx)
	}
}

// clock prints the date every second, as jpetazzo/clock does.
func clock(ctx context.Context, out io.Writer) int {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		fmt.Fprintln(out, time.Now().UTC().Format("Mon Jan _2 15:04:05 UTC 2006"))
		select {
		case <-t.C:
		case <-ctx.Done():
			return exitCodeOf(ctx)
		}
	}
}

type sigCause struct{ sig syscall.Signal }

func (c sigCause) Error() string { return c.sig.String() }

func exitCodeOf(ctx context.Context) int {
	if c, ok := context.Cause(ctx).(sigCause); ok {
		return 128 + int(c.sig)
	}
	return 128 + int(syscall.SIGTERM)
}

// instance is one run of a container.
type instance interface {
	done() <-chan struct{}
	result() (code int, signal int)
	signal(sig syscall.Signal)
	// attach joins the container's stdio until ctx ends or it exits.
	attach(ctx context.Context, in io.Reader, out, errw io.Writer, resize <-chan remotecommand.TerminalSize) error
}

// fanout copies a container's output to its log and to attached clients.
type fanout struct {
	log io.Writer
	mu  sync.Mutex
	ws  map[*io.Writer]bool
}

func newFanout(log io.Writer) *fanout { return &fanout{log: log, ws: map[*io.Writer]bool{}} }

func (f *fanout) Write(p []byte) (int, error) {
	_, _ = f.log.Write(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.ws {
		if _, err := (*w).Write(p); err != nil {
			delete(f.ws, w)
		}
	}
	return len(p), nil
}

func (f *fanout) add(w io.Writer) func() {
	if w == nil {
		return func() {}
	}
	p := &w
	f.mu.Lock()
	f.ws[p] = true
	f.mu.Unlock()
	return func() { f.mu.Lock(); delete(f.ws, p); f.mu.Unlock() }
}

// procInstance is a container run as a local process group.
type procInstance struct {
	cmd       *exec.Cmd
	ch        chan struct{}
	code, sig int
	out, errs *fanout
	stdin     io.WriteCloser // nil without spec.stdin
	tty       *os.File       // the pty master with spec.tty
	// ttyMu orders resizes before the master's close: pty.Setsize reads the
	// file's descriptor outside os.File's own locking.
	ttyMu     sync.Mutex
	ttyClosed bool
	stdinOnce bool
	inMu      sync.Mutex
	inUsed    bool
	// mu guards reaped: once the leader is reaped its pid, and so its
	// process group id, may belong to a stranger, so nothing may be
	// signalled by that number any more.
	mu     sync.Mutex
	reaped bool
}

func (p *procInstance) done() <-chan struct{} { return p.ch }
func (p *procInstance) result() (int, int)    { return p.code, p.sig }
func (p *procInstance) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd.Process != nil && !p.reaped {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

type reapLock struct{ p *procInstance }

func (l reapLock) Lock() { l.p.mu.Lock() }
func (l reapLock) Unlock() {
	l.p.reaped = true
	l.p.mu.Unlock()
}

func (p *procInstance) attach(ctx context.Context, in io.Reader, out, errw io.Writer, resize <-chan remotecommand.TerminalSize) error {
	defer p.out.add(out)()
	if p.tty == nil {
		defer p.errs.add(errw)()
	}
	if in != nil && (p.stdin != nil || p.tty != nil) {
		go func() {
			dst := io.Writer(p.tty)
			if p.tty == nil {
				dst = p.stdin
			}
			_, _ = io.Copy(dst, in)
			p.inMu.Lock()
			defer p.inMu.Unlock()
			if p.stdinOnce && !p.inUsed {
				p.inUsed = true
				if p.tty != nil {
					_, _ = p.tty.Write([]byte{4}) // ^D: end of input
				} else {
					_ = p.stdin.Close()
				}
			}
		}()
	}
	if p.tty != nil && resize != nil {
		go func() {
			for sz := range resize {
				p.ttyMu.Lock()
				if !p.ttyClosed {
					_ = pty.Setsize(p.tty, &pty.Winsize{Rows: sz.Height, Cols: sz.Width})
				}
				p.ttyMu.Unlock()
			}
		}()
	}
	select {
	case <-ctx.Done():
	case <-p.ch:
	}
	return nil
}

// builtinInstance runs a builtinFunc in a goroutine; any signal ends it.
type builtinInstance struct {
	cancel context.CancelCauseFunc
	ch     chan struct{}
	out    *fanout
	mu     sync.Mutex
	code   int

	// listening closes once a workshop image answers on its ports; nil:
	// the behaviour is ready as soon as it runs.
	listening <-chan struct{}
}

func startBuiltin(f builtinFunc, out *fanout) *builtinInstance {
	ctx, cancel := context.WithCancelCause(context.Background())
	b := &builtinInstance{cancel: cancel, ch: make(chan struct{}), out: out}
	go func() {
		code := f(ctx, out)
		b.mu.Lock()
		b.code = code
		b.mu.Unlock()
		cancel(nil)
		close(b.ch)
	}()
	return b
}

func (b *builtinInstance) done() <-chan struct{} { return b.ch }
func (b *builtinInstance) result() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.code > 128 {
		return b.code, b.code - 128
	}
	return b.code, 0
}
func (b *builtinInstance) signal(sig syscall.Signal) { b.cancel(sigCause{sig}) }
func (b *builtinInstance) attach(ctx context.Context, _ io.Reader, out, _ io.Writer, _ <-chan remotecommand.TerminalSize) error {
	defer b.out.add(out)()
	select {
	case <-ctx.Done():
	case <-b.ch:
	}
	return nil
}

// root is the container's filesystem root: its / inside labrun's mount
// namespace (rootfs.go), else its working directory, where its volumes
// are linked.
func (c *containerRun) root() string { return filepath.Join(c.w.dir, c.spec.Name) }

// startContainer starts a container instance: the command of the pod spec
// (or the image's default from the catalogue) as a process, or a built-in
// behaviour for catalogued images without a command.
func (w *podWorker) startContainer(c *containerRun, logs *logBuf) (instance, error) {
	if cur, _ := c.logs(); cur != nil {
		// A restart: a new container, from the image again.
		if err := c.resetRoot(); err != nil {
			return nil, err
		}
	}
	out := newFanout(logs)
	argv, builtin := containerArgv(c.spec)
	if _, static := w.pod.Annotations[MirrorAnnotation]; static || systemImage(c.spec.Image) {
		// A control-plane static pod stands for a component that really
		// runs beside the nodes: its container only idles.
		argv, builtin = nil, idle(c.spec.Image)
	}
	// No command: the image's behaviour, unless a shell image got sh for its
	// stdin (kubectl run -ti, an interactive container).
	shellForStdin := argv != nil && len(c.spec.Args) == 0
	var listening <-chan struct{}
	if _, static := w.pod.Annotations[MirrorAnnotation]; !static && !systemImage(c.spec.Image) && len(c.spec.Command) == 0 && !c.spec.Stdin && !shellForStdin {
		if b, l := w.imageBehaviour(c); b != nil {
			builtin, listening = b, l
		}
	}
	if builtin != nil {
		b := startBuiltin(builtin, out)
		b.listening = listening
		return b, nil
	}
	env, err := w.containerEnv(c)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	c.env = env
	w.mu.Unlock()
	cmd, err := w.command(c, argv, env)
	if err != nil {
		return nil, err
	}
	p := &procInstance{cmd: cmd, ch: make(chan struct{}), out: out, errs: newFanout(logs), stdinOnce: c.spec.StdinOnce}
	if c.spec.TTY {
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
		if err != nil {
			return nil, err
		}
		p.tty = f
		go func() { _, _ = io.Copy(out, f) }()
	} else {
		cmd.Stdout = out
		cmd.Stderr = p.errs
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Setpgid = true
		if c.spec.Stdin {
			in, err := cmd.StdinPipe()
			if err != nil {
				return nil, err
			}
			p.stdin = in
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
	}
	go func() {
		err := cluster.WaitGroup(cmd, reapLock{p})
		var ee *exec.ExitError
		if errors.As(err, &ee) || cmd.ProcessState != nil {
			st := cmd.ProcessState
			if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.sig = int(ws.Signal())
				p.code = 128 + p.sig
			} else {
				p.code = st.ExitCode()
			}
		} else if err != nil {
			p.code = 1
		}
		if p.tty != nil {
			// Let the reader drain what the shell wrote last.
			time.Sleep(50 * time.Millisecond)
			p.ttyMu.Lock()
			p.ttyClosed = true
			_ = p.tty.Close()
			p.ttyMu.Unlock()
		}
		close(p.ch)
	}()
	return p, nil
}

// command builds the process of a container or of an exec in it: in its
// own root filesystem inside labrun's mount namespace (rootfs.go), else in
// the host's with root() as its working directory.
func (w *podWorker) command(c *containerRun, argv, env []string) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command specified")
	}
	if rooted() {
		return w.rootedCommand(c, argv, env)
	}
	path, err := w.k.a.resolve(argv[0])
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.root(), 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	if filepath.Base(path) != filepath.Base(argv[0]) || (w.k.a.opts.BinDir != "" && strings.HasPrefix(path, w.k.a.opts.BinDir)) {
		cmd.Args[0] = path
	}
	cmd.Dir = c.root()
	if wd := c.spec.WorkingDir; wd != "" {
		if err := os.MkdirAll(filepath.Join(c.root(), wd), 0o755); err == nil {
			cmd.Dir = filepath.Join(c.root(), wd)
		}
	}
	cmd.Env = env
	cmd.WaitDelay = 2 * time.Second
	lo := w.k.a.opts.Loopback
	if lo != nil {
		// The network fallback: the applets that talk to the cluster
		// (curl, wget) find its addresses through the map.
		cmd.Env = append(append([]string(nil), env...), loopback.Env+"="+lo.Path())
	}
	if !w.pod.Spec.HostNetwork && (network.CurrentMode() != network.Outside || lo != nil) {
		etc, err := w.podFiles()
		if err != nil {
			return nil, err
		}
		if lo != nil {
			// The fallback can mount nothing: the applets read the pod's
			// resolver settings from its file.
			cmd.Env = append(cmd.Env, loopback.EnvResolvConf+"="+filepath.Join(etc, "resolv.conf"))
		}
		if err := network.WrapPodCommand(cmd, etc); err != nil { // mounts them, in the run's namespace
			return nil, err
		}
	}
	return cmd, nil
}

// podFiles writes the pod's /etc/resolv.conf, /etc/hosts and hostname, as a
// kubelet gives them, and returns their directory.
func (w *podWorker) podFiles() (string, error) {
	etc := filepath.Join(w.dir, ".labrun-etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return "", err
	}
	p := network.Pod{Name: w.pod.Name, Namespace: w.pod.Namespace, IP: w.podIP, Hostname: w.pod.Spec.Hostname, Subdomain: w.pod.Spec.Subdomain}
	if err := network.WritePodFiles(etc, p); err != nil {
		return "", err
	}
	return etc, nil
}

// rootedCommand is command for a container with a root of its own: the
// program is found in that root, by the container's PATH, and the pod
// helper starts it there.
func (w *podWorker) rootedCommand(c *containerRun, argv, env []string) (*exec.Cmd, error) {
	if err := c.mountRoot(); err != nil {
		return nil, err
	}
	root := c.root()
	wd := path.Clean("/" + c.spec.WorkingDir)
	dir := root
	if wd != "/" {
		if err := securejoin.MkdirAll(root, wd, 0o755); err != nil {
			return nil, fmt.Errorf("working directory %s: %w", wd, err)
		}
		var err error
		if dir, err = securejoin.SecureJoin(root, wd); err != nil {
			return nil, fmt.Errorf("working directory %s: %w", wd, err)
		}
	}
	name, err := w.k.a.resolveIn(root, wd, argv[0], envPath(env))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, argv[1:]...)
	cmd.Args[0] = argv[0]
	if path.Base(name) != path.Base(argv[0]) || strings.HasPrefix(name, appletDir+"/") {
		cmd.Args[0] = name
	}
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 2 * time.Second
	etc := network.NodeFiles()
	if !w.pod.Spec.HostNetwork {
		if etc, err = w.podFiles(); err != nil {
			return nil, err
		}
	}
	if err := network.WrapContainerCommand(cmd, etc, root); err != nil {
		return nil, err
	}
	return cmd, nil
}

// envPath is the PATH of a container's environment.
func envPath(env []string) string {
	p := containerPATH
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			p = v
		}
	}
	return p
}

// resolveIn finds a container's executable inside its root, as a runtime
// does, and returns its path there: a busybox applet for its base name,
// else the path given (relative to the working directory wd), else a
// lookup in pathList.
func (a *Agent) resolveIn(root, wd, name, pathList string) (string, error) {
	base := path.Base(name)
	if a.opts.BinDir != "" && isApplet(base) {
		return path.Join(appletDir, base), nil
	}
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(wd, p)
		}
		if executable(root, p) {
			return p, nil
		}
		return "", fmt.Errorf("exec: %q: stat %s: no such file or directory", name, name)
	}
	for _, dir := range strings.Split(pathList, ":") {
		if !path.IsAbs(dir) {
			continue
		}
		if p := path.Join(dir, name); executable(root, p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// executable says whether p, a path inside root, is an executable file.
func executable(root, p string) bool {
	full, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return false
	}
	st, err := os.Stat(full)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func isApplet(name string) bool {
	for _, ap := range busybox.Applets() {
		if ap == name {
			return true
		}
	}
	return false
}

// resolve finds a container's executable: a busybox applet for its base
// name (as in the image, /bin/ping is busybox), else a path on the host,
// else a lookup in the applets then the host's PATH.
func (a *Agent) resolve(name string) (string, error) {
	base := filepath.Base(name)
	if a.opts.BinDir != "" && isApplet(base) {
		return filepath.Join(a.opts.BinDir, base), nil
	}
	if strings.Contains(name, "/") {
		if st, err := os.Stat(name); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return name, nil
		}
		return "", fmt.Errorf("exec: %q: stat %s: no such file or directory", name, name)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// containerEnv is the container's environment as a kubelet builds it:
// the API server's service variables, then envFrom, then env (with
// $(VAR) expansion); a missing non-optional source is an error (the
// kubelet reports CreateContainerConfigError).
func (w *podWorker) containerEnv(c *containerRun) ([]string, error) {
	ctx := w.ctx
	cli := w.k.a.client.CoreV1()
	env := []string{
		"PATH=" + w.k.a.opts.BinDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOSTNAME=" + w.pod.Name,
		"HOME=" + c.root(),
	}
	if rooted() {
		env[0], env[2] = "PATH="+containerPATH, "HOME=/root"
	}
	if w.pod.Spec.EnableServiceLinks == nil || *w.pod.Spec.EnableServiceLinks {
		env = append(env, w.serviceEnv(ctx)...)
	} else {
		env = append(env, w.kubernetesEnv(ctx)...)
	}
	if v := os.Getenv("LANG"); v != "" {
		env = append(env, "LANG="+v)
	}
	for _, from := range c.spec.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, err := cli.ConfigMaps(w.pod.Namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
					continue
				}
				return nil, fmt.Errorf("configmap %q not found", from.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				env = append(env, from.Prefix+k+"="+v)
			}
		case from.SecretRef != nil:
			s, err := cli.Secrets(w.pod.Namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if from.SecretRef.Optional != nil && *from.SecretRef.Optional {
					continue
				}
				return nil, fmt.Errorf("secret %q not found", from.SecretRef.Name)
			}
			for k, v := range s.Data {
				env = append(env, from.Prefix+k+"="+string(v))
			}
		}
	}
	for _, e := range c.spec.Env {
		v := e.Value
		if e.ValueFrom != nil {
			var err error
			if v, err = w.envValueFrom(ctx, c, e.ValueFrom); err != nil {
				return nil, err
			}
		}
		env = append(env, e.Name+"="+expandEnv(v, env))
	}
	return env, nil
}

func (w *podWorker) kubernetesEnv(ctx context.Context) []string {
	svc, err := w.k.a.client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return serviceVars(svc)
}

// serviceEnv has the docker-links variables of the services in the pod's
// namespace, and of the kubernetes service.
func (w *podWorker) serviceEnv(ctx context.Context) []string {
	env := w.kubernetesEnv(ctx)
	if w.pod.Namespace == "default" {
		env = nil
	}
	list, err := w.k.a.client.CoreV1().Services(w.pod.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return env
	}
	for i := range list.Items {
		env = append(env, serviceVars(&list.Items[i])...)
	}
	return env
}

func serviceVars(s *corev1.Service) []string {
	ip := s.Spec.ClusterIP
	if ip == "" || ip == corev1.ClusterIPNone || len(s.Spec.Ports) == 0 {
		return nil
	}
	name := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
	p0 := s.Spec.Ports[0]
	env := []string{
		name + "_SERVICE_HOST=" + ip,
		name + "_SERVICE_PORT=" + strconv.Itoa(int(p0.Port)),
	}
	for _, p := range s.Spec.Ports {
		if p.Name != "" {
			env = append(env, name+"_SERVICE_PORT_"+strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_"))+"="+strconv.Itoa(int(p.Port)))
		}
	}
	proto := strings.ToLower(string(p0.Protocol))
	if proto == "" {
		proto = "tcp"
	}
	env = append(env, fmt.Sprintf("%s_PORT=%s://%s:%d", name, proto, ip, p0.Port))
	for _, p := range s.Spec.Ports {
		pr := strings.ToLower(string(p.Protocol))
		if pr == "" {
			pr = "tcp"
		}
		pre := fmt.Sprintf("%s_PORT_%d_%s", name, p.Port, strings.ToUpper(pr))
		env = append(env,
			fmt.Sprintf("%s=%s://%s:%d", pre, pr, ip, p.Port),
			pre+"_PROTO="+pr,
			fmt.Sprintf("%s_PORT=%d", pre, p.Port),
			pre+"_ADDR="+ip)
	}
	return env
}

// expandEnv expands $(VAR) references to earlier variables, as kubelet does.
func expandEnv(v string, env []string) string {
	if !strings.Contains(v, "$(") {
		return v
	}
	for _, kv := range env {
		k, val, _ := strings.Cut(kv, "=")
		v = strings.ReplaceAll(v, "$("+k+")", val)
	}
	return v
}

func (w *podWorker) envValueFrom(ctx context.Context, c *containerRun, src *corev1.EnvVarSource) (string, error) {
	p := w.pod
	cli := w.k.a.client.CoreV1()
	switch {
	case src.FieldRef != nil:
		return w.fieldValue(src.FieldRef.FieldPath), nil
	case src.ResourceFieldRef != nil:
		return resourceValue(c, src.ResourceFieldRef), nil
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		cm, err := cli.ConfigMaps(p.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := cm.Data[r.Key]; ok {
				return v, nil
			}
		}
		if r.Optional != nil && *r.Optional {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("configmap %q not found", r.Name)
		}
		return "", fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", r.Key, p.Namespace, r.Name)
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		s, err := cli.Secrets(p.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := s.Data[r.Key]; ok {
				return string(v), nil
			}
		}
		if r.Optional != nil && *r.Optional {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("secret %q not found", r.Name)
		}
		return "", fmt.Errorf("couldn't find key %s in Secret %s/%s", r.Key, p.Namespace, r.Name)
	}
	return "", nil
}

// fieldValue is a downward API field of the pod.
func (w *podWorker) fieldValue(path string) string {
	p := w.pod
	switch path {
	case "metadata.name":
		return p.Name
	case "metadata.namespace":
		return p.Namespace
	case "metadata.uid":
		return string(p.UID)
	case "spec.nodeName":
		return p.Spec.NodeName
	case "spec.serviceAccountName":
		return p.Spec.ServiceAccountName
	case "status.podIP", "status.podIPs":
		return w.podIP
	case "status.hostIP", "status.hostIPs":
		return w.hostIP
	case "metadata.labels":
		return formatMap(p.Labels)
	case "metadata.annotations":
		return formatMap(p.Annotations)
	}
	if k, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return p.Labels[strings.TrimSuffix(k, "']")]
	}
	if k, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return p.Annotations[strings.TrimSuffix(k, "']")]
	}
	return ""
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

// resourceValue is a container's limit or request as the downward API
// shows it; an unset limit is the node's allocatable.
func resourceValue(c *containerRun, r *corev1.ResourceFieldSelector) string {
	div := r.Divisor
	name := r.Resource
	var q = c.spec.Resources.Limits
	key := strings.TrimPrefix(strings.TrimPrefix(name, "limits."), "requests.")
	if strings.HasPrefix(name, "requests.") {
		q = c.spec.Resources.Requests
	}
	v, ok := q[corev1.ResourceName(key)]
	if !ok {
		switch key {
		case "cpu":
			if strings.HasPrefix(name, "requests.") {
				return "0"
			}
			v = mustQuantity("2")
		case "memory":
			if strings.HasPrefix(name, "requests.") {
				return "0"
			}
			v = mustQuantity("3927816Ki")
		default:
			return "0"
		}
	}
	if div.IsZero() {
		div = mustQuantity("1")
	}
	if key == "cpu" {
		n := (v.MilliValue() + div.MilliValue() - 1) / div.MilliValue()
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt((v.Value()+div.Value()-1)/div.Value(), 10)
}

// imageBehaviour is the workshop image's own behaviour (cluster/images),
// listening on the pod's IP and finding Services through the cluster DNS
// when the run has its network namespace; nil: run the container's args.
// The channel closes once the image answers on its ports.
func (w *podWorker) imageBehaviour(c *containerRun) (builtinFunc, <-chan struct{}) {
	listening := make(chan struct{})
	ic := images.Container{
		Image: c.spec.Image, Args: c.spec.Args, PodName: w.pod.Name, Namespace: w.pod.Namespace,
		PodIP: w.podIP, NodeName: w.k.a.opts.Name,
		Ingress: w.k.a.opts.Ingress, IngressTLS: w.k.a.opts.IngressTLS,
		Listening: func() { close(listening) }, // images calls it once
	}
	if env, err := w.containerEnv(c); err == nil {
		ic.Env = env
	}
	for _, p := range c.spec.Ports {
		ic.Ports = append(ic.Ports, p.ContainerPort)
	}
	if network.CurrentMode() != network.Outside {
		ic.DNS = net.JoinHostPort(network.DNSIP, "53")
	} else if m := w.k.a.opts.Loopback; m != nil {
		ic.Loopback, ic.DNS = m, m.Target("udp", net.JoinHostPort(network.DNSIP, "53"))
	}
	if images.Builtin(ic) == nil {
		return nil, nil
	}
	return func(ctx context.Context, out io.Writer) int {
		ic.Stdout = out
		return images.Builtin(ic)(ctx)
	}, listening
}
