package builtin

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"

	"github.com/labrun/labrun/cluster/node"
)

// What kubeadm (and kind) put in a new cluster besides the API server's
// own bootstrap objects, so that `kubectl get pods -n kube-system`,
// `get storageclass` and `describe node` read as on a workshop cluster.
// The system pods' containers are simulated (see cluster/node's image
// catalogue): the components they stand for are the control plane's
// processes, labrun's node agents and its networking.

const (
	imageTag        = "v1.32.4"
	localPathDriver = "rancher.io/local-path"
)

// ensureSystem creates the default StorageClass and the kube-system
// workloads; objects that already exist are left as they are.
func ensureSystem(ctx context.Context, c kubernetes.Interface, nodes int) error {
	bindWait := storagev1.VolumeBindingWaitForFirstConsumer
	reclaim := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{
			"storageclass.kubernetes.io/is-default-class": "true",
		}},
		Provisioner:       localPathDriver,
		ReclaimPolicy:     &reclaim,
		VolumeBindingMode: &bindWait,
	}
	if err := ignoreExists(c.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})); err != nil {
		return err
	}
	sys := metav1.NamespaceSystem
	for _, sa := range []string{"kube-proxy", "coredns"} {
		if err := ignoreExists(c.CoreV1().ServiceAccounts(sys).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{})); err != nil {
			return err
		}
	}
	if err := ignoreExists(c.CoreV1().ConfigMaps(sys).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns"},
		Data: map[string]string{"Corefile": `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`},
	}, metav1.CreateOptions{})); err != nil {
		return err
	}
	if err := ignoreExists(c.AppsV1().DaemonSets(sys).Create(ctx, kubeProxy(), metav1.CreateOptions{})); err != nil {
		return err
	}
	if err := ignoreExists(c.AppsV1().Deployments(sys).Create(ctx, coreDNS(), metav1.CreateOptions{})); err != nil {
		return err
	}
	dnsSvc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Labels: map[string]string{
			"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS",
		}},
		Spec: corev1.ServiceSpec{
			Selector:  map[string]string{"k8s-app": "kube-dns"},
			ClusterIP: "10.96.0.10",
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
			},
		},
	}
	if err := ignoreExists(c.CoreV1().Services(sys).Create(ctx, dnsSvc, metav1.CreateOptions{})); err != nil {
		// Another service range than kubeadm's: let the API server choose.
		if !apierrors.IsInvalid(err) {
			return err
		}
		dnsSvc.Spec.ClusterIP = ""
		if err := ignoreExists(c.CoreV1().Services(sys).Create(ctx, dnsSvc, metav1.CreateOptions{})); err != nil {
			return err
		}
	}
	_ = nodes
	return nil
}

// clusterInfo is the name kubeadm gives the ConfigMap, and the Role and
// RoleBinding that let anyone read it.
const clusterInfo = "cluster-info"

// ensureClusterInfo publishes the cluster's CA and API server address in
// kube-public, as kubeadm does (phase bootstrap-token): the ConfigMap
// cluster-info holds a kubeconfig with one nameless cluster and nothing
// else, and system:anonymous may get it, which is how a joining node or a
// curious attendee (kubectlget.md) learns where and whom to trust.
func ensureClusterInfo(ctx context.Context, c kubernetes.Interface, server string, caPEM []byte) error {
	kubeconfig, err := clientcmd.Write(clientcmdapi.Config{
		Clusters: map[string]*clientcmdapi.Cluster{"": {Server: server, CertificateAuthorityData: caPEM}},
	})
	if err != nil {
		return fmt.Errorf("%s kubeconfig: %w", clusterInfo, err)
	}
	pub := metav1.NamespacePublic
	if err := ignoreExists(c.CoreV1().ConfigMaps(pub).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: clusterInfo},
		Data:       map[string]string{"kubeconfig": string(kubeconfig)},
	}, metav1.CreateOptions{})); err != nil {
		return err
	}
	role := "kubeadm:bootstrap-signer-clusterinfo"
	if err := ignoreExists(c.RbacV1().Roles(pub).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		Rules: []rbacv1.PolicyRule{{
			Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{clusterInfo},
		}},
	}, metav1.CreateOptions{})); err != nil {
		return err
	}
	return ignoreExists(c.RbacV1().RoleBindings(pub).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "system:anonymous"}},
	}, metav1.CreateOptions{}))
}

