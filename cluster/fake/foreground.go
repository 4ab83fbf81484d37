package fake

import (
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// foregroundFinalizer holds an owner deleted with propagationPolicy
// Foreground until its blocking dependents are gone.
const foregroundFinalizer = metav1.FinalizerDeleteDependents

// objRef names one stored object.
type objRef struct {
	res      *resourceInfo
	ns, name string
}

func hasFinalizer(m metav1.Object, f string) bool {
	for _, x := range m.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}

// deleteForeground starts a foreground deletion: the object gets a
// deletionTimestamp and the foregroundDeletion finalizer, and stays
// visible while the garbage collector (foreground) deletes its dependents.
func (s *Server) deleteForeground(res *resourceInfo, ns, name string) (runtime.Object, error) {
	return s.store.update(res, ns, name, func(c runtime.Object) (runtime.Object, error) {
		cm := accessor(c)
		changed := false
		if !hasFinalizer(cm, foregroundFinalizer) {
			cm.SetFinalizers(append(cm.GetFinalizers(), foregroundFinalizer))
			changed = true
		}
		if cm.GetDeletionTimestamp() == nil {
			now := metav1.Now()
			cm.SetDeletionTimestamp(&now)
			zero := int64(0)
			cm.SetDeletionGracePeriodSeconds(&zero)
			changed = true
		}
		if !changed {
			return nil, errNoChange
		}
		return c, nil
	})
}

// ownerResource maps an owner reference to a served resource.
func (s *Server) ownerResource(ref metav1.OwnerReference) *resourceInfo {
	for _, r := range s.reg.resources {
		if r.kind == ref.Kind && r.gv().String() == ref.APIVersion {
			return r
		}
	}
	return nil
}

// noteForeground records, for one store event, the owners whose foreground
// deletion may progress: the object itself when it waits for its
// dependents, and the owners a blocking dependent points to when it goes
// or changes.
func (c *controllers) noteForeground(d *dirty, ev event) {
	m := accessor(ev.obj)
	if ev.res.name == "events" {
		return
	}
	if m.GetDeletionTimestamp() != nil && hasFinalizer(m, foregroundFinalizer) {
		d.foreground[objRef{ev.res, m.GetNamespace(), m.GetName()}] = true
	}
	for _, ref := range m.GetOwnerReferences() {
		if ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			continue
		}
		if r := c.s.ownerResource(ref); r != nil {
			ns := m.GetNamespace()
			if !r.namespaced {
				ns = ""
			}
			d.foreground[objRef{r, ns, ref.Name}] = true
		}
	}
}

// syncForeground moves a foreground deletion on: dependents not yet being
// deleted are deleted (foreground too, so a Deployment waits for its
// ReplicaSets, which wait for their pods), and once no dependent with
// blockOwnerDeletion is left the finalizer goes and so does the owner.
func (c *controllers) syncForeground(ref objRef) {
	s := c.s
	obj, err := s.store.get(ref.res, ref.ns, ref.name)
	if err != nil {
		return
	}
	m := accessor(obj)
	if m.GetDeletionTimestamp() == nil || !hasFinalizer(m, foregroundFinalizer) {
		return
	}
	uid := m.GetUID()
	blocking := 0
	for _, res := range s.reg.resources {
		if res.name == "events" || res.name == "namespaces" || res.name == "nodes" {
			continue
		}
		deps, _ := s.store.list(res, ref.ns, func(o runtime.Object) bool {
			for _, r := range accessor(o).GetOwnerReferences() {
				if r.UID == uid {
					return true
				}
			}
			return false
		})
		for _, dep := range deps {
			dm := accessor(dep)
			for _, r := range dm.GetOwnerReferences() {
				if r.UID == uid && r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
					blocking++
					break
				}
			}
			if dm.GetDeletionTimestamp() != nil {
				continue
			}
			fg := metav1.DeletePropagationForeground
			if _, err := s.delete(res, dm.GetNamespace(), dm.GetName(), metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !apierrors.IsNotFound(err) {
				s.logf("foreground deletion of %s %s/%s: delete %s %s: %v", ref.res.name, ref.ns, ref.name, res.name, dm.GetName(), err)
			}
		}
	}
	if blocking > 0 {
		return // their DELETED events bring us back
	}
	out, err := s.store.update(ref.res, ref.ns, ref.name, func(cur runtime.Object) (runtime.Object, error) {
		cm := accessor(cur)
		if cm.GetUID() != uid || !hasFinalizer(cm, foregroundFinalizer) {
			return nil, errNoChange
		}
		var keep []string
		for _, f := range cm.GetFinalizers() {
			if f != foregroundFinalizer {
				keep = append(keep, f)
			}
		}
		cm.SetFinalizers(keep)
		return cur, nil
	})
	if err != nil {
		return
	}
	if om := accessor(out); om.GetUID() == uid && om.GetDeletionTimestamp() != nil && len(om.GetFinalizers()) == 0 {
		if _, err := s.store.remove(ref.res, ref.ns, ref.name, string(uid)); err != nil && !apierrors.IsNotFound(err) {
			s.logf("foreground deletion of %s %s/%s: %v", ref.res.name, ref.ns, ref.name, err)
		}
	}
}

// sortedRefs orders refs for a deterministic pass.
func sortedRefs(m map[objRef]bool) []objRef {
	out := make([]objRef, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.res.key() != b.res.key() {
			return a.res.key() < b.res.key()
		}
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		return a.name < b.name
	})
	return out
}
