// Package network is the built-in cluster's networking: a network
// namespace of the run's own where every cluster address is local, a
// service proxy and cluster DNS that follow the API server, and the pods'
// /etc/hosts and /etc/resolv.conf.
//
// Nothing leaves the machine: the namespace has only its loopback
// interface, and the cluster's ranges are routed to it as local addresses
// (the AnyIP trick: `ip route add local 10.0.0.0/8 dev lo`), so pod IPs,
// ClusterIPs and node IPs can be bound directly and answer only from
// inside.
package network

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/labrun/labrun/cluster/network/loopback"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// The cluster's address ranges, as on a kind cluster. They are local
// inside the run's namespace.
const (
	ServiceCIDR = "10.96.0.0/12"
	ClusterCIDR = "10.244.0.0/16"
	NodeCIDR    = "172.18.0.0/16" // node i (from 1) is 172.18.0.(i+1)
	DNSIP       = "10.96.0.10"    // the kube-dns Service's ClusterIP
)

// localRanges are routed to lo inside the namespace.
var localRanges = []string{"10.0.0.0/8", NodeCIDR}

// Answers says whether ip is an address this process's namespace answers
// on by itself: one of the ranges routed to lo inside labrun's namespace.
// Outside it, none is (their addresses are not this machine's).
func Answers(ip string) bool {
	parsed := net.ParseIP(ip)
	if parsed == nil || CurrentMode() == Outside {
		return false
	}
	for _, r := range localRanges {
		if _, n, err := net.ParseCIDR(r); err == nil && n.Contains(parsed) {
			return true
		}
	}
	return false
}

// NodeIP is the address of node i (1 for node1), as kind numbers them.
func NodeIP(i int) string { return fmt.Sprintf("172.18.0.%d", i+1) }

// Mode says where this process runs.
type Mode string

const (
	// Outside: not in a namespace of labrun's; the cluster's addresses do
	// not answer here.
	Outside Mode = ""
	// Root: in a namespace made as root.
	Root Mode = "root"
	// User: in a namespace made by an ordinary user, inside a user
	// namespace that maps the user to itself.
	User Mode = "user"
)

const (
	envMode   = "LABRUN_NETNS"         // Root or User in the namespace's processes
	envDir    = "LABRUN_NETNS_DIR"     // the namespace's /etc files
	envOff    = "LABRUN_NETNS_OFF"     // set (to anything) to never enter
	envSetUp  = "LABRUN_NETNS_SETUP"   // set for the namespace's first process only
	envHostFD = "LABRUN_NETNS_HOST_FD" // the host listener's descriptor (HostListener)
	// why this labrun has no namespace: set by Enter for the cluster's
	// note and for the labrun processes this one starts (-j's units), so
	// that they neither try again nor say it again
	envFallback = "LABRUN_NETNS_FALLBACK"
	podExecOp   = "__labrun-pod-exec"
)

// CurrentMode tells whether this process runs in the run's namespace.
func CurrentMode() Mode { return Mode(os.Getenv(envMode)) }

// Enter runs the program again in a network namespace of its own when the
// command line (os.Args) is one that starts the built-in cluster, and
// returns the exit code to exit with and true once that child has ended.
// It returns false when the caller is to go on in this process: inside the
// namespace (after setting it up), for commands that need no namespace, or
// when no namespace can be made (after saying why on stderr). It also runs
// the pod helper (PodCommand) and returns its code. Call it first in main.
func Enter(args []string, stderr io.Writer) (code int, exited bool) {
	return enter(args, stderr, len(args) > 1 && wantsNamespace(args[1:]))
}

// EnterAlways is Enter for a program that always wants the namespace, such
// as a test binary whose tests start the built-in cluster.
func EnterAlways(args []string, stderr io.Writer) (code int, exited bool) {
	return enter(args, stderr, true)
}

func enter(args []string, stderr io.Writer, want bool) (code int, exited bool) {
	if len(args) > 1 && args[1] == podExecOp {
		return podExec(args[2:], stderr), true
	}
	if m := CurrentMode(); m != Outside {
		if os.Getenv(envSetUp) == "" {
			return 0, false // a process the run started, in a namespace set up already
		}
		os.Unsetenv(envSetUp)
		if err := setUpInside(m); err != nil {
			fmt.Fprintf(stderr, "labrun: setting up the run's network namespace: %v\n", err)
			return 2, true
		}
		return 0, false
	}
	if !want || os.Getenv(envFallback) != "" {
		// The labrun that started this one fell back already, and said so.
		return 0, false
	}
	reason := envOff + " is set"
	if os.Getenv(envOff) == "" {
		code, err := runInside(args, stderr)
		if err == nil {
			return code, true
		}
		reason = err.Error()
	}
	// Said once, here; the cluster's report notes repeat it (FallbackNote).
	os.Setenv(envFallback, reason)
	fmt.Fprintf(stderr, "labrun: %s.\n%s\n", reason, fallbackText)
	return 0, false
}

