package busybox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labrun/labrun/cluster/network/loopback"
)

const pingUsage = "[OPTIONS] HOST"
const pingHelp = "Send ICMP ECHO_REQUESTs to HOST\n\n\t-4,-6\t\tForce IP or IPv6 name resolution\n\t-c CNT\t\tSend only CNT pings\n\t-s SIZE\t\tSend SIZE data bytes in packets (default 56)\n\t-i SECS\t\tInterval\n\t-A\t\tPing as soon as reply is received\n\t-t TTL\t\tSet TTL\n\t-I IFACE/IP\tSource interface or IP address\n\t-W SEC\t\tSeconds to wait for the first response (default 10)\n\t\t\t(after all -c CNT packets are sent)\n\t-w SEC\t\tSeconds until ping exits (default:infinite)\n\t\t\t(can exit earlier with -c CNT)\n\t-q\t\tQuiet, only display output at start/finish\n\t-p HEXBYTE\tPayload pattern"

// HostsFileEnv names an environment variable holding the path of a hosts(5)
// file that ping and hostname -i consult before DNS, so the node agent can
// give containers the names a pod's /etc/hosts and DNS would.
const HostsFileEnv = "LABRUN_HOSTS_FILE"

// pingConfig is ping's parsed command line.
type pingConfig struct {
	host     string
	count    int           // 0: until signalled
	interval time.Duration // between echo requests
	deadline time.Duration // -w; 0: none
	timeout  time.Duration // -W: wait for replies after the last request
	datalen  int
	quiet    bool
	source   string // -I given as an address
}

func parsePing(e *env, args []string) (*pingConfig, int) {
	opts, operands, err := getopt(args, "qvAc:s:t:w:W:I:np:i:46", true)
	if err != nil {
		e.errorf("%v", err)
		return nil, e.usage(pingUsage, pingHelp)
	}
	if len(operands) != 1 {
		return nil, e.usage(pingUsage, pingHelp)
	}
	cfg := &pingConfig{host: operands[0], interval: time.Second, timeout: 10 * time.Second, datalen: 56}
	for _, o := range opts {
		var n uint64
		if strings.IndexByte("cstwW", o.flag) >= 0 {
			bits := 32
			if o.flag == 's' {
				bits = 16
			}
			if n, err = strconv.ParseUint(o.arg, 10, bits); err != nil {
				e.errorf("invalid number '%s'", o.arg)
				return nil, 1
			}
		}
		switch o.flag {
		case 'q':
			cfg.quiet = true
		case 'c':
			cfg.count = int(n)
		case 's':
			cfg.datalen = int(n)
		case 'w':
			cfg.deadline = time.Duration(n) * time.Second
		case 'W':
			cfg.timeout = time.Duration(n) * time.Second
		case 'I':
			if ip, err := netip.ParseAddr(o.arg); err == nil {
				cfg.source = ip.String()
			}
		case 'i':
			secs, err := parseDuration(o.arg)
			if err != nil {
				e.errorf("%v", err)
				return nil, 1
			}
			cfg.interval = time.Duration(secs * float64(time.Second))
		}
	}
	// A ticker needs a positive period; busybox would flood.
	cfg.interval = max(cfg.interval, time.Millisecond)
	return cfg, 0
}

// pingStats accumulates what busybox prints at the end, in microseconds.
type pingStats struct {
	transmitted, received int
	sum, min, max         int
	timed                 bool
}

