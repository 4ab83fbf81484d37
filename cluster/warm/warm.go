// Package warm keeps one cluster for several runs (labrun watch). A fresh
// built-in cluster costs seconds and hundreds of MB to start; instead,
// Record notes what the cluster holds once it is up, and Reset, after each
// run, puts it back that way: it deletes what the run added (namespaces,
// objects in the cluster's own namespaces, cluster-scoped objects such as
// CRDs, ClusterRoles, PersistentVolumes, webhooks), puts back what it
// changed (node labels, taints and cordons, ConfigMaps, RBAC...) and
// makes again what it deleted, so the next run sees what a fresh cluster
// would show.
//
// It works through the API only (discovery and the dynamic client), so it
// serves every cluster labrun starts itself. It must never be pointed at a
// cluster others use: whatever appears there after Record is deleted.
package warm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
)

// Baseline is what a cluster held when Record looked: every object of
// every resource that can be listed and deleted.
type Baseline struct {
	dyn  dynamic.Interface
	disc discovery.DiscoveryInterface
	objs map[key]*unstructured.Unstructured
	uids map[types.UID]bool
}

// key names an object. Resources are keyed by group and resource only, so
// that a version the server prefers later still finds the object.
type key struct {
	group, resource string
	namespace, name string
}

func (k key) String() string {
	r := k.resource
	if k.group != "" {
		r += "." + k.group
	}
	if k.namespace != "" {
		return fmt.Sprintf("%s %s/%s", r, k.namespace, k.name)
	}
	return r + " " + k.name
}

// resource is a listable, deletable resource the server serves.
type resource struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

// Record lists everything the cluster holds, as the cluster-admin the
// kubeconfig file names.
func Record(ctx context.Context, kubeconfig string) (*Baseline, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("recording the cluster: %w", err)
	}
	// A reset lists every resource, several times.
	cfg.QPS, cfg.Burst = 500, 1000
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	b := &Baseline{dyn: dyn, disc: disc, objs: map[key]*unstructured.Unstructured{}, uids: map[types.UID]bool{}}
	res, err := b.resources()
	if err != nil {
		return nil, fmt.Errorf("recording the cluster: %w", err)
	}
	all, err := b.settle(ctx, res)
	if err != nil {
		return nil, fmt.Errorf("recording the cluster: %w", err)
	}
	for ri, r := range res {
		items := all[ri]
		for i := range items {
			o := &items[i]
			b.objs[keyOf(r, o)] = o
			b.uids[o.GetUID()] = true
		}
	}
	return b, nil
}

