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
// default ServiceAccount), and the components' memory once idle: rss-MB is
// the sum of their VmRSS, which counts the pages of labrun-k8s they share
// (one binary, mapped four times) once per process; pss-MB is the sum of
// their Pss, shared pages split among the sharers: what the machine spends.
func BenchmarkStart(b *testing.B) {
	bin, err := upstreamtest.Binary()
	if err != nil {
		upstreamtest.SkipOrFail(b, err.Error())
	}
	var rss, pss float64
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
		r, p := groupMemory(b, dir)
		rss += float64(r) / (1 << 20)
		pss += float64(p) / (1 << 20)
		samples++
		if err := cp.Close(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		b.StartTimer()
	}
	b.ReportMetric(rss/float64(samples), "rss-MB")
	b.ReportMetric(pss/float64(samples), "pss-MB")
}

// groupMemory sums VmRSS (from status) and Pss (from smaps_rollup) over the
// processes whose command line names dir, in bytes.
func groupMemory(tb testing.TB, dir string) (rss, pss int64) {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
			continue
		}
		rss += procField(tb, filepath.Join("/proc", e.Name(), "status"), "VmRSS:")
		pss += procField(tb, filepath.Join("/proc", e.Name(), "smaps_rollup"), "Pss:")
	}
	return rss, pss
}

// procField reads a "Name:   123 kB" line of a /proc file, in bytes.
func procField(tb testing.TB, path, name string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0 // the process is gone
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("%s: %q: %v", path, sc.Text(), err)
			}
			return n << 10
		}
	}
	return 0
}
