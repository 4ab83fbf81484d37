package fake

//lint:file-ignore SA1019 the hand-written server serves the deprecated v1 Endpoints API and fields that kubectl still reads; it is retired with the upstream control plane.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Server-side printing: kubectl's human output (get, -o wide, -w, get all)
// asks for a meta.k8s.io Table and prints its cells as given, so the column
// sets, the "name" format of the Name column (which gives `pod/` prefixes)
// and the AGE strings are computed here, as kube-apiserver's printers do.
// All columns are always sent; kubectl shows priority-1 ones with -o wide.

type col struct {
	name, typ, desc string
	wide            bool
}

func columns(cs ...col) []metav1.TableColumnDefinition {
	out := make([]metav1.TableColumnDefinition, len(cs))
	for i, c := range cs {
		out[i] = metav1.TableColumnDefinition{Name: c.name, Type: c.typ, Description: c.desc}
		if c.name == "Name" {
			out[i].Format = "name"
		}
		if c.wide {
			out[i].Priority = 1
		}
	}
	return out
}

var (
	nameCol = col{"Name", "string", "Name must be unique within a namespace.", false}
	ageCol  = col{"Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created.", false}
	conCol  = col{"Containers", "string", "Names of each container in the template.", true}
	imgCol  = col{"Images", "string", "Images referenced by each container in the template.", true}
	selCol  = col{"Selector", "string", "Label selector for pods.", true}
)

