package builtintest

import (
	"context"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func TestMain(m *testing.M) { Main(m) }

// TestSharedInANamespace: the tests run in the network namespace (as root
// or with user namespaces, as CI has), and the shared cluster has its
// nodes and gives a test a namespace of its own.
func TestSharedInANamespace(t *testing.T) {
	if !InNamespace() && os.Getenv("CI") != "" {
		t.Fatal("the test binary is not in a network namespace (see the first lines of the output)")
	}
	c := Shared(t)
	if again := Shared(t); again != c {
		t.Fatal("Shared started a second cluster")
	}
	ns := Namespace(t, c)
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != len(c.Nodes()) {
		t.Fatalf("nodes: %v, %d listed, cluster says %v", err, len(nodes.Items), c.Nodes())
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		t.Fatalf("namespace %s: %v", ns, err)
	}
}
