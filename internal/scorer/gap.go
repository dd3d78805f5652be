package scorer

import (
	"fmt"
	"math"

	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/metrics/lm"
)

// The train-vs-held-out gap is a memorisation signal: a model that has seen
// its training text compresses it better than text it has not seen, so the
// held-out bits per byte minus the train bits per byte grows as a fine-tune
// memorises. Bits per byte, not token perplexity, because it does not depend
// on the tokenizer. The intervals are percentile bootstraps over documents,
// each text set resampled on its own (they are different documents); the
// base→candidate delta resamples each set's documents once for both models,
// which scored the same documents (a paired bootstrap).

// Gap is one model's held-out and train bits per byte and their difference.
type Gap struct {
	HeldOut  float64        `json:"held_out_bits_per_byte"`
	Train    float64        `json:"train_bits_per_byte"`
	Gap      float64        `json:"gap"`
	Interval stats.Interval `json:"interval"`
}

// GapDelta is the candidate's gap minus the baseline's, with its paired
// interval: positive when the fine-tune fits its training text better than
// held-out text by more than the base did.
type GapDelta struct {
	Baseline  Gap            `json:"baseline"`
	Candidate Gap            `json:"candidate"`
	Delta     float64        `json:"delta"`
	Interval  stats.Interval `json:"interval"`
}

// bitsPerByte is lm-eval's bits_per_byte of docs weighted by w (nil: all 1).
func bitsPerByte(docs []lm.Doc, w []float64) float64 {
	var ll, bytes float64
	for i, d := range docs {
		k := 1.0
		if w != nil {
			k = w[i]
		}
		ll += k * d.LogLikelihood
		bytes += k * float64(d.Bytes)
	}
	if bytes == 0 {
		return math.NaN()
	}
	return -ll / bytes / math.Ln2
}

func checkDocs(what string, docs []lm.Doc) error {
	if len(docs) == 0 {
		return fmt.Errorf("the %s text set has no scored documents", what)
	}
	if _, err := lm.Summarize(docs); err != nil {
		return fmt.Errorf("the %s text set: %w", what, err)
	}
	return nil
}

// trainSeed derives the train set's resampling seed from the run's, so the
// two sets draw different resamples.
func trainSeed(seed uint64) uint64 { return seed ^ 0x9e3779b97f4a7c15 }

// BitsPerByteGap is one model's gap: bits_per_byte(heldOut) −
// bits_per_byte(train), with a bootstrap interval.
func BitsPerByteGap(heldOut, train []lm.Doc, cfg stats.Config) (Gap, error) {
	if err := checkDocs("held-out", heldOut); err != nil {
		return Gap{}, err
	}
	if err := checkDocs("train", train); err != nil {
		return Gap{}, err
	}
	g := Gap{HeldOut: bitsPerByte(heldOut, nil), Train: bitsPerByte(train, nil)}
	g.Gap = g.HeldOut - g.Train
	h := stats.BootstrapWeighted(len(heldOut), cfg, func(w []float64) float64 { return bitsPerByte(heldOut, w) })
	tc := cfg
	tc.Seed = trainSeed(cfg.Seed)
	t := stats.BootstrapWeighted(len(train), tc, func(w []float64) float64 { return bitsPerByte(train, w) })
	g.Interval = stats.PercentileInterval(diff(h, t), confidence(cfg))
	return g, nil
}

// PairedGapDelta is the candidate's gap minus the baseline's. The held-out
// slices of both models hold the same documents in the same order, and so do
// the train slices.
func PairedGapDelta(heldBase, heldCand, trainBase, trainCand []lm.Doc, cfg stats.Config) (GapDelta, error) {
	if len(heldBase) != len(heldCand) || len(trainBase) != len(trainCand) {
		return GapDelta{}, fmt.Errorf("the models scored different documents (held-out %d vs %d, train %d vs %d); the paired delta needs the same ones", len(heldBase), len(heldCand), len(trainBase), len(trainCand))
	}
	var d GapDelta
	var err error
	if d.Baseline, err = BitsPerByteGap(heldBase, trainBase, cfg); err != nil {
		return GapDelta{}, fmt.Errorf("baseline: %w", err)
	}
	if d.Candidate, err = BitsPerByteGap(heldCand, trainCand, cfg); err != nil {
		return GapDelta{}, fmt.Errorf("candidate: %w", err)
	}
	d.Delta = d.Candidate.Gap - d.Baseline.Gap
	h := stats.BootstrapWeighted(len(heldBase), cfg, func(w []float64) float64 {
		return bitsPerByte(heldCand, w) - bitsPerByte(heldBase, w)
	})
	tc := cfg
	tc.Seed = trainSeed(cfg.Seed)
	t := stats.BootstrapWeighted(len(trainBase), tc, func(w []float64) float64 {
		return bitsPerByte(trainCand, w) - bitsPerByte(trainBase, w)
	})
	d.Interval = stats.PercentileInterval(diff(h, t), confidence(cfg))
	return d, nil
}

func diff(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}

func confidence(cfg stats.Config) float64 {
	if cfg.Confidence <= 0 || cfg.Confidence >= 1 {
		return 0.95
	}
	return cfg.Confidence
}
