package fake

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// idleImage is not in the catalogue: its containers idle in-process, so
// benchmarks measure the server, not process start-up.
const idleImage = "registry.example/bench/idle:1"

func BenchmarkStartToFirstAnswer(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		ctx := context.Background()
		s, err := Start(ctx, Options{Dir: dir, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		c := newClient(b, s)
		if code, _ := c.do("GET", "/version", "", nil); code != 200 {
			b.Fatal(code)
		}
		b.StopTimer()
		c.http.CloseIdleConnections()
		s.Close(ctx)
		b.StartTimer()
	}
}

func BenchmarkPodCreateToReady(b *testing.B) {
	s := startCluster(b, Options{})
	c := newClient(b, s)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("p%d", i)
		createPod(b, c, podSpecJSON(name, "Always", idleImage))
		waitStore(b, s, 30*time.Second, "ready", func() bool { p := s.pod(b, name); return p != nil && hasPodReady(p) })
	}
}

func BenchmarkTableList1000Pods(b *testing.B) {
	s := startCluster(b, Options{})
	res := s.reg.must("", "pods")
	for i := 0; i < 1000; i++ {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%04d", i), Namespace: "default", Labels: map[string]string{"app": "x"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: idleImage}}}}
		if _, err := s.create(res, p, false); err != nil {
			b.Fatal(err)
		}
	}
	waitStore(b, s, 60*time.Second, "1000 ready", func() bool { return countReady(s.pods("default", "")) == 1000 })
	c := newClient(b, s)
	accept := "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		code, body := c.do("GET", "/api/v1/namespaces/default/pods?limit=500", "", nil, "Accept", accept)
		if code != 200 || strings.Count(string(body), `"cells"`) != 1000 {
			b.Fatalf("list: %d", code)
		}
	}
}

// BenchmarkTableList1000PodsHandler is the same list without TLS and the
// network: the server's own cost.
func BenchmarkTableList1000PodsHandler(b *testing.B) {
	s := startCluster(b, Options{})
	res := s.reg.must("", "pods")
	for i := 0; i < 1000; i++ {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%04d", i), Namespace: "default"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: idleImage}}}}
		if _, err := s.create(res, p, false); err != nil {
			b.Fatal(err)
		}
	}
	waitStore(b, s, 60*time.Second, "1000 ready", func() bool { return countReady(s.pods("default", "")) == 1000 })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods?limit=500", nil)
		req.Header.Set("Authorization", "Bearer "+s.creds.token)
		req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkDeployment1000ReplicasReady(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := startCluster(b, Options{})
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "default"},
			Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1000)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "big"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "big"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: idleImage}}}}}}
		b.StartTimer()
		if _, err := s.create(s.reg.must("apps", "deployments"), d, false); err != nil {
			b.Fatal(err)
		}
		waitStore(b, s, 5*time.Minute, "1000 available", func() bool {
			obj, err := s.store.get(s.reg.must("apps", "deployments"), "default", "big")
			return err == nil && obj.(*appsv1.Deployment).Status.AvailableReplicas == 1000
		})
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		s.Close(ctx)
		cancel()
		b.StartTimer()
	}
}
