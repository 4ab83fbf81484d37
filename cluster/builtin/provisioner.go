package builtin

import (
	"context"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// provisioner is kind's local-path provisioner in miniature: for a claim
// of a StorageClass whose provisioner is rancher.io/local-path, once the
// scheduler has picked its node (WaitForFirstConsumer), it creates a
// hostPath PersistentVolume in the sandbox; the controller manager's PV
// controller binds them. A released volume with reclaimPolicy Delete is
// deleted with its directory.
type provisioner struct {
	client kubernetes.Interface
	root   string
	logf   func(string, ...any)
}

const (
	annSelectedNode  = "volume.kubernetes.io/selected-node"
	annProvisioner   = "volume.kubernetes.io/storage-provisioner"
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

func (p *provisioner) run(ctx context.Context) {
	f := informers.NewSharedInformerFactory(p.client, 0)
	pvcs := f.Core().V1().PersistentVolumeClaims().Informer()
	pvs := f.Core().V1().PersistentVolumes().Informer()
	_, _ = pvcs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { p.claim(ctx, o) },
		UpdateFunc: func(_, o any) { p.claim(ctx, o) },
	})
	_, _ = pvs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { p.volume(ctx, o) },
		UpdateFunc: func(_, o any) { p.volume(ctx, o) },
	})
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
}

func (p *provisioner) claim(ctx context.Context, o any) {
	pvc, ok := o.(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil {
		return
	}
	if pvc.Annotations[annProvisioner] != localPathDriver {
		return
	}
	nodeName := pvc.Annotations[annSelectedNode]
	if nodeName == "" {
		return
	}
	name := "pvc-" + string(pvc.UID)
	if _, err := p.client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{}); err == nil {
		return
	}
	sc := ""
	if pvc.Spec.StorageClassName != nil {
		sc = *pvc.Spec.StorageClassName
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if cls, err := p.client.StorageV1().StorageClasses().Get(ctx, sc, metav1.GetOptions{}); err == nil && cls.ReclaimPolicy != nil {
		reclaim = *cls.ReclaimPolicy
	}
	dir := filepath.Join(p.root, name+"_"+pvc.Namespace+"_"+pvc.Name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		p.logf("local-path provisioner: %v", err)
		return
	}
	hpType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: localPathDriver, "local.path.provisioner/selected-node": nodeName}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              sc,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hpType}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}}},
			}}}},
		},
	}
	if _, err := p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) && ctx.Err() == nil {
		p.logf("local-path provisioner: %s: %v", name, err)
	}
}

func (p *provisioner) volume(ctx context.Context, o any) {
	pv, ok := o.(*corev1.PersistentVolume)
	if !ok || pv.Annotations[annProvisionedBy] != localPathDriver || pv.DeletionTimestamp != nil {
		return
	}
	if pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return
	}
	if pv.Spec.HostPath != nil && filepath.Dir(pv.Spec.HostPath.Path) == p.root {
		_ = os.RemoveAll(pv.Spec.HostPath.Path)
	}
	err := p.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		p.logf("local-path provisioner: delete %s: %v", pv.Name, err)
	}
}
