package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/watch"
)

// controllers is the controller manager and scheduler: one goroutine that
// reads the store's event log and reconciles what changed — pods to bind
// and start, ReplicaSets, Deployments, garbage collection by owner
// references, namespace deletion, service endpoints. Reacting to events
// (not polling) keeps it quiet when nothing happens; writes it makes come
// back as events and converge.
type controllers struct {
	s           *Server
	nextNode    int
	terminating map[string]bool // namespaces being deleted
	timers      map[string]*time.Timer
	wake        chan string // keys of delayed reconciles
}

func newControllers(s *Server) *controllers {
	return &controllers{s: s, terminating: map[string]bool{}, timers: map[string]*time.Timer{}, wake: make(chan string, 64)}
}

// dirty collects what one pass reconciles, each key once.
type dirty struct {
	schedule    map[string]bool // pod ns/name
	replicasets map[string]bool
	deployments map[string]bool
	services    map[string]bool
	namespaces  map[string]bool
	jobs        map[string]bool
	daemonsets  map[string]bool
	statefuls   map[string]bool
	cronjobs    map[string]bool
	gc          []types.UID
	foreground  map[objRef]bool // owners whose foreground deletion may progress
}

func newDirty() *dirty {
	return &dirty{schedule: map[string]bool{}, replicasets: map[string]bool{}, deployments: map[string]bool{},
		services: map[string]bool{}, namespaces: map[string]bool{}, jobs: map[string]bool{}, daemonsets: map[string]bool{},
		statefuls: map[string]bool{}, cronjobs: map[string]bool{}, foreground: map[objRef]bool{}}
}

func (d *dirty) empty() bool {
	return len(d.schedule)+len(d.replicasets)+len(d.deployments)+len(d.services)+len(d.namespaces)+len(d.jobs)+
		len(d.daemonsets)+len(d.statefuls)+len(d.cronjobs)+len(d.gc)+len(d.foreground) == 0
}

func (c *controllers) run(ctx context.Context) {
	s := c.s
	defer func() {
		for _, t := range c.timers {
			t.Stop()
		}
	}()
	rv := s.store.currentRV()
	d := newDirty()
	// Start from what exists (seed objects).
	for _, res := range s.reg.resources {
		objs, _ := s.store.list(res, "", nil)
		for _, o := range objs {
			c.note(d, event{typ: watch.Added, res: res, obj: o})
		}
	}
	for {
		if !d.empty() {
			c.process(ctx, d)
			d = newDirty()
		}
		evCh := make(chan []event, 1)
		waitCtx, cancel := context.WithCancel(ctx)
		go func() {
			evs, err := s.store.since(waitCtx, rv, 5000)
			if err != nil {
				evs = nil
			}
			evCh <- evs
		}()
		select {
		case evs := <-evCh:
			cancel()
			if evs == nil && ctx.Err() != nil {
				return
			}
			for _, ev := range evs {
				rv = ev.rv
				c.note(d, ev)
			}
		case key := <-c.wake:
			cancel()
			if evs := <-evCh; evs != nil {
				for _, ev := range evs {
					rv = ev.rv
					c.note(d, ev)
				}
			}
			c.noteKey(d, key)
		case <-ctx.Done():
			cancel()
			<-evCh
			return
		}
	}
}

// after schedules a reconcile of key ("kind/ns/name") after delay.
func (c *controllers) after(key string, delay time.Duration) {
	if t, ok := c.timers[key]; ok {
		t.Stop()
	}
	c.timers[key] = time.AfterFunc(delay, func() {
		select {
		case c.wake <- key:
		case <-c.s.ctx.Done():
		}
	})
}

// reconciled is the set of keys to reconcile for a resource whose
// controller works by key, or nil for one that has none.
func (d *dirty) reconciled(resource string) map[string]bool {
	switch resource {
	case "replicasets":
		return d.replicasets
	case "deployments":
		return d.deployments
	case "services":
		return d.services
	case "jobs":
		return d.jobs
	case "cronjobs":
		return d.cronjobs
	case "daemonsets":
		return d.daemonsets
	case "statefulsets":
		return d.statefuls
	}
	return nil
}

// noteKey marks a timer's key ("resource/ns/name") for reconciling.
func (c *controllers) noteKey(d *dirty, key string) {
	resource, k, _ := strings.Cut(key, "/")
	if set := d.reconciled(resource); set != nil {
		set[k] = true
	}
}

