package classification

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
)

// loadAUC1M reads auc1m.jsonl of the BASELINE.md workload from
// $TUNECHECK_BENCH_DATA (made by shared/data/parity/bench_data.py); the
// benchmark is skipped when the variable is unset.
func loadAUC1M(b *testing.B) ([]Label, []float64) {
	b.Helper()
	dir := os.Getenv("TUNECHECK_BENCH_DATA")
	if dir == "" {
		b.Skip("TUNECHECK_BENCH_DATA is unset: generate the workload with bench_data.py (scripts/bench-metrics.sh does)")
	}
	f, err := os.Open(filepath.Join(dir, "auc1m.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var labels []Label
	var scores []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Label int
			Score float64
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		labels = append(labels, Int(r.Label))
		scores = append(scores, r.Score)
	}
	if len(labels) != 1_000_000 {
		b.Fatalf("read %d rows, want 1,000,000", len(labels))
	}
	return labels, scores
}

// BenchmarkROCAUC1M is roc_auc_score on the 1M-score workload (reference:
// 0.86 s compute with scikit-learn 1.2.1).
func BenchmarkROCAUC1M(b *testing.B) {
	y, s := loadAUC1M(b)
	defer cpuclock.ReportPerOp(b, cpuclock.Process())
	for b.Loop() {
		v, err := ROCAUC(y, s, 0)
		if err != nil {
			b.Fatal(err)
		}
		if v != 0.893683362601975 && (v-0.893683362601975)/0.893683362601975 > 1e-9 {
			b.Fatalf("AUC %v differs from the reference", v)
		}
	}
}

// BenchmarkAveragePrecision1M is average_precision_score on the 1M-score
// workload (reference: 0.92 s compute).
func BenchmarkAveragePrecision1M(b *testing.B) {
	y, s := loadAUC1M(b)
	defer cpuclock.ReportPerOp(b, cpuclock.Process())
	for b.Loop() {
		r, err := AveragePrecision(y, s, nil)
		if err != nil {
			b.Fatal(err)
		}
		if d := r.Value - 0.8293937212778717; d > 1e-9 || d < -1e-9 {
			b.Fatalf("AP %v differs from the reference", r.Value)
		}
	}
}

func BenchmarkRadixSort1M(b *testing.B) {
	keys := make([]uint64, 1_000_000)
	work := make([]uint64, len(keys))
	s := uint64(1)
	for i := range keys {
		s = s*6364136223846793005 + 1442695040888963407
		keys[i] = floatKey(float64(s>>44) / (1 << 20))
	}
	defer cpuclock.ReportPerOp(b, cpuclock.Process())
	for b.Loop() {
		copy(work, keys)
		radixSort(work)
	}
}
