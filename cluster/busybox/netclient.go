package busybox

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labrun/labrun/cluster/network"
	"github.com/labrun/labrun/cluster/network/loopback"
)

// curl and wget are the host's own programs, which pods run as the images
// that have them would (nixery.dev/shell/curl, busybox's wget). Inside
// labrun's network namespace the cluster's addresses answer as they are and
// these applets only hand over to the host's program. In the network
// fallback (package loopback: the environment names its map), they first
// find where each URL's host answers — a name through the cluster DNS with
// the pod's search domains, an address through the map — and tell the
// program: curl with --connect-to (so its output, Host header and TLS name
// stay the URL's), wget with the URL's host replaced and a Host header.

// runCurl is curl.
func runCurl(ctx context.Context, e *env, args []string) int {
	return e.handOver(ctx, "curl", args, curlArgs)
}

// runWget is wget.
func runWget(ctx context.Context, e *env, args []string) int {
	return e.handOver(ctx, "wget", args, wgetArgs)
}

// handOver runs the host's program name with args, rewritten by rewrite
// in the network fallback, in place of this process.
func (e *env) handOver(ctx context.Context, name string, args []string, rewrite func([]string, func(host, port string) (string, bool)) []string) int {
	path, err := hostProgram(name, e.getenv("PATH"))
	if err != nil {
		fmt.Fprintf(e.err, "sh: %s: not found\n", name)
		return 127
	}
	m, err := loopback.Load(e.getenv)
	if err != nil {
		e.errorf("%v", err)
		return 1
	}
	if m != nil {
		r := newClusterResolver(m, e.getenv(loopback.EnvResolvConf))
		args = rewrite(args, func(host, port string) (string, bool) { return r.target(ctx, host, port) })
	}
	argv := append([]string{name}, args...)
	err = syscall.Exec(path, argv, os.Environ())
	e.errorf("exec %s: %s", path, errnoText(err))
	return 126
}

// hostProgram finds name on path, past labrun's own links.
func hostProgram(name, path string) (string, error) {
	// Past this very program, or the applet would run itself again.
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return "", fmt.Errorf("%s: cannot tell labrun's own links: %w", name, err)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && real == self {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("%s: not found", name)
}

// curlValued tells curl's options whose value is the next argument; the
// arguments that remain are URLs.
func curlValued(opt string) bool {
	switch opt {
	case "-o", "-H", "-d", "-X", "-u", "-A", "-e", "-m", "-w", "-T", "-x", "-b", "-c", "-F", "-r",
		"-C", "-K", "-E", "-Y", "-y", "-z", "-Q", "-t", "-U",
		"--output", "--header", "--data", "--data-raw", "--data-binary", "--data-urlencode",
		"--request", "--user", "--user-agent", "--referer", "--max-time", "--connect-timeout",
		"--write-out", "--upload-file", "--proxy", "--cookie", "--cookie-jar", "--form", "--range",
		"--retry", "--retry-delay", "--retry-max-time", "--resolve", "--connect-to", "--cacert",
		"--cert", "--key", "--json":
		return true
	}
	return false
}

// curlArgs adds --connect-to HOST:PORT:TARGET:TPORT, ahead of args, for
// every URL whose host answers elsewhere (see clusterResolver.target).
func curlArgs(args []string, target func(host, port string) (string, bool)) []string {
	var extra []string
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if curlValued(a) {
				i++
			}
			continue
		}
		host, port, ok := urlHost(a)
		if !ok || seen[host+":"+port] {
			continue
		}
		seen[host+":"+port] = true
		if t, ok := target(host, port); ok {
			th, tp, _ := net.SplitHostPort(t)
			extra = append(extra, "--connect-to", host+":"+port+":"+th+":"+tp)
		}
	}
	return append(extra, args...)
}

// wgetValued tells wget's options whose value is the next argument.
func wgetValued(opt string) bool {
	switch opt {
	case "-O", "-o", "-T", "-t", "-U", "-P", "-e", "-a", "-i", "-Y",
		"--header", "--user-agent", "--output-document", "--timeout", "--tries", "--post-data", "--post-file":
		return true
	}
	return false
}

