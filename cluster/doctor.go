package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Check is one line of `labrun doctor`: a tool labrun or the labs need, what
// was found, and how to get it when it is missing.
type Check struct {
	Name  string // the tool, e.g. "kubectl"
	Need  string // why labrun needs it
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
	simple("bash", "runs every lab command", "apt-get install bash", "brew install bash", false)
	checks = append(checks, kubectlCheck(ctx, lookPath, run))
	simple("watch", "labs run `watch kubectl get …`", "apt-get install procps", "brew install watch", false)
	simple("curl", "labs and `open` steps reach services with curl", "apt-get install curl", "brew install curl", false)
	simple("jq", "some labs filter JSON with jq", "apt-get install jq", "brew install jq", true)
	kindFix := "Debian/Ubuntu: go install sigs.k8s.io/kind@latest (or a release binary from https://kind.sigs.k8s.io/docs/user/quick-start/); macOS: brew install kind"
	c := Check{Name: "kind", Need: "--cluster kind creates a real cluster in containers", Optional: true}
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
	c := Check{Name: "kubectl", Need: "the labs' kubectl commands talk to the cluster"}
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
	c := Check{Name: "container engine", Need: "kind runs its nodes as Docker or Podman containers", Optional: true}
	var problems []string
	for _, name := range []string{"docker", "podman"} {
		p, err := lookPath(name)
		if err != nil {
			problems = append(problems, name+" not on PATH")
			continue
		}
		if _, err := run(ctx, p, "info"); err != nil {
			problems = append(problems, fmt.Sprintf("%s info failed: %v", name, err))
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

// RunError is a command that failed: its arguments, its own output (what
// kind or kubectl printed, which says why) and the exit error.
type RunError struct {
	Cmd    []string
	Output []byte
	Err    error
}

func (e *RunError) Error() string {
	msg := fmt.Sprintf("%s: %v", strings.Join(e.Cmd, " "), e.Err)
	if out := strings.TrimSpace(string(e.Output)); out != "" {
		msg += "\n" + tail(out, 40)
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// tail keeps the last n lines: the end of kind's output says what failed.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return "[…]\n" + strings.Join(lines[len(lines)-n:], "\n")
}

// Command runs an external tool (kind, kubectl, docker) in its own process
// group, so that cancelling ctx ends the tool and everything it started:
// TERM to the group, then KILL after Grace.
type Command struct {
	Name string
	Args []string
	// Env is added to the inherited environment.
	Env []string
	// Log, if set, receives the command's stderr (and stdout when combined)
	// as it runs: kind's progress lines.
	Log io.Writer
	// Grace is how long the group has between TERM and KILL; 0 means 5s.
	Grace time.Duration
}

// Output runs the command and returns its stdout; on failure the RunError
// carries stderr (and the stdout read so far).
func (c Command) Output(ctx context.Context) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	err := c.run(ctx, &stdout, &stderr, false)
	if err != nil {
		var re *RunError
		if errors.As(err, &re) {
			re.Output = append(append([]byte(nil), stderr.Bytes()...), stdout.Bytes()...)
		}
	}
	return stdout.Bytes(), err
}

// CombinedOutput runs the command and returns stdout and stderr interleaved.
func (c Command) CombinedOutput(ctx context.Context) ([]byte, error) {
	var out bytes.Buffer
	err := c.run(ctx, &out, &out, true)
	if err != nil {
		var re *RunError
		if errors.As(err, &re) {
			re.Output = out.Bytes()
		}
	}
	return out.Bytes(), err
}

func (c Command) run(ctx context.Context, stdout, stderr *bytes.Buffer, combined bool) error {
	argv := append([]string{c.Name}, c.Args...)
	if err := ctx.Err(); err != nil {
		return &RunError{Cmd: argv, Err: err}
	}
	grace := c.Grace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = grace
	switch {
	case c.Log != nil && combined:
		w := io.MultiWriter(stdout, c.Log)
		cmd.Stdout, cmd.Stderr = w, w
	case c.Log != nil:
		cmd.Stdout, cmd.Stderr = stdout, io.MultiWriter(stderr, c.Log)
	default:
		cmd.Stdout, cmd.Stderr = stdout, stderr
	}
	if err := cmd.Start(); err != nil {
		return &RunError{Cmd: argv, Err: err}
	}
	err := cmd.Wait()
	// Whatever the group left behind (a grandchild after TERM, a daemon the
	// tool forked) ends with the command.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return &RunError{Cmd: argv, Err: err}
	}
	return nil
}

// Run runs name with args in its own process group and returns its combined
// output: the run function Doctor takes.
func Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return Command{Name: name, Args: args}.CombinedOutput(ctx)
}

// Node is a node as a run sees it: its name and an address a local client
// can try (the InternalIP; reachable from the host with kind on Linux).
type Node struct {
	Name    string
	Address string
}

// ReadNodes lists the cluster's nodes with `kubectl get nodes -o json`:
// control-plane nodes first, then by name with numbers in numeric order
// (worker2 before worker10), so that node1 means the same node every run.
func ReadNodes(ctx context.Context, kubectl, kubeconfig string, log io.Writer) ([]Node, error) {
	out, err := Command{Name: kubectl, Args: []string{"--kubeconfig", kubeconfig, "get", "nodes", "-o", "json"}, Log: log}.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	return parseNodes(out)
}

func parseNodes(data []byte) ([]Node, error) {
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Status struct {
				Addresses []struct {
					Type    string `json:"type"`
					Address string `json:"address"`
				} `json:"addresses"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("read nodes: kubectl printed no node list: %w", err)
	}
	type entry struct {
		Node
		control bool
	}
	var entries []entry
	for _, it := range list.Items {
		e := entry{Node: Node{Name: it.Metadata.Name}}
		_, cp := it.Metadata.Labels["node-role.kubernetes.io/control-plane"]
		_, master := it.Metadata.Labels["node-role.kubernetes.io/master"]
		e.control = cp || master
		for _, a := range it.Status.Addresses {
			if a.Type == "InternalIP" && e.Address == "" {
				e.Address = a.Address
			}
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].control != entries[j].control {
			return entries[i].control
		}
		return naturalLess(entries[i].Name, entries[j].Name)
	})
	nodes := make([]Node, len(entries))
	for i, e := range entries {
		nodes[i] = e.Node
	}
	return nodes, nil
}

// naturalLess compares names with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
