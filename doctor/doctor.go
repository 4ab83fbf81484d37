// Package doctor checks that a machine has what lab runs need, and says how
// to get what is missing.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/internal/text"
)

// Check is one line of `labrun doctor`: a tool labrun or the labs need, what
// was found, and how to get it when it is missing.
type Check struct {
	Name  string // the tool, e.g. "kubectl"
	Need  string // what needs it, read after "needed for"
	Found string // path and version, or what went wrong
	Fix   string // how to get it on Debian/Ubuntu and macOS; "" when OK
	OK    bool
	// Optional items are needed only by some modes or labs (jq, kind and a
	// container engine for --cluster kind); a missing one is not an error.
	Optional bool
}

// Ready reports whether every required check passed.
func Ready(checks []Check) bool {
	for _, c := range checks {
		if !c.OK && !c.Optional {
			return false
		}
	}
	return true
}

// RunFunc runs a command and returns its combined output; cluster.Run is
// the real one.
type RunFunc func(ctx context.Context, name string, args ...string) ([]byte, error)

// Checks checks the tools a lab run needs, found where a run finds them
// (tools; the zero cluster.Tools is the real machine) and run to see that
// they work. It never fails: each problem is a Check with OK false and a Fix.
func Checks(ctx context.Context, tools cluster.Tools, run RunFunc) []Check {
	var checks []Check
	simple := func(name, need, apt, brew string, optional bool) {
		c := Check{Name: name, Need: need, Optional: optional}
		if p, err := tools.Path(name); err == nil {
			c.OK, c.Found = true, p
		} else {
			c.Found = "not found on PATH"
			c.Fix = fixText(apt, brew)
		}
		checks = append(checks, c)
	}
	simple("bash", "running every lab command", "apt-get install bash", "brew install bash", false)
	checks = append(checks, kubectlCheck(ctx, tools, run))
	simple("watch", "labs that run `watch kubectl get …`", "apt-get install procps", "brew install watch", false)
	simple("curl", "labs and `open` steps that reach services with curl", "apt-get install curl", "brew install curl", false)
	simple("jq", "labs that filter JSON with jq", "apt-get install jq", "brew install jq", true)
	checks = append(checks, controlPlaneCheck(ctx, tools, run))
	kindFix := "Debian/Ubuntu: go install sigs.k8s.io/kind@latest (or a release binary from https://kind.sigs.k8s.io/docs/user/quick-start/); macOS: brew install kind"
	c := Check{Name: "kind", Need: "--cluster kind, which creates a real cluster in containers", Optional: true}
	if p, err := tools.Path("kind"); err == nil {
		c.OK, c.Found = true, p
		if out, err := run(ctx, p, "version"); err == nil {
			c.Found = p + " (" + firstLine(out) + ")"
		}
	} else {
		c.Found, c.Fix = "not found on PATH", kindFix
	}
	checks = append(checks, c)
	checks = append(checks, engineCheck(ctx, tools, run))
	return checks
}

func fixText(apt, brew string) string {
	return "Debian/Ubuntu: sudo " + apt + "; macOS: " + brew
}

// kubectlCheck checks the kubectl a run would use (cluster.Tools.Kubectl:
// PATH, then bin/kubectl beside labrun) and that it runs.
func kubectlCheck(ctx context.Context, tools cluster.Tools, run RunFunc) Check {
	c := Check{Name: "kubectl", Need: "the labs' kubectl commands, which talk to the cluster"}
	fix := "run `make kubectl` in the labrun source tree (builds bin/kubectl beside labrun), or Debian/Ubuntu: see https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/; macOS: brew install kubectl"
	p, err := tools.Kubectl("")
	if err != nil {
		c.Found, c.Fix = "not found on PATH nor beside the labrun executable", fix
		return c
	}
	out, err := run(ctx, p, "version", "--client")
	if err != nil {
		c.Found, c.Fix = fmt.Sprintf("%s version --client: %v", p, err), fix
		return c
	}
	c.OK, c.Found = true, p+" ("+firstLine(out)+")"
	return c
}

// controlPlaneCheck checks labrun-k8s, the built-in cluster's control plane
// (cluster.Tools.ControlPlane: beside labrun, then PATH), and that it runs.
func controlPlaneCheck(ctx context.Context, tools cluster.Tools, run RunFunc) Check {
	c := Check{Name: cluster.ControlPlaneBinary,
		Need: "the built-in cluster, every run's default: the real Kubernetes control plane (not needed with --cluster kind or kubeconfig)"}
	fix := "run `make controlplane` in the labrun source tree (builds bin/labrun-k8s beside bin/labrun; several minutes on 2 cores the first time (see the README), on Debian/Ubuntu and macOS alike), or pass --control-plane DIR with kube-apiserver, kube-controller-manager, kube-scheduler and etcd binaries"
	p, err := tools.ControlPlane()
	if err != nil {
		c.Found, c.Fix = "not found beside the labrun executable nor on PATH", fix
		return c
	}
	out, err := run(ctx, p, "kube-apiserver", "--version")
	if err != nil {
		c.Found, c.Fix = fmt.Sprintf("%s kube-apiserver --version: %v", p, err), fix
		return c
	}
	c.OK, c.Found = true, p+" ("+firstLine(out)+")"
	return c
}

// engineCheck looks for a container engine kind can use: docker, else
// podman, and asks it for `info` so that a client without a running daemon
// does not pass.
func engineCheck(ctx context.Context, tools cluster.Tools, run RunFunc) Check {
	c := Check{Name: "container engine", Need: "kind, which runs its nodes as Docker or Podman containers", Optional: true}
	var problems []string
	for _, name := range []string{"docker", "podman"} {
		p, err := tools.Path(name)
		if err != nil {
			problems = append(problems, name+" not on PATH")
			continue
		}
		if out, err := run(ctx, p, "info"); err != nil {
			problems = append(problems, fmt.Sprintf("%s info failed: %s", name, engineProblem(out, err)))
			continue
		}
		c.OK, c.Found = true, p+" (info works)"
		return c
	}
	c.Found = strings.Join(problems, "; ")
	c.Fix = "Debian/Ubuntu: sudo apt-get install docker.io && sudo systemctl start docker (add yourself to the docker group), or sudo apt-get install podman; macOS: Docker Desktop, or brew install colima docker && colima start, or brew install podman && podman machine init && podman machine start"
	return c
}

func firstLine(b []byte) string { return text.FirstLine(strings.TrimSpace(string(b))) }

// engineProblem picks the line of `docker info` that says why it failed
// (usually "Cannot connect to the Docker daemon…") rather than the whole dump.
func engineProblem(out []byte, err error) string {
	var re *cluster.RunError
	if errors.As(err, &re) && len(re.Output) > 0 {
		out = re.Output
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasSuffix(l, ":") {
			return l
		}
	}
	return err.Error()
}
