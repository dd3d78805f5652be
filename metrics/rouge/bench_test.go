package rouge

import (
	"testing"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// baseline holds the reference results of BASELINE.md ("Reference values on
// this workload"), mean F-measure per type.
var baseline = map[bool]map[string]float64{
	true:  {"rouge1": 0.8228795499252168, "rouge2": 0.5121219387812993, "rougeL": 0.7747376218781237, "rougeLsum": 0.7747376218781237},
	false: {"rouge1": 0.8228331316644529, "rouge2": 0.5120827890834606, "rougeL": 0.7747226719063012, "rougeLsum": 0.7747226719063012},
}

func checkBaseline(b *testing.B, c Corpus, stem bool) {
	b.Helper()
	for typ, want := range baseline[stem] {
		if got := c.Mean[typ].FMeasure; !closeEnough(got, want) {
			b.Fatalf("stem=%v %s = %v, want %v (BASELINE.md): not timing a wrong result", stem, typ, got, want)
		}
	}
}

func benchRouge(b *testing.B, stem bool) {
	preds, refs, _ := shareddata.BenchPairs(b)
	c, err := ScoreCorpus(preds, refs, Options{Stem: stem})
	if err != nil {
		b.Fatal(err)
	}
	checkBaseline(b, c, stem)
	loopCPU(b, func() {
		// A fresh scorer each time: its stem cache starts empty, as a run does.
		if _, err := ScoreCorpus(preds, refs, Options{Stem: stem}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRougeStem is the "rouge --stem true --corpus-only" row of
// BASELINE.md: compute only (reference: 10.19 s).
func BenchmarkRougeStem(b *testing.B) { benchRouge(b, true) }

// BenchmarkRougeNoStem is the "rouge --corpus-only" row (reference: 2.59 s).
func BenchmarkRougeNoStem(b *testing.B) { benchRouge(b, false) }

// BenchmarkRougeStemWithParse adds parsing the JSONL to the compute time,
// the in-process part of the wall time.
func BenchmarkRougeStemWithParse(b *testing.B) {
	_, _, raw := shareddata.BenchPairs(b)
	loopCPU(b, func() {
		preds, refs, err := shareddata.ParsePairs(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ScoreCorpus(preds, refs, Options{Stem: true}); err != nil {
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
