package scorer

import (
	"math"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/metrics/lm"
)

// Token perplexity is weighted over the corpus like the harness's word and
// byte perplexities: exp(-Σll/Σtokens), not a mean of per-document values.
func TestTokenPerplexityIsCorpusWeighted(t *testing.T) {
	docs := []Input{
		{Prediction: "ab", LogLikelihood: -2, Response: &provider.Response{Tokens: 1}},
		{Prediction: "cd", LogLikelihood: -6, Response: &provider.Response{Tokens: 3}},
	}
	sum := make([]float64, 4)
	for _, in := range docs {
		st, err := PerplexityScorer.Stats(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range st {
			sum[i] += st[i]
		}
	}
	got := PerplexityScorer.Aggregate(sum)
	if want := math.Exp(8.0 / 4); math.Abs(got["token_perplexity"]-want) > 1e-12 {
		t.Fatalf("token_perplexity %v, want exp(8/4) = %v (the mean of per-document values would be %v)", got["token_perplexity"], want, (math.Exp(2)+math.Exp(2))/2)
	}
	if want := 8 / 4 / math.Ln2; math.Abs(got["bits_per_byte"]-want) > 1e-12 {
		t.Fatalf("bits_per_byte %v, want %v", got["bits_per_byte"], want)
	}
	// Without a token count the token perplexity is unknown, not a number.
	m, err := PerplexityScorer.Score(Input{Prediction: "ab", LogLikelihood: -1})
	if err != nil || !math.IsNaN(m["token_perplexity"]) {
		t.Fatalf("token_perplexity without tokens = %v, %v; want NaN", m["token_perplexity"], err)
	}
}

func docs(bits ...float64) []lm.Doc {
	out := make([]lm.Doc, len(bits))
	for i, b := range bits {
		out[i] = lm.Doc{LogLikelihood: -b * math.Ln2, Bytes: 4}
	}
	return out
}

// Held-out: 8+4 bits over 8 bytes = 1.5 bits per byte; train: 2+2 bits over
// 8 bytes = 0.5. With two documents a resample holds both, or one of them
// twice (a quarter of the time each): held-out 1.0, 1.5 or 2.0, so the 95%
// interval of the gap is [0.5, 1.5].
func TestBitsPerByteGap(t *testing.T) {
	g, err := BitsPerByteGap(docs(8, 4), docs(2, 2), stats.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if g.HeldOut != 1.5 || g.Train != 0.5 || g.Gap != 1 {
		t.Fatalf("gap %+v, want held-out 1.5, train 0.5, gap 1", g)
	}
	if g.Interval.Low != 0.5 || g.Interval.High != 1.5 {
		t.Fatalf("interval %+v, want [0.5, 1.5]", g.Interval)
	}
	if _, err := BitsPerByteGap(nil, docs(1), stats.Config{}); err == nil {
		t.Fatal("an empty held-out set must be refused")
	}
}

// The candidate scores the held-out text as the base does and its train text
// at 0.25 bits per byte instead of 0.5: its gap widens by 0.25. The documents
// are resampled once for both models, so the per-document agreement on the
// held-out text leaves no spread: the paired interval is [0.25, 0.25], where
// two independent gaps would spread over a whole bit.
func TestPairedGapDelta(t *testing.T) {
	d, err := PairedGapDelta(docs(8, 4), docs(8, 4), docs(2, 2), docs(1, 1), stats.Config{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.Baseline.Gap != 1 || d.Candidate.Gap != 1.25 || d.Delta != 0.25 {
		t.Fatalf("delta %+v, want gaps 1 and 1.25, delta 0.25", d)
	}
	if math.Abs(d.Interval.Low-0.25) > 1e-12 || math.Abs(d.Interval.High-0.25) > 1e-12 {
		t.Fatalf("paired interval %+v, want [0.25, 0.25]", d.Interval)
	}
	if _, err := PairedGapDelta(docs(1), docs(1, 2), docs(1), docs(1), stats.Config{}); err == nil {
		t.Fatal("different documents must be refused")
	}
}
