package content

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kubectl knows one kubectl binary's command tree, learnt from the binary
// itself (`kubectl … --help`, `kubectl options`), never from a list of ours.
// What it learns is cached per binary (path, size and modification time),
// so only the first lint with a given kubectl pays for the probes.
type Kubectl struct {
	Path string
	// Older are other kubectl versions to ask when a flag is unknown, to say
	// when it went away (kubectl.1.27 … beside Path or on PATH).
	Older []*Kubectl

	cacheFile string
	mu        sync.Mutex
	data      kubectlData
	dirty     bool
}

type kubectlData struct {
	Version string `json:"version"`
	// Nodes maps a canonical command path ("create deployment") to its help.
	Nodes map[string]*cmdNode `json:"nodes"`
	// Resolve maps "PARENT\x00WORD" to the canonical child path, "" when
	// WORD is an argument rather than a subcommand.
	Resolve map[string]string `json:"resolve"`
	// Probes maps "PATH\x00FLAG" to what parsing the flag said: "" known,
	// "unknown", or "deprecated: MESSAGE".
	Probes map[string]string `json:"probes"`
	// Unknown maps "PATH" of an unknown top-level command to kubectl's
	// suggestion ("" when it has none).
	Unknown map[string]string `json:"unknown"`
	Global  *cmdNode          `json:"global"`
}

// cmdNode is what `kubectl PATH --help` says.
type cmdNode struct {
	Path     string          `json:"path"`
	Children []string        `json:"children,omitempty"`
	Flags    map[string]bool `json:"flags"` // long name (and one-letter shorthand) → takes a value
}

// cacheVersion changes when what is cached changes meaning.
const cacheVersion = "1"

// NewKubectl prepares the tree of the kubectl at path. cacheDir "" means
// os.UserCacheDir()/labrun; an unusable cache only makes lint slower.
func NewKubectl(path, cacheDir string) *Kubectl {
	k := &Kubectl{Path: path}
	if cacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(d, "labrun")
		}
	}
	if fi, err := os.Stat(path); err == nil && cacheDir != "" {
		abs, _ := filepath.Abs(path)
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", abs, fi.Size(), fi.ModTime().UnixNano()))
		k.cacheFile = filepath.Join(cacheDir, "kubectl-v"+cacheVersion+"-"+hex.EncodeToString(sum[:8])+".json")
		if b, err := os.ReadFile(k.cacheFile); err == nil {
			_ = json.Unmarshal(b, &k.data)
		}
	}
	if k.data.Nodes == nil {
		k.data.Nodes = map[string]*cmdNode{}
	}
	if k.data.Resolve == nil {
		k.data.Resolve = map[string]string{}
	}
	if k.data.Probes == nil {
		k.data.Probes = map[string]string{}
	}
	if k.data.Unknown == nil {
		k.data.Unknown = map[string]string{}
	}
	return k
}

// FindOlder adds the kubectl.1.NN binaries found beside k's binary and on
// PATH as versions to compare with.
func (k *Kubectl) FindOlder(cacheDir string) {
	seen := map[string]bool{}
	dirs := append([]string{filepath.Dir(k.Path)}, filepath.SplitList(os.Getenv("PATH"))...)
	var names []string
	for _, d := range dirs {
		ms, _ := filepath.Glob(filepath.Join(d, "kubectl.1.*"))
		for _, m := range ms {
			if !seen[filepath.Base(m)] {
				seen[filepath.Base(m)] = true
				names = append(names, m)
			}
		}
	}
	sort.Slice(names, func(i, j int) bool { return minor(names[i]) > minor(names[j]) })
	for _, n := range names {
		k.Older = append(k.Older, NewKubectl(n, cacheDir))
	}
}

func minor(p string) int {
	var a, b int
	fmt.Sscanf(filepath.Base(p), "kubectl.%d.%d", &a, &b)
	return b
}

// Save writes what was learnt to the cache.
func (k *Kubectl) Save() {
	for _, o := range k.Older {
		o.Save()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.dirty || k.cacheFile == "" {
		return
	}
	b, err := json.Marshal(&k.data)
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(k.cacheFile), 0o755) != nil {
		return
	}
	tmp := k.cacheFile + fmt.Sprintf(".%d.tmp", os.Getpid())
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, k.cacheFile)
	}
	k.dirty = false
}

// run runs the kubectl with args, away from any cluster, and returns its
// combined output. Help and flag parsing never need a server.
func (k *Kubectl) run(ctx context.Context, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.Path, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+os.DevNull, "KUBECTL_KUBERC=false")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	return out.String()
}

// Version is the binary's client version (v1.32.4).
func (k *Kubectl) Version(ctx context.Context) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.data.Version == "" {
		out := k.run(ctx, "version", "--client", "-o", "json")
		var v struct {
			ClientVersion struct {
				GitVersion string `json:"gitVersion"`
			} `json:"clientVersion"`
		}
		if json.Unmarshal([]byte(out), &v) == nil && v.ClientVersion.GitVersion != "" {
			k.data.Version = strings.SplitN(v.ClientVersion.GitVersion, "-", 2)[0]
		} else {
			k.data.Version = filepath.Base(k.Path)
		}
		k.dirty = true
	}
	return k.data.Version
}

var (
	flagLine  = regexp.MustCompile(`^\s+(?:-(\w), )?--([\w-]+)=(.*):\s*$`)
	childLine = regexp.MustCompile(`^  ([a-z][\w-]*)\s`)
)

// node returns the help of a canonical command path ("" is kubectl itself).
func (k *Kubectl) node(ctx context.Context, path string) *cmdNode {
	k.mu.Lock()
	n, ok := k.data.Nodes[path]
	k.mu.Unlock()
	if ok {
		return n
	}
	args := append(strings.Fields(path), "--help")
	n = parseHelp(path, k.run(ctx, args...))
	k.mu.Lock()
	k.data.Nodes[path] = n
	k.dirty = true
	k.mu.Unlock()
	return n
}

