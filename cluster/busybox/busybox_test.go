package busybox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain makes the test binary itself the multicall executable: run
// through an applet's symlink, it is that applet.
func TestMain(m *testing.M) {
	if code, ok := Dispatch(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

type result struct {
	code     int
	out, err string
}

// run runs an applet through Run with fake stdio and environment.
func run(t *testing.T, ctx context.Context, name string, args []string, stdin string, env map[string]string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(ctx, name, args, Stdio{
		In: strings.NewReader(stdin), Out: &out, Err: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, out.String(), errb.String()}
}

func TestApplets(t *testing.T) {
	names := Applets()
	if !slices.IsSorted(names) {
		t.Errorf("Applets() not sorted: %v", names)
	}
	for _, n := range names {
		if _, ok := lookup(n); !ok {
			t.Errorf("applet %q listed but not implemented", n)
		}
	}
	for _, n := range []string{"labrun", "busybox", "ls", "", "busybox.test"} {
		if _, ok := lookup(n); ok && !slices.Contains(names, n) {
			t.Errorf("applet %q implemented but not listed", n)
		}
		if code, ok := Dispatch([]string{"/some/dir/" + n, "x"}); ok || code != 0 {
			t.Errorf("Dispatch(%q) = %d, %v; want 0, false", n, code, ok)
		}
	}
	if code, ok := Dispatch(nil); ok || code != 0 {
		t.Errorf("Dispatch(nil) = %d, %v", code, ok)
	}
	r := run(t, context.Background(), "nosuch", nil, "", nil)
	if r.code != 127 || r.err != "nosuch: applet not found\n" {
		t.Errorf("unknown applet: %+v", r)
	}
}

func TestSimpleApplets(t *testing.T) {
	env := map[string]string{"HOSTNAME": "web-7d4b9c-x2x.default.svc", "TZ": "Europe/Paris"}
	file := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(file, []byte("one\n\ntwo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, applet string
		args         []string
		stdin        string
		code         int
		out, err     string
	}{
		{"true", "true", []string{"ignored"}, "", 0, "", ""},
		{"false", "false", nil, "", 1, "", ""},
		{"echo plain", "echo", []string{"hello", "world"}, "", 0, "hello world\n", ""},
		{"echo none", "echo", nil, "", 0, "\n", ""},
		{"echo -n", "echo", []string{"-n", "a", "b"}, "", 0, "a b", ""},
		{"echo no escapes by default", "echo", []string{`a\tb`}, "", 0, "a\\tb\n", ""},
		{"echo -e", "echo", []string{"-e", `a\tb\nc\\d\x41\0101\101\e`}, "", 0, "a\tb\nc\\dAAA\x1b\n", ""},
		{"echo -e \\c", "echo", []string{"-e", `one\ctwo`, "three"}, "", 0, "one", ""},
		{"echo -ne combined", "echo", []string{"-ne", `x\n`}, "", 0, "x\n", ""},
		{"echo -eE", "echo", []string{"-e", "-E", `x\n`}, "", 0, "x\\n\n", ""},
		{"echo bad option is text", "echo", []string{"-nx", "y"}, "", 0, "-nx y\n", ""},
		{"echo lone dash", "echo", []string{"-", "y"}, "", 0, "- y\n", ""},
		{"echo options only first", "echo", []string{"a", "-n"}, "", 0, "a -n\n", ""},
		{"seq 3", "seq", []string{"3"}, "", 0, "1\n2\n3\n", ""},
		{"seq range", "seq", []string{"5", "7"}, "", 0, "5\n6\n7\n", ""},
		{"seq reversed empty", "seq", []string{"7", "5"}, "", 0, "", ""},
		{"seq step", "seq", []string{"8", "-2", "4"}, "", 0, "8\n6\n4\n", ""},
		{"seq frac", "seq", []string{"3", ".30", "4"}, "", 0, "3.00\n3.30\n3.60\n3.90\n", ""},
		{"seq negative frac", "seq", []string{".7", "-.9", "-2.2"}, "", 0, "0.7\n-0.2\n-1.1\n-2.0\n", ""},
		{"seq -w", "seq", []string{"-w", "8", "-3", "04"}, "", 0, "08\n05\n", ""},
		{"seq -w frac", "seq", []string{"-w", "09", ".3", "11"}, "", 0, "09.0\n09.3\n09.6\n09.9\n10.2\n10.5\n10.8\n", ""},
		{"seq -s", "seq", []string{"-s", ",", "3"}, "", 0, "1,2,3\n", ""},
		{"seq -s attached", "seq", []string{"-s:", "-w", "2", "10"}, "", 0, "02:03:04:05:06:07:08:09:10\n", ""},
		{"seq negative first", "seq", []string{"-1", "1"}, "", 0, "-1\n0\n1\n", ""},
		{"seq no args", "seq", nil, "", 1, "", "BusyBox v1.36.1 (labrun) multi-call binary.\n\nUsage: seq " + seqUsage + "\n\n" + seqHelp + "\n"},
		{"seq too many", "seq", []string{"1", "2", "3", "4"}, "", 1, "", "BusyBox v1.36.1 (labrun) multi-call binary.\n\nUsage: seq " + seqUsage + "\n\n" + seqHelp + "\n"},
		{"seq not a number", "seq", []string{"x"}, "", 1, "", "BusyBox v1.36.1 (labrun) multi-call binary.\n\nUsage: seq " + seqUsage + "\n\n" + seqHelp + "\n"},
		{"hostname", "hostname", nil, "", 0, "web-7d4b9c-x2x.default.svc\n", ""},
		{"hostname -s", "hostname", []string{"-s"}, "", 0, "web-7d4b9c-x2x\n", ""},
		{"hostname -d", "hostname", []string{"-d"}, "", 0, "default.svc\n", ""},
		{"hostname set", "hostname", []string{"other"}, "", 1, "", "hostname: sethostname: Operation not permitted\n"},
		{"hostname bad option", "hostname", []string{"-z"}, "", 1, "", "hostname: unrecognized option: z\nBusyBox"},
		{"cat stdin", "cat", nil, "from stdin\n", 0, "from stdin\n", ""},
		{"cat file and dash", "cat", []string{file, "-"}, "+in", 0, "one\n\ntwo+in", ""},
		{"cat missing", "cat", []string{"/nonexistent/x", file}, "", 1, "one\n\ntwo", "cat: can't open '/nonexistent/x': No such file or directory\n"},
		{"cat -n", "cat", []string{"-n", file}, "", 0, "     1\tone\n     2\t\n     3\ttwo\n", ""},
		{"cat -b", "cat", []string{"-b", file}, "", 0, "     1\tone\n\n     2\ttwo\n", ""},
		{"date epoch", "date", []string{"-u", "-d", "@0"}, "", 0, "Thu Jan  1 00:00:00 UTC 1970\n", ""},
		{"date TZ", "date", []string{"-d", "@1795737600"}, "", 0, "Fri Nov 27 01:00:00 CET 2026\n", ""},
		{"date format", "date", []string{"-u", "-d", "@1795712788", "+%Y-%m-%d %H:%M:%S %j %a %A %b %B %e %y %s %u %w %p %I %D %T %R %F %%"}, "", 0,
			"2026-11-26 17:06:28 330 Thu Thursday Nov November 26 26 1795712788 4 4 PM 05 11/26/26 17:06:28 17:06 2026-11-26 %\n", ""},
		{"date -R", "date", []string{"-R", "-d", "@1795712788"}, "", 0, "Thu, 26 Nov 2026 18:06:28 +0100\n", ""},
		{"date -I", "date", []string{"-Iseconds", "-d", "@1795712788"}, "", 0, "2026-11-26T18:06:28+01:00\n", ""},
		{"date -Idate", "date", []string{"-I", "-u", "-d", "@1795712788"}, "", 0, "2026-11-26\n", ""},
		{"date %N and flags", "date", []string{"-u", "-d", "@5", "+%3N|%-d|%_H|%k|%n|%t|%Q"}, "", 0, "000|1| 0| 0|\n|\t|%Q\n", ""},
		{"date ISO form", "date", []string{"-u", "-d", "2026-11-26 17:06", "+%c"}, "", 0, "Thu Nov 26 17:06:00 2026\n", ""},
		{"date bad", "date", []string{"-d", "yesterday-ish"}, "", 1, "", "date: invalid date 'yesterday-ish'\n"},
		{"date set refused", "date", []string{"-u", "-s", "@0"}, "", 0, "Thu Jan  1 00:00:00 UTC 1970\n", "date: can't set date: Operation not permitted\n"},
		{"sleep short", "sleep", []string{"0.01"}, "", 0, "", ""},
		{"sleep sum", "sleep", []string{"0.005s", "0.00001m"}, "", 0, "", ""},
		{"sleep bad", "sleep", []string{"1x"}, "", 1, "", "sleep: invalid number '1x'\n"},
		{"sleep missing", "sleep", nil, "", 1, "", "BusyBox v1.36.1 (labrun) multi-call binary.\n\nUsage: sleep [N]..."},
		{"sh", "sh", []string{"-c", `read x; echo "got $x"; exit 3`}, "line\n", 3, "got line\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := run(t, ctx, tt.applet, tt.args, tt.stdin, env)
			if r.code != tt.code || r.out != tt.out || !strings.HasPrefix(r.err, tt.err) || (tt.err == "" && r.err != "") {
				t.Errorf("%s %q\n got: code %d out %q err %q\nwant: code %d out %q err %q...",
					tt.applet, tt.args, r.code, r.out, r.err, tt.code, tt.out, tt.err)
			}
		})
	}
}

// TestDateNow checks the default format against the clock, in UTC when TZ
// is unset (a container without tzdata).
func TestDateNow(t *testing.T) {
	before := time.Now().UTC().Truncate(time.Second)
	r := run(t, context.Background(), "date", nil, "", nil)
	after := time.Now().UTC()
	got, err := time.Parse("Mon Jan _2 15:04:05 MST 2006\n", r.out)
	if err != nil || r.code != 0 {
		t.Fatalf("date: %+v: %v", r, err)
	}
	if got.Before(before) || got.After(after) || !strings.Contains(r.out, " UTC ") {
		t.Errorf("date printed %q, not between %v and %v in UTC", r.out, before, after)
	}
}

// TestCancel checks that SIGINT/SIGTERM (a cancelled ctx) end the blocking
// applets promptly with 128+signal.
func TestCancel(t *testing.T) {
	tests := []struct {
		applet string
		args   []string
		cause  error
		code   int
	}{
		{"sleep", []string{"1000"}, &Signaled{syscall.SIGTERM}, 143},
		{"sleep", []string{"infinity"}, &Signaled{syscall.SIGINT}, 130},
		{"sleep", []string{"1d"}, errors.New("plain cancel"), 143},
		{"yes", nil, &Signaled{syscall.SIGTERM}, 143},
		{"seq", []string{"1", "0", "2"}, &Signaled{syscall.SIGINT}, 130},
		{"cat", nil, &Signaled{syscall.SIGTERM}, 143},
		{"sh", []string{"-c", "sleep 1000"}, &Signaled{syscall.SIGTERM}, 143},
	}
	for _, tt := range tests {
		t.Run(tt.applet+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			pr, pw := io.Pipe() // stdin that never ends until the test closes it
			defer pw.Close()
			out := &notifyWriter{first: make(chan struct{})}
			done := make(chan int, 1)
			go func() { done <- Run(ctx, tt.applet, tt.args, Stdio{In: pr, Out: out, Err: io.Discard}) }()
			if tt.applet == "yes" || tt.applet == "seq" {
				<-out.first // cancel while it is producing
			}
			cancel(tt.cause)
			select {
			case code := <-done:
				if code != tt.code {
					t.Errorf("exit %d, want %d", code, tt.code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("applet ignored cancellation")
			}
		})
	}
}

// notifyWriter collects output safely across goroutines and closes first
// on the first write.
type notifyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first chan struct{}
	once  sync.Once
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return w.buf.Write(p)
}

func (w *notifyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bin")
	exe := filepath.Join(t.TempDir(), "labrun") // need not exist: links may dangle
	// A stale file where a link goes is replaced.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ping"), []byte("stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := Install(dir, exe); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || target != exe {
			t.Errorf("%s -> %q, %v; want %q", e.Name(), target, err, exe)
		}
	}
	if !slices.Equal(names, Applets()) {
		t.Errorf("installed %v, want %v", names, Applets())
	}
	if err := os.WriteFile(exe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Install(filepath.Join(exe, "sub"), exe); err == nil {
		t.Error("Install under a regular file succeeded")
	}
}

// installed puts the applets, backed by this test binary, in a temp dir.
func installed(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Install(dir, exe); err != nil {
		t.Fatal(err)
	}
	return dir
}

// command builds a process bounded by the test's deadline, in its own
// process group, killed as a group on cleanup.
func command(t *testing.T, path string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		cancel()
	})
	return cmd
}

