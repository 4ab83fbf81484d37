package busybox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/network/loopback"
)

func TestCurlArgs(t *testing.T) {
	// A stand-in for the cluster: blue is a Service, 10.96.0.20 its address.
	target := func(host, port string) (string, bool) {
		switch host {
		case "blue", "10.96.0.20":
			return "127.96.0.20:" + port, true
		}
		return "", false
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-s", "blue"}, []string{"--connect-to", "blue:80:127.96.0.20:80", "-s", "blue"}},
		{[]string{"http://10.96.0.20:8080/x"}, []string{"--connect-to", "10.96.0.20:8080:127.96.0.20:8080", "http://10.96.0.20:8080/x"}},
		{[]string{"https://blue/"}, []string{"--connect-to", "blue:443:127.96.0.20:443", "https://blue/"}},
		// A value of an option is no URL; the URL after it is.
		{[]string{"-o", "blue", "-H", "Host: x", "localhost:8080"}, []string{"-o", "blue", "-H", "Host: x", "localhost:8080"}},
		{[]string{"-m", "2", "blue", "blue"}, []string{"--connect-to", "blue:80:127.96.0.20:80", "-m", "2", "blue", "blue"}},
		{[]string{"ftp://blue/"}, []string{"ftp://blue/"}},
	} {
		if got := curlArgs(tc.args, target); !slices.Equal(got, tc.want) {
			t.Errorf("curlArgs(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestWgetArgs(t *testing.T) {
	target := func(host, port string) (string, bool) {
		if host == "blue" {
			return "127.96.0.20:" + port, true
		}
		return "", false
	}
	got := wgetArgs([]string{"-qO-", "-T", "2", "http://blue/x?y", "http://localhost/"}, target)
	want := []string{"--header=Host: blue", "-qO-", "-T", "2", "http://127.96.0.20:80/x?y", "http://localhost/"}
	if !slices.Equal(got, want) {
		t.Errorf("wgetArgs = %q, want %q", got, want)
	}
}

// TestNetClientsInFallback runs the host's curl and wget through their
// applets with a map as the network fallback writes it: a pod address
// reaches the loopback address it is mapped to, on the ephemeral port its
// listener took in place of 80.
func TestNetClientsInFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.244.9.9:0")
	if err != nil {
		t.Skipf("cannot listen on 127.244.9.9 here: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host %s", r.Host)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "map.json")
	if err := os.WriteFile(mapFile, fmt.Appendf(nil, `{"ports":{"tcp/127.244.9.9:80":%q}}`, ln.Addr().String()), 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := Link(bin, exe, NetClients()...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prog string
		args []string
	}{
		{"curl", []string{"-s", "-m", "10", "http://10.244.9.9/"}},
		{"wget", []string{"-q", "-T", "10", "-O-", "http://10.244.9.9/"}},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			if _, err := exec.LookPath(tc.prog); err != nil {
				t.Skipf("no %s on this machine to hand over to", tc.prog)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, tc.prog), tc.args...)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), loopback.Env+"="+mapFile)
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "host 10.244.9.9" {
				t.Errorf("%s %q: %q, %v; want the pod's answer with its own address as the host", tc.prog, tc.args, out, err)
			}
			// Without the map (inside labrun's namespace) the program gets
			// the arguments as they are, and the pod address is not here.
			cmd = exec.CommandContext(ctx, filepath.Join(bin, tc.prog), append(tc.args[:len(tc.args)-1:len(tc.args)-1], "http://127.244.9.9:"+portOf(ln)+"/")...)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err = cmd.CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "host 127.244.9.9") {
				t.Errorf("%s without a map: %q, %v", tc.prog, out, err)
			}
		})
	}
}

func portOf(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}
