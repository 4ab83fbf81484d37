package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Volumes live in the pod's directory (volumes/NAME) and appear in each
// container's root at their mountPath, so containers of a pod share them:
// bound there inside labrun's mount namespace (rootfs.go), else as a
// symbolic link. hostPath volumes are directories under the node's
// hostpath/ directory in the sandbox, never the host's own paths; PVCs use
// the bound PersistentVolume's hostPath or local path, which the
// provisioner put in the sandbox.

// mountVolumes prepares every volume and mounts them in the containers;
// an error (a missing ConfigMap, an unbound claim) leaves the pod
// ContainerCreating and is retried.
func (w *podWorker) mountVolumes() error {
	ctx := w.ctx
	paths := map[string]string{}
	vols := map[string]volumePath{}
	for _, v := range w.pod.Spec.Volumes {
		p, err := w.volume(ctx, v)
		if err != nil {
			return fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", v.Name, err)
		}
		paths[v.Name] = p
		vols[v.Name] = volumePath{path: p, readOnly: readOnlyVolume(v)}
	}
	if rooted() {
		// Each container's root mounts them (mountRoot).
		w.setVolumes(vols)
		return nil
	}
	for _, c := range w.containers {
		root := c.root()
		for _, d := range []string{"tmp", "etc", "var", "root"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				return err
			}
		}
		for _, m := range c.spec.VolumeMounts {
			src, ok := paths[m.Name]
			if !ok {
				return fmt.Errorf("volume %q not found", m.Name)
			}
			if m.SubPath != "" {
				src = filepath.Join(src, m.SubPath)
				if _, err := os.Stat(src); os.IsNotExist(err) {
					if err := os.MkdirAll(src, 0o755); err != nil {
						return err
					}
				}
			}
			dst := filepath.Join(root, m.MountPath)
			if !strings.HasPrefix(dst, root+string(filepath.Separator)) {
				return fmt.Errorf("mountPath %q leaves the container", m.MountPath)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			_ = os.Remove(dst)
			if err := os.Symlink(src, dst); err != nil {
				return err
			}
		}
	}
	return nil
}