// printer renders one kind: its columns and a row's cells.
type printer struct {
	cols []metav1.TableColumnDefinition
	row  func(obj runtime.Object, now time.Time) []any
}

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func microAge(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func containersImages(cs []corev1.Container) (string, string) {
	var n, i []string
	for _, c := range cs {
		n = append(n, c.Name)
		i = append(i, c.Image)
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

func selectorString(sel *metav1.LabelSelector) string {
	return metav1.FormatLabelSelector(sel)
}

func (s *Server) printerFor(res *resourceInfo) printer {
	switch res.name {
	case "pods":
		return printer{columns(nameCol,
			col{"Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", false},
			col{"Status", "string", "The aggregate status of the containers in this pod.", false},
			col{"Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", false},
			ageCol,
			col{"IP", "string", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", true},
			col{"Node", "string", "NodeName is a request to schedule this pod onto a specific node.", true},
			col{"Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node.", true},
			col{"Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", true},
		), printPod}
	case "deployments":
		return printer{columns(nameCol,
			col{"Ready", "string", "Number of the pod with ready state", false},
			col{"Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", false},
			col{"Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", false},
			ageCol, conCol, imgCol, selCol), func(o runtime.Object, now time.Time) []any {
			d := o.(*appsv1.Deployment)
			c, i := containersImages(d.Spec.Template.Spec.Containers)
			return []any{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, deref32(d.Spec.Replicas, 1)),
				int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), age(d.CreationTimestamp, now), c, i, selectorString(d.Spec.Selector)}
		}}
	case "replicasets":
		return printer{columns(nameCol,
			col{"Desired", "integer", "Replicas is the number of desired replicas.", false},
			col{"Current", "integer", "Replicas is the most recently oberved number of replicas.", false},
			col{"Ready", "integer", "The number of ready replicas for this replica set.", false},
			ageCol, conCol, imgCol, selCol), func(o runtime.Object, now time.Time) []any {
			r := o.(*appsv1.ReplicaSet)
			c, i := containersImages(r.Spec.Template.Spec.Containers)
			return []any{r.Name, int64(deref32(r.Spec.Replicas, 1)), int64(r.Status.Replicas), int64(r.Status.ReadyReplicas),
				age(r.CreationTimestamp, now), c, i, selectorString(r.Spec.Selector)}
		}}
	case "controllerrevisions":
		return printer{columns(nameCol,
			col{"Controller", "string", "Controller of the object", false},
			col{"Revision", "integer", "Revision indicates the revision of the state represented by Data.", false}, ageCol),
			printControllerRevision}
	case "daemonsets":
		return printer{columns(nameCol,
			col{"Desired", "integer", "The total number of nodes that should be running the daemon pod.", false},
			col{"Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.", false},
			col{"Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", false},
			col{"Up-to-date", "integer", "The total number of nodes that are running updated daemon pod", false},
			col{"Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.", false},
			col{"Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node.", false},
			ageCol, conCol, imgCol, selCol), func(o runtime.Object, now time.Time) []any {
			d := o.(*appsv1.DaemonSet)
			c, i := containersImages(d.Spec.Template.Spec.Containers)
			ns := labels.FormatLabels(d.Spec.Template.Spec.NodeSelector)
			return []any{d.Name, int64(d.Status.DesiredNumberScheduled), int64(d.Status.CurrentNumberScheduled), int64(d.Status.NumberReady),
				int64(d.Status.UpdatedNumberScheduled), int64(d.Status.NumberAvailable), ns, age(d.CreationTimestamp, now), c, i, selectorString(d.Spec.Selector)}
		}}
	case "statefulsets":
		return printer{columns(nameCol,
			col{"Ready", "string", "Number of the pod with ready state", false},
			ageCol, conCol, imgCol), func(o runtime.Object, now time.Time) []any {
			st := o.(*appsv1.StatefulSet)
			c, i := containersImages(st.Spec.Template.Spec.Containers)
			return []any{st.Name, fmt.Sprintf("%d/%d", st.Status.ReadyReplicas, deref32(st.Spec.Replicas, 1)), age(st.CreationTimestamp, now), c, i}
		}}
	case "jobs":
		return printer{columns(nameCol,
			col{"Status", "string", "Status of the job.", false},
			col{"Completions", "string", "The desired number of successfully finished pods the job should be run with.", false},
			col{"Duration", "string", "Time required to complete the job.", false},
			ageCol, conCol, imgCol, selCol), func(o runtime.Object, now time.Time) []any {
			j := o.(*batchv1.Job)
			c, i := containersImages(j.Spec.Template.Spec.Containers)
			comp := fmt.Sprintf("%d/%d", j.Status.Succeeded, deref32(j.Spec.Completions, 1))
			if j.Spec.Completions == nil {
				comp = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, deref32(j.Spec.Parallelism, 1))
			}
			dur := ""
			if j.Status.StartTime != nil {
				end := now
				if j.Status.CompletionTime != nil {
					end = j.Status.CompletionTime.Time
				}
				dur = duration.HumanDuration(end.Sub(j.Status.StartTime.Time))
			}
			return []any{j.Name, jobStatus(j), comp, dur, age(j.CreationTimestamp, now), c, i, selectorString(j.Spec.Selector)}
		}}
	case "cronjobs":
		return printer{columns(nameCol,
			col{"Schedule", "string", "The schedule in Cron format.", false},
			col{"Timezone", "string", "The time zone name for the given schedule.", false},
			col{"Suspend", "boolean", "This flag tells the controller to suspend subsequent executions.", false},
			col{"Active", "integer", "A list of pointers to currently running jobs.", false},
			col{"Last Schedule", "string", "Information when was the last time the job was successfully scheduled.", false},
			ageCol, conCol, imgCol, selCol), func(o runtime.Object, now time.Time) []any {
			cj := o.(*batchv1.CronJob)
			c, i := containersImages(cj.Spec.JobTemplate.Spec.Template.Spec.Containers)
			last := "<none>"
			if cj.Status.LastScheduleTime != nil {
				last = age(*cj.Status.LastScheduleTime, now)
			}
			tz := "<none>"
			if cj.Spec.TimeZone != nil {
				tz = *cj.Spec.TimeZone
			}
			suspend := "<unset>"
			if cj.Spec.Suspend != nil {
				suspend = "False"
				if *cj.Spec.Suspend {
					suspend = "True"
				}
			}
			return []any{cj.Name, cj.Spec.Schedule, tz, suspend, int64(len(cj.Status.Active)), last,
				age(cj.CreationTimestamp, now), c, i, selectorString(cj.Spec.JobTemplate.Spec.Selector)}
		}}
	case "services":
		return printer{columns(nameCol,
			col{"Type", "string", "type determines how the Service is exposed.", false},
			col{"Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly.", false},
			col{"External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.", false},
			col{"Port(s)", "string", "The list of ports that are exposed by this service.", false},
			ageCol,
			col{"Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", true},
		), func(o runtime.Object, now time.Time) []any {
			sv := o.(*corev1.Service)
			ip := sv.Spec.ClusterIP
			if ip == "" {
				ip = "<none>"
			}
			return []any{sv.Name, string(sv.Spec.Type), ip, serviceExternalIP(sv), servicePorts(sv.Spec.Ports), age(sv.CreationTimestamp, now), labels.FormatLabels(sv.Spec.Selector)}
		}}
	case "nodes":
		return printer{columns(nameCol,
			col{"Status", "string", "The status of the node", false},
			col{"Roles", "string", "The roles of the node", false},
			ageCol,
			col{"Version", "string", "Kubelet Version reported by the node.", false},
			col{"Internal-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", true},
			col{"External-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", true},
			col{"OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", true},
			col{"Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", true},
			col{"Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", true},
		), printNode}
	case "namespaces":
		return printer{columns(nameCol,
			col{"Status", "string", "The status of the namespace", false}, ageCol), func(o runtime.Object, now time.Time) []any {
			n := o.(*corev1.Namespace)
			return []any{n.Name, string(n.Status.Phase), age(n.CreationTimestamp, now)}
		}}
	case "events":
		return printer{columns(
			col{"Last Seen", "string", "Time when last this event was observed.", false},
			col{"Type", "string", "Type of this event (Normal, Warning), new types could be added in the future.", false},
			col{"Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", false},
			col{"Object", "string", "The object that this event is about.", false},
			col{"Subobject", "string", "The subobject that this event is about.", true},
			col{"Source", "string", "The component reporting this event. Should be a short machine understandable string.", true},
			col{"Message", "string", "A human-readable description of the status of this operation.", false},
			col{"First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", true},
			col{"Count", "string", "The number of times this event has occurred.", true},
			col{"Name", "string", "Name must be unique within a namespace.", true},
		), printEvent}
	case "configmaps":
		return printer{columns(nameCol, col{"Data", "string", "Data contains the configuration data.", false}, ageCol), func(o runtime.Object, now time.Time) []any {
			c := o.(*corev1.ConfigMap)
			return []any{c.Name, int64(len(c.Data) + len(c.BinaryData)), age(c.CreationTimestamp, now)}
		}}
	case "secrets":
		return printer{columns(nameCol, col{"Type", "string", "The type of the secret", false}, col{"Data", "string", "The number of entries in the secret", false}, ageCol),
			func(o runtime.Object, now time.Time) []any {
				c := o.(*corev1.Secret)
				return []any{c.Name, string(c.Type), int64(len(c.Data)), age(c.CreationTimestamp, now)}
			}}
	case "serviceaccounts":
		return printer{columns(nameCol, col{"Secrets", "string", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", false}, ageCol),
			func(o runtime.Object, now time.Time) []any {
				c := o.(*corev1.ServiceAccount)
				return []any{c.Name, int64(len(c.Secrets)), age(c.CreationTimestamp, now)}
			}}
	case "endpoints":
		return printer{columns(nameCol, col{"Endpoints", "string", "Endpoints is the list of endpoints comprising a service.", false}, ageCol),
			func(o runtime.Object, now time.Time) []any {
				e := o.(*corev1.Endpoints)
				return []any{e.Name, formatEndpoints(e), age(e.CreationTimestamp, now)}
			}}
	case "leases":
		return printer{columns(nameCol, col{"Holder", "string", "The holder of the lease.", false}, ageCol),
			func(o runtime.Object, now time.Time) []any {
				l := o.(*coordinationv1.Lease)
				h := ""
				if l.Spec.HolderIdentity != nil {
					h = *l.Spec.HolderIdentity
				}
				return []any{l.Name, h, age(l.CreationTimestamp, now)}
			}}
	case "endpointslices":
		return printer{columns(nameCol,
			col{"AddressType", "string", "The IP protocol for this slice", false},
			col{"Ports", "string", "The ports for this slice", false},
			col{"Endpoints", "string", "The endpoints for this slice", false}, ageCol),
			func(o runtime.Object, now time.Time) []any {
				e := o.(*discoveryv1.EndpointSlice)
				return []any{e.Name, string(e.AddressType), formatSlicePorts(e.Ports), formatSliceEndpoints(e.Endpoints), age(e.CreationTimestamp, now)}
			}}
	}
	return printer{columns(nameCol, col{"Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object was created.", false}),
		func(o runtime.Object, now time.Time) []any {
			m := accessor(o)
			return []any{m.GetName(), m.GetCreationTimestamp().UTC().Format(time.RFC3339)}
		}}
}

// table converts objects to a Table; includeObject is None, Metadata (the
// default: PartialObjectMetadata) or Object.
func (s *Server) table(res *resourceInfo, objs []runtime.Object, includeObject string, noHeaders bool) (*metav1.Table, error) {
	p := s.printerFor(res)
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}, Rows: []metav1.TableRow{}}
	if !noHeaders {
		t.ColumnDefinitions = p.cols
	}
	now := time.Now()
	for _, obj := range objs {
		row := metav1.TableRow{Cells: p.row(obj, now)}
		if pod, ok := obj.(*corev1.Pod); ok && (pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed) {
			row.Conditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
				Reason: string(pod.Status.Phase), Message: fmt.Sprintf("The pod has %s", strings.ToLower(string(pod.Status.Phase)))}}
		}
		var embed any
		switch includeObject {
		case "None":
		case "Object":
			raw, err := s.encode(obj.DeepCopyObject())
			if err != nil {
				return nil, apierrors.NewInternalError(err)
			}
			row.Object.Raw = raw
		case "", "Metadata":
			pom := metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"}}
			if oma, ok := obj.(metav1.ObjectMetaAccessor); ok {
				if om, ok := oma.GetObjectMeta().(*metav1.ObjectMeta); ok {
					pom.ObjectMeta = *om.DeepCopy()
					pom.ManagedFields = nil
				}
			}
			embed = pom
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("includeObject: Unsupported value: %q: supported values: \"Metadata\", \"None\", \"Object\"", includeObject))
		}
		if embed != nil {
			raw, err := json.Marshal(embed)
			if err != nil {
				return nil, apierrors.NewInternalError(err)
			}
			row.Object.Raw = raw
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func hasPodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// printPod follows kube-apiserver's pod printer: STATUS is the most telling
// container reason (ContainerCreating, CrashLoopBackOff, Completed, Error…),
// Terminating while a deletion is pending, RESTARTS has "(5s ago)".
func printPod(o runtime.Object, now time.Time) []any {
	pod := o.(*corev1.Pod)
	restarts, ready := 0, 0
	total := len(pod.Spec.Containers)
	var lastRestart metav1.Time
	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	initializing := false
	for i, c := range pod.Status.InitContainerStatuses {
		restarts += int(c.RestartCount)
		if c.LastTerminationState.Terminated != nil && lastRestart.Before(&c.LastTerminationState.Terminated.FinishedAt) {
			lastRestart = c.LastTerminationState.Terminated.FinishedAt
		}
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case c.State.Terminated != nil:
			if c.State.Terminated.Reason == "" {
				if c.State.Terminated.Signal != 0 {
					reason = fmt.Sprintf("Init:Signal:%d", c.State.Terminated.Signal)
				} else {
					reason = fmt.Sprintf("Init:ExitCode:%d", c.State.Terminated.ExitCode)
				}
			} else {
				reason = "Init:" + c.State.Terminated.Reason
			}
			initializing = true
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + c.State.Waiting.Reason
			initializing = true
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
			initializing = true
		}
		break
	}
	if !initializing {
		restarts = 0
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			c := pod.Status.ContainerStatuses[i]
			restarts += int(c.RestartCount)
			if c.LastTerminationState.Terminated != nil && lastRestart.Before(&c.LastTerminationState.Terminated.FinishedAt) {
				lastRestart = c.LastTerminationState.Terminated.FinishedAt
			}
			switch {
			case c.State.Waiting != nil && c.State.Waiting.Reason != "":
				reason = c.State.Waiting.Reason
			case c.State.Terminated != nil && c.State.Terminated.Reason != "":
				reason = c.State.Terminated.Reason
			case c.State.Terminated != nil:
				if c.State.Terminated.Signal != 0 {
					reason = fmt.Sprintf("Signal:%d", c.State.Terminated.Signal)
				} else {
					reason = fmt.Sprintf("ExitCode:%d", c.State.Terminated.ExitCode)
				}
			case c.Ready && c.State.Running != nil:
				hasRunning = true
				ready++
			}
		}
		if reason == "Completed" && hasRunning {
			if hasPodReady(pod) {
				reason = "Running"
			} else {
				reason = "NotReady"
			}
		}
	}
	if pod.DeletionTimestamp != nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
		reason = "Terminating"
	}
	restartsStr := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartsStr = fmt.Sprintf("%d (%s ago)", restarts, age(lastRestart, now))
	}
	ip, node, nominated, gates := "<none>", "<none>", "<none>", "<none>"
	if pod.Status.PodIP != "" {
		ip = pod.Status.PodIP
	}
	if pod.Spec.NodeName != "" {
		node = pod.Spec.NodeName
	}
	if pod.Status.NominatedNodeName != "" {
		nominated = pod.Status.NominatedNodeName
	}
	if n := len(pod.Spec.ReadinessGates); n > 0 {
		trueGates := 0
		for _, g := range pod.Spec.ReadinessGates {
			for _, c := range pod.Status.Conditions {
				if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
					trueGates++
				}
			}
		}
		gates = fmt.Sprintf("%d/%d", trueGates, n)
	}
	return []any{pod.Name, fmt.Sprintf("%d/%d", ready, total), reason, restartsStr, age(pod.CreationTimestamp, now), ip, node, nominated, gates}
}

