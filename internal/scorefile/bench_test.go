package scorefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
)

// benchFile returns a file of the BASELINE.md workload from
// $TUNECHECK_BENCH_DATA, skipping the benchmark when it is unset.
func benchFile(b *testing.B, name string) string {
	b.Helper()
	dir := os.Getenv("TUNECHECK_BENCH_DATA")
	if dir == "" {
		b.Skip("TUNECHECK_BENCH_DATA is unset: generate the workload with bench_data.py (scripts/bench-metrics.sh does)")
	}
	return filepath.Join(dir, name)
}

// benchScore reads and scores a workload file end to end, as `tunecheck
// score` does minus process start-up and output.
func benchScore(b *testing.B, file string, metrics ...string) {
	path := benchFile(b, file)
	defer cpuclock.ReportPerOp(b, cpuclock.Process())
	for b.Loop() {
		in, err := Load(Sources{Pred: path})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Score(in, Options{Metrics: metrics}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadAndROCAUC1M(b *testing.B)     { benchScore(b, "auc1m.jsonl", "roc_auc") }
func BenchmarkReadAndAP1M(b *testing.B)         { benchScore(b, "auc1m.jsonl", "average_precision") }
func BenchmarkReadAndBLEU10k(b *testing.B)      { benchScore(b, "pairs10k.jsonl", "bleu") }
func BenchmarkReadAndRougeStem10k(b *testing.B) { benchScore(b, "pairs10k.jsonl", "rouge1") }
