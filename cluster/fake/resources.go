package fake

//lint:file-ignore SA1019 the hand-written server serves the deprecated v1 Endpoints API and fields that kubectl still reads; it is retired with the upstream control plane.

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resourceInfo describes one served resource: what discovery advertises,
// how its objects are made, and what a field selector can see in them.
type resourceInfo struct {
	group, version string
	name           string // plural, as in URLs
	singular       string
	kind           string
	namespaced     bool
	shortNames     []string
	categories     []string
	// subresources served, e.g. "status", "scale", "log".
	subresources []string
	// generation: spec changes bump metadata.generation.
	generation bool
	// hasStatus: writes to the main resource keep the stored status.
	hasStatus bool
	newObj    func() runtime.Object
	newList   func() runtime.Object
	// fields lists the field-selector labels beyond metadata.name/namespace.
	fields func(obj runtime.Object) map[string]string
}

func (r *resourceInfo) gv() schema.GroupVersion {
	return schema.GroupVersion{Group: r.group, Version: r.version}
}
func (r *resourceInfo) gvk() schema.GroupVersionKind { return r.gv().WithKind(r.kind) }
func (r *resourceInfo) gr() schema.GroupResource {
	return schema.GroupResource{Group: r.group, Resource: r.name}
}

// key is the resource's unique name in the store, e.g. "deployments.apps".
func (r *resourceInfo) key() string { return r.gr().String() }

func (r *resourceInfo) hasSub(sub string) bool {
	for _, s := range r.subresources {
		if s == sub {
			return true
		}
	}
	return false
}

var allVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// registry holds the served resources in discovery order: the core group
// first, then groups in /apis order; within a group, alphabetical like a
// real apiserver. `kubectl get all` follows this order.
type registry struct {
	scheme    *runtime.Scheme
	resources []*resourceInfo
	byGR      map[schema.GroupResource]*resourceInfo
	groups    []schema.GroupVersion // API groups besides core, in /apis order
}

func newScheme() (*runtime.Scheme, error) {
	sch := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		coordinationv1.AddToScheme, discoveryv1.AddToScheme, autoscalingv1.AddToScheme,
	} {
		if err := add(sch); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	metav1.AddToGroupVersion(sch, schema.GroupVersion{Version: "v1"})
	if err := metav1.AddMetaToScheme(sch); err != nil {
		return nil, fmt.Errorf("build scheme: %w", err)
	}
	return sch, nil
}