// note maps one store event to the reconciles it calls for.
func (c *controllers) note(d *dirty, ev event) {
	m := accessor(ev.obj)
	key := objKey(m.GetNamespace(), m.GetName())
	if ev.typ == watch.Deleted && ev.res.name != "pods" && ev.res.name != "events" {
		d.gc = append(d.gc, m.GetUID())
	}
	c.noteForeground(d, ev)
	if ns := m.GetNamespace(); ns != "" && c.terminating[ns] {
		d.namespaces[ns] = true
	}
	if ref := controllerOf(ev.obj); ref != nil {
		okey := objKey(m.GetNamespace(), ref.Name)
		switch ref.Kind {
		case "ReplicaSet":
			d.replicasets[okey] = true
		case "Deployment":
			d.deployments[okey] = true
		case "Job":
			d.jobs[okey] = true
		case "DaemonSet":
			d.daemonsets[okey] = true
		case "StatefulSet":
			d.statefuls[okey] = true
		case "CronJob":
			d.cronjobs[okey] = true
		}
	}
	if ev.typ == watch.Deleted {
		c.restoreSystemObject(ev.res, m)
	}
	switch ev.res.name {
	case "pods":
		p := ev.obj.(*corev1.Pod)
		if ev.typ != watch.Deleted {
			if p.Spec.NodeName == "" {
				d.schedule[key] = true
			} else {
				c.s.kubelet.ensure(p)
			}
		}
		c.noteServicesOf(d, p.Namespace)
	case "replicasets", "deployments", "services", "jobs", "cronjobs", "daemonsets", "statefulsets":
		if ev.typ != watch.Deleted {
			d.reconciled(ev.res.name)[key] = true
		}
	case "nodes":
		d.daemonsets["*"] = true
	case "namespaces":
		ns := ev.obj.(*corev1.Namespace)
		if ev.typ == watch.Added && ev.rv != 0 {
			// A new namespace gets its default ServiceAccount and CA
			// ConfigMap, as from the controllers of a real cluster.
			if _, err := c.s.store.get(c.s.reg.must("", "serviceaccounts"), ns.Name, "default"); err != nil {
				if err := c.s.namespaceDefaults(ns.Name); err != nil {
					c.s.logf("namespace %s: %v", ns.Name, err)
				}
			}
		}
		if ev.typ != watch.Deleted && ns.DeletionTimestamp != nil {
			c.terminating[ns.Name] = true
			d.namespaces[ns.Name] = true
		}
		if ev.typ == watch.Deleted {
			delete(c.terminating, ns.Name)
		}
	}
}

// restoreSystemObject recreates what a real cluster's control plane puts
// back when it is deleted (kubectl delete cm --all, delete all --all): each
// namespace's kube-root-ca.crt ConfigMap and default ServiceAccount, and
// the default/kubernetes Service with its Endpoints.
func (c *controllers) restoreSystemObject(res *resourceInfo, m metav1.Object) {
	s := c.s
	ns, name := m.GetNamespace(), m.GetName()
	if ns == "" || c.terminating[ns] || s.ctx.Err() != nil {
		return
	}
	var obj runtime.Object
	switch {
	case res.group == "" && res.name == "configmaps" && name == "kube-root-ca.crt",
		res.group == "" && res.name == "serviceaccounts" && name == "default":
	case res.group == "" && res.name == "services" && ns == "default" && name == "kubernetes":
		obj = kubernetesService()
	case res.group == "" && res.name == "endpoints" && ns == "default" && name == "kubernetes":
		obj = kubernetesEndpoints()
	default:
		return
	}
	nsObj, err := s.store.get(s.reg.must("", "namespaces"), "", ns)
	if err != nil || accessor(nsObj).GetDeletionTimestamp() != nil {
		return
	}
	if obj == nil {
		obj = s.namespaceDefault(res.name, ns)
	}
	if _, err := s.store.get(res, ns, name); err == nil {
		return // already back
	}
	if _, err := s.create(res, obj, false); err != nil && !apierrors.IsAlreadyExists(err) {
		s.logf("restore %s %s/%s: %v", res.name, ns, name, err)
	}
}

// noteServicesOf marks a namespace's services for an endpoints update.
func (c *controllers) noteServicesOf(d *dirty, ns string) {
	if d.services["*"+ns] {
		return
	}
	d.services["*"+ns] = true
}

