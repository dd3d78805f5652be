package text

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
	"github.com/tunecheck/tunecheck/metrics/bleu"
)

// loadPairs reads pairs10k.jsonl, the speed workload of
// shared/data/parity/BASELINE.md. TUNECHECK_BENCH_DATA names the output
// folder of bench_data.py (or the file itself).
func loadPairs(b *testing.B) ([]string, [][]string) {
	b.Helper()
	p := os.Getenv("TUNECHECK_BENCH_DATA")
	if p == "" {
		b.Skip("TUNECHECK_BENCH_DATA is not set: run python3 shared/data/parity/bench_data.py DIR and set it to DIR")
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, "pairs10k.jsonl")
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	var preds []string
	var refs [][]string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var r pairRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatalf("%s: %v", p, err)
		}
		preds = append(preds, r.Prediction)
		refs = append(refs, r.References)
	}
	if len(preds) != 10000 {
		b.Fatalf("%s: %d rows, want 10000 (regenerate it with bench_data.py)", p, len(preds))
	}
	return preds, refs
}

// BenchmarkSquad is the "squad --corpus-only" row of BASELINE.md: compute
// only (reference: 0.61 s).
func BenchmarkSquad(b *testing.B) {
	preds, refs := loadPairs(b)
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
	preds, _ := loadPairs(b)
	loopCPU(b, func() {
		if _, err := ComputeSelfBLEU(preds, bleu.Options{}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDistinct2 is distinct-2 over the 10,000 predictions.
func BenchmarkDistinct2(b *testing.B) {
	preds, _ := loadPairs(b)
	loopCPU(b, func() {
		if _, err := DistinctN(preds, 2, false); err != nil {
			b.Fatal(err)
		}
	})
}
