package fake

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestForegroundDeletion deletes a Deployment with propagationPolicy
// Foreground over HTTP: it stays visible, with a deletionTimestamp and the
// foregroundDeletion finalizer, while a blocking dependent (a ConfigMap
// held by its own finalizer) exists, its ReplicaSet and pods go
// meanwhile, and it goes once the dependent has gone.
func TestForegroundDeletion(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	const deploy = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fg"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"fg"}},"template":{"metadata":{"labels":{"app":"fg"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`
	code, b := c.do("POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", []byte(deploy))
	if code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	var d appsv1.Deployment
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	held := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fg-held","finalizers":["example.com/hold"],"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"fg","uid":%q,"blockOwnerDeletion":true}]}}`, d.UID)
	if code, b := c.do("POST", "/api/v1/namespaces/default/configmaps", "application/json", []byte(held)); code != 201 {
		t.Fatalf("create configmap: %d %s", code, b)
	}
	waitStore(t, s, 20*time.Second, "2 fg pods", func() bool { return len(s.pods("default", "app=fg")) == 2 })

	code, b = c.do("DELETE", "/apis/apps/v1/namespaces/default/deployments/fg", "application/json", []byte(`{"propagationPolicy":"Foreground"}`))
	if code != 200 {
		t.Fatalf("delete: %d %s", code, b)
	}
	checkHeld := func(what string, b []byte) {
		t.Helper()
		var got appsv1.Deployment
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v: %s", what, err, b)
		}
		if got.DeletionTimestamp == nil || len(got.Finalizers) != 1 || got.Finalizers[0] != "foregroundDeletion" {
			t.Errorf("%s: deletionTimestamp %v, finalizers %v; want set, [foregroundDeletion]", what, got.DeletionTimestamp, got.Finalizers)
		}
	}
	checkHeld("DELETE reply", b)

	rsRes := s.reg.must("apps", "replicasets")
	waitStore(t, s, 30*time.Second, "fg's replicaset and pods gone, the held configmap deleting", func() bool {
		rs, _ := s.store.list(rsRes, "default", func(o runtime.Object) bool { return accessor(o).GetLabels()["app"] == "fg" })
		cm, err := s.store.get(s.reg.must("", "configmaps"), "default", "fg-held")
		return len(rs) == 0 && len(s.pods("default", "app=fg")) == 0 && err == nil && accessor(cm).GetDeletionTimestamp() != nil
	})
	code, b = c.do("GET", "/apis/apps/v1/namespaces/default/deployments/fg", "", nil)
	if code != 200 {
		t.Fatalf("GET while a blocking dependent exists: %d %s", code, b)
	}
	checkHeld("GET", b)

	if code, b := c.do("PATCH", "/api/v1/namespaces/default/configmaps/fg-held", "application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`)); code != 200 {
		t.Fatalf("release configmap: %d %s", code, b)
	}
	waitStore(t, s, 10*time.Second, "fg gone", func() bool {
		_, err := s.store.get(s.reg.must("apps", "deployments"), "default", "fg")
		return err != nil
	})
	if code, b := c.do("GET", "/apis/apps/v1/namespaces/default/deployments/fg", "", nil); code != 404 {
		t.Errorf("GET after: %d %s", code, b)
	}
}

// TestForegroundDeletionNoDependents: an object without dependents goes
// at once.
func TestForegroundDeletionNoDependents(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	if code, b := c.do("POST", "/api/v1/namespaces/default/configmaps", "application/json", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"alone"}}`)); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, b := c.do("DELETE", "/api/v1/namespaces/default/configmaps/alone?propagationPolicy=Foreground", "", nil); code != 200 {
		t.Fatalf("delete: %d %s", code, b)
	}
	waitStore(t, s, 10*time.Second, "alone gone", func() bool {
		_, err := s.store.get(s.reg.must("", "configmaps"), "default", "alone")
		return err != nil
	})
}
