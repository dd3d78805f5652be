package bleu

import (
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// The reference results of BASELINE.md ("Reference values on this
// workload"); a benchmark checks them before it times anything.
const (
	refBLEU   = 44.026376712826796
	refChrF   = 75.4938043615186
	refChrFPP = 73.25341405929798
	refTER    = 28.57831189846175
)

// cpuLoop wraps b.Loop and, when the loop ends, reports the CPU time per
// iteration as "cpu-ns/op" (see cpuTime).
type cpuLoop struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) *cpuLoop { return &cpuLoop{b: b, start: cpuclock.Process()} }

func (c *cpuLoop) loop() bool {
	if c.b.Loop() {
		return true
	}
	if c.b.N > 0 {
		c.b.ReportMetric(float64(cpuclock.Process()-c.start)/float64(c.b.N), "cpu-ns/op")
	}
	return false
}

func wantClose(b *testing.B, what string, got, want float64) {
	b.Helper()
	if !closeTo(got, want) {
		b.Fatalf("%s = %v on the workload, reference %v: not timing a wrong result", what, got, want)
	}
}

// BenchmarkCorpusBLEU is BASELINE.md's "corpus BLEU (13a, exp)" row
// (reference compute 1.76 s).
func BenchmarkCorpusBLEU(b *testing.B) {
	hyps, refs, _ := shareddata.BenchPairs(b)
	m, err := NewBLEU(Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := m.Corpus(hyps, refs)
	if err != nil {
		b.Fatal(err)
	}
	wantClose(b, "corpus BLEU", s.Score, refBLEU)
	for cpu := startCPU(b); cpu.loop(); {
		if _, err := m.Corpus(hyps, refs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorpusAndSentenceBLEU is the "corpus BLEU + 10k sentence BLEU"
// row (reference compute 3.09 s): the segment statistics are extracted once
// and give both the corpus score (summed, effective order off) and every
// sentence score (effective order on), as the metric's defaults say.
func BenchmarkCorpusAndSentenceBLEU(b *testing.B) {
	hyps, refs, _ := shareddata.BenchPairs(b)
	m, err := NewBLEU(Options{})
	if err != nil {
		b.Fatal(err)
	}
	sentences := make([]float64, len(hyps))
	for cpu := startCPU(b); cpu.loop(); {
		st, err := m.SegmentStats(hyps, refs)
		if err != nil {
			b.Fatal(err)
		}
		wantClose(b, "corpus BLEU", m.ScoreStats(SumStats(st)).Score, refBLEU)
		for i, x := range st {
			sentences[i] = m.SentenceScoreStats(x).Score
		}
	}
	want, _ := m.Sentence(hyps[9999], refs[9999])
	wantClose(b, "sentence BLEU of the last row", sentences[9999], want.Score)
}

// BenchmarkSentenceBLEUCalls times 10k independent SentenceBLEU calls (a
// new metric each time), the simplest way a per-item scorer can use the
// package; BenchmarkSentenceBLEUReuse keeps one *BLEU.
func BenchmarkSentenceBLEUCalls(b *testing.B) {
	hyps, refs, _ := shareddata.BenchPairs(b)
	for cpu := startCPU(b); cpu.loop(); {
		for i := range hyps {
			if _, err := SentenceBLEU(hyps[i], refs[i], Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSentenceBLEUReuse(b *testing.B) {
	hyps, refs, _ := shareddata.BenchPairs(b)
	m, err := NewBLEU(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for cpu := startCPU(b); cpu.loop(); {
		for i := range hyps {
			if _, err := m.Sentence(hyps[i], refs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchChrF(b *testing.B, opts ChrFOptions, want float64) {
	hyps, refs, _ := shareddata.BenchPairs(b)
	m, err := NewChrF(opts)
	if err != nil {
		b.Fatal(err)
	}
	s, err := m.Corpus(hyps, refs)
	if err != nil {
		b.Fatal(err)
	}
	wantClose(b, s.Name, s.Score, want)
	for cpu := startCPU(b); cpu.loop(); {
		if _, err := m.Corpus(hyps, refs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorpusChrF is the "corpus chrF" row (reference compute 6.81 s).
func BenchmarkCorpusChrF(b *testing.B) { benchChrF(b, ChrFOptions{}, refChrF) }

// BenchmarkCorpusChrFPlusPlus is the "corpus chrF++" row (reference
// compute 7.40 s).
func BenchmarkCorpusChrFPlusPlus(b *testing.B) { benchChrF(b, ChrFOptions{WordOrder: 2}, refChrFPP) }

// BenchmarkCorpusTER is the "corpus TER" row (reference compute 8.94 s).
func BenchmarkCorpusTER(b *testing.B) {
	hyps, refs, _ := shareddata.BenchPairs(b)
	m := NewTER(TEROptions{})
	s, err := m.Corpus(hyps, refs)
	if err != nil {
		b.Fatal(err)
	}
	wantClose(b, "TER", s.Score, refTER)
	if s.NumEdits != 71174 || s.RefLength != 249049 {
		b.Fatalf("TER edits %d ref length %v, reference 71174 and 249049", s.NumEdits, s.RefLength)
	}
	for cpu := startCPU(b); cpu.loop(); {
		if _, err := m.Corpus(hyps, refs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBootstrapBLEU times sacrebleu --confidence's part after the
// statistics are extracted: 1000 resampled corpora of 10k segments.
func BenchmarkBootstrapBLEU(b *testing.B) {
	hyps, refs, _ := shareddata.BenchPairs(b)
	m, err := NewBLEU(Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := m.SegmentStats(hyps, refs)
	if err != nil {
		b.Fatal(err)
	}
	score := func(s []float64) float64 { return m.ScoreStats(s).Score }
	for cpu := startCPU(b); cpu.loop(); {
		if _, err := Bootstrap(st, score, BootstrapOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAndCorpusBLEU adds reading the JSONL to corpus BLEU, the
// in-process part of the "wall" column.
func BenchmarkParseAndCorpusBLEU(b *testing.B) {
	_, _, raw := shareddata.BenchPairs(b)
	for cpu := startCPU(b); cpu.loop(); {
		hyps, refs, err := shareddata.ParsePairs(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := CorpusBLEU(hyps, refs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
