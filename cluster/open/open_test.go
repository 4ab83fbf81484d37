package open

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := Cluster(ctx, Spec{Dir: t.TempDir(), Nodes: 2})
	if err != nil {
		t.Fatalf("default (fake): %v", err)
	}
	defer cl.Close(ctx)
	if cl.Kubeconfig() == "" || len(cl.Nodes()) != 2 {
		t.Errorf("fake cluster: kubeconfig %q, nodes %v", cl.Kubeconfig(), cl.Nodes())
	}
}

func TestClusterRefuses(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Mode: "minikube"}, `unknown --cluster "minikube" (want fake, builtin, kind`},
		{Spec{Mode: "fake:x"}, "--cluster fake:x: the fake cluster takes no name"},
		{Spec{Mode: "fake", ControlPlaneDir: "/opt/k8s"}, "--control-plane is for --cluster builtin, not fake"},
		{Spec{Mode: "kind", ControlPlaneDir: "/opt/k8s"}, "--control-plane is for --cluster builtin, not kind"},
		{Spec{Mode: "builtin", Kubeconfig: "/tmp/k"}, "--kubeconfig is for --cluster kubeconfig, not builtin"},
		{Spec{Mode: "builtin:x"}, "--cluster builtin:x: the built-in cluster takes no name"},
		{Spec{Mode: "builtin", ControlPlaneDir: "/nonexistent"}, "--cluster builtin: "},
	} {
		t.Run(tc.spec.Mode, func(t *testing.T) {
			tc.spec.Dir = t.TempDir()
			cl, err := Cluster(context.Background(), tc.spec)
			if err == nil {
				cl.Close(context.Background())
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}
