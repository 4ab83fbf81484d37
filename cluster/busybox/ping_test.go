package busybox

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// busyboxFormats loads testdata/busybox-1.36.1-formats.txt: busybox's own
// printf/strftime formats, turned into anchored patterns.
func busyboxFormats(t *testing.T) map[string]*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "busybox-1.36.1-formats.txt"))
	if err != nil {
		t.Fatal(err)
	}
	conv := map[string]string{
		// printf
		"%s": `(\S+)`, "%lu": `(\d+)`, "%d": `(\d+)`, "%u": `(\d+)`, "%03u": `(\d{3})`, "%%": "%",
		// strftime (C locale)
		"%a": `[A-Z][a-z]{2}`, "%b": `[A-Z][a-z]{2}`, "%e": `[ 1-3][0-9]`, "%H": `[0-2][0-9]`,
		"%M": `[0-5][0-9]`, "%S": `[0-6][0-9]`, "%Z": `[A-Z]+`, "%Y": `[0-9]{4}`,
	}
	spec := regexp.MustCompile(`%(%|03u|lu|[a-zA-Z])`)
	out := map[string]*regexp.Regexp{}
	for _, ln := range strings.Split(string(data), "\n") {
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		key, format, ok := strings.Cut(ln, "\t")
		if !ok {
			t.Fatalf("bad format line %q", ln)
		}
		// Quote the literal text, translate the conversions.
		var pat strings.Builder
		specs := spec.FindAllString(format, -1)
		for i, literal := range spec.Split(format, -1) {
			pat.WriteString(regexp.QuoteMeta(literal))
			if i < len(specs) {
				re, ok := conv[specs[i]]
				if !ok {
					t.Fatalf("no pattern for %s in %q", specs[i], format)
				}
				pat.WriteString(re)
			}
		}
		out[key] = regexp.MustCompile("^" + pat.String() + "$")
	}
	return out
}