// volume materialises one volume and returns its directory (or file).
func (w *podWorker) volume(ctx context.Context, v corev1.Volume) (string, error) {
	dir := filepath.Join(w.dir, "volumes", v.Name)
	cli := w.k.a.client.CoreV1()
	ns := w.pod.Namespace
	switch {
	case v.HostPath != nil:
		p := filepath.Join(w.k.dir, "..", "hostpath", w.k.a.opts.Name, filepath.Clean("/"+v.HostPath.Path))
		t := corev1.HostPathDirectoryOrCreate
		if v.HostPath.Type != nil {
			t = *v.HostPath.Type
		}
		switch t {
		case corev1.HostPathFileOrCreate, corev1.HostPathFile:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
			if err != nil {
				return "", err
			}
			f.Close()
		default:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return "", err
			}
		}
		return p, nil
	case v.PersistentVolumeClaim != nil:
		pvc, err := cli.PersistentVolumeClaims(ns).Get(ctx, v.PersistentVolumeClaim.ClaimName, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
			return "", fmt.Errorf("persistentvolumeclaim %q is not bound", pvc.Name)
		}
		pv, err := w.k.a.client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		var p string
		switch {
		case pv.Spec.HostPath != nil:
			p = pv.Spec.HostPath.Path
		case pv.Spec.Local != nil:
			p = pv.Spec.Local.Path
		default:
			p = filepath.Join(w.k.dir, "..", "pv", pv.Name)
		}
		if !filepath.IsAbs(p) || !strings.HasPrefix(filepath.Clean(p), filepath.Clean(filepath.Join(w.k.dir, "..", ".."))) {
			// A PV the deck made with its own hostPath: keep it in the sandbox.
			p = filepath.Join(w.k.dir, "..", "hostpath", w.k.a.opts.Name, filepath.Clean("/"+p))
		}
		return p, os.MkdirAll(p, 0o755)
	case v.ConfigMap != nil:
		cm, err := cli.ConfigMaps(ns).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			if v.ConfigMap.Optional != nil && *v.ConfigMap.Optional {
				return dir, os.MkdirAll(dir, 0o755)
			}
			return "", fmt.Errorf("configmap %q not found", v.ConfigMap.Name)
		}
		files := map[string][]byte{}
		for k, s := range cm.Data {
			files[k] = []byte(s)
		}
		for k, b := range cm.BinaryData {
			files[k] = b
		}
		return dir, writeFiles(dir, files, v.ConfigMap.Items)
	case v.Secret != nil:
		s, err := cli.Secrets(ns).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			if v.Secret.Optional != nil && *v.Secret.Optional {
				return dir, os.MkdirAll(dir, 0o755)
			}
			return "", fmt.Errorf("secret %q not found", v.Secret.SecretName)
		}
		return dir, writeFiles(dir, s.Data, v.Secret.Items)
	case v.DownwardAPI != nil:
		files := map[string][]byte{}
		for _, f := range v.DownwardAPI.Items {
			if f.FieldRef != nil {
				files[f.Path] = []byte(w.fieldValue(f.FieldRef.FieldPath))
			}
		}
		return dir, writeFiles(dir, files, nil)
	case v.Projected != nil:
		files := map[string][]byte{}
		for _, src := range v.Projected.Sources {
			switch {
			case src.ConfigMap != nil:
				cm, err := cli.ConfigMaps(ns).Get(ctx, src.ConfigMap.Name, metav1.GetOptions{})
				if err != nil {
					if src.ConfigMap.Optional != nil && *src.ConfigMap.Optional {
						continue
					}
					return "", fmt.Errorf("configmap %q not found", src.ConfigMap.Name)
				}
				add(files, stringsToBytes(cm.Data), src.ConfigMap.Items)
			case src.Secret != nil:
				s, err := cli.Secrets(ns).Get(ctx, src.Secret.Name, metav1.GetOptions{})
				if err != nil {
					if src.Secret.Optional != nil && *src.Secret.Optional {
						continue
					}
					return "", fmt.Errorf("secret %q not found", src.Secret.Name)
				}
				add(files, s.Data, src.Secret.Items)
			case src.DownwardAPI != nil:
				for _, f := range src.DownwardAPI.Items {
					if f.FieldRef != nil {
						files[f.Path] = []byte(w.fieldValue(f.FieldRef.FieldPath))
					}
				}
			case src.ServiceAccountToken != nil:
				files[src.ServiceAccountToken.Path] = []byte(w.saToken(ctx, src.ServiceAccountToken.ExpirationSeconds))
			case src.ClusterTrustBundle != nil:
			}
		}
		// The kube-root-ca.crt ConfigMap the API server publishes is the
		// run's CA: the projected service-account volume gets it as is.
		return dir, writeFiles(dir, files, nil)
	default: // emptyDir, and kinds we cannot back: an empty directory
		return dir, os.MkdirAll(dir, 0o755)
	}
}

// saToken asks the API server for a bound service-account token, as the
// kubelet does for projected volumes; "" when it cannot.
func (w *podWorker) saToken(ctx context.Context, exp *int64) string {
	sa := w.pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: w.pod.Name, UID: w.pod.UID},
	}}
	tr, err := w.k.a.client.CoreV1().ServiceAccounts(w.pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		w.k.a.logf("pod %s/%s: token: %v", w.pod.Namespace, w.pod.Name, err)
		return ""
	}
	return tr.Status.Token
}

func stringsToBytes(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func add(files, data map[string][]byte, items []corev1.KeyToPath) {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = v
		}
		return
	}
	for _, it := range items {
		if v, ok := data[it.Key]; ok {
			files[it.Path] = v
		}
	}
}

// writeFiles writes a volume's files (only items, under their paths, when
// items are given).
func writeFiles(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	files := map[string][]byte{}
	add(files, data, items)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.Clean("/"+name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