// settle lists everything until the cluster's own controllers have caught
// up: every workload's controller has seen its latest spec and has all its
// replicas ready, and two lists in a row hold the same objects. A cluster
// is "ready" for a lab before its controller manager has made all it
// makes (its ServiceAccounts, kube-system's pods): recorded too early,
// those would be deleted by every reset, and made again behind its back.
// After a minute it takes what is there.
func (b *Baseline) settle(ctx context.Context, res []resource) ([][]unstructured.Unstructured, error) {
	deadline := time.Now().Add(time.Minute)
	var prev map[key]bool
	for {
		all, err := b.listAll(ctx, res)
		if err != nil {
			return nil, err
		}
		keys := map[key]bool{}
		settled := true
		for ri, r := range res {
			for i := range all[ri] {
				keys[keyOf(r, &all[ri][i])] = true
				if !caughtUp(r, &all[ri][i]) {
					settled = false
				}
			}
		}
		if settled && reflect.DeepEqual(keys, prev) || time.Now().After(deadline) {
			return all, nil
		}
		prev = keys
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// caughtUp tells whether a workload's controller has acted on its spec:
// observed its generation, and made its replicas ready.
func caughtUp(r resource, o *unstructured.Unstructured) bool {
	if r.gvr.Group != "apps" {
		return true
	}
	gen, _, _ := unstructured.NestedInt64(o.Object, "status", "observedGeneration")
	if gen < o.GetGeneration() {
		return false
	}
	switch r.gvr.Resource {
	case "deployments", "replicasets", "statefulsets":
		want, found, _ := unstructured.NestedInt64(o.Object, "spec", "replicas")
		if !found {
			want = 1
		}
		ready, _, _ := unstructured.NestedInt64(o.Object, "status", "readyReplicas")
		return ready >= want
	case "daemonsets":
		want, _, _ := unstructured.NestedInt64(o.Object, "status", "desiredNumberScheduled")
		ready, _, _ := unstructured.NestedInt64(o.Object, "status", "numberReady")
		return ready >= want
	}
	return true
}

// Len is the number of objects recorded.
func (b *Baseline) Len() int { return len(b.objs) }

// Reset puts the cluster back as Record found it and returns once it is
// (within ctx), with what it did in words, such as "deleted 3 objects
// (namespace demo, clusterrole.rbac.authorization.k8s.io reader, ...)".
// An error says what could not be undone.
func (b *Baseline) Reset(ctx context.Context) (string, error) {
	var deleted, restored, made []string
	var errs, backErrs []error
	var left []found
	gone := map[key]bool{}
	var res []resource
	for pass := 0; ; pass++ {
		var err error
		if pass == 0 { // later passes look for the same kinds (a deleted CRD's list is empty)
			res, err = b.resources()
		}
		if err == nil {
			var changed []found
			var missing []key
			left, changed, missing, err = b.diff(ctx, res)
			if err == nil && pass == 0 {
				restored, made, backErrs = b.putBack(ctx, changed, missing)
			}
		}
		if err != nil {
			if ctx.Err() != nil && len(left) > 0 {
				err = fmt.Errorf("%w, with %s still there", err, names(left))
			}
			errs = append(errs, err)
			break
		}
		if len(left) == 0 {
			break
		}
		// Deleting webhooks and aggregated APIs first keeps them from
		// refusing or hanging the other deletions; a namespace goes before
		// its content, so that nothing is made in it again meanwhile.
		sort.SliceStable(left, func(i, j int) bool { return order(left[i].k) < order(left[j].k) })
		busy := map[string]bool{}      // namespaces with something of theirs left
		lingering := map[string]bool{} // namespaces with something of theirs that does not go at once
		for _, o := range left {
			busy[o.k.namespace] = true
		}
		var emptied []string // namespaces deleted in this pass
		for _, o := range left {
			isNS := o.k.resource == "namespaces" && o.k.group == ""
			if o.obj.GetDeletionTimestamp() != nil {
				lingering[o.k.namespace] = true
				if err := b.hurry(ctx, o, pass, busy[o.k.name]); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
					errs = append(errs, err)
				}
				continue
			}
			if (o.k.resource == "pods" && o.k.group == "") || len(o.obj.GetFinalizers()) > 0 {
				lingering[o.k.namespace] = true
			}
			if err := b.delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("delete %s: %w", o.k, err))
				continue
			}
			if isNS {
				emptied = append(emptied, o.k.name)
			}
			if !gone[o.k] {
				gone[o.k] = true
				deleted = append(deleted, o.k.String())
			}
		}
		if len(errs) > 0 {
			break
		}
		// A namespace whose content is gone already is finalized now:
		// nothing can be made in a namespace being deleted.
		for _, ns := range emptied {
			if lingering[ns] {
				continue
			}
			if err := b.finalize(ctx, ns); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, err)
			}
		}
		if len(lingering) == 0 {
			continue // look again at once
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if len(errs) == 0 {
		errs = append(errs, b.dropEvents(ctx))
	}
	errs = append(backErrs, errs...)
	var what []string
	for _, part := range []struct {
		verb  string
		names []string
	}{{"deleted", deleted}, {"put back", restored}, {"made again", made}} {
		if len(part.names) > 0 {
			what = append(what, fmt.Sprintf("%s %d (%s)", part.verb, len(part.names), strings.Join(part.names, ", ")))
		}
	}
	if len(what) == 0 {
		what = append(what, "nothing to undo")
	}
	return strings.Join(what, "; "), errors.Join(errs...)
}

func names(fs []found) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.k.String())
	}
	return strings.Join(out, ", ")
}

// putBack restores the recorded objects a run changed and makes again
// those it deleted (namespaces and CRDs first, so what lives in them can
// follow).
func (b *Baseline) putBack(ctx context.Context, changed []found, missing []key) (restored, made []string, errs []error) {
	for _, o := range changed {
		if err := b.restore(ctx, o); err != nil {
			errs = append(errs, err)
			continue
		}
		restored = append(restored, o.k.String())
	}
	rank := func(k key) int {
		switch {
		case k.resource == "namespaces":
			return 0
		case k.resource == "customresourcedefinitions":
			return 1
		}
		return 2
	}
	sort.SliceStable(missing, func(i, j int) bool { return rank(missing[i]) < rank(missing[j]) })
	for _, k := range missing {
		if err := b.make(ctx, k); err != nil {
			errs = append(errs, err)
			continue
		}
		made = append(made, k.String())
	}
	return restored, made, errs
}

