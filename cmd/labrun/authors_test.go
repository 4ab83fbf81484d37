package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hinshun/vt10x"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
)

// sharedFile finds a file of ../shared beside the repository (the module
// root is where go.mod is); it skips, or fails under CI, when it is absent.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	// ../shared beside the repository; a git worktree one level further
	// down (/work/wt/NAME) finds it at ../../shared.
	p := filepath.Join(dir, "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		p2 := filepath.Join(dir, "..", "..", "shared", rel)
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			if _, err := os.Stat(p2); err == nil {
				return p2
			}
		}
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: the seed chapter lives beside the repository in ../shared", p)
		}
		t.Skipf("skipping: %s is missing (the seed chapter lives beside the repository in ../shared)", p)
	}
	return p
}

// needChromium finds Debian's chromium, or skips (fails under CI).
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the HTML report's browser test needs chromium (apt-get install chromium)")
	}
	t.Skip("skipping the browser test: no chromium (apt-get install chromium)")
	return ""
}

// browserVisit is what a headless Chromium did with a page.
type browserVisit struct {
	console  []string // console messages (a CSP violation is one)
	requests []string // requests that left the machine, through our proxy
}

// chromiumOwn are the hosts Chromium itself talks to (sign-in, time,
// updates) whatever the page; they say nothing about the page.
var chromiumOwn = regexp.MustCompile(`(^|\.)(google\.com|gvt1\.com|googleapis\.com|gstatic\.com)(:\d+)?$`)

// visit loads a file in headless Chromium, takes a screenshot of width×
// height into png, and reports console messages and every request that
// went to the network (all traffic goes through a recording proxy on
// loopback, which answers 404).
func visit(t *testing.T, chromium, page, png string, width, height int) browserVisit {
	t.Helper()
	var mu sync.Mutex
	var v browserVisit
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !chromiumOwn.MatchString(r.Host) {
			mu.Lock()
			v.requests = append(v.requests, r.Method+" "+r.Host+r.URL.Path)
			mu.Unlock()
		}
		http.NotFound(w, r)
	})}
	go proxy.Serve(ln)
	defer proxy.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := t.TempDir()
	abs, _ := filepath.Abs(page)
	cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+profile, "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--enable-logging=stderr", "--v=0", "--hide-scrollbars",
		"--proxy-server=http://"+ln.Addr().String(), "--proxy-bypass-list=<-loopback>",
		fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot="+png, "file://"+abs)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err = cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind, if any
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			v.console = append(v.console, l)
		}
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) < 1000 {
		t.Fatalf("no screenshot of %s (%d bytes, %v)\n%s", page, len(b), err, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return v
}

// The browser check catches what it is there to catch: a page that logs an
// error and loads an image from the network.
func TestBrowserCheckCatchesExternalRequests(t *testing.T) {
	chromium := needChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "bad.html")
	os.WriteFile(page, []byte(`<!DOCTYPE html><html><body><p>bad page</p>
<img src="http://example.invalid/pixel.png"><script>console.error("boom")</script></body></html>`), 0o644)
	v := visit(t, chromium, page, filepath.Join(dir, "bad.png"), 400, 300)
	if len(v.console) == 0 || !strings.Contains(strings.Join(v.console, "\n"), "boom") {
		t.Errorf("the console error was not seen: %q", v.console)
	}
	if !strings.Contains(strings.Join(v.requests, "\n"), "example.invalid") {
		t.Errorf("the external request was not seen: %q", v.requests)
	}
}