// fallbackText says on stderr what the network fallback serves and what
// it cannot.
const fallbackText = `labrun: network fallback: the built-in cluster runs in this machine's own network, each of its addresses mapped to a loopback address of its own (10.96.x.y -> 127.96.x.y, 10.244.x.y -> 127.244.x.y, node 172.18.0.n -> 127.18.0.n). Node ports answer on localhost and on the nodes' addresses, kubectl port-forward, probes and the images' own traffic work, and the curl and wget that pods and labs run reach Service, pod and node addresses and Service names. Other programs cannot reach 10.x.y.z addresses, pods get no /etc/resolv.conf or /etc/hosts of their own, and one such cluster runs on this machine at a time (-j runs its units one after another).`

// ChildEnv is the environment for a labrun process that starts a
// built-in cluster of its own (a unit of -j): env less what tells a process
// that it runs in a namespace of labrun's, so that it makes one of its own,
// but keeping what says that none can be made (LABRUN_NETNS_OFF, the
// fallback's reason), so that it neither tries again nor says it again.
func ChildEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case envMode, envDir, envSetUp, envHostFD:
			continue
		}
		out = append(out, kv)
	}
	return out
}

// FallbackReason says why this process runs the built-in cluster in the
// network fallback (see package loopback): Enter found that no namespace
// can be made, or LABRUN_NETNS_OFF is set. It is "" in a namespace of
// labrun's, and in a process that never went through Enter (a test binary
// holding several clusters at once), whose clusters get no network at all.
func FallbackReason() string {
	if CurrentMode() != Outside {
		return ""
	}
	if r := os.Getenv(envFallback); r != "" {
		return r
	}
	if os.Getenv(envOff) != "" {
		return envOff + " is set"
	}
	return ""
}

// FallbackNote is the run's note on the network fallback, for the report,
// so that a step failing for it is not taken for the slide's fault; ""
// inside a namespace of labrun's.
func FallbackNote() string {
	r := FallbackReason()
	if r == "" {
		return ""
	}
	return "network fallback (" + r + "): the cluster's addresses were mapped to loopback ones; only node ports on localhost, port-forward, the images' traffic and the curl and wget of pods and labs reach them, so a step that talks to a pod or Service address any other way fails here and not on a workshop cluster"
}

// wantsNamespace: the commands that start the built-in cluster (run,
// cluster start, regress, bisect and the bisect-judge git bisect runs,
// step, watch), when their cluster is the built-in one.
func wantsNamespace(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "run", "cluster", "regress", "bisect", "bisect-judge", "step", "watch":
	default:
		return false
	}
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "--cluster=")
		if !ok && a == "--cluster" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok && v != "builtin" {
			return false
		}
		if a == "--" {
			break
		}
	}
	return true
}

// ErrTaken says the run's network namespace already holds a built-in
// cluster.
var ErrTaken = errors.New("this network namespace already holds a built-in cluster (its cluster DNS answers on " + DNSIP + ":53), and one namespace holds only one: their ClusterIPs, pod and node addresses would collide. Start the second as a labrun process of its own, which makes a namespace of its own (labrun run -j does so for each unit), or run against the first with --cluster kubeconfig")

// CheckFree returns ErrTaken when a built-in cluster already runs in this
// namespace, whether in this process or another, before a second one
// starts and fails late on an address in use. In the network fallback the
// machine's loopback addresses hold one cluster: it returns
// loopback.ErrTaken while another holds them. Outside both it says nothing.
func CheckFree() error {
	if CurrentMode() == Outside {
		if FallbackReason() == "" {
			return nil
		}
		ln, err := loopback.Hold()
		if err != nil {
			return err
		}
		return ln.Close()
	}
	c, err := net.ListenPacket("udp", net.JoinHostPort(DNSIP, "53"))
	if errors.Is(err, syscall.EADDRINUSE) {
		return ErrTaken
	}
	if err == nil {
		c.Close()
	}
	return nil // any other trouble is the cluster DNS's to report
}

// HostListener is the listener on the host's 127.0.0.1 that Enter opened
// before entering the namespace for `cluster start`, so that the cluster it
// serves inside can be reached from the host: a socket keeps the network
// namespace it was made in. It is nil when there is none (outside a
// namespace, or for other commands); a second call returns nil too.
func HostListener() (net.Listener, error) {
	fd := os.Getenv(envHostFD)
	if fd == "" {
		return nil, nil
	}
	os.Unsetenv(envHostFD)
	n, err := strconv.Atoi(fd)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", envHostFD, fd, err)
	}
	f := os.NewFile(uintptr(n), "host-listener")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("the host listener: %w", err)
	}
	return ln, nil
}

// hostListener opens the listener HostListener hands to the namespace's
// process, for `cluster start` only: a run needs no way in from the host.
func hostListener(args []string) (*os.File, error) {
	if len(args) < 2 || args[1] != "cluster" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("a listener on the host for the cluster: %w", err)
	}
	defer ln.Close()
	return ln.(*net.TCPListener).File()
}

