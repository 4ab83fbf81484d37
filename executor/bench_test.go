package executor

import (
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/parser"
	"github.com/labrun/labrun/report"
)

// BenchmarkStepOverhead replays a lab of 200 `true` commands: the time per
// step is labrun's overhead beyond the command's own (which is nil), from
// the steps' own durations: the run's setup (a namespace on the shared
// built-in cluster, the shell's start) does not count.
func BenchmarkStepOverhead(b *testing.B) {
	kubectl, err := cluster.FindKubectl("")
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	const steps = 200
	var src strings.Builder
	src.WriteString("# Overhead\n\n---\n\n## Two hundred steps\n\n.lab[\n\n")
	for i := 0; i < steps; i++ {
		src.WriteString("```bash\ntrue\n```\n\n")
	}
	src.WriteString("]\n")
	ch, diags := parser.ParseChapter("overhead.md", []byte(src.String()), parser.Options{})
	if parser.HasErrors(diags) {
		b.Fatal(diags)
	}
	deck := &parser.Deck{File: "overhead.md", Chapters: []parser.Chapter{*ch}}
	timing := &stepTimer{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timing.total, timing.n = 0, 0
		res, err := Run(b.Context(), deck, onShared(b, Options{Kubectl: kubectl, Sink: timing}))
		if err != nil || res.Status != report.Passed {
			b.Fatalf("run: %v %v", err, res)
		}
		if timing.n != steps {
			b.Fatalf("%d steps ran", timing.n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(timing.total.Microseconds())/1000/float64(timing.n), "ms/step")
	b.ReportMetric(0, "ns/op")
}

// stepTimer adds up the steps' own durations.
type stepTimer struct {
	nopSink
	total time.Duration
	n     int
}

func (s *stepTimer) StepDone(_ report.LabResult, r report.StepResult) {
	s.total += r.Duration
	s.n++
}
