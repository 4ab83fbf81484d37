package fake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// client is a plain HTTPS client of the fake, for requests kubectl does
// not send.
type client struct {
	t     testing.TB
	s     *Server
	http  *http.Client
	token string
}

func newClient(t testing.TB, s *Server) *client {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.creds.caPEM) {
		t.Fatal("bad CA")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, s: s, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, token: s.creds.token}
}

func (c *client) do(method, path, contentType string, body []byte, hdr ...string) (int, []byte) {
	c.t.Helper()
	code, b, err := c.tryDo(method, path, contentType, body, hdr...)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, b
}

// tryDo is do without failing the test, for helper goroutines.
func (c *client) tryDo(method, path, contentType string, body []byte, hdr ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, c.s.URL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func status(t testing.TB, b []byte) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal(b, &st); err != nil || st.Kind != "Status" {
		t.Fatalf("not a Status: %s", b)
	}
	return st
}

const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`

func podBody(name string) []byte { return []byte(strings.ReplaceAll(podJSON, "%s", name)) }

func TestAPIErrors(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	if code, _ := c.do("POST", "/api/v1/namespaces/default/pods", "application/json", podBody("p1")); code != 201 {
		t.Fatalf("create p1: %d", code)
	}
	big := append(append([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"x":"`), bytes.Repeat([]byte("a"), 4<<20)...), []byte(`"}}`)...)
	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		noToken                   bool
		code                      int
		reason                    metav1.StatusReason
		msg                       string
	}{
		{"no token", "GET", "/api/v1/pods", "", nil, true, 401, metav1.StatusReasonUnauthorized, "Unauthorized"},
		{"unknown path", "GET", "/api/v1/foos", "", nil, false, 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"unknown group", "GET", "/apis/foo/v1/bars", "", nil, false, 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"pod scale", "PATCH", "/api/v1/namespaces/default/pods/p1/scale", "application/merge-patch+json", []byte(`{"spec":{"replicas":3}}`), false, 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"missing pod", "GET", "/api/v1/namespaces/default/pods/nope", "", nil, false, 404, metav1.StatusReasonNotFound, `pods "nope" not found`},
		{"missing deployment", "GET", "/apis/apps/v1/namespaces/default/deployments/nope", "", nil, false, 404, metav1.StatusReasonNotFound, `deployments.apps "nope" not found`},
		{"duplicate", "POST", "/api/v1/namespaces/default/pods", "application/json", podBody("p1"), false, 409, metav1.StatusReasonAlreadyExists, `pods "p1" already exists`},
		{"missing namespace", "POST", "/api/v1/namespaces/nons/pods", "application/json", podBody("p2"), false, 404, metav1.StatusReasonNotFound, `namespaces "nons" not found`},
		{"malformed", "POST", "/api/v1/namespaces/default/pods", "application/json", []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":`), false, 400, metav1.StatusReasonBadRequest, ""},
		{"wrong kind", "POST", "/api/v1/namespaces/default/pods", "application/json", []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}`), false, 400, metav1.StatusReasonBadRequest, ""},
		{"wrong group", "POST", "/api/v1/namespaces/default/pods", "application/json", []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"s"}}`), false, 400, metav1.StatusReasonBadRequest, "the API version in the data (apps/v1) does not match the expected API version (v1)"},
		{"empty body", "POST", "/api/v1/namespaces/default/pods", "application/json", nil, false, 400, metav1.StatusReasonBadRequest, ""},
		{"too large", "POST", "/api/v1/namespaces/default/configmaps", "application/json", big, false, 413, metav1.StatusReasonRequestEntityTooLarge, "limit is 3145728"},
		{"bad name", "POST", "/api/v1/namespaces/default/pods", "application/json", podBody("Bad_Name"), false, 422, metav1.StatusReasonInvalid, ""},
		{"no containers", "POST", "/api/v1/namespaces/default/pods", "application/json", []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"e"},"spec":{}}`), false, 422, metav1.StatusReasonInvalid, `Pod "e" is invalid: spec.containers: Required value`},
		{"bad label selector", "GET", "/api/v1/namespaces/default/pods?labelSelector=a%20b", "", nil, false, 400, metav1.StatusReasonBadRequest, ""},
		{"bad field selector", "GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.foo%3Dx", "", nil, false, 400, metav1.StatusReasonBadRequest, "field label not supported: spec.foo"},
		{"bad patch type", "PATCH", "/api/v1/namespaces/default/pods/p1", "text/plain", []byte(`x`), false, 415, metav1.StatusReasonUnsupportedMediaType, ""},
		{"method not allowed", "POST", "/api/v1/namespaces/default/pods/p1", "application/json", podBody("p1"), false, 405, metav1.StatusReasonMethodNotAllowed, ""},
		{"strict unknown field", "POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", "application/json", []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"u"},"spec":{"containers":[{"name":"c","image":"x"}],"bogus":1}}`), false, 400, metav1.StatusReasonBadRequest, `strict decoding error: unknown field "spec.bogus"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cl := *c
			cl.t = t
			if tc.noToken {
				cl.token = ""
			}
			code, b := cl.do(tc.method, tc.path, tc.ctype, tc.body)
			if code != tc.code {
				t.Fatalf("code %d, want %d: %s", code, tc.code, b)
			}
			st := status(t, b)
			if st.Reason != tc.reason || int(st.Code) != tc.code || st.Status != metav1.StatusFailure {
				t.Errorf("status %+v, want reason %s code %d", st, tc.reason, tc.code)
			}
			if tc.msg != "" && !strings.Contains(st.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", st.Message, tc.msg)
			}
		})
	}
	// A wrong token is refused too.
	bad := *c
	bad.token = "wrong"
	if code, _ := bad.do("GET", "/version", "", nil); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
}

func TestConflictAndPatch(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	code, b := c.do("POST", "/api/v1/namespaces/default/configmaps", "application/json", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"a":"1"}}`))
	if code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	var cm map[string]any
	json.Unmarshal(b, &cm)
	rv := cm["metadata"].(map[string]any)["resourceVersion"].(string)
	put := func(rv, val string) (int, []byte) {
		return c.do("PUT", "/api/v1/namespaces/default/configmaps/cm", "application/json",
			[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","resourceVersion":"`+rv+`"},"data":{"a":"`+val+`"}}`))
	}
	if code, b := put(rv, "2"); code != 200 {
		t.Fatalf("update: %d %s", code, b)
	}
	code, b = put(rv, "3")
	if code != 409 {
		t.Fatalf("stale update: %d %s", code, b)
	}
	if st := status(t, b); st.Reason != metav1.StatusReasonConflict || !strings.Contains(st.Message, `Operation cannot be fulfilled on configmaps "cm": the object has been modified`) {
		t.Errorf("conflict status: %+v", st)
	}
	for _, p := range []struct{ ctype, body, want string }{
		{"application/merge-patch+json", `{"data":{"b":"x"}}`, `"b":"x"`},
		{"application/strategic-merge-patch+json", `{"data":{"c":"y"}}`, `"c":"y"`},
		{"application/json-patch+json", `[{"op":"add","path":"/data/d","value":"z"}]`, `"d":"z"`},
	} {
		code, b := c.do("PATCH", "/api/v1/namespaces/default/configmaps/cm", p.ctype, []byte(p.body))
		if code != 200 || !strings.Contains(string(b), p.want) {
			t.Errorf("%s: %d %s", p.ctype, code, b)
		}
	}
	code, b = c.do("PATCH", "/api/v1/namespaces/default/configmaps/cm", "application/json-patch+json", []byte(`[{"op":"test","path":"/data/a","value":"nope"}]`))
	if code != 400 {
		t.Errorf("failing json patch test op: %d %s", code, b)
	}
}

func TestDiscoveryAndTable(t *testing.T) {
	s := startCluster(t, Options{Nodes: 2})
	c := newClient(t, s)
	code, b := c.do("GET", "/version", "", nil)
	var v map[string]string
	if code != 200 || json.Unmarshal(b, &v) != nil || v["gitVersion"] != "v1.32.4" || v["minor"] != "32" {
		t.Errorf("/version: %d %s", code, b)
	}
	code, b = c.do("GET", "/api/v1", "", nil)
	var rl metav1.APIResourceList
	if code != 200 || json.Unmarshal(b, &rl) != nil {
		t.Fatalf("/api/v1: %d %s", code, b)
	}
	found := false
	for _, r := range rl.APIResources {
		if r.Name == "pods" {
			found = true
			if len(r.ShortNames) != 1 || r.ShortNames[0] != "po" || len(r.Categories) != 1 || r.Categories[0] != "all" || !r.Namespaced {
				t.Errorf("pods discovery: %+v", r)
			}
		}
	}
	if !found {
		t.Error("no pods in /api/v1")
	}
	tableAccept := "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	code, b = c.do("GET", "/api/v1/nodes?limit=500", "", nil, "Accept", tableAccept)
	var tbl metav1.Table
	if code != 200 || json.Unmarshal(b, &tbl) != nil {
		t.Fatalf("nodes table: %d %s", code, b)
	}
	if tbl.Kind != "Table" || tbl.ResourceVersion == "" || len(tbl.Rows) != 2 || tbl.ColumnDefinitions[0].Format != "name" {
		t.Errorf("nodes table: %s", b)
	}
	var wide []string
	for _, cd := range tbl.ColumnDefinitions {
		if cd.Priority == 1 {
			wide = append(wide, cd.Name)
		}
	}
	if strings.Join(wide, ",") != "Internal-IP,External-IP,OS-Image,Kernel-Version,Container-Runtime" {
		t.Errorf("wide node columns: %v", wide)
	}
	if !strings.Contains(string(tbl.Rows[0].Object.Raw), `"kind":"PartialObjectMetadata"`) || !strings.Contains(string(tbl.Rows[0].Object.Raw), `"kubernetes.io/hostname":"node1"`) {
		t.Errorf("row object: %s", tbl.Rows[0].Object.Raw)
	}
	code, b = c.do("GET", "/api/v1/nodes?includeObject=Object", "", nil, "Accept", tableAccept)
	if code != 200 || !strings.Contains(string(b), `"kind":"Node"`) {
		t.Errorf("includeObject=Object: %d", code)
	}
	// Protobuf-preferring clients get JSON.
	code, b = c.do("GET", "/api/v1/namespaces/default/services/kubernetes", "", nil, "Accept", "application/vnd.kubernetes.protobuf,application/json")
	if code != 200 || !strings.Contains(string(b), `"clusterIP":"10.96.0.1"`) {
		t.Errorf("service: %d %s", code, b)
	}
}

// TestWatchResourceVersion checks watch semantics: events after the
// given resourceVersion only, ADDED for current objects from "0",
// selector transitions, and 410 Gone for a trimmed log.
func TestWatchResourceVersion(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	mk := func(name, val string) string {
		code, b := c.do("POST", "/api/v1/namespaces/default/configmaps", "application/json",
			[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`","labels":{"k":"`+val+`"}}}`))
		if code != 201 {
			t.Fatalf("create %s: %d %s", name, code, b)
		}
		var m metav1.PartialObjectMetadata
		json.Unmarshal(b, &m)
		return m.ResourceVersion
	}
	mk("a", "x")
	rvB := mk("b", "x")
	mk("c", "x")

	watch := func(query string, n int) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/v1/namespaces/default/configmaps?watch=true&"+query, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got []string
		sc := bufio.NewScanner(resp.Body)
		for len(got) < n && sc.Scan() {
			var ev struct {
				Type   string
				Object struct {
					Kind     string
					Metadata metav1.ObjectMeta
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("event %s: %v", sc.Bytes(), err)
			}
			got = append(got, ev.Type+" "+ev.Object.Metadata.Name+ev.Object.Kind[:0])
		}
		return got
	}
	if got := strings.Join(watch("resourceVersion="+rvB+"&labelSelector=k%3Dx", 1), ","); got != "ADDED c" {
		t.Errorf("watch from b: %s", got)
	}
	if got := strings.Join(watch("resourceVersion=0&fieldSelector=metadata.name%21%3Dkube-root-ca.crt", 3), ","); got != "ADDED a,ADDED b,ADDED c" {
		t.Errorf("watch from 0: %s", got)
	}
	// Relabel b: a k=x watch sees it leave as DELETED.
	rv := s.store.currentRV()
	var wg sync.WaitGroup
	var got []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		got = watch("labelSelector=k%3Dx&resourceVersion="+formatRV(rv), 1)
	}()
	if code, b := c.do("PATCH", "/api/v1/namespaces/default/configmaps/b", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"k":"y"}}}`)); code != 200 {
		t.Fatalf("relabel: %d %s", code, b)
	}
	wg.Wait()
	if strings.Join(got, ",") != "DELETED b" {
		t.Errorf("relabel seen as %v", got)
	}
	// Trim the log: an old resourceVersion gets an ERROR event with 410.
	s.store.mu.Lock()
	s.store.maxLog = 4
	s.store.mu.Unlock()
	for i := 0; i < 10; i++ {
		mk("n"+string(rune('a'+i)), "z")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+rvB, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if !strings.Contains(line, `"type":"ERROR"`) || !strings.Contains(line, `"code":410`) || !strings.Contains(line, `"reason":"Expired"`) {
		t.Errorf("old watch: %s", line)
	}
}

// TestConcurrentClients loads the server with parallel creates, lists,
// gets, patches and watches (loopback only, bounded).
func TestConcurrentClients(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const workers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan string, workers*each*4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cl := c
			for i := 0; i < each && ctx.Err() == nil; i++ {
				name := "cm-" + string(rune('a'+w)) + "-" + string(rune('a'+i))
				if code, b, _ := cl.tryDo("POST", "/api/v1/namespaces/default/configmaps", "application/json",
					[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`"}}`)); code != 201 {
					errs <- "create " + string(b)
				}
				if code, _, _ := cl.tryDo("PATCH", "/api/v1/namespaces/default/configmaps/"+name, "application/merge-patch+json", []byte(`{"data":{"i":"1"}}`)); code != 200 {
					errs <- "patch"
				}
				if code, _, _ := cl.tryDo("GET", "/api/v1/namespaces/default/configmaps?limit=500", "", nil, "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"); code != 200 {
					errs <- "list"
				}
				if code, _, _ := cl.tryDo("GET", "/api/v1/configmaps?watch=true&timeoutSeconds=1&resourceVersion="+formatRV(s.store.currentRV()), "", nil); code != 200 {
					errs <- "watch"
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	objs, _ := s.store.list(s.reg.must("", "configmaps"), "default", nil)
	if len(objs) != workers*each+1 {
		t.Errorf("%d configmaps, want %d", len(objs), workers*each+1)
	}
}