// wgetArgs sends wget to where each http:// URL's host answers, with the
// URL's host in a Host header (wget has no --connect-to).
func wgetArgs(args []string, target func(host, port string) (string, bool)) []string {
	out := make([]string, 0, len(args)+1)
	var headers []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if strings.HasPrefix(a, "-") {
			if wgetValued(a) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		u, err := url.Parse(a)
		if !strings.Contains(a, "://") {
			u, err = url.Parse("http://" + a)
		}
		if err != nil || u.Scheme != "http" || u.Hostname() == "" {
			continue
		}
		host, port, ok := urlHost(a)
		if !ok {
			continue
		}
		t, ok := target(host, port)
		if !ok {
			continue
		}
		headers = append(headers, "--header=Host: "+u.Host)
		u.Host = t
		out[len(out)-1] = u.String()
	}
	return append(headers, out...)
}

// urlHost is the host and port a URL argument connects to (curl takes a
// URL without a scheme for http://).
func urlHost(a string) (host, port string, ok bool) {
	s := a
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" || strings.Contains(u.Hostname(), ":") {
		return "", "", false
	}
	port = u.Port()
	switch {
	case port != "":
	case u.Scheme == "http":
		port = "80"
	case u.Scheme == "https":
		port = "443"
	default:
		return "", "", false
	}
	return u.Hostname(), port, true
}

// clusterResolver finds where a host of the cluster answers in the network
// fallback.
type clusterResolver struct {
	m      *loopback.Map
	dns    string   // the cluster DNS's address, as the cluster has it
	search []string // the pod's search domains; none on a node
	ndots  int
}

// newClusterResolver reads the pod's resolver settings from resolvConf
// ("" on a node: the cluster DNS, no search domains).
func newClusterResolver(m *loopback.Map, resolvConf string) *clusterResolver {
	r := &clusterResolver{m: m, dns: network.DNSIP, ndots: 1}
	if resolvConf == "" {
		return r
	}
	f, err := os.Open(resolvConf)
	if err != nil {
		return r
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "nameserver":
			r.dns = fields[1]
		case "search":
			r.search = fields[1:]
		case "options":
			for _, o := range fields[1:] {
				if v, ok := strings.CutPrefix(o, "ndots:"); ok {
					if n, err := strconv.Atoi(v); err == nil {
						r.ndots = n
					}
				}
			}
		}
	}
	return r
}

// target is where host:port answers when that differs from what the host
// names: the loopback address (and port) of a cluster address, or of the
// address the cluster DNS gives a name. ok is false for a host the cluster
// does not know (localhost, the host's own names), which the program then
// resolves and reaches itself.
func (r *clusterResolver) target(ctx context.Context, host, port string) (string, bool) {
	ip := host
	if net.ParseIP(host) == nil {
		var ok bool
		if ip, ok = r.lookup(ctx, host); !ok {
			return "", false
		}
	}
	addr := net.JoinHostPort(ip, port)
	t := r.m.Target("tcp", addr)
	if t == addr && ip == host {
		return "", false
	}
	return t, true
}

// lookup asks the cluster DNS for host, through its search domains first
// when host has fewer dots than ndots, as a pod's resolver does.
func (r *clusterResolver) lookup(ctx context.Context, host string) (string, bool) {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return r.m.DialContext(ctx, "udp", net.JoinHostPort(r.dns, "53"))
	}}
	var names []string
	abs := strings.HasSuffix(host, ".")
	if !abs && strings.Count(host, ".") < r.ndots {
		for _, d := range r.search {
			names = append(names, host+"."+d+".")
		}
	}
	names = append(names, strings.TrimSuffix(host, ".")+".")
	for _, n := range names {
		ips, err := res.LookupIPAddr(ctx, n)
		if err != nil {
			continue
		}
		for _, a := range ips {
			if v4 := a.IP.To4(); v4 != nil {
				return v4.String(), true
			}
		}
	}
	return "", false
}
