package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

// serveOpenAPI serves a minimal /openapi/v2 (protobuf): for every kind, the
// PATCH operation of its object path with x-kubernetes-group-version-kind
// and a fieldValidation query parameter. From that kubectl 1.27-1.33
// conclude the server validates fields itself, so `apply` and `create -f`
// work with their default --validate=strict and send fieldValidation=Strict
// (which decodeBody honours). No schemas: `kubectl explain` is not served.
// /openapi/v3 (JSON) carries the same operations per group-version; kubectl
// 1.29+ read it first.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request, p string) {
	if r.Method != http.MethodGet {
		s.writeError(w, r, notFoundPath())
		return
	}
	if strings.HasPrefix(p, "/openapi/v3") {
		s.serveOpenAPIv3(w, r, p)
		return
	}
	if p != "/openapi/v2" {
		s.writeError(w, r, notFoundPath())
		return
	}
	b, err := s.openAPIv2()
	if err != nil {
		s.writeError(w, r, internalError(err))
		return
	}
	// The Content-Type must parse as a media type (no '@').
	w.Header().Set("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func (s *Server) openAPIv2() ([]byte, error) {
	doc := &openapi_v2.Document{
		Swagger: "2.0",
		Info:    &openapi_v2.Info{Title: "Kubernetes", Version: s.opts.Version},
		Paths:   &openapi_v2.Paths{},
	}
	fieldValidation := &openapi_v2.ParametersItem{Oneof: &openapi_v2.ParametersItem_Parameter{Parameter: &openapi_v2.Parameter{
		Oneof: &openapi_v2.Parameter_NonBodyParameter{NonBodyParameter: &openapi_v2.NonBodyParameter{
			Oneof: &openapi_v2.NonBodyParameter_QueryParameterSubSchema{QueryParameterSubSchema: &openapi_v2.QueryParameterSubSchema{
				In: "query", Name: "fieldValidation", Type: "string", Description: "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.",
			}},
		}},
	}}}
	for _, res := range s.reg.resources {
		path := res.objectPathTemplate()
		gvk := fmt.Sprintf("group: %q\nkind: %s\nversion: %s\n", res.group, res.kind, res.version)
		doc.Paths.Path = append(doc.Paths.Path, &openapi_v2.NamedPathItem{Name: path, Value: &openapi_v2.PathItem{
			Patch: &openapi_v2.Operation{
				OperationId: "patch" + res.kind,
				Consumes: []string{"application/json-patch+json", "application/merge-patch+json",
					"application/strategic-merge-patch+json", "application/apply-patch+yaml"},
				Produces:   []string{"application/json", "application/yaml"},
				Parameters: []*openapi_v2.ParametersItem{fieldValidation},
				Responses: &openapi_v2.Responses{ResponseCode: []*openapi_v2.NamedResponseValue{{Name: "200",
					Value: &openapi_v2.ResponseValue{Oneof: &openapi_v2.ResponseValue_Response{Response: &openapi_v2.Response{Description: "OK"}}}}}},
				VendorExtension: []*openapi_v2.NamedAny{{Name: "x-kubernetes-group-version-kind", Value: &openapi_v2.Any{Yaml: gvk}}},
			},
		}})
	}
	b, err := proto.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi v2: %w", err)
	}
	return b, nil
}

// gvPath is the group-version's path without its leading slash, as
// /openapi/v3 names it: "api/v1", "apis/apps/v1".
func (r *resourceInfo) gvPath() string {
	if r.group == "" {
		return "api/" + r.version
	}
	return "apis/" + r.group + "/" + r.version
}

// objectPathTemplate is the OpenAPI path of one object of the resource.
func (r *resourceInfo) objectPathTemplate() string {
	if r.namespaced {
		return "/" + r.gvPath() + "/namespaces/{namespace}/" + r.name + "/{name}"
	}
	return "/" + r.gvPath() + "/" + r.name + "/{name}"
}

