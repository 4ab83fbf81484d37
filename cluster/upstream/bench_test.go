package upstream_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/upstream"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// BenchmarkStart measures a start to a usable control plane (/readyz ok,
// default ServiceAccount), and reports the components' resident memory
// once idle (sum of VmRSS) as rss-MB.
func BenchmarkStart(b *testing.B) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(b, err.Error())
	}
	var rss float64
	var samples int
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "cp")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cp, err := upstream.Start(ctx, upstream.Options{Binary: bin, Dir: dir})
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		b.StopTimer()
		// Idle: the controllers' first sync is over after a few seconds.
		time.Sleep(5 * time.Second)
		rss += float64(groupRSS(b, dir)) / (1 << 20)
		samples++
		if err := cp.Close(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		b.StartTimer()
	}
	b.ReportMetric(rss/float64(samples), "rss-MB")
}

// groupRSS sums VmRSS over the processes whose command line names dir.
func groupRSS(tb testing.TB, dir string) int64 {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	var total int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
			continue
		}
		status, err := os.Open(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(status)
		for sc.Scan() {
			if kb, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64)
				total += n << 10
			}
		}
		_ = status.Close()
	}
	return total
}
