package fake

//lint:file-ignore SA1019 the hand-written server serves the deprecated v1 Endpoints API and fields that kubectl still reads; it is retired with the upstream control plane.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// route dispatches a request by path: version, discovery, openapi, or a
// resource. Anything else gets go-restful's 404 Status.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/version":
		s.serveVersion(w, r)
		return
	case p == "/healthz" || p == "/livez" || p == "/readyz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok")
		return
	case p == "/api":
		s.serveAPIVersions(w, r)
		return
	case p == "/apis":
		s.serveAPIGroupList(w, r)
		return
	case p == "/openapi/v2" || strings.HasPrefix(p, "/openapi/v3"):
		s.serveOpenAPI(w, r, p)
		return
	case strings.HasPrefix(p, "/api/"):
		segs := strings.Split(strings.TrimPrefix(p, "/api/"), "/")
		if segs[0] == "v1" {
			if len(segs) == 1 {
				if r.Method == http.MethodGet && s.serveResourceList(w, r, "", "v1") {
					return
				}
			} else {
				s.serveResource(w, r, "", "v1", segs[1:])
				return
			}
		}
	case strings.HasPrefix(p, "/apis/"):
		segs := strings.Split(strings.TrimPrefix(p, "/apis/"), "/")
		switch {
		case len(segs) == 1:
			for _, gv := range s.reg.groups {
				if gv.Group == segs[0] && r.Method == http.MethodGet {
					s.writeJSON(w, http.StatusOK, s.apiGroup(gv.String()))
					return
				}
			}
		case len(segs) == 2:
			if r.Method == http.MethodGet && s.serveResourceList(w, r, segs[0], segs[1]) {
				return
			}
		default:
			s.serveResource(w, r, segs[0], segs[1], segs[2:])
			return
		}
	}
	s.writeError(w, r, notFoundPath())
}

// request is a parsed resource request.
type request struct {
	res        *resourceInfo
	ns, name   string
	sub        string
	watchPath  bool // the legacy /watch/ prefix
	namespaceV bool // the path named a namespace
}

func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, group, version string, segs []string) {
	req, ok := s.parseResourcePath(group, version, segs)
	if !ok {
		s.writeError(w, r, notFoundPath())
		return
	}
	var err error
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		switch {
		case req.name == "" || (req.watchPath && req.sub == ""):
			if req.watchPath || q.Get("watch") == "true" || q.Get("watch") == "1" {
				err = s.handleWatch(w, r, req)
			} else {
				err = s.handleList(w, r, req)
			}
		case req.sub == "" || req.sub == "status":
			err = s.handleGet(w, r, req)
		case req.sub == "scale":
			err = s.handleGetScale(w, r, req)
		case req.sub == "log":
			err = s.handleLog(w, r, req)
		default:
			err = methodNotAllowed()
		}
	case http.MethodPost:
		if req.name != "" || req.watchPath {
			err = methodNotAllowed()
		} else {
			err = s.handleCreate(w, r, req)
		}
	case http.MethodPut:
		switch {
		case req.name == "" || req.watchPath || req.sub == "log":
			err = methodNotAllowed()
		case req.sub == "scale":
			err = s.handleScale(w, r, req, false)
		default:
			err = s.handleUpdate(w, r, req)
		}
	case http.MethodPatch:
		switch {
		case req.name == "" || req.watchPath || req.sub == "log" || req.sub == "finalize":
			err = methodNotAllowed()
		case req.sub == "scale":
			err = s.handleScale(w, r, req, true)
		default:
			err = s.handlePatch(w, r, req)
		}
	case http.MethodDelete:
		switch {
		case req.watchPath || req.sub != "":
			err = methodNotAllowed()
		case req.name == "":
			err = s.handleDeleteCollection(w, r, req)
		default:
			err = s.handleDelete(w, r, req)
		}
	default:
		err = methodNotAllowed()
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// parseResourcePath reads [watch/][namespaces/NS/]RESOURCE[/NAME[/SUB]].
func (s *Server) parseResourcePath(group, version string, segs []string) (request, bool) {
	var req request
	if len(segs) > 0 && segs[0] == "watch" {
		req.watchPath = true
		segs = segs[1:]
	}
	if len(segs) >= 3 && segs[0] == "namespaces" && !(len(segs) == 3 && (segs[2] == "status" || segs[2] == "finalize")) {
		req.ns, req.namespaceV = segs[1], true
		segs = segs[2:]
	}
	if len(segs) == 0 || len(segs) > 3 || segs[0] == "" {
		return req, false
	}
	req.res = s.reg.lookup(group, version, segs[0])
	if req.res == nil {
		return req, false
	}
	if len(segs) > 1 {
		req.name = segs[1]
		if req.name == "" {
			return req, false
		}
	}
	if len(segs) > 2 {
		req.sub = segs[2]
		if !req.res.hasSub(req.sub) {
			return req, false
		}
	}
	if req.namespaceV && !req.res.namespaced {
		return req, false
	}
	if req.res.namespaced && !req.namespaceV && req.name != "" {
		return req, false
	}
	return req, true
}

// wantsTable says whether the Accept header asks for a meta.k8s.io Table.
func wantsTable(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if strings.Contains(part, "as=Table") && strings.Contains(part, "g=meta.k8s.io") {
			return true
		}
		if strings.Contains(part, "application/json") && !strings.Contains(part, "as=") {
			return false
		}
	}
	return false
}

