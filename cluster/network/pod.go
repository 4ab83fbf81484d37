package network

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ClusterDomain is the cluster's DNS domain, as kubeadm sets it.
const ClusterDomain = "cluster.local"

// Pod is what a pod's /etc files are made of.
type Pod struct {
	Name, Namespace, IP string
	// Hostname and Subdomain are the spec's (a StatefulSet's pods have
	// them); Hostname defaults to the pod's name.
	Hostname, Subdomain string
}

// ResolvConf is a pod's /etc/resolv.conf, as on a kind cluster.
func ResolvConf(namespace string) string {
	return fmt.Sprintf("search %s.svc.%s svc.%s %s\nnameserver %s\noptions ndots:5\n",
		namespace, ClusterDomain, ClusterDomain, ClusterDomain, DNSIP)
}

// EtcHosts is a pod's /etc/hosts, as the kubelet writes it.
func EtcHosts(p Pod) string {
	host := p.Hostname
	if host == "" {
		host = p.Name
	}
	names := host
	if p.Subdomain != "" {
		names = fmt.Sprintf("%s.%s.%s.svc.%s\t%s", host, p.Subdomain, p.Namespace, ClusterDomain, host)
	}
	return "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n" +
		p.IP + "\t" + names + "\n"
}

// WritePodFiles writes p's hosts, resolv.conf and hostname into dir, for
// PodCommand.
func WritePodFiles(dir string, p Pod) error {
	host := p.Hostname
	if host == "" {
		host = p.Name
	}
	for name, content := range map[string]string{"hosts": EtcHosts(p), "resolv.conf": ResolvConf(p.Namespace), "hostname": host + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return nil
}

// WrapPodCommand makes cmd run as a process of the pod whose files
// WritePodFiles wrote to dir: through labrun's pod helper, in a mount and
// UTS namespace of its own, it sees them as /etc/hosts, /etc/resolv.conf
// and its hostname, then becomes cmd. Outside labrun's network namespace
// it leaves cmd as it is.
func WrapPodCommand(cmd *exec.Cmd, dir string) error { return wrap(cmd, dir, "") }

// WrapContainerCommand is WrapPodCommand for a process of a container with
// a root filesystem of its own: the pod helper makes root (prepared by the
// node agent: a directory with the system directories and volumes mounted
// in it) the process's /, with the host's /dev, /proc and /sys and the
// pod's files of dir (hosts, resolv.conf, hostname) bound in. dir may be
// "" (a hostNetwork pod: the node's files and name). cmd.Path is a path
// inside root; cmd.Dir, a directory under root, becomes the working
// directory inside. Without mount namespaces (OwnMounts) it is an error.
func WrapContainerCommand(cmd *exec.Cmd, dir, root string) error {
	if !OwnMounts() {
		return errors.New("pod helper: a container's root needs a mount namespace of labrun's")
	}
	return wrap(cmd, dir, root)
}

// OwnMounts says whether this process runs in a mount namespace of labrun's
// own (made with its network namespace), where the node agent may mount
// containers' filesystems without touching the host's.
func OwnMounts() bool {
	m := CurrentMode()
	return m == Root || m == User
}

// NodeFiles is the directory of the node's /etc/hosts and /etc/resolv.conf
// inside labrun's network namespace ("" outside), for a hostNetwork pod's
// container root.
func NodeFiles() string {
	if CurrentMode() == Outside {
		return ""
	}
	return os.Getenv(envDir)
}

func wrap(cmd *exec.Cmd, dir, root string) error {
	if CurrentMode() == Outside {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("pod helper: %w", err)
	}
	args := []string{exe, podExecOp}
	if root != "" {
		args = append(args, "--root", root)
	}
	cmd.Args = append(append(args, dir, cmd.Path, "--"), cmd.Args...)
	cmd.Path = exe
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Go makes / private in the new mount namespace before running us.
	cmd.SysProcAttr.Unshareflags |= syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS
	return nil
}

// podExec is the pod helper: enter the container's root if it has one,
// mount the pod's files, name the host, then become the pod's command.
func podExec(args []string, stderr io.Writer) int {
	var root string
	if len(args) > 1 && args[0] == "--root" {
		root, args = args[1], args[2:]
	}
	if len(args) < 4 || args[2] != "--" {
		fmt.Fprintf(stderr, "labrun: %s [--root ROOT] DIR PATH -- ARGV...: wrong arguments %q\n", podExecOp, args)
		return 2
	}
	dir, path, argv := args[0], args[1], args[3:]
	var host []byte
	if dir != "" {
		host, _ = os.ReadFile(filepath.Join(dir, "hostname"))
	}
	if root != "" {
		if err := enterRoot(root, dir); err != nil {
			fmt.Fprintf(stderr, "labrun: container root: %v\n", err)
			return 126
		}
	} else if err := bindEtc(dir); err != nil {
		fmt.Fprintf(stderr, "labrun: pod files: %v\n", err)
		return 126
	}
	if len(host) > 0 {
		if err := unix.Sethostname([]byte(strings.TrimSpace(string(host)))); err != nil {
			fmt.Fprintf(stderr, "labrun: pod hostname: %v\n", err)
			return 126
		}
	}
	err := syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(stderr, "exec %s: %v\n", argv[0], err)
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}

// enterRoot makes root this process's / (pivot_root, as runc does, since
// chroot would leave the host's tree reachable and needs a capability an
// ordinary user's namespace lacks), with the host's /dev, /proc and /sys
// and the pod's files in dir bound in, and keeps the working directory
// (a directory under root) at its place inside.
func enterRoot(root, dir string) error {
	wd := "/"
	if cwd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(root, cwd); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			wd = filepath.Join("/", rel)
		}
	}
	// pivot_root wants a mount point; recursive, to keep what the node
	// agent mounted in it.
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", root, err)
	}
	for _, d := range []string{"/dev", "/proc", "/sys"} {
		if err := unix.Mount(d, filepath.Join(root, d), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", d, err)
		}
	}
	if dir != "" {
		for _, name := range []string{"hosts", "resolv.conf", "hostname"} {
			src := filepath.Join(dir, name)
			if _, err := os.Stat(src); err != nil {
				continue
			}
			dst := filepath.Join(root, "etc", name)
			if f, err := os.OpenFile(dst, os.O_CREATE|os.O_RDONLY, 0o644); err == nil {
				f.Close() // a mount point, when the image's /etc has none
			}
			if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("mount %s on /etc/%s: %w", src, name, err)
			}
		}
	}
	old, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(old)
	if err := unix.Chdir(root); err != nil {
		return err
	}
	// The new root over the old one: no directory for the old root needed.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	if err := unix.Fchdir(old); err != nil {
		return err
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's root: %w", err)
	}
	if err := unix.Chdir(wd); err != nil {
		return unix.Chdir("/")
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