func (c *controllers) process(ctx context.Context, d *dirty) {
	s := c.s
	for _, key := range sortedKeys(d.schedule) {
		c.schedule(key)
	}
	for _, uid := range d.gc {
		c.gc(uid)
	}
	for _, ref := range sortedRefs(d.foreground) {
		c.syncForeground(ref)
	}
	for _, key := range sortedKeys(d.namespaces) {
		c.finalizeNamespace(key)
	}
	if d.daemonsets["*"] {
		delete(d.daemonsets, "*")
		objs, _ := s.store.list(s.reg.must("apps", "daemonsets"), "", nil)
		for _, o := range objs {
			d.daemonsets[objKey(accessor(o).GetNamespace(), accessor(o).GetName())] = true
		}
	}
	for _, key := range sortedKeys(d.cronjobs) {
		c.syncCronJob(key)
	}
	for _, key := range sortedKeys(d.jobs) {
		c.syncJob(key)
	}
	for _, key := range sortedKeys(d.daemonsets) {
		c.syncDaemonSet(key)
	}
	for _, key := range sortedKeys(d.statefuls) {
		c.syncStatefulSet(key)
	}
	for _, key := range sortedKeys(d.deployments) {
		c.syncDeployment(key)
	}
	for _, key := range sortedKeys(d.replicasets) {
		c.syncReplicaSet(key)
	}
	svcKeys := map[string]bool{}
	for key := range d.services {
		if key[0] == '*' {
			objs, _ := s.store.list(s.reg.must("", "services"), key[1:], nil)
			for _, o := range objs {
				svcKeys[objKey(accessor(o).GetNamespace(), accessor(o).GetName())] = true
			}
		} else {
			svcKeys[key] = true
		}
	}
	for _, key := range sortedKeys(svcKeys) {
		c.syncEndpoints(key)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func splitKey(key string) (string, string) {
	ns, name, _ := strings.Cut(key, "/")
	return ns, name
}

// schedule binds a pending pod to a node, round-robin among the nodes
// that are schedulable and match its nodeSelector.
func (c *controllers) schedule(key string) {
	s := c.s
	ns, name := splitKey(key)
	res := s.reg.must("", "pods")
	obj, err := s.store.get(res, ns, name)
	if err != nil {
		return
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
		return
	}
	nodes, _ := s.store.list(s.reg.must("", "nodes"), "", nil)
	var fit []*corev1.Node
	for _, o := range nodes {
		n := o.(*corev1.Node)
		if n.Spec.Unschedulable {
			continue
		}
		if !labels.SelectorFromSet(pod.Spec.NodeSelector).Matches(labels.Set(n.Labels)) {
			continue
		}
		fit = append(fit, n)
	}
	if len(fit) == 0 {
		msg := fmt.Sprintf("0/%d nodes are available: %d node(s) didn't match Pod's node affinity/selector.", len(nodes), len(nodes))
		_, _ = s.store.update(res, ns, name, func(cur runtime.Object) (runtime.Object, error) {
			p := cur.(*corev1.Pod)
			for _, cd := range p.Status.Conditions {
				if cd.Type == corev1.PodScheduled {
					return nil, errNoChange
				}
			}
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
				LastTransitionTime: metav1.Now(), Reason: corev1.PodReasonUnschedulable, Message: msg})
			return p, nil
		})
		s.recordEvent(pod, "Pod", "", corev1.EventTypeWarning, "FailedScheduling", msg, "default-scheduler", "")
		return
	}
	sort.Slice(fit, func(i, j int) bool { return nodeOrder(fit[i].Name) < nodeOrder(fit[j].Name) })
	node := fit[c.nextNode%len(fit)]
	c.nextNode++
	bound, err := s.store.update(res, ns, name, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*corev1.Pod)
		if p.UID != pod.UID || p.Spec.NodeName != "" {
			return nil, errNoChange
		}
		p.Spec.NodeName = node.Name
		conds := []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		for _, cd := range p.Status.Conditions {
			if cd.Type != corev1.PodScheduled {
				conds = append(conds, cd)
			}
		}
		p.Status.Conditions = conds
		return p, nil
	})
	if err != nil {
		return
	}
	s.recordEvent(bound, "Pod", "", corev1.EventTypeNormal, "Scheduled",
		fmt.Sprintf("Successfully assigned %s/%s to %s", ns, name, node.Name), "default-scheduler", "")
	s.kubelet.ensure(bound.(*corev1.Pod))
}

func nodeOrder(name string) int {
	n, err := strconv.Atoi(name[len("node"):])
	if err != nil {
		return 1 << 30
	}
	return n
}