// selectors parses the labelSelector and fieldSelector parameters into one
// predicate, with kube-apiserver's error for a bad or unsupported one.
func (s *Server) selectors(r *http.Request, req request) (func(runtime.Object) bool, error) {
	q := r.URL.Query()
	ls, fs := q.Get("labelSelector"), q.Get("fieldSelector")
	lsel, err := labels.Parse(ls)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	fsel, err := fields.ParseSelector(fs)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	for _, rq := range fsel.Requirements() {
		if rq.Field == "metadata.name" || rq.Field == "metadata.namespace" {
			continue
		}
		supported := false
		if req.res.fields != nil {
			_, supported = req.res.fields(req.res.newObj())[rq.Field]
		}
		if !supported {
			// kube-apiserver's field label conversion errors; kubectl
			// prefixes them with "Unable to find … that match …".
			if req.res.fields != nil {
				return nil, apierrors.NewBadRequest("field label not supported: " + rq.Field)
			}
			return nil, apierrors.NewBadRequest(fmt.Sprintf("%q is not a known field selector: only %q, %q", rq.Field, "metadata.name", "metadata.namespace"))
		}
	}
	name := ""
	if req.watchPath {
		name = req.name
	}
	return func(obj runtime.Object) bool {
		m := accessor(obj)
		if name != "" && m.GetName() != name {
			return false
		}
		if !lsel.Empty() && !lsel.Matches(labels.Set(m.GetLabels())) {
			return false
		}
		if fsel.Empty() {
			return true
		}
		set := fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}
		if req.res.fields != nil {
			for k, v := range req.res.fields(obj) {
				set[k] = v
			}
		}
		return fsel.Matches(set)
	}, nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, req request) error {
	match, err := s.selectors(r, req)
	if err != nil {
		return err
	}
	items, rv := s.store.list(req.res, req.ns, match)
	if wantsTable(r) {
		t, err := s.table(req.res, items, r.URL.Query().Get("includeObject"), false)
		if err != nil {
			return err
		}
		t.ResourceVersion = formatRV(rv)
		s.writeObject(w, r, http.StatusOK, t)
		return nil
	}
	list := req.res.newList()
	if err := meta.SetList(list, items); err != nil {
		return internalError(err)
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return internalError(err)
	}
	lm.SetResourceVersion(formatRV(rv))
	s.writeObject(w, r, http.StatusOK, list)
	return nil
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, req request) error {
	obj, err := s.store.get(req.res, req.ns, req.name)
	if err != nil {
		return err
	}
	if wantsTable(r) {
		t, err := s.table(req.res, []runtime.Object{obj}, r.URL.Query().Get("includeObject"), false)
		if err != nil {
			return err
		}
		t.ResourceVersion = accessor(obj).GetResourceVersion()
		s.writeObject(w, r, http.StatusOK, t)
		return nil
	}
	s.writeObject(w, r, http.StatusOK, obj)
	return nil
}

// readBody reads a request body within the size limit.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apierrors.NewRequestEntityTooLargeError("limit is 3145728")
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading request body: %v", err))
	}
	return b, nil
}

