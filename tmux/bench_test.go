package tmux

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkRunTrue measures the per-step overhead of Run: typing a line,
// the shell's prompt markers, and the wake-up of the waiter. It also
// reports the median.
func BenchmarkRunTrue(b *testing.B) {
	m := newMux(b, Options{})
	p := m.Active()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		r, err := p.Run(ctx, "true")
		durs = append(durs, time.Since(t0))
		if err != nil || len(r.Statuses) != 1 || r.Statuses[0] != 0 {
			b.Fatalf("Run: %v %v", r, err)
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "median-ms")
}