// initNode does for a node just registered Ready what the controller
// manager would a second or two later (its allocator and node lifecycle
// controller start that long after the API server is ready): it gives the
// node the podCIDR the range allocator would, and removes the not-ready
// taint admission put on the new node, as the node lifecycle controller
// does for a Ready node (a node without a podCIDR, or tainted, takes no
// pods). The allocator takes a podCIDR it finds set as allocated (and
// never gives it to another node); if it was first, the field is
// immutable and its choice stays. The controller finds no taint left to
// remove.
func initNode(ctx context.Context, client kubernetes.Interface, name, cidr string) error {
	nodes := client.CoreV1().Nodes()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		changed := false
		if n.Spec.PodCIDR == "" && cidr != "" {
			n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
			changed = true
		}
		if nodeReady(n) {
			kept := n.Spec.Taints[:0:0]
			for _, t := range n.Spec.Taints {
				if t.Key != corev1.TaintNodeNotReady {
					kept = append(kept, t)
				}
			}
			if len(kept) != len(n.Spec.Taints) {
				n.Spec.Taints = kept
				changed = true
			}
		}
		if !changed {
			return nil
		}
		_, err = nodes.Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("node %s: podCIDR and taints: %w", name, err)
	}
	return nil
}

// nodeReady tells whether a node's Ready condition is true.
func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func ignoreExists[T any](_ T, err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func kubeProxy() *appsv1.DaemonSet {
	labels := map[string]string{"k8s-app": "kube-proxy"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy", Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "kube-proxy",
					HostNetwork:        true,
					PriorityClassName:  "system-node-critical",
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers: []corev1.Container{{
						Name:    "kube-proxy",
						Image:   "registry.k8s.io/kube-proxy:" + imageTag,
						Command: []string{"/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"},
						Env: []corev1.EnvVar{{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{
							FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}},
						SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
					}},
				},
			},
		},
	}
}

func coreDNS() *appsv1.Deployment {
	labels := map[string]string{"k8s-app": "kube-dns"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "coredns",
					PriorityClassName:  "system-cluster-critical",
					DNSPolicy:          corev1.DNSDefault,
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations: []corev1.Toleration{
						{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
						{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
					},
					Volumes: []corev1.Volume{{Name: "config-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "coredns"},
						Items:                []corev1.KeyToPath{{Key: "Corefile", Path: "Corefile"}},
					}}}},
					Containers: []corev1.Container{{
						Name:  "coredns",
						Image: "registry.k8s.io/coredns/coredns:v1.11.3",
						Args:  []string{"-conf", "/etc/coredns/Corefile"},
						Ports: []corev1.ContainerPort{
							{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
							{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
							{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
						},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("70Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: "/etc/coredns", ReadOnly: true}},
					}},
				},
			},
		},
	}
}

// createMirrorPods creates the mirror pods of kubeadm's static pods on the
// control-plane node, as its kubelet would from /etc/kubernetes/manifests.
func createMirrorPods(ctx context.Context, c kubernetes.Interface, nodeName string) error {
	n, err := c.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	type static struct {
		name, image string
		cpu         string
		command     []string
	}
	pods := []static{
		{"etcd", "registry.k8s.io/etcd:3.5.16-0", "100m", []string{"etcd", "--advertise-client-urls=https://" + addrOf(n) + ":2379", "--data-dir=/var/lib/etcd", "--name=" + nodeName}},
		{"kube-apiserver", "registry.k8s.io/kube-apiserver:" + imageTag, "250m", []string{"kube-apiserver", "--advertise-address=" + addrOf(n), "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction"}},
		{"kube-controller-manager", "registry.k8s.io/kube-controller-manager:" + imageTag, "200m", []string{"kube-controller-manager", "--allocate-node-cidrs=true", "--cluster-cidr=10.244.0.0/16"}},
		{"kube-scheduler", "registry.k8s.io/kube-scheduler:" + imageTag, "100m", []string{"kube-scheduler", "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"}},
	}
	for _, s := range pods {
		hash := fmt.Sprintf("%x", machineHash(s.name+nodeName))
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name:      s.name + "-" + nodeName,
				Namespace: metav1.NamespaceSystem,
				Labels:    map[string]string{"component": s.name, "tier": "control-plane"},
				Annotations: map[string]string{
					node.MirrorAnnotation:         hash,
					"kubernetes.io/config.hash":   hash,
					"kubernetes.io/config.seen":   metav1.Now().UTC().Format("2006-01-02T15:04:05.000000000Z"),
					"kubernetes.io/config.source": "file",
				},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID, Controller: ptr(true)}},
			},
			Spec: corev1.PodSpec{
				NodeName:          nodeName,
				HostNetwork:       true,
				PriorityClassName: "system-node-critical",
				Tolerations:       []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
				Containers: []corev1.Container{{
					Name:    s.name,
					Image:   s.image,
					Command: s.command,
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse(s.cpu),
					}},
				}},
			},
		}
		if err := ignoreExists(c.CoreV1().Pods(metav1.NamespaceSystem).Create(ctx, p, metav1.CreateOptions{})); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	return nil
}

func addrOf(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return "127.0.0.1"
}

func machineHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func ptr[T any](v T) *T { return &v }
