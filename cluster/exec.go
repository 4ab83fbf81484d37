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
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

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
	// Whatever the group left behind (a grandchild after TERM, a daemon the
	// tool forked) ends with the command.
	err := WaitGroup(cmd, nil)
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
func ReadNodes(ctx context.Context, kubectl, kubeconfig string, log io.Writer) (Nodes, error) {
	out, err := Command{Name: kubectl, Args: []string{"--kubeconfig", kubeconfig, "get", "nodes", "-o", "json"}, Log: log}.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	return parseNodes(out)
}

func parseNodes(data []byte) (Nodes, error) {
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
	nodes := make(Nodes, len(entries))
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

// WaitGroup waits for cmd, started as the leader of its own process group,
// to exit; then it ends what is left of the group and only then reaps the
// leader with cmd.Wait. While the leader is an unreaped zombie its pid
// cannot be reused, so the group id still names only our processes: a kill
// sent after the reap could reach a stranger's group once pids wrap (this
// machine's pid_max can be as low as 32768). locked, if not nil, is held
// around the kill, so that a caller can stop signalling the group by its
// number once WaitGroup has killed it.
func WaitGroup(cmd *exec.Cmd, locked sync.Locker) error {
	pid := cmd.Process.Pid
	var info unix.Siginfo
	for {
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != unix.EINTR {
			break
		}
	}
	if locked != nil {
		locked.Lock()
		defer locked.Unlock()
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return cmd.Wait()
}

// Nodes are a cluster's nodes in the order ReadNodes gives.
type Nodes []Node

// Names lists the node names, in order.
func (ns Nodes) Names() []string {
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.Name
	}
	return names
}

// Address is the address of the node named node; the workshop names node1,
// node2… also resolve, to the nodes in order. "" if there is no such node.
func (ns Nodes) Address(node string) string {
	for _, n := range ns {
		if n.Name == node {
			return n.Address
		}
	}
	var i int
	if _, err := fmt.Sscanf(node, "node%d", &i); err == nil && node == fmt.Sprintf("node%d", i) && i >= 1 && i <= len(ns) {
		return ns[i-1].Address
	}
	return ""
}