// hurry helps along an object that is being deleted: an emptied
// namespace is finalized at once (the namespace controller takes seconds
// to see that it is empty), a pod the node has not stopped after a few
// seconds is deleted at once, and an object held by finalizers for longer
// loses them.
func (b *Baseline) hurry(ctx context.Context, f found, pass int, busy bool) error {
	switch {
	case f.k.resource == "namespaces" && f.k.group == "" && !busy:
		return b.finalize(ctx, f.k.name)
	case f.k.resource == "pods" && f.k.group == "" && pass == 30:
		zero := int64(0)
		return b.client(f.r, f.k.namespace).Delete(ctx, f.k.name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	case pass == 60 && len(f.obj.GetFinalizers()) > 0:
		_, err := b.client(f.r, f.k.namespace).Patch(ctx, f.k.name, types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		return err
	}
	return nil
}

// finalize ends the deletion of an emptied namespace, as the namespace
// controller does once it has seen it empty, seconds later.
func (b *Baseline) finalize(ctx context.Context, name string) error {
	nss := b.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	o, err := nss.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	unstructured.RemoveNestedField(o.Object, "spec", "finalizers")
	if _, err := nss.Update(ctx, o, metav1.UpdateOptions{}, "finalize"); err != nil {
		return fmt.Errorf("finalize namespace %s: %w", name, err)
	}
	return nil
}

// dropEvents deletes the events of every namespace: the runs' events
// would show in the next one's `kubectl get events`, and a fresh cluster
// has none of them.
func (b *Baseline) dropEvents(ctx context.Context) error {
	ev := schema.GroupVersionResource{Version: "v1", Resource: "events"}
	nss := map[string]bool{}
	for k := range b.objs {
		if k.resource == "namespaces" && k.group == "" {
			nss[k.name] = true
		}
	}
	for ns := range nss {
		err := b.dyn.Resource(ev).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete the events of %s: %w", ns, err)
		}
	}
	return nil
}

// order puts webhooks and API services before everything else, then
// namespaces, then what is in them (deleted by our hand, not by the
// namespace controller's slower one).
func order(k key) int {
	switch {
	case strings.HasSuffix(k.resource, "webhookconfigurations"), k.resource == "apiservices",
		strings.HasPrefix(k.resource, "validatingadmissionpolic"):
		return 0
	case k.resource == "namespaces" && k.group == "":
		return 1
	}
	return 2
}

type found struct {
	k   key
	r   resource
	obj *unstructured.Unstructured
}

// diff compares the cluster with the baseline: objects that are new (less
// those a recorded object's controller made, which that controller looks
// after), recorded objects whose content changed, and recorded objects gone.
func (b *Baseline) diff(ctx context.Context, res []resource) (extra, changed []found, missing []key, err error) {
	seen := map[key]bool{}
	served := map[string]bool{} // group/resource
	all, err := b.listAll(ctx, res)
	if err != nil {
		return nil, nil, nil, err
	}
	for ri, r := range res {
		served[r.gvr.Group+"/"+r.gvr.Resource] = true
		items := all[ri]
		for i := range items {
			o := &items[i]
			k := keyOf(r, o)
			seen[k] = true
			base, ok := b.objs[k]
			if !ok || base.GetUID() != o.GetUID() {
				if !ok && b.ownedByBaseline(o) || bookkeeping(k) {
					continue
				}
				extra = append(extra, found{k, r, o})
				continue
			}
			if derived(k, o) {
				continue
			}
			if !reflect.DeepEqual(content(base), content(o)) {
				changed = append(changed, found{k, r, o})
			}
		}
	}
	for k, o := range b.objs {
		if seen[k] || !served[k.group+"/"+k.resource] || derived(k, o) || bookkeeping(k) {
			continue
		}
		missing = append(missing, k)
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].String() < missing[j].String() })
	return extra, changed, missing, nil
}

// ownedByBaseline: o's controller is a recorded object, such as a CoreDNS
// pod its ReplicaSet made again after a lab deleted one.
func (b *Baseline) ownedByBaseline(o *unstructured.Unstructured) bool {
	for _, ref := range o.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller && b.uids[ref.UID] {
			return true
		}
	}
	return false
}

// bookkeeping is what the cluster's own components write as they go (node
// heartbeats, leader elections, events): not the labs' state, and never
// the same twice.
func bookkeeping(k key) bool {
	switch {
	case k.resource == "events":
		return true // dropEvents deletes them all at the end
	case k.resource == "leases" && (k.namespace == "kube-node-lease" || k.namespace == "kube-system"):
		return true
	}
	return false
}

// derived objects are kept up by a controller from others (endpoints from
// Services, a controller's pods and ReplicaSets from their owner): putting
// their content back by hand would fight the controller.
func derived(k key, o *unstructured.Unstructured) bool {
	switch k.resource {
	case "events", "leases", "endpoints", "endpointslices", "controllerrevisions":
		return true
	}
	for _, ref := range o.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return true
		}
	}
	return false
}

// content is what a lab changes in an object: everything but its status
// and metadata, and of the metadata its labels and the annotations people
// set (the system's own, *.kubernetes.io, change as the cluster runs;
// kubectl's last-applied configuration is a person's).
func content(o *unstructured.Unstructured) map[string]any {
	c := map[string]any{}
	for f, v := range o.Object {
		if f != "metadata" && f != "status" && f != "apiVersion" && f != "kind" {
			c[f] = v
		}
	}
	if _, ok := c["aggregationRule"]; ok {
		delete(c, "rules") // the ClusterRole aggregation controller's
	}
	if l := o.GetLabels(); len(l) > 0 {
		c["labels"] = l
	}
	if a := personalAnnotations(o.GetAnnotations()); len(a) > 0 {
		c["annotations"] = a
	}
	return c
}

