package network

import (
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
func WrapPodCommand(cmd *exec.Cmd, dir string) error {
	if CurrentMode() == Outside {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("pod helper: %w", err)
	}
	cmd.Args = append([]string{exe, podExecOp, dir, cmd.Path, "--"}, cmd.Args...)
	cmd.Path = exe
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Go makes / private in the new mount namespace before running us.
	cmd.SysProcAttr.Unshareflags |= syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS
	return nil
}

// podExec is the pod helper: mount the pod's files, name the host, then
// become the pod's command.
func podExec(args []string, stderr io.Writer) int {
	if len(args) < 4 || args[2] != "--" {
		fmt.Fprintf(stderr, "labrun: %s DIR PATH -- ARGV...: wrong arguments %q\n", podExecOp, args)
		return 2
	}
	dir, path, argv := args[0], args[1], args[3:]
	if err := bindEtc(dir); err != nil {
		fmt.Fprintf(stderr, "labrun: pod files: %v\n", err)
		return 126
	}
	if host, err := os.ReadFile(filepath.Join(dir, "hostname")); err == nil {
		if err := unix.Sethostname([]byte(strings.TrimSpace(string(host)))); err != nil {
			fmt.Fprintf(stderr, "labrun: pod hostname: %v\n", err)
			return 126
		}
	}
	err := syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(stderr, "exec %s: %v\n", argv[0], err)
	return 126
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
