package fake

//lint:file-ignore SA1019 the hand-written server serves the deprecated v1 Endpoints API and fields that kubectl still reads; it is retired with the upstream control plane.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// updateStatus writes a controller's status when it changed.
func (c *controllers) updateStatus(res *resourceInfo, obj runtime.Object, set func(cur runtime.Object) bool) {
	m := accessor(obj)
	_, err := c.s.store.update(res, m.GetNamespace(), m.GetName(), func(cur runtime.Object) (runtime.Object, error) {
		if accessor(cur).GetUID() != m.GetUID() || !set(cur) {
			return nil, errNoChange
		}
		return cur, nil
	})
	if err != nil && !apierrors.IsNotFound(err) {
		c.s.logf("%s %s/%s: status: %v", res.name, m.GetNamespace(), m.GetName(), err)
	}
}

// syncEndpoints keeps a selector Service's Endpoints and EndpointSlice in
// step with the pods it selects (ready ones as addresses).
func (c *controllers) syncEndpoints(key string) {
	s := c.s
	ns, name := splitKey(key)
	epres, slres := s.reg.must("", "endpoints"), s.reg.must("discovery.k8s.io", "endpointslices")
	obj, err := s.store.get(s.reg.must("", "services"), ns, name)
	if err != nil {
		if _, err := s.store.get(epres, ns, name); err == nil {
			_, _ = s.delete(epres, ns, name, metav1.DeleteOptions{})
		}
		return
	}
	svc := obj.(*corev1.Service)
	if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	pods, _ := s.store.list(s.reg.must("", "pods"), ns, func(o runtime.Object) bool {
		p := o.(*corev1.Pod)
		return sel.Matches(labels.Set(p.Labels)) && p.Status.PodIP != "" && p.DeletionTimestamp == nil &&
			p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
	})
	sort.Slice(pods, func(i, j int) bool { return pods[i].(*corev1.Pod).Status.PodIP < pods[j].(*corev1.Pod).Status.PodIP })
	var ready, notReady []corev1.EndpointAddress
	var slEps []discoveryv1.Endpoint
	var ports []corev1.EndpointPort
	var slPorts []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		port := sp.TargetPort.IntVal
		if sp.TargetPort.Type == intstr.String {
			port = 0
			for _, o := range pods {
				for _, ct := range o.(*corev1.Pod).Spec.Containers {
					for _, cp := range ct.Ports {
						if cp.Name == sp.TargetPort.StrVal {
							port = cp.ContainerPort
						}
					}
				}
			}
			if port == 0 {
				continue
			}
		}
		ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: sp.Protocol})
		slPorts = append(slPorts, discoveryv1.EndpointPort{Name: ptr(sp.Name), Port: ptr(port), Protocol: ptr(sp.Protocol)})
	}
	for _, o := range pods {
		p := o.(*corev1.Pod)
		addr := corev1.EndpointAddress{IP: p.Status.PodIP, NodeName: ptr(p.Spec.NodeName),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: p.Name, UID: p.UID}}
		ok := hasPodReady(p)
		if ok {
			ready = append(ready, addr)
		} else {
			notReady = append(notReady, addr)
		}
		slEps = append(slEps, discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(ok), Serving: ptr(ok), Terminating: ptr(false)},
			NodeName:   ptr(p.Spec.NodeName), TargetRef: addr.TargetRef})
	}
	var subsets []corev1.EndpointSubset
	if len(ready)+len(notReady) > 0 && len(ports) > 0 {
		subsets = []corev1.EndpointSubset{{Addresses: ready, NotReadyAddresses: notReady, Ports: ports}}
	}
	lbl := map[string]string{}
	for k, v := range svc.Labels {
		lbl[k] = v
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: lbl}, Subsets: subsets}
	if cur, err := s.store.get(epres, ns, name); err != nil {
		_, _ = s.create(epres, ep, false)
	} else if !equality.Semantic.DeepEqual(cur.(*corev1.Endpoints).Subsets, subsets) {
		_, _ = s.store.update(epres, ns, name, func(o runtime.Object) (runtime.Object, error) {
			e := o.(*corev1.Endpoints)
			e.Subsets = subsets
			return e, nil
		})
	}
	slices, _ := s.store.list(slres, ns, func(o runtime.Object) bool {
		return accessor(o).GetLabels()[discoveryv1.LabelServiceName] == name
	})
	if len(slices) == 0 {
		sl := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-", Namespace: ns, Labels: map[string]string{
				discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"},
				OwnerReferences: []metav1.OwnerReference{ownerRef(svc, "v1", "Service")}},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: slEps, Ports: slPorts,
		}
		_, _ = s.create(slres, sl, false)
		return
	}
	sl := slices[0].(*discoveryv1.EndpointSlice)
	if !equality.Semantic.DeepEqual(sl.Endpoints, slEps) || !equality.Semantic.DeepEqual(sl.Ports, slPorts) {
		_, _ = s.store.update(slres, ns, sl.Name, func(o runtime.Object) (runtime.Object, error) {
			e := o.(*discoveryv1.EndpointSlice)
			e.Endpoints, e.Ports = slEps, slPorts
			return e, nil
		})
	}
}