// checkPing asserts that out is a complete busybox ping transcript for host
// (resolved to addr): header, replies with consecutive seq from 0, then
// statistics whose counts and min/avg/max agree with the reply lines.
func checkPing(t *testing.T, out, host, addr string, transmitted, received int) {
	t.Helper()
	f := busyboxFormats(t)
	lines := strings.Split(out, "\n")
	if lines[len(lines)-1] != "" {
		t.Fatalf("output does not end with a newline: %q", out)
	}
	lines = lines[:len(lines)-1]
	want := 1 + received + 3
	if received > 0 {
		want++
	}
	if len(lines) != want {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), want, out)
	}
	if m := f["ping.header"].FindStringSubmatch(lines[0]); m == nil || m[1] != host || m[2] != addr || m[3] != "56" {
		t.Errorf("header %q does not match busybox's format for %s (%s)", lines[0], host, addr)
	}
	var sum, lo, hi int
	for i := range received {
		m := f["ping.reply"].FindStringSubmatch(lines[1+i])
		if m == nil {
			t.Fatalf("reply %q does not match busybox's format", lines[1+i])
		}
		if m[1] != "64" || m[2] != addr || m[3] != strconv.Itoa(i) || m[4] != "64" {
			t.Errorf("reply %d: %q", i, lines[1+i])
		}
		us := atoi(t, m[5])*1000 + atoi(t, m[6])
		if us <= 0 || us > 10000 {
			t.Errorf("implausible time in %q", lines[1+i])
		}
		sum += us
		if i == 0 || us < lo {
			lo = us
		}
		hi = max(hi, us)
	}
	rest := lines[1+received:]
	if rest[0] != "" {
		t.Errorf("no blank line before statistics: %q", rest[0])
	}
	if m := f["ping.stats.title"].FindStringSubmatch(rest[1]); m == nil || m[1] != host {
		t.Errorf("statistics title %q", rest[1])
	}
	m := f["ping.stats.counts"].FindStringSubmatch(rest[2])
	if m == nil {
		t.Fatalf("counts %q do not match busybox's format", rest[2])
	}
	loss := 0
	if transmitted > 0 {
		loss = (transmitted - received) * 100 / transmitted
	}
	if atoi(t, m[1]) != transmitted || atoi(t, m[2]) != received || atoi(t, m[3]) != loss {
		t.Errorf("counts %q, want %d transmitted, %d received", rest[2], transmitted, received)
	}
	if received == 0 {
		return
	}
	m = f["ping.stats.rtt"].FindStringSubmatch(rest[3])
	if m == nil {
		t.Fatalf("round-trip %q does not match busybox's format", rest[3])
	}
	got := []int{atoi(t, m[1])*1000 + atoi(t, m[2]), atoi(t, m[3])*1000 + atoi(t, m[4]), atoi(t, m[5])*1000 + atoi(t, m[6])}
	if got[0] != lo || got[1] != sum/received || got[2] != hi {
		t.Errorf("round-trip %q, want min/avg/max %d/%d/%d us", rest[3], lo, sum/received, hi)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPing(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("# pod hosts\n10.244.0.7\tweb-1 web-1.default # self\nfe80::1 ip6-only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{HostsFileEnv: hosts}
	tests := []struct {
		name       string
		args       []string
		host, addr string
		n          int
	}{
		{"count", []string{"-c", "3", "-i", "0.01", "127.0.0.1"}, "127.0.0.1", "127.0.0.1", 3},
		{"attached count, option after host", []string{"-i0.01", "127.0.0.1", "-c3"}, "127.0.0.1", "127.0.0.1", 3},
		{"localhost", []string{"-c", "2", "-i", "0.01", "localhost"}, "localhost", "127.0.0.1", 2},
		{"inet_aton short form", []string{"-c", "1", "127.1"}, "127.1", "127.0.0.1", 1},
		{"remote numeric", []string{"-c", "2", "-i", "0.01", "10.0.0.1"}, "10.0.0.1", "10.0.0.1", 2},
		{"ipv6", []string{"-c", "1", "::1"}, "::1", "::1", 1},
		{"hosts file", []string{"-c", "2", "-i", "0.01", "web-1"}, "web-1", "10.244.0.7", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := run(t, ctx, "ping", tt.args, "", env)
			if r.code != 0 || r.err != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			checkPing(t, r.out, tt.host, tt.addr, tt.n, tt.n)
		})
	}
}

func TestPingVariants(t *testing.T) {
	bounded := func(t *testing.T) context.Context {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	t.Run("quiet", func(t *testing.T) {
		ctx := bounded(t)
		r := run(t, ctx, "ping", []string{"-q", "-c", "2", "-i", "0.01", "127.0.0.1"}, "", nil)
		lines := strings.Split(r.out, "\n")
		if r.code != 0 || len(lines) != 6 || lines[0] != "PING 127.0.0.1 (127.0.0.1): 56 data bytes" ||
			lines[3] != "2 packets transmitted, 2 packets received, 0% packet loss" ||
			!strings.HasPrefix(lines[4], "round-trip min/avg/max = ") {
			t.Errorf("quiet ping: %+v", r)
		}
	})
	t.Run("size", func(t *testing.T) {
		ctx := bounded(t)
		r := run(t, ctx, "ping", []string{"-c", "1", "-s", "100", "127.0.0.1"}, "", nil)
		if !strings.Contains(r.out, "PING 127.0.0.1 (127.0.0.1): 100 data bytes\n108 bytes from 127.0.0.1: seq=0 ttl=64 time=") {
			t.Errorf("ping -s 100: %q", r.out)
		}
	})
	t.Run("tiny size has no times", func(t *testing.T) {
		ctx := bounded(t)
		r := run(t, ctx, "ping", []string{"-c", "1", "-s", "2", "127.0.0.1"}, "", nil)
		want := "PING 127.0.0.1 (127.0.0.1): 2 data bytes\n10 bytes from 127.0.0.1: seq=0 ttl=64\n\n--- 127.0.0.1 ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\n"
		if r.out != want || r.code != 0 {
			t.Errorf("ping -s 2: %q, want %q", r.out, want)
		}
		if !busyboxFormats(t)["ping.reply.untimed"].MatchString("10 bytes from 127.0.0.1: seq=0 ttl=64") {
			t.Error("untimed format mismatch")
		}
	})
	t.Run("source address", func(t *testing.T) {
		ctx := bounded(t)
		r := run(t, ctx, "ping", []string{"-c", "1", "-I", "127.0.0.2", "127.0.0.1"}, "", nil)
		if !strings.HasPrefix(r.out, "PING 127.0.0.1 (127.0.0.1) from 127.0.0.2: 56 data bytes\n") {
			t.Errorf("ping -I: %q", r.out)
		}
	})
	t.Run("unreachable until cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(bounded(t))
		out := &notifyWriter{first: make(chan struct{})}
		done := make(chan int, 1)
		go func() {
			done <- Run(ctx, "ping", []string{"-i", "0.01", "192.0.2.1"}, Stdio{Out: out, Err: io.Discard})
		}()
		<-out.first
		time.AfterFunc(50*time.Millisecond, func() { cancel(&Signaled{syscall.SIGINT}) })
		if code := <-done; code != 1 {
			t.Errorf("exit %d, want 1 with nothing received", code)
		}
		lines := strings.Split(out.String(), "\n")
		if len(lines) != 5 || !strings.HasSuffix(lines[3], " packets received, 100% packet loss") || strings.Contains(out.String(), "round-trip") {
			t.Errorf("unreachable output %q", out.String())
		}
	})
	t.Run("unreachable with count waits -W", func(t *testing.T) {
		ctx := bounded(t)
		r := run(t, ctx, "ping", []string{"-c", "2", "-i", "0.01", "-W", "1", "203.0.113.9"}, "", nil)
		want := "PING 203.0.113.9 (203.0.113.9): 56 data bytes\n\n--- 203.0.113.9 ping statistics ---\n2 packets transmitted, 0 packets received, 100% packet loss\n"
		if r.code != 1 || r.out != want {
			t.Errorf("got %+v, want exit 1 and %q", r, want)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx := bounded(t)
		r := run(t, ctx, "ping", []string{"-w", "1", "-i", "0.3", "127.0.0.1"}, "", nil)
		n := strings.Count(r.out, " bytes from ")
		if r.code != 0 || n < 2 || n > 5 {
			t.Errorf("ping -w 1 -i 0.3: exit %d, %d replies\n%s", r.code, n, r.out)
		}
		checkPing(t, r.out, "127.0.0.1", "127.0.0.1", n, n)
	})
	t.Run("deadline short of count fails", func(t *testing.T) {
		ctx := bounded(t)
		r := run(t, ctx, "ping", []string{"-w", "1", "-c", "100", "-i", "0.4", "127.0.0.1"}, "", nil)
		if r.code != 1 {
			t.Errorf("exit %d, want 1 when -w ends before -c replies", r.code)
		}
	})
}

func TestPingErrors(t *testing.T) {
	usage := "BusyBox v1.36.1 (labrun) multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n\n" + pingHelp + "\n"
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"no host", nil, usage},
		{"two hosts", []string{"a", "b"}, usage},
		{"bad option", []string{"-Z", "127.0.0.1"}, "ping: unrecognized option: Z\n" + usage},
		{"missing argument", []string{"127.0.0.1", "-c"}, "ping: option requires an argument: c\n" + usage},
		{"bad count", []string{"-c", "x", "127.0.0.1"}, "ping: invalid number 'x'\n"},
		{"bad interval", []string{"-i", "1q", "127.0.0.1"}, "ping: invalid number '1q'\n"},
		{"unresolvable", []string{"-c", "1", "no-such-host.invalid"}, "ping: bad address 'no-such-host.invalid'\n"},
		{"malformed", []string{"-c", "1", "bad host"}, "ping: bad address 'bad host'\n"},
	}
	f := busyboxFormats(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := run(t, ctx, "ping", tt.args, "", nil)
			if r.code != 1 || r.out != "" || r.err != tt.err {
				t.Errorf("got %+v, want exit 1, stderr %q", r, tt.err)
			}
			if strings.Contains(tt.err, "bad address") && !f["ping.badaddress"].MatchString(strings.TrimSuffix(r.err, "\n")) && !strings.Contains(tt.args[len(tt.args)-1], " ") {
				t.Errorf("%q does not match busybox's format", r.err)
			}
		})
	}
}