// runPing simulates busybox ping (ICMP needs privileges and the container
// may have no network): every address replies after a small plausible
// round-trip time except the documentation ranges (TEST-NET-1/2/3,
// 2001:db8::/32), which never answer. Output, statistics and exit status
// follow busybox; SIGINT and (unlike busybox) SIGTERM print the statistics,
// so a deleted pod's log ends with them.
func runPing(ctx context.Context, e *env, args []string) int {
	cfg, code := parsePing(e, args)
	if cfg == nil {
		return code
	}
	addrs, err := resolve(ctx, e, cfg.host)
	if err != nil || len(addrs) == 0 {
		e.errorf("bad address '%s'", cfg.host)
		return 1
	}
	addr := addrs[0]
	w := bufio.NewWriter(e.out)
	// Every line is flushed at once: the output is a container log read live.
	line := func(format string, a ...any) {
		fmt.Fprintf(w, format, a...)
		w.Flush()
	}
	header := fmt.Sprintf("PING %s (%s)", cfg.host, addr)
	if cfg.source != "" {
		header += " from " + cfg.source
	}
	line("%s: %d data bytes\n", header, cfg.datalen)

	st := pingStats{}
	replies := answers(addr)
	send := func() {
		seq := st.transmitted
		st.transmitted++
		if !replies {
			return
		}
		st.received++
		var rtt int
		if addr.IsLoopback() {
			rtt = 20 + rand.IntN(130)
		} else {
			rtt = 250 + rand.IntN(1500)
		}
		timed := cfg.datalen >= 4
		if timed {
			if !st.timed || rtt < st.min {
				st.min = rtt
			}
			st.max = max(st.max, rtt)
			st.sum += rtt
			st.timed = true
		}
		if cfg.quiet {
			return
		}
		text := fmt.Sprintf("%d bytes from %s: seq=%d ttl=64", cfg.datalen+8, addr, seq)
		if timed {
			text += fmt.Sprintf(" time=%d.%03d ms", rtt/1000, rtt%1000)
		}
		line("%s\n", text)
	}

	var deadline <-chan time.Time
	if cfg.deadline > 0 {
		t := time.NewTimer(cfg.deadline)
		defer t.Stop()
		deadline = t.C
	}
	start := time.Now()
	send()
	ticker := time.NewTicker(cfg.interval)
	defer ticker.Stop()
	var lastWait <-chan time.Time // armed once all -c requests are sent
loop:
	for {
		if cfg.count > 0 && st.received >= cfg.count {
			break
		}
		if cfg.count > 0 && st.transmitted >= cfg.count && lastWait == nil {
			ticker.Stop()
			wait := cfg.timeout
			if st.received > 0 {
				wait = time.Second // busybox: about two round trips, at least 1s
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			lastWait = t.C
		}
		select {
		case <-ctx.Done():
			break loop
		case <-deadline:
			break loop
		case <-lastWait:
			break loop
		case <-ticker.C:
			if cfg.deadline > 0 && time.Since(start) >= cfg.deadline {
				break loop
			}
			send()
		}
	}

	line("\n--- %s ping statistics ---\n%d packets transmitted, %d packets received, %d%% packet loss\n",
		cfg.host, st.transmitted, st.received, lossPercent(st))
	if st.timed {
		avg := st.sum / st.received
		line("round-trip min/avg/max = %s/%s/%s ms\n", usec(st.min), usec(avg), usec(st.max))
	}
	if st.received == 0 || (cfg.deadline > 0 && st.received < cfg.count) {
		return 1
	}
	return 0
}

func lossPercent(st pingStats) int {
	if st.transmitted == 0 {
		return 0
	}
	return (st.transmitted - st.received) * 100 / st.transmitted
}

// usec prints microseconds as busybox's "%u.%03u" milliseconds.
func usec(us int) string { return fmt.Sprintf("%d.%03d", us/1000, us%1000) }

// answers reports whether the simulated host replies: all but the
// documentation ranges, reserved so that labs can show packet loss.
func answers(a netip.Addr) bool {
	for _, p := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return false
		}
	}
	return true
}

// resolve turns a host into addresses as the container would: numeric
// forms (including inet_aton's short ones such as 127.1), localhost, the
// $LABRUN_HOSTS_FILE entries, then DNS (bounded, since there may be no
// network): in the network fallback, the cluster's first. IPv4 addresses come first, as ping prefers them.
func resolve(ctx context.Context, e *env, host string) ([]netip.Addr, error) {
	if a, ok := parseInetAton(host); ok {
		return []netip.Addr{a}, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
	}
	if path := e.getenv(HostsFileEnv); path != "" {
		if addrs := lookupHostsFile(path, lower); len(addrs) > 0 {
			return addrs, nil
		}
	}
	if strings.ContainsAny(host, " /\\'\"") || host == "" {
		return nil, errors.New("invalid host name")
	}
	if m, err := loopback.Load(e.getenv); err == nil && m != nil {
		// The network fallback: the pod has no resolver of the cluster's.
		if ip, ok := newClusterResolver(m, e.getenv(loopback.EnvResolvConf)).lookup(ctx, host); ok {
			return []netip.Addr{netip.MustParseAddr(ip)}, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return append(v4, v6...), nil
}

// parseInetAton reads the IPv4 forms inet_aton accepts: a, a.b, a.b.c and
// a.b.c.d, each part decimal, octal (leading 0) or hex (0x).
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 0, 32)
		if err != nil || p == "" || p[0] == '+' {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	last := len(vals) - 1
	for _, v := range vals[:last] {
		if v > 255 {
			return netip.Addr{}, false
		}
	}
	if vals[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	var n uint64
	for i, v := range vals[:last] {
		n |= v << (24 - 8*i)
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// lookupHostsFile returns the addresses hosts(5) file path gives name.
// An unreadable file counts as empty: DNS is tried next.
func lookupHostsFile(path, name string) []netip.Addr {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ln := range strings.Split(string(data), "\n") {
		ln, _, _ = strings.Cut(ln, "#")
		f := strings.Fields(ln)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		for _, n := range f[1:] {
			if strings.EqualFold(n, name) {
				out = append(out, a.Unmap())
				break
			}
		}
	}
	return out
}
