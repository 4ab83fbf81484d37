package fake

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// admit applies the defaults kube-apiserver applies (what `-o yaml` shows
// on a real cluster) and the validation kubectl users run into. old is nil
// on create.
func (s *Server) admit(res *resourceInfo, obj, old runtime.Object) error {
	switch o := obj.(type) {
	case *corev1.Pod:
		defaultPodSpec(&o.Spec)
		if old == nil {
			if o.Status.Phase == "" {
				o.Status.Phase = corev1.PodPending
			}
			o.Status.QOSClass = corev1.PodQOSBestEffort
			s.admitNewPod(o)
		}
		return validatePodSpec(res, o.Name, &o.Spec, field.NewPath("spec"))
	case *appsv1.Deployment:
		if o.Spec.Replicas == nil {
			o.Spec.Replicas = ptr(int32(1))
		}
		if o.Spec.Strategy.Type == "" {
			o.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
		}
		if o.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
			if o.Spec.Strategy.RollingUpdate == nil {
				o.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
			}
			if o.Spec.Strategy.RollingUpdate.MaxSurge == nil {
				o.Spec.Strategy.RollingUpdate.MaxSurge = ptr(intstr.FromString("25%"))
			}
			if o.Spec.Strategy.RollingUpdate.MaxUnavailable == nil {
				o.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromString("25%"))
			}
		}
		if o.Spec.RevisionHistoryLimit == nil {
			o.Spec.RevisionHistoryLimit = ptr(int32(10))
		}
		if o.Spec.ProgressDeadlineSeconds == nil {
			o.Spec.ProgressDeadlineSeconds = ptr(int32(600))
		}
		defaultPodSpec(&o.Spec.Template.Spec)
		var oldSel *metav1.LabelSelector
		if d, ok := old.(*appsv1.Deployment); ok {
			oldSel = d.Spec.Selector
		}
		return validateWorkload(res, o.Name, o.Spec.Selector, oldSel, &o.Spec.Template, o.Spec.Replicas)
	case *appsv1.ReplicaSet:
		if o.Spec.Replicas == nil {
			o.Spec.Replicas = ptr(int32(1))
		}
		defaultPodSpec(&o.Spec.Template.Spec)
		var oldSel *metav1.LabelSelector
		if d, ok := old.(*appsv1.ReplicaSet); ok {
			oldSel = d.Spec.Selector
		}
		return validateWorkload(res, o.Name, o.Spec.Selector, oldSel, &o.Spec.Template, o.Spec.Replicas)
	case *appsv1.DaemonSet:
		if o.Spec.UpdateStrategy.Type == "" {
			o.Spec.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
			o.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{
				MaxUnavailable: ptr(intstr.FromInt32(1)), MaxSurge: ptr(intstr.FromInt32(0))}
		}
		if o.Spec.RevisionHistoryLimit == nil {
			o.Spec.RevisionHistoryLimit = ptr(int32(10))
		}
		defaultPodSpec(&o.Spec.Template.Spec)
		var oldSel *metav1.LabelSelector
		if d, ok := old.(*appsv1.DaemonSet); ok {
			oldSel = d.Spec.Selector
		}
		return validateWorkload(res, o.Name, o.Spec.Selector, oldSel, &o.Spec.Template, nil)
	case *appsv1.StatefulSet:
		if o.Spec.Replicas == nil {
			o.Spec.Replicas = ptr(int32(1))
		}
		if o.Spec.PodManagementPolicy == "" {
			o.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
		}
		if o.Spec.UpdateStrategy.Type == "" {
			o.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
			o.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}
		}
		if o.Spec.RevisionHistoryLimit == nil {
			o.Spec.RevisionHistoryLimit = ptr(int32(10))
		}
		defaultPodSpec(&o.Spec.Template.Spec)
		var oldSel *metav1.LabelSelector
		if d, ok := old.(*appsv1.StatefulSet); ok {
			oldSel = d.Spec.Selector
		}
		return validateWorkload(res, o.Name, o.Spec.Selector, oldSel, &o.Spec.Template, o.Spec.Replicas)
	case *batchv1.Job:
		defaultJob(o)
		if o.Spec.Template.Spec.RestartPolicy == corev1.RestartPolicyAlways {
			return invalid(res, o.Name, field.ErrorList{field.NotSupported(field.NewPath("spec", "template", "spec", "restartPolicy"),
				o.Spec.Template.Spec.RestartPolicy, []string{"OnFailure", "Never"})})
		}
		return validatePodSpec(res, o.Name, &o.Spec.Template.Spec, field.NewPath("spec", "template", "spec"))
	case *batchv1.CronJob:
		if o.Spec.ConcurrencyPolicy == "" {
			o.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
		}
		if o.Spec.Suspend == nil {
			o.Spec.Suspend = ptr(false)
		}
		if o.Spec.SuccessfulJobsHistoryLimit == nil {
			o.Spec.SuccessfulJobsHistoryLimit = ptr(int32(3))
		}
		if o.Spec.FailedJobsHistoryLimit == nil {
			o.Spec.FailedJobsHistoryLimit = ptr(int32(1))
		}
		defaultPodSpec(&o.Spec.JobTemplate.Spec.Template.Spec)
		if _, err := parseCron(o.Spec.Schedule); err != nil {
			return invalid(res, o.Name, field.ErrorList{field.Invalid(field.NewPath("spec", "schedule"), o.Spec.Schedule, err.Error())})
		}
		return nil
	case *corev1.Service:
		var prev *corev1.Service
		if p, ok := old.(*corev1.Service); ok {
			prev = p
		}
		return s.admitService(res, o, prev)
	case *corev1.Namespace:
		if old == nil {
			o.Status.Phase = corev1.NamespaceActive
			o.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
			if o.Labels == nil {
				o.Labels = map[string]string{}
			}
			o.Labels["kubernetes.io/metadata.name"] = o.Name
		}
	case *corev1.Secret:
		if o.Type == "" {
			o.Type = corev1.SecretTypeOpaque
		}
	}
	return nil
}

