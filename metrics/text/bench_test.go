package text

import (
	"testing"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
	"github.com/tunecheck/tunecheck/internal/shareddata"
	"github.com/tunecheck/tunecheck/metrics/bleu"
)

// BenchmarkSquad is the "squad --corpus-only" row of BASELINE.md: compute
// only (reference: 0.61 s).
func BenchmarkSquad(b *testing.B) {
	preds, refs, _ := shareddata.BenchPairs(b)
	res, err := Squad(preds, refs)
	if err != nil {
		b.Fatal(err)
	}
	// BASELINE.md: exact_match 0.07, f1 82.28367268877.
	if !closeEnough(res.ExactMatch, 0.07) || !closeEnough(res.F1, 82.28367268877) {
		b.Fatalf("em %v f1 %v, want 0.07 and 82.28367268877 (BASELINE.md): not timing a wrong result", res.ExactMatch, res.F1)
	}
	loopCPU(b, func() {
		if _, err := Squad(preds, refs); err != nil {
			b.Fatal(err)
		}
	})
}

// loopCPU runs f under b.Loop and reports CPU seconds per operation.
func loopCPU(b *testing.B, f func()) {
	b.Helper()
	n := 0
	start := cpuclock.Process()
	for b.Loop() {
		f()
		n++
	}
	if n > 0 {
		b.ReportMetric((cpuclock.Process()-start).Seconds()/float64(n), "cpu-s/op")
	}
}

// BenchmarkSelfBLEU scores the 10,000 predictions of the workload, each
// against the 9,999 others.
func BenchmarkSelfBLEU(b *testing.B) {
	preds, _, _ := shareddata.BenchPairs(b)
	loopCPU(b, func() {
		if _, err := ComputeSelfBLEU(preds, bleu.Options{}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDistinct2 is distinct-2 over the 10,000 predictions.
func BenchmarkDistinct2(b *testing.B) {
	preds, _, _ := shareddata.BenchPairs(b)
	loopCPU(b, func() {
		if _, err := DistinctN(preds, 2, false); err != nil {
			b.Fatal(err)
		}
	})
}
