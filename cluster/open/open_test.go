package open

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// The test binary doubles as the busybox the built-in cluster's containers
// run, in a network namespace of its own.
func TestMain(m *testing.M) { builtintest.Main(m) }

// The default is the built-in cluster, with the nodes asked for.
func TestCluster(t *testing.T) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(t, err.Error())
	}
	// Found as a run finds it: beside labrun (not a test binary), then PATH.
	t.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Dir(bin))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := Cluster(ctx, Spec{Dir: t.TempDir(), Nodes: 2})
	if err != nil {
		t.Fatalf("default (builtin): %v", err)
	}
	defer cl.Close(ctx)
	if cl.Kubeconfig() == "" || strings.Join(cl.Nodes(), " ") != "node1 node2" {
		t.Errorf("built-in cluster: kubeconfig %q, nodes %v", cl.Kubeconfig(), cl.Nodes())
	}
}

func TestClusterRefuses(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Mode: "minikube"}, `unknown --cluster "minikube" (want builtin, kind`},
		{Spec{Mode: "fake"}, `unknown --cluster "fake" (want builtin, kind`},
		{Spec{Mode: "kind", ControlPlaneDir: "/opt/k8s"}, "--control-plane is for --cluster builtin, not kind"},
		{Spec{Mode: "builtin", Kubeconfig: "/tmp/k"}, "--kubeconfig is for --cluster kubeconfig, not builtin"},
		{Spec{Kubeconfig: "/tmp/k"}, "--kubeconfig is for --cluster kubeconfig, not builtin"},
		{Spec{Mode: "builtin:x"}, "--cluster builtin:x: the built-in cluster takes no name"},
		{Spec{Mode: "builtin", ControlPlaneDir: "/nonexistent"}, "/nonexistent has no executable etcd, kube-apiserver"},
		// The default is builtin, and the error says so.
		{Spec{ControlPlaneDir: "/nonexistent"}, "--cluster builtin: "},
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