// syncJob runs a Job's pods to spec.completions successes, at most
// spec.parallelism at a time, failing it after backoffLimit failures.
func (c *controllers) syncJob(key string) {
	s := c.s
	ns, name := splitKey(key)
	jres, pres := s.reg.must("batch", "jobs"), s.reg.must("", "pods")
	obj, err := s.store.get(jres, ns, name)
	if err != nil {
		return
	}
	job := obj.(*batchv1.Job)
	if job.DeletionTimestamp != nil {
		return
	}
	for _, cd := range job.Status.Conditions {
		if (cd.Type == batchv1.JobComplete || cd.Type == batchv1.JobFailed) && cd.Status == corev1.ConditionTrue {
			return
		}
	}
	var active []*corev1.Pod
	succeeded, failed, ready := int32(0), int32(0), int32(0)
	for _, o := range c.ownedBy(pres, ns, job.UID) {
		p := o.(*corev1.Pod)
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			succeeded++
		case p.Status.Phase == corev1.PodFailed:
			failed++
		case p.DeletionTimestamp == nil:
			active = append(active, p)
			if hasPodReady(p) {
				ready++
			}
		}
	}
	for _, p := range active {
		for _, cs := range p.Status.ContainerStatuses {
			failed += cs.RestartCount
		}
	}
	now := metav1.Now()
	st := job.Status.DeepCopy()
	if st.StartTime == nil && !*job.Spec.Suspend {
		st.StartTime = &now
	}
	completions := deref32(job.Spec.Completions, 1)
	parallelism := deref32(job.Spec.Parallelism, 1)
	done, fail := false, false
	switch {
	case failed > deref32(job.Spec.BackoffLimit, 6):
		fail = true
	case job.Spec.Completions == nil && succeeded > 0 && len(active) == 0:
		done = true
	case job.Spec.Completions != nil && succeeded >= completions:
		done = true
	}
	if job.Spec.ActiveDeadlineSeconds != nil && st.StartTime != nil && time.Since(st.StartTime.Time) > time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second {
		fail = true
	}
	want := int32(0)
	if !done && !fail && !*job.Spec.Suspend {
		want = parallelism
		if job.Spec.Completions != nil {
			want = min(parallelism, completions-succeeded)
		} else if succeeded > 0 {
			want = 0
		}
	}
	if int32(len(active)) > want {
		for _, p := range active[want:] {
			_, _ = s.delete(pres, ns, p.Name, metav1.DeleteOptions{})
		}
		active = active[:want]
	}
	for i := int32(len(active)); i < want; i++ {
		pod := newPodFromTemplate(&job.Spec.Template, ns, job.Name+"-", ownerRef(job, "batch/v1", "Job"))
		out, err := s.create(pres, pod, false)
		if err != nil {
			s.recordEvent(job, "Job", "", corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating: %v", err), "job-controller", "")
			break
		}
		s.recordEvent(job, "Job", "", corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+accessor(out).GetName(), "job-controller", "")
		active = append(active, out.(*corev1.Pod))
	}
	st.Active, st.Succeeded, st.Failed, st.Ready = int32(len(active)), succeeded, failed, &ready
	st.Terminating = ptr(int32(0))
	st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	switch {
	case done:
		st.CompletionTime = &now
		st.Conditions = append(st.Conditions,
			batchv1.JobCondition{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods"},
			batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods"})
		s.recordEvent(job, "Job", "", corev1.EventTypeNormal, "Completed", "Job completed", "job-controller", "")
	case fail:
		reason, msg := "BackoffLimitExceeded", "Job has reached the specified backoff limit"
		if job.Spec.ActiveDeadlineSeconds != nil && failed <= deref32(job.Spec.BackoffLimit, 6) {
			reason, msg = "DeadlineExceeded", "Job was active longer than specified deadline"
		}
		st.Conditions = append(st.Conditions,
			batchv1.JobCondition{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now, Reason: reason, Message: msg},
			batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now, Reason: reason, Message: msg})
		s.recordEvent(job, "Job", "", corev1.EventTypeWarning, reason, msg, "job-controller", "")
	}
	if job.Spec.ActiveDeadlineSeconds != nil && !done && !fail && st.StartTime != nil {
		c.after("jobs/"+key, time.Until(st.StartTime.Add(time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second))+10*time.Millisecond)
	}
	c.updateStatus(jres, job, func(cur runtime.Object) bool {
		j := cur.(*batchv1.Job)
		if equality.Semantic.DeepEqual(j.Status, *st) {
			return false
		}
		j.Status = *st
		return true
	})
}

// templateHash names a pod template for DaemonSets and StatefulSets
// (controller-revision-hash).
func templateHash(t *corev1.PodTemplateSpec) string { return podTemplateHash(t, nil) }

// syncDaemonSet keeps one pod on each schedulable node that matches the
// nodeSelector; a changed template replaces pods one at a time.
func (c *controllers) syncDaemonSet(key string) {
	s := c.s
	ns, name := splitKey(key)
	dres, pres := s.reg.must("apps", "daemonsets"), s.reg.must("", "pods")
	obj, err := s.store.get(dres, ns, name)
	if err != nil {
		return
	}
	ds := obj.(*appsv1.DaemonSet)
	if ds.DeletionTimestamp != nil {
		return
	}
	hash := templateHash(&ds.Spec.Template)
	c.snapshotRevision(ds, "DaemonSet", hash, map[string]string{appsv1.ControllerRevisionHashLabelKey: hash}, &ds.Spec.Template, ds.Spec.RevisionHistoryLimit)
	nodes, _ := s.store.list(s.reg.must("", "nodes"), "", nil)
	byNode := map[string][]*corev1.Pod{}
	for _, o := range c.ownedBy(pres, ns, ds.UID) {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	var st appsv1.DaemonSetStatus
	outdatedReady := []*corev1.Pod{}
	allReady := true
	for _, o := range nodes {
		n := o.(*corev1.Node)
		if n.Spec.Unschedulable || !labels.SelectorFromSet(ds.Spec.Template.Spec.NodeSelector).Matches(labels.Set(n.Labels)) {
			for _, p := range byNode[n.Name] {
				_, _ = s.delete(pres, ns, p.Name, metav1.DeleteOptions{})
			}
			continue
		}
		st.DesiredNumberScheduled++
		ps := byNode[n.Name]
		if len(ps) == 0 {
			pod := newPodFromTemplate(&ds.Spec.Template, ns, ds.Name+"-", ownerRef(ds, "apps/v1", "DaemonSet"))
			pod.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
			pod.Labels["pod-template-generation"] = strconv.FormatInt(ds.Generation, 10)
			pod.Spec.NodeName = n.Name
			if out, err := s.create(pres, pod, false); err == nil {
				s.recordEvent(ds, "DaemonSet", "", corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+accessor(out).GetName(), "daemonset-controller", "")
			}
			allReady = false
			continue
		}
		for _, p := range ps[1:] {
			_, _ = s.delete(pres, ns, p.Name, metav1.DeleteOptions{})
		}
		p := ps[0]
		st.CurrentNumberScheduled++
		if hasPodReady(p) {
			st.NumberReady++
			st.NumberAvailable++
		} else {
			allReady = false
		}
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash {
			st.UpdatedNumberScheduled++
		} else if hasPodReady(p) {
			outdatedReady = append(outdatedReady, p)
		}
	}
	if allReady && len(outdatedReady) > 0 {
		_, _ = s.delete(pres, ns, outdatedReady[0].Name, metav1.DeleteOptions{})
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	st.ObservedGeneration = ds.Generation
	c.updateStatus(dres, ds, func(cur runtime.Object) bool {
		d := cur.(*appsv1.DaemonSet)
		if equality.Semantic.DeepEqual(d.Status, st) || d.Generation != ds.Generation {
			return false
		}
		d.Status = st
		return true
	})
}

// syncStatefulSet runs pods NAME-0..N-1 in order (each after the previous
// is Ready), scales down from the highest ordinal, and replaces outdated
// pods from the highest ordinal down, one at a time.
func (c *controllers) syncStatefulSet(key string) {
	s := c.s
	ns, name := splitKey(key)
	sres, pres := s.reg.must("apps", "statefulsets"), s.reg.must("", "pods")
	obj, err := s.store.get(sres, ns, name)
	if err != nil {
		return
	}
	sts := obj.(*appsv1.StatefulSet)
	if sts.DeletionTimestamp != nil {
		return
	}
	hash := templateHash(&sts.Spec.Template)
	rev := c.snapshotRevision(sts, "StatefulSet", hash, map[string]string{"controller.kubernetes.io/hash": hash}, &sts.Spec.Template, sts.Spec.RevisionHistoryLimit)
	replicas := int(deref32(sts.Spec.Replicas, 1))
	pods := map[int]*corev1.Pod{}
	for _, o := range c.ownedBy(pres, ns, sts.UID) {
		p := o.(*corev1.Pod)
		i, err := strconv.Atoi(strings.TrimPrefix(p.Name, sts.Name+"-"))
		if err == nil {
			pods[i] = p
		}
	}
	parallel := sts.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
	busy := false
	for i, p := range pods {
		if i >= replicas {
			continue
		}
		if p.DeletionTimestamp != nil || !hasPodReady(p) {
			busy = true
		}
	}
	for i := 0; i < replicas; i++ {
		p := pods[i]
		if p == nil {
			if busy && !parallel {
				break
			}
			pod := newPodFromTemplate(&sts.Spec.Template, ns, "", ownerRef(sts, "apps/v1", "StatefulSet"))
			pod.Name = fmt.Sprintf("%s-%d", sts.Name, i)
			pod.Labels[appsv1.ControllerRevisionHashLabelKey] = rev
			pod.Labels[appsv1.StatefulSetPodNameLabel] = pod.Name
			pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(i)
			pod.Spec.Hostname = pod.Name
			pod.Spec.Subdomain = sts.Spec.ServiceName
			if out, err := s.create(pres, pod, false); err == nil {
				s.recordEvent(sts, "StatefulSet", "", corev1.EventTypeNormal, "SuccessfulCreate",
					fmt.Sprintf("create Pod %s in StatefulSet %s successful", accessor(out).GetName(), sts.Name), "statefulset-controller", "")
			}
			busy = true
			continue
		}
		if p.Status.Phase == corev1.PodFailed && p.DeletionTimestamp == nil {
			_, _ = s.delete(pres, ns, p.Name, metav1.DeleteOptions{})
			busy = true
		}
	}
	// Scale down: highest ordinal first, one at a time.
	var extra []int
	for i := range pods {
		if i >= replicas {
			extra = append(extra, i)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(extra)))
	if len(extra) > 0 && pods[extra[0]].DeletionTimestamp == nil && (!busy || parallel) {
		_, _ = s.delete(pres, ns, pods[extra[0]].Name, metav1.DeleteOptions{})
		s.recordEvent(sts, "StatefulSet", "", corev1.EventTypeNormal, "SuccessfulDelete",
			fmt.Sprintf("delete Pod %s in StatefulSet %s successful", pods[extra[0]].Name, sts.Name), "statefulset-controller", "")
		busy = true
	}
	// Rolling update: the highest outdated ordinal when all are ready.
	if !busy && len(extra) == 0 && sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
		for i := replicas - 1; i >= 0; i-- {
			if p := pods[i]; p != nil && p.Labels[appsv1.ControllerRevisionHashLabelKey] != rev {
				_, _ = s.delete(pres, ns, p.Name, metav1.DeleteOptions{})
				break
			}
		}
	}
	var st appsv1.StatefulSetStatus
	for i, p := range pods {
		if i >= replicas || p.DeletionTimestamp != nil {
			continue
		}
		st.Replicas++
		if hasPodReady(p) {
			st.ReadyReplicas++
			st.AvailableReplicas++
		}
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] == rev {
			st.UpdatedReplicas++
		}
	}
	st.CurrentReplicas = st.UpdatedReplicas
	st.CurrentRevision, st.UpdateRevision = rev, rev
	st.ObservedGeneration = sts.Generation
	st.CollisionCount = ptr(int32(0))
	c.updateStatus(sres, sts, func(cur runtime.Object) bool {
		x := cur.(*appsv1.StatefulSet)
		if equality.Semantic.DeepEqual(x.Status, st) || x.Generation != sts.Generation {
			return false
		}
		x.Status = st
		return true
	})
}