func TestMulticallExec(t *testing.T) {
	dir := installed(t)
	tests := []struct {
		applet string
		args   []string
		code   int
		check  func(t *testing.T, out string)
	}{
		{"ping", []string{"-c", "2", "-i", "0.01", "127.0.0.1"}, 0, func(t *testing.T, out string) {
			checkPing(t, out, "127.0.0.1", "127.0.0.1", 2, 2)
		}},
		{"seq", []string{"3"}, 0, func(t *testing.T, out string) {
			if out != "1\n2\n3\n" {
				t.Errorf("seq 3 printed %q", out)
			}
		}},
		{"false", nil, 1, nil},
		{"true", nil, 0, nil},
		{"echo", []string{"-e", `a\tb`}, 0, func(t *testing.T, out string) {
			if out != "a\tb\n" {
				t.Errorf("echo printed %q", out)
			}
		}},
		// sh is exec'd: $$ of the shell is the pid we started.
		{"sh", []string{"-c", `echo "$$ $0 $1"; exit 4`, "zero", "one"}, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.applet, func(t *testing.T) {
			cmd := command(t, filepath.Join(dir, tt.applet), tt.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", got, tt.code, stderr.String())
			}
			if tt.check != nil {
				tt.check(t, string(out))
			}
			if tt.applet == "sh" {
				want := strconv.Itoa(cmd.Process.Pid) + " zero one\n"
				if string(out) != want {
					t.Errorf("sh printed %q, want %q", out, want)
				}
			}
		})
	}
}

