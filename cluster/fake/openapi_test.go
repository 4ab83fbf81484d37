package fake

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpenAPIv3 checks the v3 discovery document lists every served
// group-version under a hashed URL, that each document has, for every
// kind, the patch operation kubectl 1.29+ look for, and that a hash names
// its content.
func TestOpenAPIv3(t *testing.T) {
	s := startCluster(t, Options{})
	c := newClient(t, s)
	code, b := c.do("GET", "/openapi/v3", "", nil)
	if code != 200 {
		t.Fatalf("GET /openapi/v3: %d %s", code, b)
	}
	var disc struct {
		Paths map[string]struct {
			URL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &disc); err != nil {
		t.Fatalf("/openapi/v3: %v: %s", err, b)
	}
	for _, res := range s.reg.resources {
		ref, ok := disc.Paths[res.gvPath()]
		if !ok {
			t.Fatalf("/openapi/v3 lacks %s: %s", res.gvPath(), b)
		}
		if want := "/openapi/v3/" + res.gvPath() + "?hash="; !strings.HasPrefix(ref.URL, want) || len(ref.URL) == len(want) {
			t.Errorf("%s: serverRelativeURL %q, want %s<hash>", res.gvPath(), ref.URL, want)
		}
	}
	type doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]struct {
			Patch *struct {
				GVK struct {
					Group, Version, Kind string
				} `json:"x-kubernetes-group-version-kind"`
				Parameters []struct{ Name, In string } `json:"parameters"`
			} `json:"patch"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	docs := map[string]doc{}
	for gv, ref := range disc.Paths {
		code, b := c.do("GET", ref.URL, "", nil, "Accept", "application/json")
		if code != 200 {
			t.Fatalf("GET %s: %d %s", ref.URL, code, b)
		}
		var d doc
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v: %s", ref.URL, err, b)
		}
		if d.OpenAPI != "3.0.0" || d.Components.Schemas == nil {
			t.Errorf("%s: openapi %q, components.schemas %v", ref.URL, d.OpenAPI, d.Components.Schemas)
		}
		if got := openAPIHash(b); !strings.HasSuffix(ref.URL, "?hash="+got) {
			t.Errorf("%s: content hash %s", ref.URL, got)
		}
		docs[gv] = d
	}
	cases := []struct{ gv, path, group, kind string }{
		{"api/v1", "/api/v1/namespaces/{namespace}/configmaps/{name}", "", "ConfigMap"},
		{"api/v1", "/api/v1/nodes/{name}", "", "Node"},
		{"apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "apps", "Deployment"},
		{"apis/batch/v1", "/apis/batch/v1/namespaces/{namespace}/jobs/{name}", "batch", "Job"},
	}
	for _, tc := range cases {
		p, ok := docs[tc.gv].Paths[tc.path]
		if !ok || p.Patch == nil {
			t.Errorf("%s: no patch operation on %s", tc.gv, tc.path)
			continue
		}
		if g := p.Patch.GVK; g.Group != tc.group || g.Version != "v1" || g.Kind != tc.kind {
			t.Errorf("%s: gvk %+v, want %s/v1 %s", tc.path, g, tc.group, tc.kind)
		}
		hasFV := false
		for _, q := range p.Patch.Parameters {
			hasFV = hasFV || (q.Name == "fieldValidation" && q.In == "query")
		}
		if !hasFV {
			t.Errorf("%s: no fieldValidation query parameter", tc.path)
		}
	}
	// Every kind of the group-version is in its document.
	n := 0
	for _, res := range s.reg.resources {
		if p := docs[res.gvPath()].Paths[res.objectPathTemplate()]; p.Patch == nil {
			t.Errorf("%s: no patch operation for %s", res.gvPath(), res.kind)
		}
		n++
	}
	if code, _ := c.do("GET", "/openapi/v3/apis/nope/v1", "", nil); code != 404 {
		t.Errorf("unknown group-version: %d, want 404", code)
	}
	if n == 0 {
		t.Fatal("no resources")
	}
}

// TestOpenAPIv3UsedByKubectl checks kubectl 1.29+ read the v3 document of
// the group-version they apply to (and then need no v2), and send
// fieldValidation=Strict, so the server validates.
func TestOpenAPIv3UsedByKubectl(t *testing.T) {
	s := startCluster(t, Options{})
	k := newKubectl(t, s, "")
	out, errs, code := k.runIn(appliedCMv("hi"), nil, "apply", "-f", "-", "-v=6")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"GET " + s.URL() + "/openapi/v3?", "GET " + s.URL() + "/openapi/v3/api/v1?hash=", "fieldValidation=Strict"} {
		if !strings.Contains(errs, want) {
			t.Errorf("kubectl -v=6 log lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "/openapi/v2") {
		t.Errorf("kubectl fell back to /openapi/v2:\n%s", errs)
	}
}

func appliedCMv(v string) string { return strings.Replace(appliedCM, "%s", v, 1) }
