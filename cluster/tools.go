package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// Tools finds the programs a run needs, the one place that knows where
// they come from: `run`, `doctor` and `version` all ask it, so that doctor
// never calls missing what run would use. The zero value looks at the real
// machine; tests inject LookPath and Executable.
type Tools struct {
	// LookPath finds a name on PATH (or checks a path); default exec.LookPath.
	LookPath func(string) (string, error)
	// Executable is labrun's own executable; default os.Executable.
	Executable func() (string, error)
}

// ControlPlaneBinary is the multi-call control-plane binary `make` builds
// from tools/controlplane into bin/, beside bin/labrun.
const ControlPlaneBinary = "labrun-k8s"

var (
	// ErrNoKubectl says no kubectl was found; its message says how to get one.
	ErrNoKubectl = errors.New("no kubectl found: install one on PATH, pass --kubectl PATH, or run `make kubectl` in labrun's source tree to build bin/kubectl from the pinned upstream module")
	// ErrNoControlPlane says labrun-k8s was found nowhere.
	ErrNoControlPlane = errors.New(ControlPlaneBinary + " not found beside labrun nor on PATH: run `make controlplane` in labrun's source tree " +
		"(builds bin/labrun-k8s, several minutes on 2 cores the first time), or pass --control-plane DIR " +
		"with kube-apiserver, kube-controller-manager, kube-scheduler and etcd binaries")
)

// FindKubectl is Tools{}.Kubectl: the kubectl a run uses.
func FindKubectl(explicit string) (string, error) { return Tools{}.Kubectl(explicit) }

// Kubectl picks the kubectl a run uses: the one named (--kubectl), else the
// host's on PATH (the version the user chose), else bin/kubectl beside the
// labrun executable (built by `make kubectl`).
func (t Tools) Kubectl(explicit string) (string, error) {
	if explicit != "" {
		p, err := t.lookPath(explicit)
		if err != nil {
			// exec.Error repeats the name; say only why it cannot run.
			var ee *exec.Error
			if errors.As(err, &ee) {
				err = ee.Err
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("--kubectl %s: %w", explicit, err)
		}
		return filepath.Abs(p)
	}
	if p, err := t.lookPath("kubectl"); err == nil {
		return filepath.Abs(p)
	}
	if p, ok := t.Beside("kubectl"); ok {
		return p, nil
	}
	return "", ErrNoKubectl
}

// ControlPlane finds labrun-k8s: beside labrun first (the pinned build
// `make` put there with it), then on PATH.
func (t Tools) ControlPlane() (string, error) {
	if p, ok := t.Beside(ControlPlaneBinary); ok {
		return p, nil
	}
	if p, err := t.lookPath(ControlPlaneBinary); err == nil {
		return filepath.Abs(p)
	}
	return "", ErrNoControlPlane
}

// Beside finds name in the directory of labrun's executable, or in ../bin
// from it (a `go run` or test binary finds nothing there), as an executable.
func (t Tools) Beside(name string) (string, bool) {
	executable := t.Executable
	if executable == nil {
		executable = os.Executable
	}
	exe, err := executable()
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	dir := filepath.Dir(exe)
	for _, d := range []string{dir, filepath.Join(dir, "..", "bin")} {
		p := filepath.Join(d, name)
		if _, err := t.lookPath(p); err == nil {
			return filepath.Clean(p), true
		}
	}
	return "", false
}

// Path finds name on PATH, or checks that a path is an executable.
func (t Tools) Path(name string) (string, error) { return t.lookPath(name) }

func (t Tools) lookPath(name string) (string, error) {
	if t.LookPath != nil {
		return t.LookPath(name)
	}
	return exec.LookPath(name)
}
