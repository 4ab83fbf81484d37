package network

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestDockercoins: the five images work together over Service names
// found through the cluster DNS, and webui's counter shows the speed that
// scalingdockercoins.md teaches: about 3.3 hashes a second for one worker.
func TestDockercoins(t *testing.T) {
	inNamespace(t)
	c := cluster(t)
	startNetwork(t, c, testLog{t})
	pod(t, "redis", "redis-1", "10.244.1.20", 6379, false)
	pod(t, "dockercoins/rng:v0.1", "rng-1", "10.244.1.21", 80, false)
	pod(t, "dockercoins/hasher:v0.1", "hasher-1", "10.244.1.22", 80, false)
	pod(t, "dockercoins/webui:v0.1", "webui-1", "10.244.1.23", 80, true)
	service(t, c, "rng", corev1.ServiceTypeClusterIP, 80, 80, "10.244.1.21")
	service(t, c, "hasher", corev1.ServiceTypeClusterIP, 80, 80, "10.244.1.22")
	webui := service(t, c, "webui", corev1.ServiceTypeClusterIP, 80, 80, "10.244.1.23")
	redis := service(t, c, "redis", corev1.ServiceTypeClusterIP, 6379, 6379, "10.244.1.20")
	waitFor(t, "redis's ClusterIP", func() bool {
		cn, err := net.DialTimeout("tcp", redis.Spec.ClusterIP+":6379", time.Second)
		if err == nil {
			cn.Close()
		}
		return err == nil
	})
	worker := pod(t, "dockercoins/worker:v0.1", "worker-1", "10.244.1.24", 0, true)
	waitFor(t, "the worker's second report", func() bool {
		return strings.Count(worker.String(), "units of work done, updating hash counter") >= 3
	})
	if strings.Contains(worker.String(), "ERROR") {
		t.Fatalf("worker log:\n%s", worker)
	}
	type stats struct {
		Hashes string  `json:"hashes"`
		Now    float64 `json:"now"`
	}
	read := func() (float64, float64) {
		body, err := get("http://" + webui.Spec.ClusterIP + "/json")
		if err != nil {
			t.Fatal(err)
		}
		var s stats
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("webui /json: %q: %v", body, err)
		}
		h, err := strconv.ParseFloat(s.Hashes, 64)
		if err != nil {
			t.Fatalf("webui /json: hashes %q", s.Hashes)
		}
		return h, s.Now
	}
	h1, t1 := read()
	time.Sleep(4 * time.Second)
	h2, t2 := read()
	speed := (h2 - h1) / (t2 - t1)
	t.Logf("speed with one worker: %.2f hashes/s", speed)
	if speed < 1.5 || speed > 5 {
		t.Errorf("one worker mines %.2f hashes/s, want about 3.3", speed)
	}
}