func newRegistry() (*registry, error) {
	sch, err := newScheme()
	if err != nil {
		return nil, err
	}
	reg := &registry{scheme: sch, byGR: map[schema.GroupResource]*resourceInfo{}}
	core := func(r *resourceInfo) *resourceInfo { r.version = "v1"; return r }
	apps := func(r *resourceInfo) *resourceInfo { r.group, r.version = "apps", "v1"; return r }
	batch := func(r *resourceInfo) *resourceInfo { r.group, r.version = "batch", "v1"; return r }
	all := []string{"all"}
	list := []*resourceInfo{
		core(&resourceInfo{name: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true, shortNames: []string{"cm"},
			newObj: func() runtime.Object { return &corev1.ConfigMap{} }, newList: func() runtime.Object { return &corev1.ConfigMapList{} }}),
		core(&resourceInfo{name: "endpoints", singular: "endpoints", kind: "Endpoints", namespaced: true, shortNames: []string{"ep"},
			newObj: func() runtime.Object { return &corev1.Endpoints{} }, newList: func() runtime.Object { return &corev1.EndpointsList{} }}),
		core(&resourceInfo{name: "events", singular: "event", kind: "Event", namespaced: true, shortNames: []string{"ev"},
			newObj: func() runtime.Object { return &corev1.Event{} }, newList: func() runtime.Object { return &corev1.EventList{} },
			fields: eventFields}),
		core(&resourceInfo{name: "namespaces", singular: "namespace", kind: "Namespace", shortNames: []string{"ns"},
			subresources: []string{"status", "finalize"}, hasStatus: true,
			newObj: func() runtime.Object { return &corev1.Namespace{} }, newList: func() runtime.Object { return &corev1.NamespaceList{} },
			fields: func(o runtime.Object) map[string]string {
				return map[string]string{"status.phase": string(o.(*corev1.Namespace).Status.Phase)}
			}}),
		core(&resourceInfo{name: "nodes", singular: "node", kind: "Node", shortNames: []string{"no"},
			subresources: []string{"status"}, hasStatus: true,
			newObj: func() runtime.Object { return &corev1.Node{} }, newList: func() runtime.Object { return &corev1.NodeList{} },
			fields: func(o runtime.Object) map[string]string {
				return map[string]string{"spec.unschedulable": fmt.Sprint(o.(*corev1.Node).Spec.Unschedulable)}
			}}),
		core(&resourceInfo{name: "pods", singular: "pod", kind: "Pod", namespaced: true, shortNames: []string{"po"}, categories: all,
			subresources: []string{"status", "log"}, hasStatus: true,
			newObj: func() runtime.Object { return &corev1.Pod{} }, newList: func() runtime.Object { return &corev1.PodList{} },
			fields: podFields}),
		core(&resourceInfo{name: "secrets", singular: "secret", kind: "Secret", namespaced: true,
			newObj: func() runtime.Object { return &corev1.Secret{} }, newList: func() runtime.Object { return &corev1.SecretList{} },
			fields: func(o runtime.Object) map[string]string {
				return map[string]string{"type": string(o.(*corev1.Secret).Type)}
			}}),
		core(&resourceInfo{name: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true, shortNames: []string{"sa"},
			newObj: func() runtime.Object { return &corev1.ServiceAccount{} }, newList: func() runtime.Object { return &corev1.ServiceAccountList{} }}),
		core(&resourceInfo{name: "services", singular: "service", kind: "Service", namespaced: true, shortNames: []string{"svc"}, categories: all,
			subresources: []string{"status"}, hasStatus: true,
			newObj: func() runtime.Object { return &corev1.Service{} }, newList: func() runtime.Object { return &corev1.ServiceList{} }}),

		apps(&resourceInfo{name: "controllerrevisions", singular: "controllerrevision", kind: "ControllerRevision", namespaced: true,
			newObj: func() runtime.Object { return &appsv1.ControllerRevision{} }, newList: func() runtime.Object { return &appsv1.ControllerRevisionList{} }}),
		apps(&resourceInfo{name: "daemonsets", singular: "daemonset", kind: "DaemonSet", namespaced: true, shortNames: []string{"ds"}, categories: all,
			subresources: []string{"status"}, generation: true, hasStatus: true,
			newObj: func() runtime.Object { return &appsv1.DaemonSet{} }, newList: func() runtime.Object { return &appsv1.DaemonSetList{} }}),
		apps(&resourceInfo{name: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, shortNames: []string{"deploy"}, categories: all,
			subresources: []string{"status", "scale"}, generation: true, hasStatus: true,
			newObj: func() runtime.Object { return &appsv1.Deployment{} }, newList: func() runtime.Object { return &appsv1.DeploymentList{} }}),
		apps(&resourceInfo{name: "replicasets", singular: "replicaset", kind: "ReplicaSet", namespaced: true, shortNames: []string{"rs"}, categories: all,
			subresources: []string{"status", "scale"}, generation: true, hasStatus: true,
			newObj: func() runtime.Object { return &appsv1.ReplicaSet{} }, newList: func() runtime.Object { return &appsv1.ReplicaSetList{} },
			fields: func(o runtime.Object) map[string]string {
				return map[string]string{"status.replicas": fmt.Sprint(o.(*appsv1.ReplicaSet).Status.Replicas)}
			}}),
		apps(&resourceInfo{name: "statefulsets", singular: "statefulset", kind: "StatefulSet", namespaced: true, shortNames: []string{"sts"}, categories: all,
			subresources: []string{"status", "scale"}, generation: true, hasStatus: true,
			newObj: func() runtime.Object { return &appsv1.StatefulSet{} }, newList: func() runtime.Object { return &appsv1.StatefulSetList{} }}),

		batch(&resourceInfo{name: "cronjobs", singular: "cronjob", kind: "CronJob", namespaced: true, shortNames: []string{"cj"}, categories: all,
			subresources: []string{"status"}, generation: true, hasStatus: true,
			newObj: func() runtime.Object { return &batchv1.CronJob{} }, newList: func() runtime.Object { return &batchv1.CronJobList{} }}),
		batch(&resourceInfo{name: "jobs", singular: "job", kind: "Job", namespaced: true, categories: all,
			subresources: []string{"status"}, generation: true, hasStatus: true,
			newObj: func() runtime.Object { return &batchv1.Job{} }, newList: func() runtime.Object { return &batchv1.JobList{} },
			fields: func(o runtime.Object) map[string]string {
				return map[string]string{"status.successful": fmt.Sprint(o.(*batchv1.Job).Status.Succeeded)}
			}}),

		{group: "coordination.k8s.io", version: "v1", name: "leases", singular: "lease", kind: "Lease", namespaced: true,
			newObj: func() runtime.Object { return &coordinationv1.Lease{} }, newList: func() runtime.Object { return &coordinationv1.LeaseList{} }},
		{group: "discovery.k8s.io", version: "v1", name: "endpointslices", singular: "endpointslice", kind: "EndpointSlice", namespaced: true,
			newObj: func() runtime.Object { return &discoveryv1.EndpointSlice{} }, newList: func() runtime.Object { return &discoveryv1.EndpointSliceList{} }},
	}
	for _, r := range list {
		reg.resources = append(reg.resources, r)
		reg.byGR[r.gr()] = r
		if r.group != "" {
			gv := r.gv()
			seen := false
			for _, g := range reg.groups {
				seen = seen || g == gv
			}
			if !seen {
				reg.groups = append(reg.groups, gv)
			}
		}
	}
	return reg, nil
}

// lookup finds a resource by group, version and plural name.
func (reg *registry) lookup(group, version, name string) *resourceInfo {
	r := reg.byGR[schema.GroupResource{Group: group, Resource: name}]
	if r == nil || r.version != version {
		return nil
	}
	return r
}

// must returns a resource known to exist; the registry is static, so a
// miss is a programming error caught by the first test.
func (reg *registry) must(group, name string) *resourceInfo {
	r := reg.byGR[schema.GroupResource{Group: group, Resource: name}]
	if r == nil {
		panic("fake: unregistered resource " + name + "." + group)
	}
	return r
}

func podFields(o runtime.Object) map[string]string {
	p := o.(*corev1.Pod)
	return map[string]string{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         fmt.Sprint(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             p.Status.PodIP,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

func eventFields(o runtime.Object) map[string]string {
	e := o.(*corev1.Event)
	return map[string]string{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         e.Source.Component,
		"type":                           e.Type,
	}
}