// decodeBody decodes JSON, YAML or protobuf into the resource's type, and
// refuses another kind as the apiserver does.
func (s *Server) decodeBody(r *http.Request, res *resourceInfo, body []byte) (runtime.Object, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apierrors.NewBadRequest("the body of the request was empty")
	}
	def := res.gvk()
	obj, gvk, err := s.codecs.UniversalDeserializer().Decode(body, &def, nil)
	if err != nil {
		if runtime.IsNotRegisteredError(err) || runtime.IsMissingKind(err) || runtime.IsMissingVersion(err) {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", res.kind, res.version, res.kind, err))
	}
	if gvk.GroupVersion() != res.gv() {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", gvk.GroupVersion(), res.gv()))
	}
	if gvk.Kind != res.kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: no kind %q is registered for version %q", gvk.Kind, res.version, res.kind, gvk.Kind, res.gv()))
	}
	if r.URL.Query().Get("fieldValidation") == "Strict" && !isProtobuf(r) {
		if err := s.strictCheck(res, body); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

func isProtobuf(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Content-Type"), "protobuf")
}

// strictCheck reports unknown or duplicate fields as kube-apiserver does
// with fieldValidation=Strict.
func (s *Server) strictCheck(res *resourceInfo, body []byte) error {
	yamlish := !json.Valid(bytes.TrimSpace(body))
	ser := newStrictSerializer(s.scheme(), yamlish)
	def := res.gvk()
	_, _, err := ser.Decode(body, &def, nil)
	if err != nil && runtime.IsStrictDecodingError(err) {
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", res.kind, res.version, res.kind, err))
	}
	return nil
}

func invalid(res *resourceInfo, name string, errs field.ErrorList) error {
	return apierrors.NewInvalid(schema.GroupKind{Group: res.group, Kind: res.kind}, name, errs)
}

// validateName checks a name as kube-apiserver's validation does.
func validateName(res *resourceInfo, name string) field.ErrorList {
	p := field.NewPath("metadata", "name")
	if name == "" {
		return field.ErrorList{field.Required(p, "name or generateName is required")}
	}
	var msgs []string
	switch res.name {
	case "services":
		msgs = validation.IsDNS1035Label(name)
	case "namespaces":
		msgs = validation.IsDNS1123Label(name)
	default:
		msgs = validation.IsDNS1123Subdomain(name)
	}
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(p, name, m))
	}
	return errs
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, req request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(r, req.res, body)
	if err != nil {
		return err
	}
	m := accessor(obj)
	if req.res.namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(req.ns)
		} else if m.GetNamespace() != req.ns {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	} else {
		m.SetNamespace("")
	}
	dry := len(r.URL.Query()["dryRun"]) > 0
	created, err := s.create(req.res, obj, dry)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusCreated, created)
	return nil
}

// create validates, defaults and stores a new object: the path shared by
// the API and the controllers.
func (s *Server) create(res *resourceInfo, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	m := accessor(obj)
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + s.randString(5))
	}
	if errs := validateName(res, m.GetName()); len(errs) > 0 {
		return nil, invalid(res, m.GetName(), errs)
	}
	if res.namespaced {
		nsObj, err := s.store.get(s.reg.must("", "namespaces"), "", m.GetNamespace())
		if err != nil {
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, m.GetNamespace())
		}
		if nsObj.(*corev1.Namespace).Status.Phase == corev1.NamespaceTerminating {
			return nil, apierrors.NewForbidden(res.gr(), m.GetName(), fmt.Errorf("unable to create new content in namespace %s because it is being terminated", m.GetNamespace()))
		}
	}
	m.SetUID(typesUID(s.randUID()))
	m.SetCreationTimestamp(metav1.NewTime(time.Now().Truncate(time.Second)))
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetManagedFields(nil)
	if res.generation {
		m.SetGeneration(1)
	}
	if err := s.admit(res, obj, nil); err != nil {
		return nil, err
	}
	if dryRun {
		return obj, nil
	}
	return s.store.create(res, obj)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, req request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(r, req.res, body)
	if err != nil {
		return err
	}
	m := accessor(obj)
	if m.GetName() != req.name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), req.name))
	}
	if req.res.namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(req.ns)
		} else if m.GetNamespace() != req.ns {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	}
	updated, err := s.update(req.res, req.ns, req.name, req.sub, obj, m.GetResourceVersion(), len(r.URL.Query()["dryRun"]) > 0)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, updated)
	return nil
}

