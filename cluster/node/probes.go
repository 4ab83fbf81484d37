package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

func sortStrings(s []string) { sort.Strings(s) }

// probe runs the container's startup, liveness and readiness probes with
// their periods and thresholds until ctx ends (the instance stopped).
// A failed liveness or startup probe kills the instance, which restarts
// it as restartPolicy says.
func (c *containerRun) probe(ctx context.Context, inst instance) {
	s := c.spec
	if s.StartupProbe != nil {
		if !c.runProbe(ctx, s.StartupProbe, "Startup", nil) {
			if ctx.Err() == nil {
				c.w.event(corev1.EventTypeNormal, "Killing", fmt.Sprintf("Container %s failed startup probe, will be restarted", s.Name), c.fieldPath())
				inst.signal(9)
			}
			return
		}
		c.setProbed(nil, ptr(true))
		if s.ReadinessProbe == nil {
			c.setProbed(ptr(true), nil)
		}
	}
	if s.LivenessProbe != nil {
		go func() {
			if !c.runProbe(ctx, s.LivenessProbe, "Liveness", nil) && ctx.Err() == nil {
				c.w.event(corev1.EventTypeNormal, "Killing", fmt.Sprintf("Container %s failed liveness probe, will be restarted", s.Name), c.fieldPath())
				inst.signal(15)
				t := time.NewTimer(time.Duration(deref64(c.w.pod.Spec.TerminationGracePeriodSeconds, 30)) * time.Second)
				defer t.Stop()
				select {
				case <-inst.done():
				case <-t.C:
					inst.signal(9)
				}
			}
		}()
	}
	if s.ReadinessProbe != nil {
		c.runProbe(ctx, s.ReadinessProbe, "Readiness", func(ok bool) { c.setProbed(&ok, nil) })
	}
}

// runProbe probes until ctx ends. With report, it reports each verdict
// (after the thresholds) and never returns early; without, it returns
// true at the first success for a startup probe, and false once the
// failure threshold is reached.
func (c *containerRun) runProbe(ctx context.Context, p *corev1.Probe, kind string, report func(bool)) bool {
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	succT, failT := max(p.SuccessThreshold, 1), max(p.FailureThreshold, 1)
	t := time.NewTimer(time.Duration(p.InitialDelaySeconds) * time.Second)
	defer t.Stop()
	var succ, fail int32
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := c.probeOnce(pctx, p)
		cancel()
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			succ, fail = succ+1, 0
			if succ >= succT {
				if report != nil {
					report(true)
				} else if kind == "Startup" {
					return true
				}
			}
		} else {
			succ, fail = 0, fail+1
			c.w.event(corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %v", kind, err), c.fieldPath())
			if fail >= failT {
				if report != nil {
					report(false)
				} else {
					return false
				}
			}
		}
		t.Reset(period)
	}
}

func (c *containerRun) probeOnce(ctx context.Context, p *corev1.Probe) error {
	return c.handler(ctx, p.ProbeHandler.Exec, p.ProbeHandler.HTTPGet, p.ProbeHandler.TCPSocket)
}

// preStop runs the container's preStop hook, bounded by the grace period.
func (c *containerRun) preStop(inst instance) {
	l := c.spec.Lifecycle
	if l == nil || l.PreStop == nil {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), c.w.graceDeadline())
	defer cancel()
	h := l.PreStop
	if h.Sleep != nil {
		t := time.NewTimer(time.Duration(h.Sleep.Seconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-inst.done():
		}
		return
	}
	if err := c.handler(ctx, h.Exec, h.HTTPGet, h.TCPSocket); err != nil {
		c.w.event(corev1.EventTypeWarning, "FailedPreStopHook", fmt.Sprintf("PreStopHook failed: %v", err), c.fieldPath())
	}
}

// handler runs one exec, httpGet or tcpSocket action against the container.
func (c *containerRun) handler(ctx context.Context, ex *corev1.ExecAction, hg *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction) error {
	switch {
	case ex != nil:
		var out bytes.Buffer
		err := c.exec(ctx, ex.Command, nil, &out, &out, false, nil)
		if err != nil {
			if out.Len() > 0 {
				return fmt.Errorf("%s", bytes.TrimSpace(out.Bytes()))
			}
			return err
		}
		return nil
	case hg != nil:
		port, err := c.port(hg.Port)
		if err != nil {
			return err
		}
		host := hg.Host
		if host == "" {
			host = c.w.podIP
		}
		scheme := "http"
		if hg.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: hg.Path}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		for _, h := range hg.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		req.Header.Set("User-Agent", "kube-probe/1.32")
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet probes skip verification too
			DialContext:       c.dialer(),
			DisableKeepAlives: true,
		}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	case tcp != nil:
		port, err := c.port(tcp.Port)
		if err != nil {
			return err
		}
		host := tcp.Host
		if host == "" {
			host = c.w.podIP
		}
		conn, err := c.dialer()(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return nil
}

// dialer dials the pod's own address where it is local, else loopback
// (no network namespace for the run); see dialPod.
func (c *containerRun) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return nil, err
		}
		if host != c.w.podIP && !c.w.k.a.isLocal(host) {
			// A probe's host field may name any address: only local ones
			// are reached, nothing leaves the machine.
			return nil, fmt.Errorf("dial %s: not an address of this machine", addr)
		}
		return c.w.k.a.dialPod(ctx, host, n)
	}
}

// port resolves a probe's port, by number or by container port name.
func (c *containerRun) port(p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.spec.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("couldn't find port %q in container %s", p.StrVal, c.spec.Name)
}