// gc deletes (in the background) the objects whose owner went; an object
// with another owner left only loses that reference.
func (c *controllers) gc(uid types.UID) {
	s := c.s
	for _, res := range s.reg.resources {
		if res.name == "events" || res.name == "namespaces" || res.name == "nodes" {
			continue
		}
		deps, _ := s.store.list(res, "", func(o runtime.Object) bool {
			for _, r := range accessor(o).GetOwnerReferences() {
				if r.UID == uid {
					return true
				}
			}
			return false
		})
		for _, dep := range deps {
			m := accessor(dep)
			if len(m.GetOwnerReferences()) > 1 {
				_, _ = s.store.update(res, m.GetNamespace(), m.GetName(), func(cur runtime.Object) (runtime.Object, error) {
					cm := accessor(cur)
					var keep []metav1.OwnerReference
					for _, r := range cm.GetOwnerReferences() {
						if r.UID != uid {
							keep = append(keep, r)
						}
					}
					cm.SetOwnerReferences(keep)
					return cur, nil
				})
				continue
			}
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			if _, err := s.delete(res, m.GetNamespace(), m.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				s.logf("gc %s %s/%s: %v", res.name, m.GetNamespace(), m.GetName(), err)
			}
		}
	}
}

// orphanDependents removes owner references to uid (propagationPolicy
// Orphan), before the owner goes.
func (s *Server) orphanDependents(uid types.UID, ns string) {
	for _, res := range s.reg.resources {
		deps, _ := s.store.list(res, "", func(o runtime.Object) bool {
			for _, r := range accessor(o).GetOwnerReferences() {
				if r.UID == uid {
					return true
				}
			}
			return false
		})
		for _, dep := range deps {
			m := accessor(dep)
			_, _ = s.store.update(res, m.GetNamespace(), m.GetName(), func(cur runtime.Object) (runtime.Object, error) {
				cm := accessor(cur)
				var keep []metav1.OwnerReference
				for _, r := range cm.GetOwnerReferences() {
					if r.UID != uid {
						keep = append(keep, r)
					}
				}
				cm.SetOwnerReferences(keep)
				return cur, nil
			})
		}
	}
}

// deleteNamespace marks a namespace Terminating; the controllers empty it
// and then remove it.
func (s *Server) deleteNamespace(ns *corev1.Namespace) (runtime.Object, error) {
	return s.store.update(s.reg.must("", "namespaces"), "", ns.Name, func(cur runtime.Object) (runtime.Object, error) {
		n := cur.(*corev1.Namespace)
		if n.DeletionTimestamp != nil {
			return nil, errNoChange
		}
		now := metav1.Now()
		n.DeletionTimestamp = &now
		n.Status.Phase = corev1.NamespaceTerminating
		return n, nil
	})
}

func (c *controllers) finalizeNamespace(ns string) {
	s := c.s
	left := 0
	for _, res := range s.reg.resources {
		if !res.namespaced {
			continue
		}
		objs, _ := s.store.list(res, ns, nil)
		for _, o := range objs {
			left++
			m := accessor(o)
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			if _, err := s.delete(res, ns, m.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				s.logf("namespace %s: delete %s %s: %v", ns, res.name, m.GetName(), err)
			}
		}
	}
	if left > 0 {
		// Some objects (pods) take their grace period; their DELETED
		// events bring us back.
		objs := 0
		for _, res := range s.reg.resources {
			if res.namespaced {
				o, _ := s.store.list(res, ns, nil)
				objs += len(o)
			}
		}
		if objs > 0 {
			return
		}
	}
	if _, err := s.store.remove(s.reg.must("", "namespaces"), "", ns, ""); err != nil && !apierrors.IsNotFound(err) {
		s.logf("namespace %s: %v", ns, err)
	}
}