// openAPIv3GVs builds the JSON OpenAPI v3 document of every served
// group-version, keyed by gvPath. Like v2, each kind's object path has a
// patch operation with x-kubernetes-group-version-kind and a
// fieldValidation query parameter, which is what makes kubectl 1.29+ trust
// the server with strict field validation; there are no schemas, so kubectl
// takes patch metadata from its built-in types.
func (s *Server) openAPIv3GVs() (map[string][]byte, error) {
	type gvk struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	}
	type param struct {
		Name        string         `json:"name"`
		In          string         `json:"in"`
		Description string         `json:"description,omitempty"`
		Schema      map[string]any `json:"schema"`
		Required    bool           `json:"required,omitempty"`
	}
	type op struct {
		OperationID string         `json:"operationId"`
		GVK         gvk            `json:"x-kubernetes-group-version-kind"`
		Action      string         `json:"x-kubernetes-action"`
		Parameters  []param        `json:"parameters"`
		Responses   map[string]any `json:"responses"`
		RequestBody map[string]any `json:"requestBody"`
	}
	type pathItem struct {
		Patch      op      `json:"patch"`
		Parameters []param `json:"parameters"`
	}
	type doc struct {
		OpenAPI    string              `json:"openapi"`
		Info       map[string]string   `json:"info"`
		Paths      map[string]pathItem `json:"paths"`
		Components map[string]any      `json:"components"`
	}
	str := map[string]any{"type": "string"}
	docs := map[string]*doc{}
	for _, res := range s.reg.resources {
		d := docs[res.gvPath()]
		if d == nil {
			d = &doc{OpenAPI: "3.0.0", Info: map[string]string{"title": "Kubernetes", "version": s.opts.Version},
				Paths: map[string]pathItem{}, Components: map[string]any{"schemas": map[string]any{}}}
			docs[res.gvPath()] = d
		}
		pathParams := []param{{Name: "name", In: "path", Description: "name of the " + res.kind, Schema: str, Required: true}}
		if res.namespaced {
			pathParams = append(pathParams, param{Name: "namespace", In: "path", Description: "object name and auth scope, such as for teams and projects", Schema: str, Required: true})
		}
		body := map[string]any{}
		for _, ct := range []string{"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"} {
			body[ct] = map[string]any{"schema": map[string]any{"type": "object"}}
		}
		d.Paths[res.objectPathTemplate()] = pathItem{
			Parameters: pathParams,
			Patch: op{
				OperationID: "patch" + res.kind,
				GVK:         gvk{Group: res.group, Version: res.version, Kind: res.kind},
				Action:      "patch",
				Parameters: []param{
					{Name: "dryRun", In: "query", Schema: str},
					{Name: "fieldManager", In: "query", Schema: str},
					{Name: "fieldValidation", In: "query", Description: "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.", Schema: str},
					{Name: "force", In: "query", Schema: map[string]any{"type": "boolean"}},
				},
				RequestBody: map[string]any{"content": body, "required": true},
				Responses:   map[string]any{"200": map[string]any{"description": "OK"}},
			},
		}
	}
	out := make(map[string][]byte, len(docs))
	for k, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("openapi v3 %s: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}

// openAPIHash names a document's content, so that kubectl, which caches
// group-version documents by their serverRelativeURL, refetches a changed one.
func openAPIHash(b []byte) string {
	sum := sha256.Sum256(b)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// serveOpenAPIv3 serves /openapi/v3 (the list of group-version documents
// with their hashed URLs) and /openapi/v3/<gv>. A stale hash gets the
// current document, as kube-apiserver redirects it to the current one.
func (s *Server) serveOpenAPIv3(w http.ResponseWriter, r *http.Request, p string) {
	docs, err := s.openAPIv3GVs()
	if err != nil {
		s.writeError(w, r, internalError(err))
		return
	}
	if p == "/openapi/v3" {
		type ref struct {
			URL string `json:"serverRelativeURL"`
		}
		paths := make(map[string]ref, len(docs))
		for k, b := range docs {
			paths[k] = ref{URL: "/openapi/v3/" + k + "?hash=" + openAPIHash(b)}
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"paths": paths})
		return
	}
	b, ok := docs[strings.TrimPrefix(p, "/openapi/v3/")]
	if !ok {
		s.writeError(w, r, notFoundPath())
		return
	}
	hash := openAPIHash(b)
	w.Header().Set("Etag", strconv.Quote(hash))
	if r.URL.Query().Get("hash") == hash {
		w.Header().Set("Cache-Control", "public, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache, private")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
