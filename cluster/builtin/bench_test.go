package builtin

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// BenchmarkClusterReady is a start to nodes Ready and the default
// ServiceAccount, then Close (not timed).
func BenchmarkClusterReady(b *testing.B) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(b, err.Error())
	}
	var cpu float64
	for b.Loop() {
		dir := b.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		c, err := Start(ctx, Options{Dir: dir, Upstream: upstream.Options{Binary: bin}})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += controlPlaneCPU(c.dir)
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		if err := c.Close(cctx); err != nil {
			b.Error(err)
		}
		ccancel()
		b.StartTimer()
	}
	b.ReportMetric(cpu/float64(b.N), "cp-cpu-s/op")
}

// controlPlaneCPU is the CPU time, in seconds, the control plane's
// processes (those naming dir on their command line) have used: a figure
// that a loaded machine slows down less than the wall-clock time.
func controlPlaneCPU(dir string) float64 {
	var ticks uint64
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), dir) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		ticks += ut + st
	}
	return float64(ticks) / 100 // USER_HZ
}

func benchClient(b *testing.B) (kubernetes.Interface, string) {
	b.Helper()
	c := sharedCluster(b)
	cfg := c.RESTConfig()
	cfg.QPS, cfg.Burst = 1000, 2000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ns := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	// A new namespace's kube-root-ca.crt comes from a controller: wait for
	// it, so that the first pod measures a pod start, not that.
	for range 100 {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	return cs, ns
}

// BenchmarkPodReady is a pod created to its Ready condition, seen by a
// watch, once a first pod has been: the first after a start also waits for
// the scheduler, started with the API server ready, to sync (a few hundred
// ms; the start's log shows it).
func BenchmarkPodReady(b *testing.B) {
	cs, ns := benchClient(b)
	i := 0
	podReady(b, cs, ns, "warm")
	for b.Loop() {
		i++
		podReady(b, cs, ns, "p"+strconv.Itoa(i))
	}
}

// podReady creates a pod and waits until it is Ready; its deletion is not
// timed.
func podReady(b *testing.B, cs kubernetes.Interface, ns, name string) {
	b.Helper()
	ctx := context.Background()
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	_, err = cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	waitReady(b, w)
	b.StopTimer()
	zero := int64(0)
	_ = cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	b.StartTimer()
}

func waitReady(b *testing.B, w watch.Interface) {
	b.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				b.Fatal("watch closed")
			}
			if p, ok := ev.Object.(*corev1.Pod); ok {
				for _, c := range p.Status.Conditions {
					if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
						return
					}
				}
			}
		case <-timeout:
			b.Fatal("pod not Ready after a minute")
		}
	}
}

// BenchmarkDeployment1000 is a 1,000-replica Deployment created to all
// replicas available, on a cluster of its own with room for them: five
// nodes of 250 pods (a node's /24 podCIDR holds 254).
func BenchmarkDeployment1000(b *testing.B) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(b, err.Error())
	}
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, err := Start(sctx, Options{Dir: b.TempDir(), Nodes: 5, MaxPods: 250, Upstream: upstream.Options{Binary: bin}})
	scancel()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			b.Error(err)
		}
	})
	cfg := c.RESTConfig()
	cfg.QPS, cfg.Burst = 1000, 2000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ns := "default"
	ctx := context.Background()
	labels := map[string]string{"app": "many"}
	i := 0
	var cpu float64
	for b.Loop() {
		i++
		name := "many" + strconv.Itoa(i)
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1000)), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}}}
		cpu0 := controlPlaneCPU(c.dir)
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for {
			got, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			if err == nil && got.Status.AvailableReplicas == 1000 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("not all available after 5 minutes: %+v", got.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
		b.StopTimer()
		cpu += controlPlaneCPU(c.dir) - cpu0
		_ = cs.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{})
		for {
			l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err == nil && len(l.Items) == 0 {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		b.StartTimer()
	}
	b.ReportMetric(cpu/float64(b.N), "cp-cpu-s/op")
}

// BenchmarkIdleRSS reports the memory of the control plane's processes
// and of this process (the node agents) once the cluster has been idle for
// a while. rss-MB sums their VmRSS, which counts the pages of labrun-k8s
// they share (one binary mapped by four processes) four times; pss-MB sums
// their Pss, which splits shared pages among their sharers: what the
// machine spends, as a cgroup holding the cluster would count it.
func BenchmarkIdleRSS(b *testing.B) {
	c := sharedCluster(b)
	// The controllers' first sync, the system pods' start and the first
	// garbage collections are over after some seconds.
	time.Sleep(10 * time.Second)
	for b.Loop() {
		time.Sleep(2 * time.Second)
	}
	// The control plane's processes name the cluster's directory on their
	// command lines; the agents run in this process.
	pids := []int{os.Getpid()}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), c.dir) {
			pids = append(pids, pid)
		}
	}
	var rss, pss int64
	for _, pid := range pids {
		rss += procKB(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
		pss += procKB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
	}
	b.ReportMetric(float64(rss)/(1<<20), "rss-MB")
	b.ReportMetric(float64(pss)/(1<<20), "pss-MB")
}

// procKB reads a "Name:   123 kB" line of a /proc file, in bytes; 0 if
// the process is gone.
func procKB(path, name string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, name); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}