func defaultJob(o *batchv1.Job) {
	if o.Spec.Completions == nil && o.Spec.Parallelism == nil {
		o.Spec.Completions, o.Spec.Parallelism = ptr(int32(1)), ptr(int32(1))
	}
	if o.Spec.Parallelism == nil {
		o.Spec.Parallelism = ptr(int32(1))
	}
	if o.Spec.BackoffLimit == nil {
		o.Spec.BackoffLimit = ptr(int32(6))
	}
	if o.Spec.CompletionMode == nil {
		o.Spec.CompletionMode = ptr(batchv1.NonIndexedCompletion)
	}
	if o.Spec.Suspend == nil {
		o.Spec.Suspend = ptr(false)
	}
	if o.Spec.ManualSelector == nil || !*o.Spec.ManualSelector {
		if o.Spec.Selector == nil && o.UID != "" {
			o.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": string(o.UID)}}
		}
		if o.UID != "" {
			if o.Spec.Template.Labels == nil {
				o.Spec.Template.Labels = map[string]string{}
			}
			o.Spec.Template.Labels["batch.kubernetes.io/controller-uid"] = string(o.UID)
			o.Spec.Template.Labels["batch.kubernetes.io/job-name"] = o.Name
			o.Spec.Template.Labels["controller-uid"] = string(o.UID)
			o.Spec.Template.Labels["job-name"] = o.Name
		}
	}
	defaultPodSpec(&o.Spec.Template.Spec)
}

// defaultPodSpec fills what the apiserver fills in a pod spec.
func defaultPodSpec(sp *corev1.PodSpec) {
	if sp.RestartPolicy == "" {
		sp.RestartPolicy = corev1.RestartPolicyAlways
	}
	if sp.DNSPolicy == "" {
		sp.DNSPolicy = corev1.DNSClusterFirst
	}
	if sp.TerminationGracePeriodSeconds == nil {
		sp.TerminationGracePeriodSeconds = ptr(int64(30))
	}
	if sp.SchedulerName == "" {
		sp.SchedulerName = corev1.DefaultSchedulerName
	}
	if sp.SecurityContext == nil {
		sp.SecurityContext = &corev1.PodSecurityContext{}
	}
	for i := range sp.InitContainers {
		defaultContainer(&sp.InitContainers[i])
	}
	for i := range sp.Containers {
		defaultContainer(&sp.Containers[i])
	}
}

func defaultContainer(c *corev1.Container) {
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
		if imageTag(c.Image) == "latest" {
			c.ImagePullPolicy = corev1.PullAlways
		}
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
}

// imageTag returns the tag of an image reference ("latest" when none).
func imageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		return ""
	}
	last := image[strings.LastIndexByte(image, '/')+1:]
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		return last[i+1:]
	}
	return "latest"
}

