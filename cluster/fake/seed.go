package fake

//lint:file-ignore SA1019 the hand-written server serves the deprecated v1 Endpoints API and fields that kubectl still reads; it is retired with the upstream control plane.

import (
	"encoding/base64"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// seedObjects creates what a fresh kubeadm-like cluster has: the four
// namespaces with their default ServiceAccount and kube-root-ca.crt
// ConfigMap, Ready nodes (node1 a control-plane node without taint, as in
// the workshop clusters) with their Leases, and the kubernetes Service.
func (s *Server) seedObjects() error {
	mk := func(group, res string, obj runtime.Object) error {
		if _, err := s.create(s.reg.must(group, res), obj, false); err != nil {
			return fmt.Errorf("seed %s: %w", res, err)
		}
		return nil
	}
	for _, ns := range []string{"default", "kube-node-lease", "kube-public", "kube-system"} {
		if err := mk("", "namespaces", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
	}
	for _, ns := range []string{"default", "kube-node-lease", "kube-public", "kube-system"} {
		if err := s.namespaceDefaults(ns); err != nil {
			return err
		}
	}
	_, minor, _ := parseVersion(s.opts.Version)
	_ = minor
	for i, name := range s.nodes {
		lbl := map[string]string{
			"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
			"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
		}
		if i == 0 {
			lbl["node-role.kubernetes.io/control-plane"] = ""
			lbl["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
		}
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse("2"),
			corev1.ResourceMemory:           resource.MustParse("4025836Ki"),
			corev1.ResourcePods:             resource.MustParse("110"),
			corev1.ResourceEphemeralStorage: resource.MustParse("40470732Ki"),
			"hugepages-2Mi":                 resource.MustParse("0"),
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbl, Annotations: map[string]string{
				"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
			Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.244.%d.0/24", i+1), PodCIDRs: []string{fmt.Sprintf("10.244.%d.0/24", i+1)}},
			Status: corev1.NodeStatus{
				Capacity: capacity, Allocatable: capacity.DeepCopy(),
				Conditions: []corev1.NodeCondition{
					{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: now, LastTransitionTime: now, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
					{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: now, LastTransitionTime: now, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
					{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: now, LastTransitionTime: now, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
					{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: now, LastTransitionTime: now, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
				},
				Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP(i)}, {Type: corev1.NodeHostName, Address: name}},
				DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
				NodeInfo: corev1.NodeSystemInfo{
					MachineID: fmt.Sprintf("%032x", i+1), SystemUUID: s.randUID(), BootID: s.randUID(),
					KernelVersion: "6.8.0-labrun", OSImage: "Ubuntu 24.04.1 LTS", ContainerRuntimeVersion: "containerd://1.7.24",
					KubeletVersion: s.opts.Version, KubeProxyVersion: s.opts.Version, OperatingSystem: "linux", Architecture: "amd64",
				},
			},
		}
		if err := mk("", "nodes", node); err != nil {
			return err
		}
		if err := mk("coordination.k8s.io", "leases", &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-node-lease"},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr(name), LeaseDurationSeconds: ptr(int32(40)), RenewTime: &metav1.MicroTime{Time: time.Now()}},
		}); err != nil {
			return err
		}
	}
	if err := mk("", "endpoints", kubernetesEndpoints()); err != nil {
		return err
	}
	if err := mk("", "configmaps", s.clusterInfo()); err != nil {
		return err
	}
	return mk("", "services", kubernetesService())
}

// clusterInfo is kubeadm's kube-public/cluster-info ConfigMap: a kubeconfig
// without credentials that anyone may read to find and trust the API
// server (workshop chapters show it with `kubectl -n kube-public get`).
func (s *Server) clusterInfo() *corev1.ConfigMap {
	kc := fmt.Sprintf(`apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: %s
    server: %s
  name: ""
contexts: null
current-context: ""
kind: Config
preferences: {}
users: null
`, base64.StdEncoding.EncodeToString(s.creds.caPEM), s.url)
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-info", Namespace: "kube-public"},
		Data:       map[string]string{"kubeconfig": kc},
	}
}

// kubernetesService is the default/kubernetes Service that the apiserver
// keeps in place (it recreates it when deleted).
func kubernetesService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.1", Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(6443)}}},
	}
}

// kubernetesEndpoints are the endpoints of the kubernetes Service: the
// apiserver on node1.
func kubernetesEndpoints() *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default", Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: nodeIP(0)}},
			Ports: []corev1.EndpointPort{{Name: "https", Port: 6443, Protocol: corev1.ProtocolTCP}}}},
	}
}

// namespaceDefaults creates a namespace's default ServiceAccount and
// kube-root-ca.crt ConfigMap, as the controllers of a real cluster do.
func (s *Server) namespaceDefaults(ns string) error {
	if _, err := s.create(s.reg.must("", "serviceaccounts"), s.namespaceDefault("serviceaccounts", ns), false); err != nil {
		return fmt.Errorf("seed serviceaccount: %w", err)
	}
	if _, err := s.create(s.reg.must("", "configmaps"), s.namespaceDefault("configmaps", ns), false); err != nil {
		return fmt.Errorf("seed configmap: %w", err)
	}
	return nil
}

// namespaceDefault is the default ServiceAccount ("serviceaccounts") or
// the kube-root-ca.crt ConfigMap ("configmaps") of a namespace.
func (s *Server) namespaceDefault(resource, ns string) runtime.Object {
	if resource == "serviceaccounts" {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: ns, Annotations: map[string]string{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
		Data:       map[string]string{"ca.crt": string(s.creds.caPEM)},
	}
}