// runInside starts this program again in new network, mount and UTS
// namespaces (and a user namespace when not root), forwards signals to it,
// and returns its exit code once it has ended.
func runInside(args []string, stderr io.Writer) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("cannot find this program to run it in a network namespace: %w", err)
	}
	dir, err := os.MkdirTemp("", "labrun-netns-")
	if err != nil {
		return 0, fmt.Errorf("network namespace files: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writeNodeFiles(dir); err != nil {
		return 0, err
	}
	mode := Root
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if os.Geteuid() != 0 {
		mode = User
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Geteuid(), HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getegid(), HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		// The user keeps their own uid inside; these capabilities, in the
		// namespace only, let labrun set it up and pods bind ports below 1024;
		// CAP_DAC_OVERRIDE lets the node agent mount an overlay (the kernel
		// tests its work directory, of mode 0, with the mounter's rights) for
		// a container's root, and reaches only the user's own files.
		attr.AmbientCaps = []uintptr{unix.CAP_NET_ADMIN, unix.CAP_SYS_ADMIN, unix.CAP_NET_BIND_SERVICE, unix.CAP_NET_RAW, unix.CAP_DAC_OVERRIDE}
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        args,
		Env:         append(os.Environ(), envMode+"="+string(mode), envDir+"="+dir, envSetUp+"=1"),
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		SysProcAttr: attr,
	}
	host, err := hostListener(args)
	if err != nil {
		return 0, err
	}
	if host != nil {
		defer host.Close() // the child has its own copy
		cmd.ExtraFiles = []*os.File{host}
		cmd.Env = append(cmd.Env, envHostFD+"=3")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		if mode == User && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL)) {
			return 0, fmt.Errorf("cannot make a network namespace as an ordinary user (%w): unprivileged user namespaces are disabled on this machine (sysctls kernel.unprivileged_userns_clone, user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns)", err)
		}
		return 0, fmt.Errorf("cannot make a network namespace: %w", err)
	}
	// A terminal sends Ctrl-C to the child as well; other signals are passed on.
	tty := term.IsTerminal(int(os.Stdin.Fd()))
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if tty && (s == syscall.SIGINT || s == syscall.SIGQUIT) {
					continue
				}
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	fmt.Fprintf(stderr, "labrun: waiting for the run in its network namespace: %v\n", err)
	return 2, nil
}

// writeNodeFiles writes what node1's /etc files read inside the namespace:
// the machine's hosts plus the nodes (SetHosts adds them), and a resolver
// that asks the cluster DNS with no search domains, since on a workshop
// node Service names resolve only inside pods.
func writeNodeFiles(dir string) error {
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		hosts = []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	}
	files := map[string]string{
		"hosts.base":  string(hosts),
		"hosts":       string(hosts),
		"resolv.conf": "# labrun: the cluster's DNS; nothing leaves this machine\nnameserver " + DNSIP + "\noptions timeout:1 attempts:1\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("network namespace files: %w", err)
		}
	}
	return nil
}

// setUpInside brings lo up, makes the cluster's ranges local, names the
// host node1 and mounts the namespace's /etc/hosts and /etc/resolv.conf.
func setUpInside(Mode) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	if lo.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(lo); err != nil {
			return fmt.Errorf("bring lo up: %w", err)
		}
	}
	for _, r := range localRanges {
		_, dst, err := net.ParseCIDR(r)
		if err != nil {
			return err
		}
		route := &netlink.Route{LinkIndex: lo.Attrs().Index, Dst: dst, Type: unix.RTN_LOCAL, Table: unix.RT_TABLE_LOCAL, Scope: netlink.SCOPE_HOST}
		if err := netlink.RouteReplace(route); err != nil {
			return fmt.Errorf("route %s to lo: %w", r, err)
		}
	}
	if err := unix.Sethostname([]byte("node1")); err != nil {
		return fmt.Errorf("hostname: %w", err)
	}
	dir := os.Getenv(envDir)
	if dir == "" {
		return nil
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	return bindEtc(dir)
}

// bindEtc mounts dir/hosts and dir/resolv.conf over /etc's.
func bindEtc(dir string) error {
	for _, name := range []string{"hosts", "resolv.conf"} {
		src := filepath.Join(dir, name)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := unix.Mount(src, "/etc/"+name, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("mount %s on /etc/%s: %w", src, name, err)
		}
	}
	return nil
}

// SetNodes writes the nodes' names into the namespace's /etc/hosts, as a
// workshop's machines have them. Outside a namespace it does nothing.
func SetNodes(nodes map[string]string) error {
	dir := os.Getenv(envDir)
	if dir == "" || CurrentMode() == Outside {
		return nil
	}
	base, err := os.ReadFile(filepath.Join(dir, "hosts.base"))
	if err != nil {
		return fmt.Errorf("node names: %w", err)
	}
	var b strings.Builder
	b.Write(base)
	b.WriteString("# labrun: the cluster's nodes\n")
	for _, name := range sortedKeys(nodes) {
		fmt.Fprintf(&b, "%s\t%s\n", nodes[name], name)
	}
	// Written in place: /etc/hosts is a bind mount of this very file.
	f, err := os.OpenFile(filepath.Join(dir, "hosts"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("node names: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("node names: %w", err)
	}
	return f.Close()
}