func validatePodSpec(res *resourceInfo, name string, sp *corev1.PodSpec, p *field.Path) error {
	var errs field.ErrorList
	if len(sp.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	seen := map[string]bool{}
	for i, c := range sp.Containers {
		cp := p.Child("containers").Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), ""))
		} else if seen[c.Name] {
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		}
		seen[c.Name] = true
		if c.Image == "" {
			errs = append(errs, field.Required(cp.Child("image"), ""))
		}
	}
	if len(errs) > 0 {
		return invalid(res, name, errs)
	}
	return nil
}

// validateWorkload checks a controller's selector against its template.
func validateWorkload(res *resourceInfo, name string, sel, oldSel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, replicas *int32) error {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if sel == nil {
		errs = append(errs, field.Required(sp.Child("selector"), ""))
	} else {
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			errs = append(errs, field.Invalid(sp.Child("selector"), sel, err.Error()))
		} else if s.Empty() {
			errs = append(errs, field.Invalid(sp.Child("selector"), sel, "empty selector is invalid for deployment"))
		} else if !s.Matches(labels.Set(tmpl.Labels)) {
			errs = append(errs, field.Invalid(sp.Child("template", "metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
		}
		if oldSel != nil && !equality.Semantic.DeepEqual(sel, oldSel) {
			errs = append(errs, field.Invalid(sp.Child("selector"), sel, "field is immutable"))
		}
	}
	if replicas != nil && *replicas < 0 {
		errs = append(errs, field.Invalid(sp.Child("replicas"), *replicas, "must be greater than or equal to 0"))
	}
	if len(errs) > 0 {
		return invalid(res, name, errs)
	}
	if err := validatePodSpec(res, name, &tmpl.Spec, sp.Child("template", "spec")); err != nil {
		return err
	}
	return nil
}

// ipam hands out service cluster IPs (10.96.0.0/12, 10.96.0.1 being the
// kubernetes Service), node ports (30000-32767) and pod IPs (10.244.N.x on
// node N).
type ipam struct {
	mu        sync.Mutex
	clusterIP map[string]bool
	nodePort  map[int32]bool
	podNext   map[int]int
}

func newIPAM() *ipam {
	return &ipam{clusterIP: map[string]bool{"10.96.0.1": true, "10.96.0.10": true}, nodePort: map[int32]bool{}, podNext: map[int]int{}}
}

func (s *Server) allocClusterIP() (string, error) {
	s.ipam.mu.Lock()
	defer s.ipam.mu.Unlock()
	base := netip.MustParseAddr("10.96.0.0").As4()
	for i := 0; i < 1000; i++ {
		n := s.randIntn(1<<20-2) + 1
		ip := netip.AddrFrom4([4]byte{base[0], base[1] + byte(n>>16), byte(n >> 8), byte(n)}).String()
		if !s.ipam.clusterIP[ip] {
			s.ipam.clusterIP[ip] = true
			return ip, nil
		}
	}
	return "", apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: range is full"))
}

func (s *Server) allocNodePort(want int32) (int32, error) {
	s.ipam.mu.Lock()
	defer s.ipam.mu.Unlock()
	if want != 0 {
		if want < 30000 || want > 32767 {
			return 0, fmt.Errorf("provided port is not in the valid range. The range of valid ports is 30000-32767")
		}
		if s.ipam.nodePort[want] {
			return 0, fmt.Errorf("provided port is already allocated")
		}
		s.ipam.nodePort[want] = true
		return want, nil
	}
	for i := 0; i < 10000; i++ {
		p := int32(30000 + s.randIntn(2768))
		if !s.ipam.nodePort[p] {
			s.ipam.nodePort[p] = true
			return p, nil
		}
	}
	return 0, fmt.Errorf("range is full")
}

func (s *Server) allocPodIP(nodeIndex int) string {
	s.ipam.mu.Lock()
	defer s.ipam.mu.Unlock()
	s.ipam.podNext[nodeIndex]++
	n := s.ipam.podNext[nodeIndex]
	return fmt.Sprintf("10.244.%d.%d", nodeIndex+(n/250)*16, n%250+2)
}

func (s *Server) admitService(res *resourceInfo, o, prev *corev1.Service) error {
	sp := field.NewPath("spec")
	if o.Spec.Type == "" {
		o.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if o.Spec.SessionAffinity == "" {
		o.Spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	if o.Spec.Type != corev1.ServiceTypeExternalName {
		if o.Spec.InternalTrafficPolicy == nil {
			o.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyCluster)
		}
		if o.Spec.IPFamilyPolicy == nil {
			o.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicySingleStack)
		}
		if len(o.Spec.IPFamilies) == 0 {
			o.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
		}
	}
	if (o.Spec.Type == corev1.ServiceTypeNodePort || o.Spec.Type == corev1.ServiceTypeLoadBalancer) && o.Spec.ExternalTrafficPolicy == "" {
		o.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	var errs field.ErrorList
	if len(o.Spec.Ports) == 0 && o.Spec.Type != corev1.ServiceTypeExternalName && o.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(sp.Child("ports"), ""))
	}
	for i := range o.Spec.Ports {
		pt := &o.Spec.Ports[i]
		if pt.Protocol == "" {
			pt.Protocol = corev1.ProtocolTCP
		}
		if pt.TargetPort.Type == intstr.Int && pt.TargetPort.IntVal == 0 && pt.TargetPort.StrVal == "" {
			pt.TargetPort = intstr.FromInt32(pt.Port)
		}
		if pt.Port < 1 || pt.Port > 65535 {
			errs = append(errs, field.Invalid(sp.Child("ports").Index(i).Child("port"), pt.Port, "must be between 1 and 65535, inclusive"))
		}
		if len(o.Spec.Ports) > 1 && pt.Name == "" {
			errs = append(errs, field.Required(sp.Child("ports").Index(i).Child("name"), ""))
		}
	}
	if len(errs) > 0 {
		return invalid(res, o.Name, errs)
	}
	if prev != nil {
		if o.Spec.ClusterIP == "" {
			o.Spec.ClusterIP, o.Spec.ClusterIPs = prev.Spec.ClusterIP, prev.Spec.ClusterIPs
		}
		// Keep allocated node ports of ports that stay.
		for i := range o.Spec.Ports {
			for _, pp := range prev.Spec.Ports {
				if o.Spec.Ports[i].NodePort == 0 && pp.Port == o.Spec.Ports[i].Port && pp.Protocol == o.Spec.Ports[i].Protocol {
					o.Spec.Ports[i].NodePort = pp.NodePort
				}
			}
		}
	}
	if o.Spec.Type != corev1.ServiceTypeExternalName && o.Spec.ClusterIP == "" {
		ip, err := s.allocClusterIP()
		if err != nil {
			return err
		}
		o.Spec.ClusterIP = ip
	}
	if o.Spec.ClusterIP != "" && len(o.Spec.ClusterIPs) == 0 {
		o.Spec.ClusterIPs = []string{o.Spec.ClusterIP}
	}
	if o.Spec.Type == corev1.ServiceTypeNodePort || o.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for i := range o.Spec.Ports {
			if prev != nil && o.Spec.Ports[i].NodePort != 0 {
				kept := false
				for _, pp := range prev.Spec.Ports {
					kept = kept || pp.NodePort == o.Spec.Ports[i].NodePort
				}
				if kept {
					continue
				}
			}
			np, err := s.allocNodePort(o.Spec.Ports[i].NodePort)
			if err != nil {
				return invalid(res, o.Name, field.ErrorList{field.Invalid(sp.Child("ports").Index(i).Child("nodePort"), o.Spec.Ports[i].NodePort, err.Error())})
			}
			o.Spec.Ports[i].NodePort = np
		}
	}
	return nil
}