// On the seed chapter, the HTML report shows every lab with its slide and
// the terminal, loads nothing from elsewhere in a real browser, and the
// chapter's casts are asciicast v2 files that replay to the screen the run
// saw.
func TestSeedHTMLReportAndCast(t *testing.T) {
	needKubectl(t)
	// The shared cluster's default namespace: the seed's `kubectl get all`
	// shows service/kubernetes, which a namespace of the run's own lacks.
	ns := builtintest.DefaultNamespace(t, builtintest.Shared(t))
	seed := sharedFile(t, "seed/kubectl-run.md")
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	casts := filepath.Join(dir, "casts")
	code, out, errs := labrun(t, "run", "--namespace", ns, "--color", "never", "--record", casts, "--report", "html="+html, seed)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	labs := regexp.MustCompile(`(?s)<article class="lab[^"]*" id="[^"]+">(.*?)</article>`).FindAllStringSubmatch(page, -1)
	if len(labs) != 10 {
		t.Fatalf("the report shows %d labs, want the seed's 10", len(labs))
	}
	for i, l := range labs {
		slide := regexp.MustCompile(`(?s)<div class="slide">(.*?)</div>\s*<div class="steps">`).FindStringSubmatch(l[1])
		if slide == nil || !strings.Contains(slide[1], "<h2>") || strings.Contains(slide[1], "not recorded") {
			t.Errorf("lab %d has no rendered slide:\n%.400s", i+1, l[1])
		}
		if !strings.Contains(l[1], `<pre class="term">`) {
			t.Errorf("lab %d shows no terminal:\n%.400s", i+1, l[1])
		}
	}
	// The hidden directives are shown, muted, rather than hidden.
	if !strings.Contains(page, `class="hidden-directive">&lt;!-- `) {
		t.Error("no hidden directive is shown")
	}
	for _, bad := range []string{"<script", "<link", " src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the report contains %q: it must be self-contained", bad)
		}
	}

	// The casts: pane 0 has a marker per step; replayed, it gives the top
	// pane of the window the report shows after the last step.
	pane0 := filepath.Join(casts, "01-kubectl-run.pane0.cast")
	screen, markers := replayCast(t, pane0)
	if !strings.Contains(screen, "kubectl") {
		t.Fatalf("%s replays to a screen without the lab:\n%s", pane0, screen)
	}
	if markers != 27 {
		t.Errorf("%s has %d markers, want one per step (27)", pane0, markers)
	}
	if _, err := os.Stat(filepath.Join(casts, "01-kubectl-run.pane1.cast")); err != nil {
		t.Errorf("no cast for the split pane: %v", err)
	}
	windows := regexp.MustCompile(`(?s)<pre class="term">(.*?)</pre>`).FindAllStringSubmatch(page, -1)
	last := htmlText(windows[len(windows)-1][1])
	winLines := strings.Split(last, "\n")
	for i, l := range strings.Split(screen, "\n") {
		if i >= len(winLines) || strings.TrimRight(winLines[i], " ") != l {
			t.Errorf("the cast replays to\n%s\nbut the window after the last step shows\n%s", screen, last)
			break
		}
	}

	// asciinema's own player plays it, when it is installed (it is not
	// required: the format checks above hold without it).
	if player, err := exec.LookPath("asciinema"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, player, "play", "-s", "100", "-i", "0.01", pane0).CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), "kubectl run pingpong") {
			t.Errorf("asciinema play %s: %v\n%s", pane0, err, out)
		}
	} else {
		t.Log("asciinema is not installed: the cast was checked against the format, not played by asciinema itself")
	}

	chromium := needChromium(t)
	png := filepath.Join(dir, "report.png")
	v := visit(t, chromium, html, png, 1280, 2400)
	if len(v.console) > 0 {
		t.Errorf("console messages while loading the report:\n%s", strings.Join(v.console, "\n"))
	}
	if len(v.requests) > 0 {
		t.Errorf("the report made requests: %q", v.requests)
	}
	if d := os.Getenv("LABRUN_SCREENSHOT_DIR"); d != "" {
		// For a person to look at: LABRUN_SCREENSHOT_DIR=/tmp/x go test -run TestSeedHTML ./cmd/labrun
		os.WriteFile(filepath.Join(d, "seed-report.png"), mustRead(t, png), 0o644)
		os.WriteFile(filepath.Join(d, "seed-report.html"), b, 0o644)
		vp := visit(t, chromium, html, filepath.Join(d, "seed-report-phone.png"), 390, 1600)
		if len(vp.console)+len(vp.requests) > 0 {
			t.Errorf("phone view: %q %q", vp.console, vp.requests)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var htmlTags = regexp.MustCompile(`<[^>]*>`)

func htmlText(s string) string {
	s = htmlTags.ReplaceAllString(s, "")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`, "&amp;", "&").Replace(s)
}

// replayCast plays an asciicast v2 through the terminal emulator, checking
// its format on the way, and returns the final screen and marker count.
func replayCast(t *testing.T, path string) (string, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	sc.Scan()
	var hdr struct {
		Version   int     `json:"version"`
		Width     int     `json:"width"`
		Height    int     `json:"height"`
		Timestamp float64 `json:"timestamp"`
	}
	if err := json.Unmarshal(sc.Bytes(), &hdr); err != nil || hdr.Version != 2 || hdr.Width == 0 || hdr.Height == 0 || hdr.Timestamp == 0 {
		t.Fatalf("%s: header %s is not asciicast v2 (%v)", path, sc.Bytes(), err)
	}
	vt := vt10x.New(vt10x.WithSize(hdr.Width, hdr.Height))
	markers, last := 0, 0.0
	for n := 2; sc.Scan(); n++ {
		var ev [3]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		ts, ok := ev[0].(float64)
		data, ok2 := ev[2].(string)
		if !ok || !ok2 || ts < last {
			t.Fatalf("%s:%d: bad event %s", path, n, sc.Bytes())
		}
		last = ts
		switch ev[1] {
		case "o":
			vt.Write([]byte(data))
		case "m":
			markers++
		case "r":
			var c, r int
			fmt.Sscanf(data, "%dx%d", &c, &r)
			vt.Resize(c, r)
		default:
			t.Fatalf("%s:%d: event type %v", path, n, ev[1])
		}
	}
	cols, rows := vt.Size()
	var lines []string
	for y := 0; y < rows; y++ {
		var b strings.Builder
		for x := 0; x < cols; x++ {
			c := vt.Cell(x, y).Char
			if c == 0 {
				c = ' '
			}
			b.WriteRune(c)
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n"), markers
}
