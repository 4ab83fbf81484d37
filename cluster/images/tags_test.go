package images

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPull(t *testing.T) {
	for _, tc := range []struct {
		image   string
		missing bool
	}{
		{"dockercoins/worker:v0.1", false},
		{"dockercoins/worker:v0.2", false},
		{"dockercoins/worker:v0.3", true}, // rollout.md's "non-existent image"
		{"127.0.0.1:32000/dockercoins/worker:v0.3", true},
		{"dockercoins/hasher:v0.2", true},
		{"dockercoins/rng", true}, // no latest is published
		{"dockercoins/rng@sha256:0123", false},
		{"nginx:1.999", false}, // a repository labrun knows no tag list of
		{"example.com/team/app:v3", false},
	} {
		err := Pull(tc.image)
		if missing := errors.Is(err, ErrNotFound); missing != tc.missing {
			t.Errorf("Pull(%q) = %v, want missing %v", tc.image, err, tc.missing)
		}
	}
}

func TestTag(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                         "latest",
		"nginx:1.27-alpine":             "1.27-alpine",
		"localhost:5000/jpetazzo/clock": "latest",
		"localhost:5000/a/b:v2":         "v2",
		"a/b@sha256:abcd":               "",
	} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestListening: the node marks a container Ready when Listening is
// called, so it must come after the ports accept connections, and exactly
// once, also for images that listen on nothing.
func TestListening(t *testing.T) {
	for _, tc := range []struct {
		c    Container
		port int
	}{
		{Container{Image: "nginx"}, 80},
		{Container{Image: "redis"}, 6379},
		{Container{Image: "jpetazzo/color", PodName: "blue-1"}, 80},
		{Container{Image: "example.com/team/app", Ports: []int32{8080}}, 8080},
		{Container{Image: "jpetazzo/clock"}, 0},
		{Container{Image: "busybox"}, 0},
	} {
		t.Run(tc.c.Image, func(t *testing.T) {
			c := tc.c
			c.PodIP = freeIP()
			calls := make(chan bool, 2)
			c.Listening = func() {
				if tc.port == 0 {
					calls <- true
					return
				}
				cn, err := net.DialTimeout("tcp", net.JoinHostPort(c.PodIP, strconv.Itoa(tc.port)), time.Second)
				if err == nil {
					cn.Close()
				}
				calls <- err == nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			go func() { done <- Builtin(c)(ctx) }()
			select {
			case ok := <-calls:
				if !ok {
					t.Errorf("Listening was called before port %d accepted connections", tc.port)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Listening was not called")
			}
			cancel()
			<-done
			if len(calls) != 0 {
				t.Errorf("Listening was called more than once")
			}
		})
	}
}

// TestBrokenRNG: rng:v0.2 is the variant its publisher calls broken: it
// exits with an error instead of serving, so its pods crash-loop.
func TestBrokenRNG(t *testing.T) {
	out := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := Builtin(Container{Image: "dockercoins/rng:v0.2", PodIP: freeIP(), Stdout: out})(ctx); code != 1 {
		t.Errorf("exit %d, want 1; log:\n%s", code, out)
	}
	if !strings.Contains(out.String(), "broken") {
		t.Errorf("log does not say why: %s", out)
	}
}

// TestRegistryAddr: the registry listens where REGISTRY_HTTP_ADDR says, as
// the configuration chapter's pod sets it from a ConfigMap, and refuses an
// address it cannot parse.
func TestRegistryAddr(t *testing.T) {
	reg := Container{Image: "registry", PodIP: freeIP(), Env: []string{"REGISTRY_HTTP_ADDR=0.0.0.0:80"}}
	out := start(t, reg, 80)
	if _, body := get(t, "http://"+reg.PodIP+"/v2/_catalog"); body != "{\"repositories\":[]}\n" {
		t.Errorf("catalog = %q", body)
	}
	if !strings.Contains(out.String(), `msg="listening on 0.0.0.0:80"`) {
		t.Errorf("log: %s", out)
	}
	bad := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := Builtin(Container{Image: "registry", PodIP: freeIP(), Env: []string{"REGISTRY_HTTP_ADDR=eighty"}, Stdout: bad})(ctx); code != 1 || !strings.Contains(bad.String(), "invalid http.addr") {
		t.Errorf("exit %d, log: %s", code, bad)
	}
}

// TestWorkerV02: a unit of work of worker:v0.2 takes 11 times as long as
// one of v0.1 (the worker's pause plus an rng and a hasher request).
func TestWorkerV02(t *testing.T) {
	unit := func(image string) time.Duration { return workerPause(image) + 2*dockercoinsDelay }
	if v1, v2 := unit("dockercoins/worker:v0.1"), unit("dockercoins/worker:v0.2"); v2 != 11*v1 {
		t.Errorf("a unit takes %v with v0.1 and %v with v0.2: not 11 times as long", v1, v2)
	}
}

// TestDistributionsAreShells: the distributions' images (whose default
// command is a shell) exit at once without stdin, as `docker run IMAGE`
// does, and the node gives them sh with stdin; other images are not shells.
func TestDistributionsAreShells(t *testing.T) {
	for image, shell := range map[string]bool{
		"archlinux":                        true,
		"docker.io/library/ubuntu:24.04":   true,
		"rockylinux:9":                     true,
		"opensuse/leap:15.6":               true,
		"nixery.dev/shell/curl":            true,
		"nginx":                            false,
		"jpetazzo/color":                   false,
		"example.com/team/ubuntu-based:v1": false,
	} {
		if got := IsShell(image); got != shell {
			t.Errorf("IsShell(%q) = %v, want %v", image, got, shell)
		}
		if !shell {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if code := Builtin(Container{Image: image})(ctx); code != 0 {
			t.Errorf("%s without stdin: exit %d, want 0", image, code)
		}
		cancel()
	}
}