// podTemplateHash is the Deployment controller's name for a template: an
// FNV-32a hash of the template (and the collision count), spelled with
// apimachinery's safe alphabet.
func podTemplateHash(t *corev1.PodTemplateSpec, collisions *int32) string {
	h := fnv.New32a()
	b, _ := json.Marshal(t)
	h.Write(b)
	if collisions != nil {
		fmt.Fprintf(h, "%d", *collisions)
	}
	return utilrand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

func ownerRef(obj runtime.Object, apiVersion, kind string) metav1.OwnerReference {
	m := accessor(obj)
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: m.GetName(), UID: m.GetUID(),
		Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
}

func revisionOf(obj runtime.Object) int64 {
	n, _ := strconv.ParseInt(accessor(obj).GetAnnotations()["deployment.kubernetes.io/revision"], 10, 64)
	return n
}

const (
	revisionAnn        = "deployment.kubernetes.io/revision"
	desiredReplicasAnn = "deployment.kubernetes.io/desired-replicas"
	maxReplicasAnn     = "deployment.kubernetes.io/max-replicas"
)

func (c *controllers) ownedBy(res *resourceInfo, ns string, uid types.UID) []runtime.Object {
	objs, _ := c.s.store.list(res, ns, func(o runtime.Object) bool {
		ref := controllerOf(o)
		return ref != nil && ref.UID == uid
	})
	return objs
}

// syncDeployment makes the Deployment's ReplicaSets match it: a ReplicaSet
// per template (named <deploy>-<hash>), the current one scaled up and the
// old ones down within maxSurge/maxUnavailable, or Recreate; then status.
func (c *controllers) syncDeployment(key string) {
	s := c.s
	ns, name := splitKey(key)
	dres, rsres := s.reg.must("apps", "deployments"), s.reg.must("apps", "replicasets")
	obj, err := s.store.get(dres, ns, name)
	if err != nil {
		return
	}
	d := obj.(*appsv1.Deployment)
	if d.DeletionTimestamp != nil {
		return
	}
	replicas := deref32(d.Spec.Replicas, 1)
	var rss []*appsv1.ReplicaSet
	for _, o := range c.ownedBy(rsres, ns, d.UID) {
		rss = append(rss, o.(*appsv1.ReplicaSet))
	}
	hash := podTemplateHash(&d.Spec.Template, d.Status.CollisionCount)
	var newRS *appsv1.ReplicaSet
	var olds []*appsv1.ReplicaSet
	maxRev := int64(0)
	for _, rs := range rss {
		if r := revisionOf(rs); r > maxRev {
			maxRev = r
		}
		if rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			newRS = rs
		} else {
			olds = append(olds, rs)
		}
	}
	sort.Slice(olds, func(i, j int) bool { return revisionOf(olds[i]) < revisionOf(olds[j]) })
	maxSurge, maxUnavail := int32(0), int32(0)
	if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType && d.Spec.Strategy.RollingUpdate != nil {
		ms, _ := intstr.GetScaledValueFromIntOrPercent(d.Spec.Strategy.RollingUpdate.MaxSurge, int(replicas), true)
		mu, _ := intstr.GetScaledValueFromIntOrPercent(d.Spec.Strategy.RollingUpdate.MaxUnavailable, int(replicas), false)
		maxSurge, maxUnavail = int32(ms), int32(mu)
		if maxSurge == 0 && maxUnavail == 0 {
			maxUnavail = 1
		}
	}
	activeOld := int32(0)
	for _, rs := range olds {
		activeOld += deref32(rs.Spec.Replicas, 0)
	}
	created := false
	if newRS == nil && !d.Spec.Paused {
		want := replicas
		if activeOld > 0 {
			if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
				want = 0
			} else {
				want = max(0, min(replicas, replicas+maxSurge-activeOld))
			}
		}
		tmpl := *d.Spec.Template.DeepCopy()
		if tmpl.Labels == nil {
			tmpl.Labels = map[string]string{}
		}
		tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		sel := d.Spec.Selector.DeepCopy()
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		ann := map[string]string{}
		for k, v := range d.Annotations {
			if k != "kubectl.kubernetes.io/last-applied-configuration" && k != revisionAnn {
				ann[k] = v
			}
		}
		ann[revisionAnn] = strconv.FormatInt(maxRev+1, 10)
		ann[desiredReplicasAnn] = strconv.Itoa(int(replicas))
		ann[maxReplicasAnn] = strconv.Itoa(int(replicas + maxSurge))
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + hash, Namespace: ns, Labels: tmpl.Labels, Annotations: ann,
				OwnerReferences: []metav1.OwnerReference{ownerRef(d, "apps/v1", "Deployment")}},
			Spec: appsv1.ReplicaSetSpec{Replicas: &want, MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: tmpl},
		}
		out, err := s.create(rsres, rs, false)
		if err != nil {
			s.logf("deployment %s: create replicaset: %v", key, err)
			return
		}
		newRS = out.(*appsv1.ReplicaSet)
		created = true
		s.recordEvent(d, "Deployment", "", corev1.EventTypeNormal, "ScalingReplicaSet",
			fmt.Sprintf("Scaled up replica set %s from 0 to %d", newRS.Name, want), "deployment-controller", "")
	} else if newRS != nil && revisionOf(newRS) < maxRev {
		// Rolled back to an older template: it becomes the newest revision.
		rev := strconv.FormatInt(maxRev+1, 10)
		out, err := s.store.update(rsres, ns, newRS.Name, func(cur runtime.Object) (runtime.Object, error) {
			rs := cur.(*appsv1.ReplicaSet)
			rs.Annotations[revisionAnn] = rev
			return rs, nil
		})
		if err == nil {
			newRS = out.(*appsv1.ReplicaSet)
		}
	}
	if newRS != nil && !d.Spec.Paused && !created {
		c.scaleDeployment(d, newRS, olds, replicas, maxSurge, maxUnavail)
	}
	// Old ReplicaSets beyond revisionHistoryLimit go.
	limit := int(deref32(d.Spec.RevisionHistoryLimit, 10))
	var idle []*appsv1.ReplicaSet
	for _, rs := range olds {
		if deref32(rs.Spec.Replicas, 0) == 0 && rs.Status.Replicas == 0 && rs.DeletionTimestamp == nil {
			idle = append(idle, rs)
		}
	}
	for i := 0; i < len(idle)-limit; i++ {
		_, _ = s.delete(rsres, ns, idle[i].Name, metav1.DeleteOptions{})
	}
	c.deploymentStatus(d, newRS, key)
}