// update replaces an object through the API's rules: resourceVersion
// preconditions (409 on a stale one), immutable metadata kept, status or
// spec kept depending on the subresource, generation bumped on spec
// changes.
func (s *Server) update(res *resourceInfo, ns, name, sub string, obj runtime.Object, precondRV string, dryRun bool) (runtime.Object, error) {
	var out runtime.Object
	fn := func(cur runtime.Object) (runtime.Object, error) {
		cm := accessor(cur)
		if precondRV != "" && precondRV != cm.GetResourceVersion() {
			return nil, apierrors.NewConflict(res.gr(), name, errors.New(conflictMsg))
		}
		next := obj.DeepCopyObject()
		nm := accessor(next)
		nm.SetUID(cm.GetUID())
		nm.SetCreationTimestamp(cm.GetCreationTimestamp())
		nm.SetDeletionTimestamp(cm.GetDeletionTimestamp())
		nm.SetDeletionGracePeriodSeconds(cm.GetDeletionGracePeriodSeconds())
		nm.SetGeneration(cm.GetGeneration())
		nm.SetNamespace(cm.GetNamespace())
		nm.SetManagedFields(nil)
		if res.hasStatus {
			switch sub {
			case "status":
				copyField(next, cur, "Spec")
				nm.SetLabels(cm.GetLabels())
				nm.SetAnnotations(cm.GetAnnotations())
			default:
				copyField(next, cur, "Status")
			}
		}
		if res.generation && sub != "status" && !fieldEqual(next, cur, "Spec") {
			nm.SetGeneration(cm.GetGeneration() + 1)
		}
		if err := s.admit(res, next, cur); err != nil {
			return nil, err
		}
		if equalIgnoringRV(next, cur) {
			out = cur
			return nil, errNoChange
		}
		if dryRun {
			out = next
			return nil, errNoChange
		}
		return next, nil
	}
	updated, err := s.store.update(res, ns, name, fn)
	if err != nil {
		return nil, err
	}
	if out != nil && dryRun {
		return out, nil
	}
	if m := accessor(updated); m.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) == 0 {
		// The last finalizer went: the deletion completes now.
		// The garbage collector sees the DELETED event.
		_, _ = s.store.remove(res, ns, name, string(m.GetUID()))
	}
	return updated, nil
}

const conflictMsg = "the object has been modified; please apply your changes to the latest version and try again"

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, req request) error {
	patch, err := readBody(r)
	if err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	dry := len(r.URL.Query()["dryRun"]) > 0
	// A patch applies to what is stored when it arrives; retry when a
	// controller wrote in between, as the apiserver's GuaranteedUpdate does.
	for attempt := 0; ; attempt++ {
		cur, err := s.store.get(req.res, req.ns, req.name)
		if err != nil {
			return err
		}
		orig, err := s.encode(cur)
		if err != nil {
			return internalError(err)
		}
		patched, err := applyPatch(ct, orig, patch, req.res.newObj())
		if err != nil {
			return err
		}
		obj, err := s.decodeBody(r, req.res, patched)
		if err != nil {
			return err
		}
		m := accessor(obj)
		if m.GetName() != req.name {
			return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), req.name))
		}
		rv := m.GetResourceVersion()
		explicitRV := rv != accessor(cur).GetResourceVersion()
		updated, err := s.update(req.res, req.ns, req.name, req.sub, obj, rv, dry)
		if apierrors.IsConflict(err) && !explicitRV && attempt < 10 {
			continue
		}
		if err != nil {
			return err
		}
		s.writeObject(w, r, http.StatusOK, updated)
		return nil
	}
}

// applyPatch applies a merge, strategic merge or JSON patch to orig.
func applyPatch(contentType string, orig, patch []byte, schemaObj runtime.Object) ([]byte, error) {
	var out []byte
	var err error
	switch contentType {
	case "application/merge-patch+json":
		out, err = jsonpatch.MergePatch(orig, patch)
	case "application/strategic-merge-patch+json":
		out, err = strategicpatch.StrategicMergePatch(orig, patch, schemaObj)
	case "application/json-patch+json":
		var p jsonpatch.Patch
		p, err = jsonpatch.DecodePatch(patch)
		if err == nil {
			out, err = p.Apply(orig)
		}
	default:
		return nil, apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", schema.GroupResource{}, "",
			"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json", 0, false)
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return out, nil
}

