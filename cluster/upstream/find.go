package upstream

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BinaryName is the multi-call control-plane binary `make` builds from
// tools/controlplane into bin/, beside bin/labrun.
const BinaryName = "labrun-k8s"

// ErrNoBinary is returned by FindBinary when labrun-k8s is nowhere.
var ErrNoBinary = errors.New(BinaryName + " not found")

// components are the control plane's processes in start order.
var components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// FindBinary finds labrun-k8s: beside labrun's own executable first (make
// builds both into bin/), then on PATH. It is the one place that knows
// where the control plane comes from; doctor and run both ask it.
func FindBinary() (string, error) {
	var looked []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			p := filepath.Join(filepath.Dir(exe), BinaryName)
			if isExecutable(p) {
				return p, nil
			}
			looked = append(looked, filepath.Dir(exe))
		}
	}
	if p, err := exec.LookPath(BinaryName); err == nil {
		return p, nil
	}
	looked = append(looked, "PATH")
	return "", fmt.Errorf("%w in %s: build it with `make` in labrun's source tree "+
		"(about 5 minutes the first time), or use --control-plane DIR with kube-apiserver, "+
		"kube-controller-manager, kube-scheduler and etcd binaries", ErrNoBinary, strings.Join(looked, " or "))
}

// commands maps each component to the argv prefix that runs it: the
// multi-call binary with the component's name, or DIR/NAME.
func commands(binary, dir string) (map[string][]string, error) {
	cmds := make(map[string][]string, len(components))
	if dir != "" {
		var missing []string
		for _, name := range components {
			p := filepath.Join(dir, name)
			if !isExecutable(p) {
				missing = append(missing, name)
				continue
			}
			cmds[name] = []string{p}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("control-plane directory %s has no executable %s (labrun needs all of %s)",
				dir, strings.Join(missing, ", "), strings.Join(components, ", "))
		}
		return cmds, nil
	}
	if binary == "" {
		var err error
		if binary, err = FindBinary(); err != nil {
			return nil, err
		}
	} else if !isExecutable(binary) {
		return nil, fmt.Errorf("%s: not an executable file", binary)
	}
	for _, name := range components {
		cmds[name] = []string{binary, name}
	}
	return cmds, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