func (c *controllers) scaleRS(d *appsv1.Deployment, rs *appsv1.ReplicaSet, to int32, replicas, maxSurge int32) {
	s := c.s
	from := deref32(rs.Spec.Replicas, 0)
	if from == to && rs.Annotations[desiredReplicasAnn] == strconv.Itoa(int(replicas)) {
		return
	}
	_, err := s.store.update(s.reg.must("apps", "replicasets"), rs.Namespace, rs.Name, func(cur runtime.Object) (runtime.Object, error) {
		r := cur.(*appsv1.ReplicaSet)
		if deref32(r.Spec.Replicas, 0) != to {
			r.Spec.Replicas = &to
			r.Generation++
		}
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations[desiredReplicasAnn] = strconv.Itoa(int(replicas))
		r.Annotations[maxReplicasAnn] = strconv.Itoa(int(replicas + maxSurge))
		return r, nil
	})
	if err != nil || from == to {
		return
	}
	dir := "up"
	if to < from {
		dir = "down"
	}
	s.recordEvent(d, "Deployment", "", corev1.EventTypeNormal, "ScalingReplicaSet",
		fmt.Sprintf("Scaled %s replica set %s from %d to %d", dir, rs.Name, from, to), "deployment-controller", "")
	rs.Spec.Replicas = &to
}

func (c *controllers) scaleDeployment(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet, replicas, maxSurge, maxUnavail int32) {
	activeOld := int32(0)
	for _, rs := range olds {
		activeOld += deref32(rs.Spec.Replicas, 0)
	}
	if activeOld == 0 {
		c.scaleRS(d, newRS, replicas, replicas, maxSurge)
		return
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		for _, rs := range olds {
			c.scaleRS(d, rs, 0, replicas, maxSurge)
		}
		// The new ReplicaSet scales up once the old pods are gone.
		running := 0
		for _, rs := range olds {
			running += int(rs.Status.Replicas)
		}
		if running == 0 {
			c.scaleRS(d, newRS, replicas, replicas, maxSurge)
		}
		return
	}
	newReplicas := deref32(newRS.Spec.Replicas, 0)
	all := newReplicas + activeOld
	if newReplicas > replicas {
		c.scaleRS(d, newRS, replicas, replicas, maxSurge)
		newReplicas = replicas
	} else if newReplicas < replicas && all < replicas+maxSurge {
		up := min(replicas+maxSurge-all, replicas-newReplicas)
		newReplicas += up
		c.scaleRS(d, newRS, newReplicas, replicas, maxSurge)
	}
	all = newReplicas + activeOld
	minAvailable := replicas - maxUnavail
	newUnavailable := newReplicas - newRS.Status.AvailableReplicas
	maxScaledDown := all - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return
	}
	// Old pods that are not available go first, then available ones as
	// far as availability allows.
	for _, rs := range olds {
		if maxScaledDown <= 0 {
			break
		}
		cur := deref32(rs.Spec.Replicas, 0)
		unhealthy := cur - rs.Status.AvailableReplicas
		if unhealthy <= 0 {
			continue
		}
		down := min(unhealthy, maxScaledDown)
		c.scaleRS(d, rs, cur-down, replicas, maxSurge)
		maxScaledDown -= down
	}
	available := newRS.Status.AvailableReplicas
	for _, rs := range olds {
		available += min(rs.Status.AvailableReplicas, deref32(rs.Spec.Replicas, 0))
	}
	budget := available - minAvailable
	for _, rs := range olds {
		if budget <= 0 {
			break
		}
		cur := deref32(rs.Spec.Replicas, 0)
		if cur == 0 {
			continue
		}
		down := min(cur, budget)
		c.scaleRS(d, rs, cur-down, replicas, maxSurge)
		budget -= down
	}
}