// TestPingCancel: SIGINT or SIGTERM (ctx) mid-run prints the statistics
// and exits 0, as a deleted pod's log should end.
func TestPingCancel(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			w := &lineWriter{lines: make(chan string, 100)}
			done := make(chan int, 1)
			go func() { done <- Run(ctx, "ping", []string{"-i", "0.01", "127.0.0.1"}, Stdio{Out: w, Err: io.Discard}) }()
			for range 4 { // header and three replies, each flushed as produced
				select {
				case <-w.lines:
				case <-time.After(10 * time.Second):
					t.Fatal("ping output not flushed line by line")
				}
			}
			cancel(&Signaled{sig})
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit %d, want 0", code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ping ignored cancellation")
			}
			out := w.String()
			n := strings.Count(out, " bytes from ")
			checkPing(t, out, "127.0.0.1", "127.0.0.1", n, n)
		})
	}
}

// lineWriter reports each write (ping writes whole lines) on a channel.
type lineWriter struct {
	mu    sync.Mutex
	all   strings.Builder
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	select {
	case w.lines <- string(p):
	default:
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

func TestDateFormatMatchesBusybox(t *testing.T) {
	r := run(t, context.Background(), "date", nil, "", map[string]string{"TZ": "America/New_York"})
	if !busyboxFormats(t)["date.default"].MatchString(strings.TrimSuffix(r.out, "\n")) {
		t.Errorf("date printed %q, not busybox's default format", r.out)
	}
}

func TestHostnameAddress(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("10.244.1.3 pingpong-6ccbc77f68-kmgfn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOSTNAME": "pingpong-6ccbc77f68-kmgfn", HostsFileEnv: hosts}
	r := run(t, context.Background(), "hostname", []string{"-i"}, "", env)
	if r.code != 0 || r.out != "10.244.1.3\n" {
		t.Errorf("hostname -i: %+v", r)
	}
	r = run(t, context.Background(), "ping", []string{"-c", "1", "pingpong-6ccbc77f68-kmgfn"}, "", env)
	if r.code != 0 || !strings.HasPrefix(r.out, "PING pingpong-6ccbc77f68-kmgfn (10.244.1.3): 56 data bytes\n64 bytes from 10.244.1.3: seq=0") {
		t.Errorf("ping own pod name: %+v", r)
	}
}