// parseHelp reads kubectl's help text: its "Available Commands:" and
// "Options:" sections.
func parseHelp(path, help string) *cmdNode {
	n := &cmdNode{Path: path, Flags: map[string]bool{}}
	section := ""
	for _, l := range strings.Split(help, "\n") {
		if l != "" && l[0] != ' ' && l[0] != '\t' && strings.HasSuffix(strings.TrimSpace(l), ":") {
			section = strings.TrimSpace(l)
			continue
		}
		switch {
		case strings.Contains(section, "Commands"):
			if m := childLine.FindStringSubmatch(l); m != nil {
				n.Children = append(n.Children, m[1])
			}
		case section != "Examples:":
			if m := flagLine.FindStringSubmatch(l); m != nil {
				val := m[3] != "true" && m[3] != "false"
				n.Flags[m[2]] = val
				if m[1] != "" {
					n.Flags[m[1]] = val
				}
			}
		}
	}
	return n
}

// global is `kubectl options`: the flags every command takes.
func (k *Kubectl) global(ctx context.Context) *cmdNode {
	k.mu.Lock()
	g := k.data.Global
	k.mu.Unlock()
	if g != nil {
		return g
	}
	out := k.run(ctx, "options")
	g = parseHelp("", "Options:\n"+out)
	k.mu.Lock()
	k.data.Global = g
	k.dirty = true
	k.mu.Unlock()
	return g
}

var usageLine = regexp.MustCompile(`(?m)^Usage:\n\s+kubectl((?: [a-z][\w-]*)*)`)

// child resolves WORD after the command path parent: the canonical child
// path when WORD names a subcommand (aliases included: kubectl itself says
// which command `create deploy` is), or "".
func (k *Kubectl) child(ctx context.Context, parent, word string) string {
	key := parent + "\x00" + word
	k.mu.Lock()
	c, ok := k.data.Resolve[key]
	k.mu.Unlock()
	if ok {
		return c
	}
	n := k.node(ctx, parent)
	for _, ch := range n.Children {
		if ch == word {
			c = strings.TrimSpace(parent + " " + word)
			break
		}
	}
	if c == "" && len(n.Children) > 0 {
		out := k.run(ctx, append(strings.Fields(parent), word, "--help")...)
		if m := usageLine.FindStringSubmatch(out); m != nil {
			p := strings.TrimSpace(m[1])
			if len(strings.Fields(p)) == len(strings.Fields(parent))+1 {
				c = p
			}
		}
		if c == "" && parent == "" {
			k.mu.Lock()
			k.data.Unknown[word] = suggestion(out)
			k.mu.Unlock()
		}
	}
	k.mu.Lock()
	k.data.Resolve[key] = c
	k.dirty = true
	k.mu.Unlock()
	return c
}

var suggestRe = regexp.MustCompile(`(?s)Did you mean this\?\s+(\S+)`)

func suggestion(out string) string {
	if m := suggestRe.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}

// flagState is what kubectl makes of one flag of a command.
type flagState struct {
	Known      bool
	TakesValue bool
	Deprecated string // kubectl's deprecation message
}

// flag says whether the command at path accepts flag (a long name without
// dashes, or a one-letter shorthand). A flag missing from the help may be
// hidden or deprecated: kubectl's own flag parser is asked then.
func (k *Kubectl) flag(ctx context.Context, path, flag string) flagState {
	if v, ok := k.node(ctx, path).Flags[flag]; ok {
		return flagState{Known: true, TakesValue: v}
	}
	if v, ok := k.global(ctx).Flags[flag]; ok {
		return flagState{Known: true, TakesValue: v}
	}
	if flag == "help" || flag == "h" {
		return flagState{Known: true}
	}
	key := path + "\x00" + flag
	k.mu.Lock()
	p, ok := k.data.Probes[key]
	k.mu.Unlock()
	if !ok {
		// A bare flag first: a deprecated bool says so only when it parses.
		arg := "--" + flag
		if len(flag) == 1 {
			arg = "-" + flag
		}
		out := k.run(ctx, append(strings.Fields(path), "--help", arg)...)
		if strings.Contains(out, "needs an argument") && len(flag) > 1 {
			out = k.run(ctx, append(strings.Fields(path), "--help", arg+"=x")...)
		}
		switch {
		case strings.Contains(out, "unknown flag") || strings.Contains(out, "unknown shorthand flag"):
			p = "unknown"
		case strings.Contains(out, "has been deprecated"):
			_, msg, _ := strings.Cut(out, "has been deprecated")
			msg = strings.TrimLeft(strings.SplitN(msg, "\n", 2)[0], ", ")
			p = "deprecated: " + msg
		}
		k.mu.Lock()
		k.data.Probes[key] = p
		k.dirty = true
		k.mu.Unlock()
	}
	switch {
	case p == "unknown":
		return flagState{}
	case strings.HasPrefix(p, "deprecated: "):
		return flagState{Known: true, TakesValue: true, Deprecated: strings.TrimPrefix(p, "deprecated: ")}
	}
	return flagState{Known: true, TakesValue: true}
}

// lastWith names the newest of the older kubectls whose command at path
// still accepts flag, and lists the versions asked.
func (k *Kubectl) lastWith(ctx context.Context, path, flag string) (last string, asked []string) {
	for _, o := range k.Older {
		v := o.Version(ctx)
		asked = append(asked, v)
		if o.flag(ctx, path, flag).Known {
			return v, asked
		}
	}
	return "", asked
}