// scaleTarget is what the scale subresource reads and writes.
func (s *Server) scaleOf(req request, obj runtime.Object) (*autoscalingv1.Scale, error) {
	m := accessor(obj)
	sc := &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
	}
	replicas, statusReplicas, sel, ok := scaleFields(obj)
	if !ok {
		return nil, notFoundPath()
	}
	sc.Spec.Replicas = replicas
	sc.Status.Replicas = statusReplicas
	if sel != nil {
		ls, err := metav1.LabelSelectorAsSelector(sel)
		if err == nil {
			sc.Status.Selector = ls.String()
		}
	}
	return sc, nil
}

func (s *Server) handleGetScale(w http.ResponseWriter, r *http.Request, req request) error {
	obj, err := s.store.get(req.res, req.ns, req.name)
	if err != nil {
		return err
	}
	sc, err := s.scaleOf(req, obj)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, sc)
	return nil
}

// handleScale serves PUT and PATCH on …/scale: it changes spec.replicas of
// the parent (bumping its generation) and answers the new Scale.
func (s *Server) handleScale(w http.ResponseWriter, r *http.Request, req request, isPatch bool) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.store.get(req.res, req.ns, req.name)
		if err != nil {
			return err
		}
		sc, err := s.scaleOf(req, cur)
		if err != nil {
			return err
		}
		newBody := body
		if isPatch {
			orig, err := json.Marshal(sc)
			if err != nil {
				return internalError(err)
			}
			ct := r.Header.Get("Content-Type")
			if i := strings.IndexByte(ct, ';'); i >= 0 {
				ct = ct[:i]
			}
			newBody, err = applyPatch(ct, orig, body, &autoscalingv1.Scale{})
			if err != nil {
				return err
			}
		}
		var want autoscalingv1.Scale
		def := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
		if _, _, err := s.codecs.UniversalDeserializer().Decode(newBody, &def, &want); err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("Scale in version \"v1\" cannot be handled as a Scale: %v", err))
		}
		if want.Spec.Replicas < 0 {
			return apierrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, req.name,
				field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), want.Spec.Replicas, "must be greater than or equal to 0")})
		}
		rv := want.ResourceVersion
		explicit := rv != "" && rv != accessor(cur).GetResourceVersion()
		next := cur.DeepCopyObject()
		setScaleReplicas(next, want.Spec.Replicas)
		updated, err := s.update(req.res, req.ns, req.name, "", next, accessor(cur).GetResourceVersion(), len(r.URL.Query()["dryRun"]) > 0)
		if apierrors.IsConflict(err) && !explicit && attempt < 10 {
			continue
		}
		if err != nil {
			return err
		}
		if explicit {
			return apierrors.NewConflict(schema.GroupResource{Group: req.res.group, Resource: req.res.name}, req.name, errors.New(conflictMsg))
		}
		out, err := s.scaleOf(req, updated)
		if err != nil {
			return err
		}
		out.Spec.Replicas = want.Spec.Replicas
		s.writeObject(w, r, http.StatusOK, out)
		return nil
	}
}

// deleteOptions reads DeleteOptions from the body and the query.
func deleteOptions(r *http.Request) (metav1.DeleteOptions, error) {
	var opts metav1.DeleteOptions
	body, err := readBody(r)
	if err != nil {
		return opts, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &opts); err != nil {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("decoding DeleteOptions: %v", err))
		}
	}
	q := r.URL.Query()
	if v := q.Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", v))
		}
		opts.GracePeriodSeconds = &n
	}
	if v := q.Get("propagationPolicy"); v != "" {
		p := metav1.DeletionPropagation(v)
		opts.PropagationPolicy = &p
	}
	if q.Has("dryRun") {
		opts.DryRun = q["dryRun"]
	}
	return opts, nil
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, req request) error {
	opts, err := deleteOptions(r)
	if err != nil {
		return err
	}
	obj, err := s.delete(req.res, req.ns, req.name, opts)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, obj)
	return nil
}

