package fake

import (
	"fmt"
	"net/http"
	"strconv"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

// serveOpenAPI serves a minimal /openapi/v2 (protobuf): for every kind, the
// PATCH operation of its object path with x-kubernetes-group-version-kind
// and a fieldValidation query parameter. From that kubectl 1.27-1.33
// conclude the server validates fields itself, so `apply` and `create -f`
// work with their default --validate=strict and send fieldValidation=Strict
// (which decodeBody honours). No schemas: `kubectl explain` is not served.
// /openapi/v3 is a 404, from which kubectl 1.29+ fall back to v2.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request, p string) {
	if p != "/openapi/v2" || r.Method != http.MethodGet {
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
		prefix := "/api/v1"
		if res.group != "" {
			prefix = "/apis/" + res.group + "/" + res.version
		}
		path := prefix + "/" + res.name + "/{name}"
		if res.namespaced {
			path = prefix + "/namespaces/{namespace}/" + res.name + "/{name}"
		}
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
