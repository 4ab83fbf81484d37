package images

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dockercoins: rng and hasher each take 0.1 s per request, and an rng pod
// serves one request at a time, so one worker does 10/3 hashes a second and
// no number of workers goes past 10 a second per rng pod — the figures
// scalingdockercoins.md teaches from.

const dockercoinsDelay = 100 * time.Millisecond

// sleep waits d or until ctx ends; it reports whether d went by.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// brokenRNG is dockercoins/rng:v0.2, which container.training's README
// describes as broken ("the server won't even start"): it exits at once
// with an error, and its pods go into CrashLoopBackOff.
func (c Container) brokenRNG(context.Context) int {
	c.logf("labrun: image %q is simulated as its publisher describes it: broken, the server does not start\n", c.Image)
	return 1
}

func (c Container) rng(ctx context.Context) int {
	c.logf(" * Serving Flask app 'rng'\n * Debug mode: off\n * Running on all addresses (0.0.0.0)\n * Running on http://127.0.0.1:80\n * Running on http://%s:80\nPress CTRL+C to quit\n", c.PodIP)
	var one sync.Mutex // Flask's server here handles one request at a time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		if r.URL.Path == "/" {
			fmt.Fprintf(w, "RNG running on %s\n", c.hostname())
		} else if n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/")); err == nil && n >= 0 && n <= 1<<20 {
			one.Lock()
			sleep(r.Context(), dockercoinsDelay)
			one.Unlock()
			buf := make([]byte, n)
			_, _ = rand.Read(buf)
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(buf)
		} else {
			status = http.StatusNotFound
			http.Error(w, "Not Found", status)
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		c.logf("%s - - [%s] \"%s %s %s\" %d -\n", host, time.Now().UTC().Format("02/Jan/2006 15:04:05"), r.Method, r.RequestURI, r.Proto, status)
	})
	return c.serve(ctx, c.logBindError, server{port: 80, handler: h})
}

func (c Container) hasher(ctx context.Context) int {
	c.logf("== Sinatra (v2.2.4) has taken the stage on 80 for production with backup from Thin\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status, size := http.StatusOK, 0
		switch {
		case r.URL.Path == "/" && r.Method == http.MethodPost:
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			sleep(r.Context(), dockercoinsDelay)
			sum := sha256.Sum256(body)
			w.Header().Set("Content-Type", "text/plain;charset=utf-8")
			size, _ = io.WriteString(w, hex.EncodeToString(sum[:]))
		case r.URL.Path == "/":
			size, _ = fmt.Fprintf(w, "HASHER running on %s\n", c.hostname())
		default:
			status = http.StatusNotFound
			w.WriteHeader(status)
			size, _ = io.WriteString(w, "<h1>Not Found</h1>")
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		c.logf("%s - - [%s] \"%s %s %s\" %d %d %.4f\n", host, time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"), r.Method, r.RequestURI, r.Proto, status, size, time.Since(start).Seconds())
	})
	return c.serve(ctx, c.logBindError, server{port: 80, handler: h})
}

// dialContext dials host:port, finding a short host name as a pod would:
// as a Service of the pod's namespace, through the cluster's DNS.
func (c Container) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if c.DNS != "" && net.ParseIP(host) == nil {
		d.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", c.DNS)
		}}
		if !strings.Contains(host, ".") {
			ns := c.Namespace
			if ns == "" {
				ns = "default"
			}
			host += "." + ns + ".svc.cluster.local."
		}
	}
	if c.Loopback == nil {
		return d.DialContext(ctx, network, net.JoinHostPort(host, port))
	}
	// The fallback: the Service's address answers on its loopback one.
	if net.ParseIP(host) == nil {
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ips, err := r.LookupHost(ctx, host)
		if err != nil {
			return nil, err
		}
		host = ips[0]
	}
	return d.DialContext(ctx, network, c.Loopback.Target(network, net.JoinHostPort(host, port)))
}

func (c Container) httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: c.dialContext, MaxIdleConnsPerHost: 4}}
}

func (c Container) redisDial(ctx context.Context) (*redisConn, error) {
	cn, err := c.dialContext(ctx, "tcp", "redis:6379")
	if err != nil {
		return nil, err
	}
	return &redisConn{cn: cn, r: bufio.NewReader(cn)}, nil
}