func (s *Server) handleDeleteCollection(w http.ResponseWriter, r *http.Request, req request) error {
	opts, err := deleteOptions(r)
	if err != nil {
		return err
	}
	match, err := s.selectors(r, req)
	if err != nil {
		return err
	}
	items, _ := s.store.list(req.res, req.ns, match)
	var deleted []runtime.Object
	for _, it := range items {
		m := accessor(it)
		obj, err := s.delete(req.res, m.GetNamespace(), m.GetName(), opts)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		deleted = append(deleted, obj)
	}
	list := req.res.newList()
	if err := meta.SetList(list, deleted); err != nil {
		return internalError(err)
	}
	s.writeObject(w, r, http.StatusOK, list)
	return nil
}

// delete removes an object, or starts its graceful deletion: pods on a
// node wait for their containers to stop; objects with finalizers wait for
// them; namespaces wait for their content to go.
func (s *Server) delete(res *resourceInfo, ns, name string, opts metav1.DeleteOptions) (runtime.Object, error) {
	cur, err := s.store.get(res, ns, name)
	if err != nil {
		return nil, err
	}
	m := accessor(cur)
	if opts.Preconditions != nil {
		if opts.Preconditions.UID != nil && *opts.Preconditions.UID != m.GetUID() {
			//lint:ignore ST1005 kube-apiserver's own wording, which kubectl prints
			return nil, apierrors.NewConflict(res.gr(), name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *opts.Preconditions.UID, m.GetUID()))
		}
		if opts.Preconditions.ResourceVersion != nil && *opts.Preconditions.ResourceVersion != m.GetResourceVersion() {
			//lint:ignore ST1005 kube-apiserver's own wording, which kubectl prints
			return nil, apierrors.NewConflict(res.gr(), name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *opts.Preconditions.ResourceVersion, m.GetResourceVersion()))
		}
	}
	if len(opts.DryRun) > 0 {
		return cur, nil
	}
	policy := metav1.DeletePropagationBackground
	if opts.PropagationPolicy != nil {
		policy = *opts.PropagationPolicy
	} else if opts.OrphanDependents != nil && *opts.OrphanDependents {
		policy = metav1.DeletePropagationOrphan
	}
	if policy == metav1.DeletePropagationOrphan {
		s.orphanDependents(m.GetUID(), ns)
	}
	if policy == metav1.DeletePropagationForeground && res.name != "pods" && res.name != "namespaces" {
		return s.deleteForeground(res, ns, name)
	}
	switch {
	case res.name == "pods":
		return s.kubelet.deletePod(cur.(*corev1.Pod), opts.GracePeriodSeconds)
	case res.name == "namespaces":
		return s.deleteNamespace(cur.(*corev1.Namespace))
	case len(m.GetFinalizers()) > 0:
		return s.store.update(res, ns, name, func(c runtime.Object) (runtime.Object, error) {
			cm := accessor(c)
			if cm.GetDeletionTimestamp() != nil {
				return nil, errNoChange
			}
			now := metav1.Now()
			cm.SetDeletionTimestamp(&now)
			zero := int64(0)
			cm.SetDeletionGracePeriodSeconds(&zero)
			return c, nil
		})
	}
	// Dependents go when the garbage collector sees the DELETED event
	// (orphans have lost their owner reference above).
	return s.store.remove(res, ns, name, string(m.GetUID()))
}

// writeObject encodes an API object as JSON with its apiVersion and kind.
func (s *Server) writeObject(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object) {
	b, err := s.encode(obj)
	if err != nil {
		s.logf("encode %T: %v", obj, err)
		code = http.StatusInternalServerError
		st := internalError(err).Status()
		b, _ = json.Marshal(statusWithKind(st))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

// encode sets apiVersion and kind from the scheme and encodes to JSON with
// the apimachinery serializer.
func (s *Server) encode(obj runtime.Object) ([]byte, error) {
	if st, ok := obj.(*metav1.Status); ok {
		return json.Marshal(statusWithKind(*st))
	}
	if obj.GetObjectKind().GroupVersionKind().Empty() {
		gvks, _, err := s.scheme().ObjectKinds(obj)
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	var buf bytes.Buffer
	if err := s.jsonSer.Encode(obj, &buf); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func statusWithKind(st metav1.Status) metav1.Status {
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	return st
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(statusWithKind(internalError(err).Status()))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := toStatus(err)
	s.writeJSON(w, int(st.Code), statusWithKind(st))
}
