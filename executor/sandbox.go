package executor

import (
	"fmt"
	"os"
	"path/filepath"
)

// sandbox is one run's private corner of the file system: a HOME the labs
// write into, a bin directory first on PATH, and state for the panes.
type sandbox struct {
	root  string
	home  string
	bin   string
	state string
	kube  string // the cluster's own files
}

func newSandbox() (*sandbox, error) {
	root, err := os.MkdirTemp("", "labrun-")
	if err != nil {
		return nil, fmt.Errorf("creating the sandbox: %w", err)
	}
	s := &sandbox{
		root:  root,
		home:  filepath.Join(root, "home"),
		bin:   filepath.Join(root, "bin"),
		state: filepath.Join(root, "state"),
		kube:  filepath.Join(root, "cluster"),
	}
	for _, d := range []string{s.home, s.bin, s.state, s.kube} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			os.RemoveAll(root)
			return nil, fmt.Errorf("creating the sandbox: %w", err)
		}
	}
	return s, nil
}

func (s *sandbox) remove() error { return os.RemoveAll(s.root) }

// env is the lab shell's whole environment: nothing leaks in from the
// caller's but PATH (labs call the host's watch, curl and jq) and the locale.
func (s *sandbox) env(kubeconfig string) []string {
	path := s.bin
	if p := os.Getenv("PATH"); p != "" {
		path += string(os.PathListSeparator) + p
	}
	return []string{
		"HOME=" + s.home,
		"PATH=" + path,
		"TERM=xterm-256color",
		"LANG=C.UTF-8",
		"LC_ALL=C.UTF-8",
		"USER=" + envOr("USER", "labrun"),
		"SHELL=/bin/bash",
		"KUBECONFIG=" + kubeconfig,
		"KUBECACHEDIR=" + filepath.Join(s.home, ".kube", "cache"),
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// link puts the chosen kubectl first on the lab shell's PATH.
func (s *sandbox) link(name, target string) error {
	if err := os.Symlink(target, filepath.Join(s.bin, name)); err != nil {
		return fmt.Errorf("linking %s into the sandbox: %w", name, err)
	}
	return nil
}