func personalAnnotations(all map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range all {
		domain, _, ok := strings.Cut(k, "/")
		if ok && strings.HasSuffix(domain, "kubernetes.io") && domain != "kubectl.kubernetes.io" {
			continue
		}
		out[k] = v
	}
	return out
}

// restore writes the recorded content back over the current object.
func (b *Baseline) restore(ctx context.Context, f found) error {
	base := b.objs[f.k]
	cl := b.client(f.r, f.k.namespace)
	cur := f.obj
	// A node's agent and the controllers write to the objects too: on a
	// conflict, read the object again and put its content back again.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if cur == nil {
			var err error
			if cur, err = cl.Get(ctx, f.k.name, metav1.GetOptions{}); err != nil {
				return err
			}
		}
		o := cur.DeepCopy()
		cur = nil
		for fld := range o.Object {
			if fld != "metadata" && fld != "status" && fld != "apiVersion" && fld != "kind" {
				delete(o.Object, fld)
			}
		}
		for fld, v := range base.DeepCopy().Object {
			if fld != "metadata" && fld != "status" && fld != "apiVersion" && fld != "kind" {
				o.Object[fld] = v
			}
		}
		o.SetLabels(base.GetLabels())
		ann := map[string]string{}
		for k, v := range o.GetAnnotations() {
			if _, personal := personalAnnotations(map[string]string{k: v})[k]; !personal {
				ann[k] = v
			}
		}
		for k, v := range personalAnnotations(base.GetAnnotations()) {
			ann[k] = v
		}
		o.SetAnnotations(ann)
		_, err := cl.Update(ctx, o, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("put back %s: %w", f.k, err)
	}
	return nil
}

// make creates a recorded object a run deleted.
func (b *Baseline) make(ctx context.Context, k key) error {
	o := b.objs[k].DeepCopy()
	r := resource{gvr: o.GroupVersionKind().GroupVersion().WithResource(k.resource), namespaced: k.namespace != ""}
	o.SetResourceVersion("")
	o.SetUID("")
	o.SetCreationTimestamp(metav1.Time{})
	o.SetManagedFields(nil)
	o.SetGeneration(0)
	unstructured.RemoveNestedField(o.Object, "status")
	made, err := b.client(r, k.namespace).Create(ctx, o, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) { // its controller was quicker
		made, err = b.client(r, k.namespace).Get(ctx, k.name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("make %s again: %w", k, err)
	}
	// The object made again is the cluster's from now on.
	b.objs[k] = made
	b.uids[made.GetUID()] = true
	return nil
}

func (b *Baseline) delete(ctx context.Context, f found) error {
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	if f.k.resource == "pods" && f.k.group == "" {
		grace := int64(1)
		opts.GracePeriodSeconds = &grace
	}
	return b.client(f.r, f.k.namespace).Delete(ctx, f.k.name, opts)
}

func (b *Baseline) client(r resource, ns string) dynamic.ResourceInterface {
	if r.namespaced {
		return b.dyn.Resource(r.gvr).Namespace(ns)
	}
	return b.dyn.Resource(r.gvr)
}

// resources are the server's preferred versions of every resource that
// can be listed and deleted. An aggregated API that does not answer (a
// lab's metrics-server, half installed) is left out, not an error.
func (b *Baseline) resources() ([]resource, error) {
	lists, err := b.disc.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, err
	}
	var out []resource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerbs(r.Verbs, "list", "delete") {
				continue
			}
			out = append(out, resource{gvr: gv.WithResource(r.Name), namespaced: r.Namespaced})
		}
	}
	return out, nil
}

func hasVerbs(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// listAll lists every resource, a few at a time: a reset's time is
// mostly these round trips.
func (b *Baseline) listAll(ctx context.Context, res []resource) ([][]unstructured.Unstructured, error) {
	out := make([][]unstructured.Unstructured, len(res))
	errs := make([]error, len(res))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, r := range res {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = b.list(ctx, r)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func (b *Baseline) list(ctx context.Context, r resource) ([]unstructured.Unstructured, error) {
	l, err := b.dyn.Resource(r.gvr).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return nil, nil // gone since discovery (a CRD deleted), or not listable after all
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", r.gvr.GroupResource(), err)
	}
	return l.Items, nil
}

func keyOf(r resource, o *unstructured.Unstructured) key {
	return key{group: r.gvr.Group, resource: r.gvr.Resource, namespace: o.GetNamespace(), name: o.GetName()}
}