func printNode(o runtime.Object, now time.Time) []any {
	n := o.(*corev1.Node)
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			} else {
				status = "NotReady"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	var roles []string
	for k := range n.Labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	role := "<none>"
	if len(roles) > 0 {
		role = strings.Join(roles, ",")
	}
	internal, external := "<none>", "<none>"
	for _, a := range n.Status.Addresses {
		switch a.Type {
		case corev1.NodeInternalIP:
			internal = a.Address
		case corev1.NodeExternalIP:
			external = a.Address
		}
	}
	ni := n.Status.NodeInfo
	return []any{n.Name, status, role, age(n.CreationTimestamp, now), ni.KubeletVersion, internal, external, ni.OSImage, ni.KernelVersion, ni.ContainerRuntimeVersion}
}

func printEvent(o runtime.Object, now time.Time) []any {
	e := o.(*corev1.Event)
	first := age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = microAge(e.EventTime, now)
	}
	var last string
	switch {
	case e.Series != nil:
		last = microAge(e.Series.LastObservedTime, now)
	case e.LastTimestamp.IsZero():
		last = microAge(e.EventTime, now)
	default:
		last = age(e.LastTimestamp, now)
	}
	count := e.Count
	if e.Series != nil {
		count = e.Series.Count
	}
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	if e.Source.Host != "" {
		source += ", " + e.Source.Host
	}
	return []any{last, e.Type, e.Reason, strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name,
		e.InvolvedObject.FieldPath, source, strings.TrimSpace(e.Message), first, int64(count), e.Name}
}

