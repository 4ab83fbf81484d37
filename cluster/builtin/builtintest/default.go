package builtintest

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labrun/labrun/cluster/builtin"
)

// DefaultNamespace gives a test the shared cluster's default namespace,
// emptied of workloads, Services (but kubernetes) and ConfigMaps before the
// test and again after it. It is for decks that need what only a fresh
// cluster's default namespace has, such as service/kubernetes in `kubectl
// get all`, which a namespace of the test's own lacks. Tests using it must
// not run in parallel with each other.
func DefaultNamespace(tb testing.TB, c *builtin.Cluster) string {
	tb.Helper()
	emptyDefault(tb, c)
	tb.Cleanup(func() { emptyDefault(tb, c) })
	return "default"
}

// emptyDefault deletes what a lab may have left in the default namespace
// and waits until its pods are gone, so that the next test starts clean.
func emptyDefault(tb testing.TB, c *builtin.Cluster) {
	tb.Helper()
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		tb.Fatalf("client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = "default"
	grace := int64(1)
	background := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{GracePeriodSeconds: &grace, PropagationPolicy: &background}
	all := metav1.ListOptions{}
	for what, f := range map[string]func() error{
		"deployments":  func() error { return cs.AppsV1().Deployments(ns).DeleteCollection(ctx, del, all) },
		"replicasets":  func() error { return cs.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, del, all) },
		"statefulsets": func() error { return cs.AppsV1().StatefulSets(ns).DeleteCollection(ctx, del, all) },
		"daemonsets":   func() error { return cs.AppsV1().DaemonSets(ns).DeleteCollection(ctx, del, all) },
		"jobs":         func() error { return cs.BatchV1().Jobs(ns).DeleteCollection(ctx, del, all) },
		"cronjobs":     func() error { return cs.BatchV1().CronJobs(ns).DeleteCollection(ctx, del, all) },
		"configmaps": func() error {
			return cs.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, del, metav1.ListOptions{FieldSelector: "metadata.name!=kube-root-ca.crt"})
		},
	} {
		if err := f(); err != nil {
			tb.Fatalf("emptying the default namespace of %s: %v", what, err)
		}
	}
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name!=kubernetes"})
	if err != nil {
		tb.Fatalf("emptying the default namespace: services: %v", err)
	}
	for _, s := range svcs.Items {
		if err := cs.CoreV1().Services(ns).Delete(ctx, s.Name, del); err != nil {
			tb.Fatalf("emptying the default namespace: service %s: %v", s.Name, err)
		}
	}
	// Pods last, once nothing recreates them.
	if err := cs.CoreV1().Pods(ns).DeleteCollection(ctx, del, all); err != nil {
		tb.Fatalf("emptying the default namespace of pods: %v", err)
	}
	for {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, all)
		if err == nil && len(pods.Items) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("the default namespace still has pods after 2 minutes: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