func (c *controllers) deploymentStatus(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, key string) {
	s := c.s
	ns := d.Namespace
	rsres := s.reg.must("apps", "replicasets")
	var st appsv1.DeploymentStatus
	for _, o := range c.ownedBy(rsres, ns, d.UID) {
		rs := o.(*appsv1.ReplicaSet)
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
		if newRS != nil && rs.UID == newRS.UID {
			st.UpdatedReplicas = rs.Status.Replicas
			newRS = rs
		}
	}
	replicas := deref32(d.Spec.Replicas, 1)
	st.UnavailableReplicas = max(0, replicas-st.AvailableReplicas)
	st.ObservedGeneration = d.Generation
	st.CollisionCount = d.Status.CollisionCount
	maxUnavail := int32(0)
	if d.Spec.Strategy.RollingUpdate != nil {
		mu, _ := intstr.GetScaledValueFromIntOrPercent(d.Spec.Strategy.RollingUpdate.MaxUnavailable, int(replicas), false)
		maxUnavail = int32(mu)
	}
	now := metav1.Now()
	cond := func(t appsv1.DeploymentConditionType, ok bool, reason, msg string) appsv1.DeploymentCondition {
		status := corev1.ConditionFalse
		if ok {
			status = corev1.ConditionTrue
		}
		nc := appsv1.DeploymentCondition{Type: t, Status: status, Reason: reason, Message: msg, LastUpdateTime: now, LastTransitionTime: now}
		for _, oc := range d.Status.Conditions {
			if oc.Type == t {
				if oc.Status == status {
					nc.LastTransitionTime = oc.LastTransitionTime
					if oc.Reason == reason && oc.Message == msg {
						nc.LastUpdateTime = oc.LastUpdateTime
					}
				}
			}
		}
		return nc
	}
	if st.AvailableReplicas >= replicas-maxUnavail {
		st.Conditions = append(st.Conditions, cond(appsv1.DeploymentAvailable, true, "MinimumReplicasAvailable", "Deployment has minimum availability."))
	} else {
		st.Conditions = append(st.Conditions, cond(appsv1.DeploymentAvailable, false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."))
	}
	if newRS != nil {
		complete := st.UpdatedReplicas == replicas && st.Replicas == replicas && st.AvailableReplicas == replicas && newRS.Status.ObservedGeneration >= newRS.Generation
		var pc appsv1.DeploymentCondition
		switch {
		case complete:
			pc = cond(appsv1.DeploymentProgressing, true, "NewReplicaSetAvailable", fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name))
		case newRS.Status.ObservedGeneration == 0 && newRS.Status.Replicas == 0:
			pc = cond(appsv1.DeploymentProgressing, true, "NewReplicaSetCreated", fmt.Sprintf("Created new replica set %q", newRS.Name))
		default:
			pc = cond(appsv1.DeploymentProgressing, true, "ReplicaSetUpdated", fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name))
		}
		// Once progressed, the message stays while nothing changes.
		st.Conditions = append(st.Conditions, pc)
	}
	// Real ordering: Progressing was added first, then Available; kubectl
	// describe lists them as stored.
	sort.SliceStable(st.Conditions, func(i, j int) bool { return st.Conditions[i].Type == appsv1.DeploymentAvailable })
	dres := s.reg.must("apps", "deployments")
	_, err := s.store.update(dres, ns, d.Name, func(cur runtime.Object) (runtime.Object, error) {
		cd := cur.(*appsv1.Deployment)
		if cd.UID != d.UID {
			return nil, errNoChange
		}
		if cd.Generation != d.Generation {
			// The spec changed meanwhile; the next pass reports it.
			return nil, errNoChange
		}
		changed := !equality.Semantic.DeepEqual(cd.Status, st)
		if newRS != nil {
			if rev := newRS.Annotations[revisionAnn]; rev != "" && cd.Annotations[revisionAnn] != rev {
				if cd.Annotations == nil {
					cd.Annotations = map[string]string{}
				}
				cd.Annotations[revisionAnn] = rev
				changed = true
			}
		}
		if !changed {
			return nil, errNoChange
		}
		cd.Status = st
		return cd, nil
	})
	if err != nil && !apierrors.IsNotFound(err) {
		s.logf("deployment %s: status: %v", key, err)
	}
}

func podReady(p *corev1.Pod) bool { return hasPodReady(p) }

// untilAvailable is how long a ready pod still has to stay ready to count
// as available: minReadySeconds after its Ready condition turned true.
func untilAvailable(p *corev1.Pod, minReady time.Duration, now time.Time) time.Duration {
	if minReady <= 0 {
		return 0
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Add(minReady).Sub(now)
		}
	}
	return 0
}