// panicWriter panics the first time a handler asks for its headers.
type panicWriter struct {
	*httptest.ResponseRecorder
	panicked bool
}

func (w *panicWriter) Header() http.Header {
	if !w.panicked {
		w.panicked = true
		panic("boom")
	}
	return w.ResponseRecorder.Header()
}

// TestHandlerPanic: a panic in a handler becomes a 500 Status and is
// recorded for Panics (which startCluster's cleanup turns into failures).
func TestHandlerPanic(t *testing.T) {
	s, err := Start(context.Background(), Options{Dir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	req := httptest.NewRequest("GET", "/version", nil)
	req.Header.Set("Authorization", "Bearer "+s.creds.token)
	w := &panicWriter{ResponseRecorder: httptest.NewRecorder()}
	s.ServeHTTP(w, req)
	if w.Code != 500 {
		t.Fatalf("code %d", w.Code)
	}
	st := status(t, w.Body.Bytes())
	if st.Reason != metav1.StatusReasonInternalError || !strings.Contains(st.Message, "boom") {
		t.Errorf("status %+v", st)
	}
	if p := s.Panics(); len(p) != 1 || !strings.Contains(p[0], "panic: boom") {
		t.Errorf("Panics() = %v", p)
	}
}

// TestLogFollowEnds: follow streams until the container ends.
func TestLogFollowEnds(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	createPod(t, c, podSpecJSON("ab", "Never", "busybox", "sh", "-c", "echo a; sleep 1; echo b"))
	waitStore(t, s, 15*time.Second, "ab running", func() bool { p := s.pod(t, "ab"); return p != nil && p.Status.Phase != corev1.PodPending })
	code, b := c.do("GET", "/api/v1/namespaces/default/pods/ab/log?follow=true", "", nil)
	if code != 200 || string(b) != "a\nb\n" {
		t.Errorf("follow: %d %q", code, b)
	}
	code, b = c.do("GET", "/api/v1/namespaces/default/pods/ab/log?tailLines=1", "", nil)
	if code != 200 || string(b) != "b\n" {
		t.Errorf("tail: %d %q", code, b)
	}
	code, b = c.do("GET", "/api/v1/namespaces/default/pods/ab/log?sinceSeconds=3600", "", nil)
	if code != 200 || string(b) != "a\nb\n" {
		t.Errorf("since: %d %q", code, b)
	}
}

func TestAggregatedVersion(t *testing.T) {
	for _, tc := range []struct{ accept, want string }{
		{"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", "v2"},
		{"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", "v2beta1"},
		{"application/json, */*", ""},
		{"", ""},
		{"application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json", ""},
	} {
		if got := aggregatedVersion(tc.accept); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.accept, got, tc.want)
		}
	}
	s := startCluster(t, Options{})
	c := newClient(t, s)
	code, b := c.do("GET", "/apis", "", nil, "Accept", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
	if code != 200 || !strings.Contains(string(b), `"apiVersion":"apidiscovery.k8s.io/v2beta1"`) || !strings.Contains(string(b), `"resource":"deployments"`) {
		t.Errorf("aggregated /apis: %d %.300s", code, b)
	}
}
