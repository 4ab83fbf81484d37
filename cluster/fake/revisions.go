package fake

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// revisionPatch is a ControllerRevision's data as the DaemonSet and
// StatefulSet controllers write it: a strategic merge patch that replaces
// spec.template. `kubectl rollout history` applies it to the owner to show
// a revision, and `rollout undo` sends it as the PATCH.
func revisionPatch(t *corev1.PodTemplateSpec) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("revision patch: %w", err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		return nil, fmt.Errorf("revision patch: %w", err)
	}
	// kube-apiserver 1.27-1.33 and kubectl of the same versions write the
	// zero creationTimestamp as null; kubectl compares its own rendering
	// with this data byte for byte to skip a no-op rollout undo.
	if md, ok := tmpl["metadata"].(map[string]any); ok {
		if _, ok := md["creationTimestamp"]; !ok {
			md["creationTimestamp"] = nil
		}
	}
	tmpl["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": tmpl}})
}

// snapshotRevision makes sure the owner's current template has a
// ControllerRevision <owner>-<hash> carrying the highest revision number
// among the owner's revisions: a new template gets max+1, a template seen
// before (rollout undo) has its revision raised to max+1, as the real
// controllers do. Beyond the history limit the oldest revisions go. It
// returns the current revision's name.
func (c *controllers) snapshotRevision(owner runtime.Object, kind, hash string, hashLabel map[string]string, t *corev1.PodTemplateSpec, limit *int32) string {
	s := c.s
	res := s.reg.must("apps", "controllerrevisions")
	m := accessor(owner)
	name := m.GetName() + "-" + hash
	var mine []*appsv1.ControllerRevision
	var max int64
	var cur *appsv1.ControllerRevision
	for _, o := range c.ownedBy(res, m.GetNamespace(), m.GetUID()) {
		cr := o.(*appsv1.ControllerRevision)
		mine = append(mine, cr)
		if cr.Revision > max {
			max = cr.Revision
		}
		if cr.Name == name {
			cur = cr
		}
	}
	switch {
	case cur == nil:
		data, err := revisionPatch(t)
		if err != nil {
			s.logf("%s %s/%s: %v", kind, m.GetNamespace(), m.GetName(), err)
			return name
		}
		lbls := map[string]string{}
		for k, v := range t.Labels {
			lbls[k] = v
		}
		for k, v := range hashLabel {
			lbls[k] = v
		}
		anns := map[string]string{}
		for k, v := range m.GetAnnotations() {
			anns[k] = v
		}
		cr := &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: m.GetNamespace(), Labels: lbls, Annotations: anns,
				OwnerReferences: []metav1.OwnerReference{ownerRef(owner, "apps/v1", kind)}},
			Data:     runtime.RawExtension{Raw: data},
			Revision: max + 1,
		}
		out, err := s.create(res, cr, false)
		if err != nil {
			s.logf("%s %s/%s: create revision: %v", kind, m.GetNamespace(), m.GetName(), err)
			return name
		}
		mine = append(mine, out.(*appsv1.ControllerRevision))
	case cur.Revision < max:
		next := max + 1
		if _, err := s.store.update(res, cur.Namespace, cur.Name, func(o runtime.Object) (runtime.Object, error) {
			cr := o.(*appsv1.ControllerRevision)
			cr.Revision = next
			return cr, nil
		}); err != nil {
			s.logf("%s %s/%s: update revision: %v", kind, m.GetNamespace(), m.GetName(), err)
		}
		cur.Revision = next
	}
	keep := 10
	if limit != nil && *limit >= 0 {
		keep = int(*limit)
	}
	var old []*appsv1.ControllerRevision
	for _, cr := range mine {
		if cr.Name != name {
			old = append(old, cr)
		}
	}
	if len(old) > keep {
		sort.Slice(old, func(i, j int) bool { return old[i].Revision < old[j].Revision })
		for _, cr := range old[:len(old)-keep] {
			_, _ = s.delete(res, cr.Namespace, cr.Name, metav1.DeleteOptions{})
		}
	}
	return name
}

// printControllerRevision is kube-apiserver's row: the controller as
// kind.group/name.
func printControllerRevision(o runtime.Object, now time.Time) []any {
	cr := o.(*appsv1.ControllerRevision)
	controller := "<none>"
	if ref := metav1.GetControllerOf(cr); ref != nil {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err == nil {
			controller = strings.ToLower(gv.WithKind(ref.Kind).GroupKind().String()) + "/" + ref.Name
		}
	}
	return []any{cr.Name, controller, cr.Revision, age(cr.CreationTimestamp, now)}
}