// TestMulticallSignals sends real signals to real applet processes: ping
// prints its statistics and exits 0, sleep exits 128+signal.
func TestMulticallSignals(t *testing.T) {
	dir := installed(t)
	tests := []struct {
		applet string
		args   []string
		sig    syscall.Signal
		code   int
	}{
		{"ping", []string{"127.0.0.1"}, syscall.SIGTERM, 0},
		{"ping", []string{"-i", "0.05", "localhost"}, syscall.SIGINT, 0},
		{"sleep", []string{"100"}, syscall.SIGTERM, 143},
		{"sleep", []string{"inf"}, syscall.SIGINT, 130},
	}
	for _, tt := range tests {
		t.Run(tt.applet+" "+tt.sig.String(), func(t *testing.T) {
			applet := filepath.Join(dir, tt.applet)
			cmd := command(t, applet, tt.args...)
			if tt.applet != "ping" {
				// Start it with SIGINT ignored (exec keeps that): the Go
				// runtime then catches SIGINT only once Dispatch asks for
				// it, which /proc shows; a signal sent earlier would kill
				// the process before the applet runs.
				cmd = command(t, "/bin/sh", append([]string{"-c", `trap "" INT; exec "$0" "$@"`, applet}, tt.args...)...)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(stdout)
			var out strings.Builder
			if tt.applet == "ping" {
				// Wait for the first reply so the signal lands mid-run,
				// reading lines as a live log reader would.
				for range 2 {
					line, err := r.ReadString('\n')
					if err != nil {
						t.Fatalf("reading ping output: %v (so far %q)", err, out.String())
					}
					out.WriteString(line)
				}
			} else {
				waitForSignalCaught(t, cmd.Process.Pid, syscall.SIGINT)
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(r)
			out.Write(rest)
			_ = cmd.Wait()
			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit %d (%v), want %d; output %q", got, cmd.ProcessState, tt.code, out.String())
			}
			if tt.applet == "ping" {
				host := tt.args[len(tt.args)-1]
				n := strings.Count(out.String(), " bytes from ")
				checkPing(t, out.String(), host, "127.0.0.1", n, n)
			}
		})
	}
}

// waitForSignalCaught waits until process pid catches sig, read from
// /proc/PID/status (SigCgt). No notification exists for this, hence the
// bounded poll.
func waitForSignalCaught(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err == nil {
			for _, ln := range strings.Split(string(data), "\n") {
				if mask, ok := strings.CutPrefix(ln, "SigCgt:\t"); ok {
					if m, err := strconv.ParseUint(mask, 16, 64); err == nil && m&(1<<(uint(sig)-1)) != 0 {
						return
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never caught %v", pid, sig)
		}
	}
}
