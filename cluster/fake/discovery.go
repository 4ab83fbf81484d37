package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// parseVersion reads major and minor out of a gitVersion like v1.32.4.
func parseVersion(v string) (major, minor string, err error) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 || !strings.HasPrefix(v, "v") {
		return "", "", fmt.Errorf("version %q is not like v1.32.4", v)
	}
	if _, err := strconv.Atoi(parts[0]); err != nil {
		return "", "", fmt.Errorf("version %q is not like v1.32.4", v)
	}
	minorDigits := strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	if _, err := strconv.Atoi(minorDigits); err != nil {
		return "", "", fmt.Errorf("version %q is not like v1.32.4", v)
	}
	return parts[0], parts[1], nil
}

func (s *Server) versionInfo() version.Info {
	major, minor, _ := parseVersion(s.opts.Version)
	return version.Info{
		Major:        major,
		Minor:        minor,
		GitVersion:   s.opts.Version,
		GitCommit:    "0000000000000000000000000000000000000000",
		GitTreeState: "clean",
		BuildDate:    "2025-01-01T00:00:00Z",
		GoVersion:    runtime.Version(),
		Compiler:     "gc",
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	}
}

func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, s.versionInfo())
}

// Discovery: aggregated (one document for /api, one for /apis) in the
// version the Accept header names first, else the legacy documents
// (/api, /apis and one per group version), which every kubectl reads too.
// kubectl tells them apart by the reply's Content-Type.
func (s *Server) serveAPIVersions(w http.ResponseWriter, r *http.Request) {
	if v := aggregatedVersion(r.Header.Get("Accept")); v != "" {
		s.serveAggregated(w, v, true)
		return
	}
	s.writeJSON(w, http.StatusOK, &metav1.APIVersions{
		TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
		Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{
			ClientCIDR: "0.0.0.0/0", ServerAddress: strings.TrimPrefix(s.url, "https://"),
		}},
	})
}

func (s *Server) apiGroup(gv string) metav1.APIGroup {
	group, ver, _ := strings.Cut(gv, "/")
	gvd := metav1.GroupVersionForDiscovery{GroupVersion: gv, Version: ver}
	return metav1.APIGroup{
		TypeMeta:         metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"},
		Name:             group,
		Versions:         []metav1.GroupVersionForDiscovery{gvd},
		PreferredVersion: gvd,
	}
}

func (s *Server) serveAPIGroupList(w http.ResponseWriter, r *http.Request) {
	if v := aggregatedVersion(r.Header.Get("Accept")); v != "" {
		s.serveAggregated(w, v, false)
		return
	}
	list := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, gv := range s.reg.groups {
		g := s.apiGroup(gv.String())
		g.TypeMeta = metav1.TypeMeta{}
		list.Groups = append(list.Groups, g)
	}
	s.writeJSON(w, http.StatusOK, list)
}

// serveResourceList answers /api/v1 or /apis/GROUP/VERSION; ok is false
// for a group version we do not serve.
func (s *Server) serveResourceList(w http.ResponseWriter, r *http.Request, group, ver string) bool {
	gv := ver
	if group != "" {
		gv = group + "/" + ver
	}
	list := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
	found := false
	for _, res := range s.reg.resources {
		if res.group != group || res.version != ver {
			continue
		}
		found = true
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: res.name, SingularName: res.singular, Namespaced: res.namespaced, Kind: res.kind,
			Verbs: allVerbs, ShortNames: res.shortNames, Categories: res.categories,
			StorageVersionHash: storageHash(gv + "/" + res.kind),
		})
		for _, sub := range res.subresources {
			ar := metav1.APIResource{Name: res.name + "/" + sub, Namespaced: res.namespaced, Kind: res.kind, Verbs: []string{"get", "patch", "update"}}
			switch sub {
			case "scale":
				ar.Group, ar.Version, ar.Kind = "autoscaling", "v1", "Scale"
			case "log":
				ar.Kind, ar.Verbs = "Pod", []string{"get"}
			case "finalize":
				ar.Verbs = []string{"update"}
			}
			list.APIResources = append(list.APIResources, ar)
		}
	}
	if !found {
		return false
	}
	s.writeJSON(w, http.StatusOK, list)
	return true
}

// storageHash is a stable stand-in for the apiserver's storage version hash.
func storageHash(s string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out := make([]byte, 11)
	for i := range out {
		out[i] = enc[h&63]
		h >>= 6
	}
	out[10] = '='
	return string(out)
}

// aggregatedVersion reads which aggregated discovery format (apidiscovery
// v2 or v2beta1) the Accept header asks for first, or "" for the legacy
// documents. kubectl 1.28+ ask for v2 then v2beta1, 1.27 for v2beta1 only:
// answering a version that was not asked for leaves kubectl with no
// resources at all.
func aggregatedVersion(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		params := map[string]string{}
		fields := strings.Split(part, ";")
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			params[k] = v
		}
		mt := strings.TrimSpace(fields[0])
		if mt != "application/json" && mt != "*/*" {
			continue
		}
		if params["g"] == "apidiscovery.k8s.io" && params["as"] == "APIGroupDiscoveryList" && (params["v"] == "v2" || params["v"] == "v2beta1") {
			return params["v"]
		}
		if params["as"] == "" {
			return ""
		}
	}
	return ""
}

// serveAggregated answers /api (core) or /apis (groups) with an
// APIGroupDiscoveryList of the asked version, in one round trip.
func (s *Server) serveAggregated(w http.ResponseWriter, ver string, core bool) {
	list := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/" + ver}}
	groups := s.reg.groups
	if core {
		groups = []schema.GroupVersion{{Version: "v1"}}
	}
	for _, gv := range groups {
		vd := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		for _, res := range s.reg.resources {
			if res.gv() != gv {
				continue
			}
			scope := apidiscoveryv2.ScopeCluster
			if res.namespaced {
				scope = apidiscoveryv2.ScopeNamespace
			}
			rd := apidiscoveryv2.APIResourceDiscovery{
				Resource: res.name, SingularResource: res.singular, Scope: scope, Verbs: allVerbs,
				ResponseKind: &metav1.GroupVersionKind{Group: res.group, Version: res.version, Kind: res.kind},
				ShortNames:   res.shortNames, Categories: res.categories,
			}
			for _, sub := range res.subresources {
				sd := apidiscoveryv2.APISubresourceDiscovery{Subresource: sub, Verbs: []string{"get", "patch", "update"},
					ResponseKind: &metav1.GroupVersionKind{Group: res.group, Version: res.version, Kind: res.kind}}
				switch sub {
				case "scale":
					sd.ResponseKind = &metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
				case "log":
					sd.ResponseKind = &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
					sd.Verbs = []string{"get"}
				case "finalize":
					sd.Verbs = []string{"update"}
				}
				rd.Subresources = append(rd.Subresources, sd)
			}
			vd.Resources = append(vd.Resources, rd)
		}
		item := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: gv.Group}, Versions: []apidiscoveryv2.APIVersionDiscovery{vd}}
		list.Items = append(list.Items, item)
	}
	b, err := json.Marshal(list)
	if err != nil {
		s.writeError(w, nil, internalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json;g=apidiscovery.k8s.io;v="+ver+";as=APIGroupDiscoveryList")
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
