package fake

import (
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/types"
)

func typesUID(s string) types.UID { return types.UID(s) }

func newStrictSerializer(sch *runtime.Scheme, yaml bool) *kjson.Serializer {
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, sch, sch, kjson.SerializerOptions{Yaml: yaml, Strict: true})
}

// structField returns the addressable field name of the struct obj points to.
func structField(obj runtime.Object, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	return f, f.IsValid()
}

// copyField sets dst.name to a deep copy of src.name (Spec or Status).
func copyField(dst, src runtime.Object, name string) {
	d, ok1 := structField(dst, name)
	sv, ok2 := structField(src, name)
	if !ok1 || !ok2 || !d.CanSet() {
		return
	}
	_ = sv
	// Deep copy through the object's own DeepCopy: copy the whole object
	// and take the field from the copy.
	cp := src.DeepCopyObject()
	cv, _ := structField(cp, name)
	d.Set(cv)
}

func fieldEqual(a, b runtime.Object, name string) bool {
	av, ok1 := structField(a, name)
	bv, ok2 := structField(b, name)
	if !ok1 || !ok2 {
		return true
	}
	return equality.Semantic.DeepEqual(av.Interface(), bv.Interface())
}

// equalIgnoringRV compares two objects apart from their resourceVersion.
func equalIgnoringRV(a, b runtime.Object) bool {
	a2, b2 := a.DeepCopyObject(), b.DeepCopyObject()
	accessor(a2).SetResourceVersion("")
	accessor(b2).SetResourceVersion("")
	a2.GetObjectKind().SetGroupVersionKind(b2.GetObjectKind().GroupVersionKind())
	return equality.Semantic.DeepEqual(a2, b2)
}

// scaleFields reads what the scale subresource exposes.
func scaleFields(obj runtime.Object) (replicas, statusReplicas int32, sel *metav1.LabelSelector, ok bool) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return deref32(o.Spec.Replicas, 1), o.Status.Replicas, o.Spec.Selector, true
	case *appsv1.ReplicaSet:
		return deref32(o.Spec.Replicas, 1), o.Status.Replicas, o.Spec.Selector, true
	case *appsv1.StatefulSet:
		return deref32(o.Spec.Replicas, 1), o.Status.Replicas, o.Spec.Selector, true
	}
	return 0, 0, nil, false
}

func setScaleReplicas(obj runtime.Object, n int32) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		o.Spec.Replicas = &n
	case *appsv1.StatefulSet:
		o.Spec.Replicas = &n
	}
}

func deref32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func deref64(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// controllerOf returns the controller ownerReference, if any.
func controllerOf(obj runtime.Object) *metav1.OwnerReference {
	for _, ref := range accessor(obj).GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			r := ref
			return &r
		}
	}
	return nil
}