func serviceExternalIP(sv *corev1.Service) string {
	switch sv.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(sv.Spec.ExternalIPs) > 0 {
			return strings.Join(sv.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range sv.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		ips = append(ips, sv.Spec.ExternalIPs...)
		if len(ips) > 0 {
			return strings.Join(ips, ",")
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return sv.Spec.ExternalName
	}
	return "<unknown>"
}

func servicePorts(ports []corev1.ServicePort) string {
	if len(ports) == 0 {
		return "<none>"
	}
	var out []string
	for _, p := range ports {
		if p.NodePort > 0 {
			out = append(out, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			out = append(out, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	return strings.Join(out, ",")
}

func formatEndpoints(e *corev1.Endpoints) string {
	if len(e.Subsets) == 0 {
		return "<none>"
	}
	var list []string
	more := 0
	for _, ss := range e.Subsets {
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				if len(list) == 3 {
					more++
					continue
				}
				list = append(list, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				if len(list) == 3 {
					more++
					continue
				}
				list = append(list, a.IP)
			}
		}
	}
	if len(list) == 0 {
		return "<none>"
	}
	out := strings.Join(list, ",")
	if more > 0 {
		out += fmt.Sprintf(" + %d more...", more)
	}
	return out
}

func formatSlicePorts(ports []discoveryv1.EndpointPort) string {
	if len(ports) == 0 {
		return "<unset>"
	}
	var out []string
	for _, p := range ports {
		if p.Port != nil {
			out = append(out, strconv.Itoa(int(*p.Port)))
		}
	}
	return strings.Join(out, ",")
}

func formatSliceEndpoints(eps []discoveryv1.Endpoint) string {
	var list []string
	more := 0
	for _, e := range eps {
		for _, a := range e.Addresses {
			if len(list) == 3 {
				more++
				continue
			}
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return "<unset>"
	}
	out := strings.Join(list, ",")
	if more > 0 {
		out += fmt.Sprintf(" + %d more...", more)
	}
	return out
}

// jobStatus follows the printer: the last true condition wins, so a
// finished Job shows Complete or Failed rather than their precursors.
func jobStatus(j *batchv1.Job) string {
	status := "Running"
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			status = "Complete"
		case batchv1.JobFailed:
			status = "Failed"
		case batchv1.JobSuspended:
			status = "Suspended"
		case batchv1.JobFailureTarget:
			status = "FailureTarget"
		case batchv1.JobSuccessCriteriaMet:
			status = "SuccessCriteriaMet"
		}
	}
	return status
}