func podActive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// deletionRank orders pods for scale-down as the ReplicaSet controller
// does: unscheduled, pending, not ready, then the most recently created.
func deletionLess(a, b *corev1.Pod) bool {
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	rank := map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}
	if rank[a.Status.Phase] != rank[b.Status.Phase] {
		return rank[a.Status.Phase] < rank[b.Status.Phase]
	}
	if podReady(a) != podReady(b) {
		return !podReady(a)
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name > b.Name
}

// newPodFromTemplate makes a pod for a controller.
func newPodFromTemplate(t *corev1.PodTemplateSpec, ns, generateName string, owner metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: generateName, Namespace: ns, Labels: map[string]string{}, Annotations: map[string]string{},
			OwnerReferences: []metav1.OwnerReference{owner}},
		Spec: *t.Spec.DeepCopy(),
	}
	for k, v := range t.Labels {
		p.Labels[k] = v
	}
	for k, v := range t.Annotations {
		p.Annotations[k] = v
	}
	if len(p.Annotations) == 0 {
		p.Annotations = nil
	}
	return p
}

// syncReplicaSet keeps spec.replicas active pods, then reports status.
func (c *controllers) syncReplicaSet(key string) {
	s := c.s
	ns, name := splitKey(key)
	rsres, pres := s.reg.must("apps", "replicasets"), s.reg.must("", "pods")
	obj, err := s.store.get(rsres, ns, name)
	if err != nil {
		return
	}
	rs := obj.(*appsv1.ReplicaSet)
	if rs.DeletionTimestamp != nil {
		return
	}
	var active []*corev1.Pod
	for _, o := range c.ownedBy(pres, ns, rs.UID) {
		if p := o.(*corev1.Pod); podActive(p) {
			active = append(active, p)
		}
	}
	want := int(deref32(rs.Spec.Replicas, 1))
	switch {
	case len(active) < want:
		for i := len(active); i < want; i++ {
			pod := newPodFromTemplate(&rs.Spec.Template, ns, rs.Name+"-", ownerRef(rs, "apps/v1", "ReplicaSet"))
			out, err := s.create(pres, pod, false)
			if err != nil {
				s.logf("replicaset %s: create pod: %v", key, err)
				s.recordEvent(rs, "ReplicaSet", "", corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating: %v", err), "replicaset-controller", "")
				break
			}
			s.recordEvent(rs, "ReplicaSet", "", corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+accessor(out).GetName(), "replicaset-controller", "")
		}
	case len(active) > want:
		sort.Slice(active, func(i, j int) bool { return deletionLess(active[i], active[j]) })
		for _, p := range active[:len(active)-want] {
			if _, err := s.delete(pres, ns, p.Name, metav1.DeleteOptions{}); err == nil {
				s.recordEvent(rs, "ReplicaSet", "", corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name, "replicaset-controller", "")
			}
		}
	}
	var st appsv1.ReplicaSetStatus
	sel, _ := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	minReady := time.Duration(rs.Spec.MinReadySeconds) * time.Second
	now := time.Now()
	var recheck time.Duration // until the next ready pod becomes available
	for _, o := range c.ownedBy(pres, ns, rs.UID) {
		p := o.(*corev1.Pod)
		if !podActive(p) {
			continue
		}
		st.Replicas++
		if sel != nil && sel.Matches(labels.Set(p.Labels)) {
			st.FullyLabeledReplicas++
		}
		if podReady(p) {
			st.ReadyReplicas++
			if wait := untilAvailable(p, minReady, now); wait <= 0 {
				st.AvailableReplicas++
			} else if recheck == 0 || wait < recheck {
				recheck = wait
			}
		}
	}
	if recheck > 0 {
		// As the ReplicaSet controller does: look again when the pod has
		// been ready for minReadySeconds.
		c.after("replicasets/"+key, recheck+10*time.Millisecond)
	}
	st.ObservedGeneration = rs.Generation
	_, err = s.store.update(rsres, ns, name, func(cur runtime.Object) (runtime.Object, error) {
		r := cur.(*appsv1.ReplicaSet)
		if r.UID != rs.UID || equality.Semantic.DeepEqual(r.Status, st) {
			return nil, errNoChange
		}
		if r.Generation != rs.Generation {
			return nil, errNoChange
		}
		r.Status = st
		return r, nil
	})
	if err != nil && !apierrors.IsNotFound(err) {
		s.logf("replicaset %s: status: %v", key, err)
	}
}
