package fake

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// recordEvent writes a core/v1 Event about obj, as the component named
// would; a repeat of the same reason and message bumps its count instead.
func (s *Server) recordEvent(obj runtime.Object, kind, fieldPath, typ, reason, msg, component, host string) {
	m := accessor(obj)
	res := s.reg.must("", "events")
	ns := m.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	apiVersion := "v1"
	if gvks, _, err := s.scheme().ObjectKinds(obj); err == nil && len(gvks) > 0 {
		apiVersion = gvks[0].GroupVersion().String()
	}
	key := fmt.Sprintf("%s/%s/%s/%s", m.GetUID(), fieldPath, reason, msg)
	now := metav1.NewTime(time.Now())
	s.eventsMu.Lock()
	name, seen := s.eventNames[key]
	if !seen {
		name = fmt.Sprintf("%s.%x", m.GetName(), time.Now().UnixNano())
		s.eventNames[key] = name
	}
	s.eventsMu.Unlock()
	if seen {
		_, err := s.store.update(res, ns, name, func(cur runtime.Object) (runtime.Object, error) {
			e := cur.(*corev1.Event)
			e.Count++
			e.LastTimestamp = now
			return e, nil
		})
		if err == nil || !apierrors.IsNotFound(err) {
			return
		}
	}
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName(), UID: m.GetUID(),
			APIVersion: apiVersion, ResourceVersion: m.GetResourceVersion(), FieldPath: fieldPath},
		Reason: reason, Message: msg, Type: typ, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: component, Host: host},
		ReportingController: component, ReportingInstance: host,
		EventTime: metav1.MicroTime{},
	}
	if ev.ReportingInstance == "" {
		ev.ReportingInstance = component
	}
	if _, err := s.create(res, ev, false); err != nil {
		s.logf("event %s: %v", reason, err)
	}
}