// admitNewPod does what the admission plugins of a default cluster do to a
// new pod (ServiceAccount, DefaultTolerationSeconds, Priority), so that
// `describe pod` and `-o yaml` look as on a real cluster.
func (s *Server) admitNewPod(p *corev1.Pod) {
	if p.Spec.ServiceAccountName == "" {
		p.Spec.ServiceAccountName = "default"
	}
	p.Spec.DeprecatedServiceAccount = p.Spec.ServiceAccountName
	if p.Spec.EnableServiceLinks == nil {
		p.Spec.EnableServiceLinks = ptr(true)
	}
	if p.Spec.Priority == nil {
		p.Spec.Priority = ptr(int32(0))
	}
	if p.Spec.PreemptionPolicy == nil {
		p.Spec.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	}
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		has := false
		for _, tol := range p.Spec.Tolerations {
			has = has || tol.Key == key
		}
		if !has {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))})
		}
	}
	if p.Spec.AutomountServiceAccountToken != nil && !*p.Spec.AutomountServiceAccountToken {
		return
	}
	for _, v := range p.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			return
		}
	}
	name := "kube-api-access-" + s.randString(5)
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(int32(0o644)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr(int64(3607)), Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}})
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	for i := range p.Spec.InitContainers {
		p.Spec.InitContainers[i].VolumeMounts = append(p.Spec.InitContainers[i].VolumeMounts, mount)
	}
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].VolumeMounts = append(p.Spec.Containers[i].VolumeMounts, mount)
	}
}
