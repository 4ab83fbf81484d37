package doctor

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labrun/labrun/cluster"
)

// machine is an injected PATH: the tools it has, and the commands that fail
// when run.
type machine struct {
	have   []string // names on PATH; "beside" means bin/kubectl and bin/labrun-k8s beside labrun
	broken []string // "name arg" that exits non-zero
}

// tools finds programs on the machine as a run would, labrun being
// /opt/labrun/bin/labrun.
func (m machine) tools() cluster.Tools {
	return cluster.Tools{LookPath: m.lookPath, Executable: func() (string, error) { return "/opt/labrun/bin/labrun", nil }}
}

func (m machine) lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if name == "/opt/labrun/bin/"+filepath.Base(name) && slices.Contains(m.have, "beside") {
			return name, nil
		}
		return "", exec.ErrNotFound
	}
	if slices.Contains(m.have, name) {
		return "/usr/bin/" + name, nil
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

func (m machine) run(_ context.Context, name string, args ...string) ([]byte, error) {
	key := filepath.Base(name) + " " + args[0]
	if slices.Contains(m.broken, key) {
		return []byte("Cannot connect to the Docker daemon"), errors.New("exit status 1")
	}
	return []byte(filepath.Base(name) + " v1.2.3\nmore"), nil
}

func TestDoctor(t *testing.T) {
	all := []string{"bash", "kubectl", "watch", "curl", "jq", "labrun-k8s", "kind", "docker"}
	for _, tc := range []struct {
		name  string
		m     machine
		ready bool
		ok    map[string]bool   // check name → OK
		found map[string]string // check name → substring of Found
		fix   map[string]string // check name → substring of Fix
	}{
		{
			name: "everything", m: machine{have: all}, ready: true,
			ok:    map[string]bool{"bash": true, "kubectl": true, "watch": true, "curl": true, "jq": true, "labrun-k8s": true, "kind": true, "container engine": true},
			found: map[string]string{"kubectl": "/usr/bin/kubectl (kubectl v1.2.3)", "labrun-k8s": "/usr/bin/labrun-k8s (labrun-k8s v1.2.3)", "container engine": "/usr/bin/docker"},
		},
		{
			name: "nothing", m: machine{}, ready: false,
			ok: map[string]bool{"bash": false, "kubectl": false, "watch": false, "curl": false, "jq": false, "labrun-k8s": false, "kind": false, "container engine": false},
			fix: map[string]string{
				"watch": "apt-get install procps", "curl": "brew install curl", "jq": "apt-get install jq",
				"labrun-k8s": "run `make controlplane` in the labrun source tree",
				"kubectl":    "make kubectl", "kind": "go install sigs.k8s.io/kind@latest", "container engine": "podman",
			},
			found: map[string]string{"container engine": "docker not on PATH; podman not on PATH"},
		},
		{
			name: "only the optional tools missing", m: machine{have: []string{"bash", "kubectl", "watch", "curl", "labrun-k8s"}}, ready: true,
			ok: map[string]bool{"jq": false, "labrun-k8s": true, "kind": false, "container engine": false, "kubectl": true},
		},
		{
			// The default cluster cannot start without it.
			name: "no labrun-k8s", m: machine{have: []string{"bash", "kubectl", "watch", "curl", "jq", "kind", "docker"}}, ready: false,
			ok:  map[string]bool{"labrun-k8s": false, "kubectl": true},
			fix: map[string]string{"labrun-k8s": "--control-plane DIR"},
		},
		{
			name: "kubectl and labrun-k8s beside labrun", m: machine{have: []string{"bash", "watch", "curl", "beside"}}, ready: true,
			ok:    map[string]bool{"kubectl": true, "labrun-k8s": true},
			found: map[string]string{"kubectl": "/opt/labrun/bin/kubectl (kubectl v1.2.3)", "labrun-k8s": "/opt/labrun/bin/labrun-k8s"},
		},
		{
			// labrun-k8s beside labrun is the pinned build make made with
			// it: it wins over one on PATH; kubectl on PATH wins (the
			// user's choice of version).
			name: "both beside labrun and on PATH", m: machine{have: append(all, "beside")}, ready: true,
			found: map[string]string{"kubectl": "/usr/bin/kubectl", "labrun-k8s": "/opt/labrun/bin/labrun-k8s"},
		},
		{
			name: "labrun-k8s that does not run", m: machine{have: all, broken: []string{"labrun-k8s kube-apiserver"}}, ready: false,
			ok:    map[string]bool{"labrun-k8s": false},
			found: map[string]string{"labrun-k8s": "kube-apiserver --version: exit status 1"},
		},
		{
			name: "kubectl that does not run", m: machine{have: all, broken: []string{"kubectl version"}}, ready: false,
			ok:    map[string]bool{"kubectl": false},
			found: map[string]string{"kubectl": "version --client: exit status 1"},
		},
		{
			name: "docker client without a daemon, podman works", m: machine{have: append(all, "podman"), broken: []string{"docker info"}}, ready: true,
			ok:    map[string]bool{"container engine": true},
			found: map[string]string{"container engine": "/usr/bin/podman"},
		},
		{
			name: "docker client without a daemon", m: machine{have: all, broken: []string{"docker info"}}, ready: true,
			ok:    map[string]bool{"container engine": false, "kind": true},
			found: map[string]string{"container engine": "docker info failed"},
			fix:   map[string]string{"container engine": "systemctl start docker"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := Checks(context.Background(), tc.m.tools(), tc.m.run)
			byName := map[string]Check{}
			for _, c := range checks {
				byName[c.Name] = c
				if c.Need == "" {
					t.Errorf("%s: no Need", c.Name)
				}
				if !c.OK && (c.Fix == "" || c.Found == "") {
					t.Errorf("%s failed without Found/Fix: %+v", c.Name, c)
				}
				if c.OK && c.Fix != "" {
					t.Errorf("%s passed with a Fix: %+v", c.Name, c)
				}
				if c.Name == "tmux" {
					t.Errorf("tmux is not needed")
				}
			}
			if len(byName) != 8 {
				t.Errorf("%d checks: %+v", len(byName), checks)
			}
			for _, name := range []string{"jq", "kind", "container engine"} {
				if !byName[name].Optional {
					t.Errorf("%s should be optional", name)
				}
			}
			for name, ok := range tc.ok {
				if byName[name].OK != ok {
					t.Errorf("%s OK = %v, want %v: %+v", name, byName[name].OK, ok, byName[name])
				}
			}
			for name, sub := range tc.found {
				if !strings.Contains(byName[name].Found, sub) {
					t.Errorf("%s Found = %q, want %q", name, byName[name].Found, sub)
				}
			}
			for name, sub := range tc.fix {
				if !strings.Contains(byName[name].Fix, sub) {
					t.Errorf("%s Fix = %q, want %q", name, byName[name].Fix, sub)
				}
			}
			if Ready(checks) != tc.ready {
				t.Errorf("Ready = %v, want %v", !tc.ready, tc.ready)
			}
		})
	}
}

func TestFixesNameBothPlatforms(t *testing.T) {
	for _, c := range Checks(context.Background(), machine{}.tools(), machine{}.run) {
		if !strings.Contains(c.Fix, "Debian/Ubuntu") && !strings.Contains(c.Fix, "apt-get") {
			t.Errorf("%s: no Debian/Ubuntu fix: %q", c.Name, c.Fix)
		}
		if !strings.Contains(c.Fix, "macOS") {
			t.Errorf("%s: no macOS fix: %q", c.Name, c.Fix)
		}
	}
}
