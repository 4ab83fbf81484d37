// Package readytest checks the built-in cluster's start in a test binary
// of its own: the start is the thing tested, and cluster/builtin's test
// binary already holds its shared cluster in its network namespace, which
// takes one cluster at a time.
package readytest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labrun/labrun/cluster/builtin"
	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// The test binary runs in a network namespace of its own, as a run does,
// and serves as the containers' busybox; no test here uses the shared
// cluster, so Start makes the namespace's one cluster.
func TestMain(m *testing.M) { builtintest.Main(m) }

// Start returns with the cluster as a lab's first command needs it, some
// of it made by labrun before the controller manager would (podCIDRs, the
// not-ready taint gone, the default ServiceAccount): what it made must be
// what the controllers leave once they run, or a lab would see the
// cluster change under it.
func TestReadyAsTheControllersLeaveIt(t *testing.T) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := builtin.Start(ctx, builtin.Options{Dir: t.TempDir(), Upstream: upstream.Options{Binary: bin}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	// state is each node's podCIDR, after checking what a lab's first pod
	// needs.
	state := func(when string) map[string]string {
		t.Helper()
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cidrs := map[string]string{}
		for _, n := range nodes.Items {
			cidrs[n.Name] = n.Spec.PodCIDR
			if n.Spec.PodCIDR == "" {
				t.Errorf("%s: node %s has no podCIDR", when, n.Name)
			}
			for _, taint := range n.Spec.Taints {
				if taint.Key == corev1.TaintNodeNotReady || taint.Key == corev1.TaintNodeUnreachable {
					t.Errorf("%s: node %s has the taint %s", when, n.Name, taint.ToString())
				}
			}
		}
		if len(cidrs) != len(c.Nodes()) {
			t.Errorf("%s: %d nodes, want %d", when, len(cidrs), len(c.Nodes()))
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			t.Errorf("%s: %v", when, err)
		}
		pods, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "tier=control-plane"})
		if err != nil || len(pods.Items) != 4 {
			t.Errorf("%s: control-plane pods: %d, %v", when, len(pods.Items), err)
		}
		return cidrs
	}
	atReady := state("at ready")
	// The node lifecycle controller registers each node once it runs, and
	// would put the not-ready taint back on a node it took for not ready.
	deadline := time.Now().Add(time.Minute)
	for {
		evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=RegisteredNode"})
		if err == nil && len(evs.Items) >= len(c.Nodes()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node lifecycle controller registered no nodes within a minute (%v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // its taint pass runs beside the registration
	if after := state("after the controllers ran"); fmt.Sprint(after) != fmt.Sprint(atReady) {
		t.Errorf("podCIDRs changed once the controllers ran: %v, then %v", atReady, after)
	}
}
