package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// Doctor checks the tools a lab run needs. lookPath and run are injected so
// that the checks are testable; the CLI passes exec.LookPath and Run. It
// never fails: each problem is a Check with OK false and a Fix.
func Doctor(ctx context.Context, lookPath func(string) (string, error), run func(ctx context.Context, name string, args ...string) ([]byte, error)) []Check {
	var checks []Check
	simple := func(name, need, apt, brew string, optional bool) {
		c := Check{Name: name, Need: need, Optional: optional}
		if p, err := lookPath(name); err == nil {
			c.OK, c.Found = true, p
		} else {
			c.Found = "not found on PATH"
			c.Fix = fixText(apt, brew)
		}
		checks = append(checks, c)
	}
	simple("bash", "running every lab command", "apt-get install bash", "brew install bash", false)
	checks = append(checks, kubectlCheck(ctx, lookPath, run))
	simple("watch", "labs that run `watch kubectl get …`", "apt-get install procps", "brew install watch", false)
	simple("curl", "labs and `open` steps that reach services with curl", "apt-get install curl", "brew install curl", false)
	simple("jq", "labs that filter JSON with jq", "apt-get install jq", "brew install jq", true)
	kindFix := "Debian/Ubuntu: go install sigs.k8s.io/kind@latest (or a release binary from https://kind.sigs.k8s.io/docs/user/quick-start/); macOS: brew install kind"
	c := Check{Name: "kind", Need: "--cluster kind, which creates a real cluster in containers", Optional: true}
	if p, err := lookPath("kind"); err == nil {
		c.OK, c.Found = true, p
		if out, err := run(ctx, p, "version"); err == nil {
			c.Found = p + " (" + firstLine(out) + ")"
		}
	} else {
		c.Found, c.Fix = "not found on PATH", kindFix
	}
	checks = append(checks, c)
	checks = append(checks, engineCheck(ctx, lookPath, run))
	return checks
}

func fixText(apt, brew string) string {
	return "Debian/Ubuntu: sudo " + apt + "; macOS: " + brew
}

// kubectlCheck accepts a kubectl on PATH or the bin/kubectl that `make
// kubectl` builds beside the labrun executable.
func kubectlCheck(ctx context.Context, lookPath func(string) (string, error), run func(ctx context.Context, name string, args ...string) ([]byte, error)) Check {
	c := Check{Name: "kubectl", Need: "the labs' kubectl commands, which talk to the cluster"}
	fix := "run `make kubectl` in the labrun source tree (builds bin/kubectl beside labrun), or Debian/Ubuntu: see https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/; macOS: brew install kubectl"
	var candidates []string
	if p, err := lookPath("kubectl"); err == nil {
		candidates = append(candidates, p)
	}
	if exe, err := os.Executable(); err == nil {
		if p, err := lookPath(filepath.Join(filepath.Dir(exe), "kubectl")); err == nil {
			candidates = append(candidates, p)
		}
	}
	if len(candidates) == 0 {
		c.Found, c.Fix = "not found on PATH nor beside the labrun executable", fix
		return c
	}
	var problems []string
	for _, p := range candidates {
		out, err := run(ctx, p, "version", "--client")
		if err == nil {
			c.OK, c.Found = true, p+" ("+firstLine(out)+")"
			return c
		}
		problems = append(problems, fmt.Sprintf("%s version --client: %v", p, err))
	}
	c.Found, c.Fix = strings.Join(problems, "; "), fix
	return c
}

// engineCheck looks for a container engine kind can use: docker, else
// podman, and asks it for `info` so that a client without a running daemon
// does not pass.
func engineCheck(ctx context.Context, lookPath func(string) (string, error), run func(ctx context.Context, name string, args ...string) ([]byte, error)) Check {
	c := Check{Name: "container engine", Need: "--cluster kind, whose nodes run as Docker or Podman containers", Optional: true}
	var problems []string
	for _, name := range []string{"docker", "podman"} {
		p, err := lookPath(name)
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

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// engineProblem picks the line of `docker info` that says why it failed
// (usually "Cannot connect to the Docker daemon…") rather than the whole dump.
func engineProblem(out []byte, err error) string {
	var re *RunError
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