// worker is dockercoins' worker: get random bytes, hash them, count the
// hashes in redis once a second, keep coins (hashes starting with 0).
func (c Container) worker(ctx context.Context) int {
	c.Listening()
	pause := workerPause(c.Image)
	hc := c.httpClient()
	defer hc.CloseIdleConnections()
	var rc *redisConn
	defer func() {
		if rc != nil {
			rc.cn.Close()
		}
	}()
	fail := func(err error) bool {
		c.logf("ERROR:__main__:In work loop:\nTraceback (most recent call last):\n  File \"/worker.py\", line 71, in <module>\n    work_loop()\n%v\nERROR:__main__:Waiting 10s and restarting.\n", err)
		if rc != nil {
			rc.cn.Close()
			rc = nil
		}
		return sleep(ctx, 10*time.Second)
	}
	for ctx.Err() == nil {
		deadline := time.Time{}
		done := 0
		var err error
		for ctx.Err() == nil && err == nil {
			if time.Now().After(deadline) {
				c.logf("INFO:__main__:%d units of work done, updating hash counter\n", done)
				if rc == nil {
					rc, err = c.redisDial(ctx)
				}
				if err == nil {
					_, err = rc.call(ctx, "INCRBY", "hashes", strconv.Itoa(done))
				}
				if err != nil {
					err = fmt.Errorf("redis.exceptions.ConnectionError: Error connecting to redis:6379. %w", err)
					break
				}
				done = 0
				deadline = time.Now().Add(time.Second)
			}
			if !sleep(ctx, pause) {
				break
			}
			err = c.workOnce(ctx, hc, rc)
			if err == nil {
				done++
			}
		}
		if err != nil && ctx.Err() == nil && !fail(err) {
			break
		}
	}
	return exitCode
}

// workerPause is the worker's own pause before each unit of work. A unit
// takes that pause, then an rng and a hasher request (dockercoinsDelay
// each): 0.3 s with v0.1. v0.2 is "11x slower than v0.1", as
// container.training's README says: 3.3 s a unit.
func workerPause(image string) time.Duration {
	if Tag(image) == "v0.2" {
		return 31 * dockercoinsDelay
	}
	return dockercoinsDelay
}

func (c Container) workOnce(ctx context.Context, hc *http.Client, rc *redisConn) error {
	get := func(req *http.Request) ([]byte, error) {
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("requests.exceptions.ConnectionError: %w", err)
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://rng/32", nil)
	random, err := get(req)
	if err != nil {
		return err
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "http://hasher/", strings.NewReader(string(random)))
	req.Header.Set("Content-Type", "application/octet-stream")
	hash, err := get(req)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(hash), "0") {
		return nil
	}
	c.logf("INFO:__main__:Coin found: %.8s...\n", hash)
	created, err := rc.call(ctx, "HSET", "wallet", string(hash), string(random))
	if err != nil {
		return fmt.Errorf("redis.exceptions.ConnectionError: %w", err)
	}
	if created == 0 {
		c.logf("INFO:__main__:We already had that coin\n")
	}
	return nil
}

// webuiPage is the miner's page: it polls /json and shows the speed.
const webuiPage = `<!DOCTYPE html>
<html>
<head>
<title>DockerCoin Miner WebUI</title>
</head>
<body>
<h1>DockerCoin Miner WebUI</h1>
<p>Current mining speed: <span id="speed">…</span> hashes/second</p>
<script>
var last = null;
function refresh() {
  fetch("json").then(function (r) { return r.json(); }).then(function (s) {
    if (last && s.now > last.now) {
      document.getElementById("speed").textContent =
        ((s.hashes - last.hashes) / (s.now - last.now)).toFixed(1);
    }
    last = s;
  });
}
setInterval(refresh, 1000);
refresh();
</script>
</body>
</html>
`

func (c Container) webui(ctx context.Context) int {
	var mu sync.Mutex
	var rc *redisConn
	defer func() {
		if rc != nil {
			rc.cn.Close()
		}
	}()
	call := func(ctx context.Context, args ...string) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if rc == nil {
			var err error
			if rc, err = c.redisDial(ctx); err != nil {
				return nil, err
			}
		}
		v, err := rc.call(ctx, args...)
		if err != nil {
			rc.cn.Close()
			rc = nil
		}
		return v, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, size := http.StatusOK, 0
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "/index.html", http.StatusFound)
			status = http.StatusFound
		case "/index.html":
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			size, _ = io.WriteString(w, webuiPage)
		case "/json":
			coins, err1 := call(r.Context(), "HLEN", "wallet")
			hashes, err2 := call(r.Context(), "GET", "hashes")
			if err1 != nil || err2 != nil {
				c.logf("Redis error %v\n", firstErr(err1, err2))
				status = http.StatusInternalServerError
				http.Error(w, "Internal Server Error", status)
				break
			}
			b, _ := json.Marshal(map[string]any{"coins": coins, "hashes": hashes,
				"now": float64(time.Now().UnixMilli()) / 1000})
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			size, _ = w.Write(b)
		default:
			status = http.StatusNotFound
			w.WriteHeader(status)
			size, _ = fmt.Fprintf(w, "Cannot GET %s\n", r.URL.Path)
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		c.logf("::ffff:%s - - [%s] \"%s %s HTTP/%d.%d\" %d %d\n", host, time.Now().UTC().Format("02/Jan/2006:15:04:05 +0000"), r.Method, r.RequestURI, r.ProtoMajor, r.ProtoMinor, status, size)
	})
	return c.serve(ctx, c.logBindError, server{port: 80, handler: startLog(h, func() { c.logf("WEBUI running on port 80\n") })})
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
