package builtin

import (
	"context"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// sharedCluster is, for a benchmark, a cluster of its own, closed when the
// benchmark ends. The test binary runs in a network namespace of its own
// (main_test.go), and a namespace holds one built-in cluster at a time:
// ClusterReady and Deployment1000 start theirs, which a cluster kept for
// the whole binary, such as the tests' builtintest.Shared, would refuse.
// So run the benchmarks without the tests (-run '^$'), as make does.
func sharedCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(tb, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Dir: tb.TempDir(), Upstream: upstream.Options{Binary: bin}})
	if err != nil {
		tb.Fatalf("start the built-in cluster: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			tb.Errorf("close the built-in cluster: %v", err)
		}
	})
	return c
}
