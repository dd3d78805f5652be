package bleu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultSeed is sacrebleu's default bootstrap seed (SACREBLEU_SEED=12345).
const DefaultSeed = 12345

// DefaultResamples is sacrebleu's default number of bootstrap resamples.
const DefaultResamples = 1000

// BootstrapOptions configure bootstrap resampling.
type BootstrapOptions struct {
	// Resamples is the number of resampled corpora (0 means 1000).
	Resamples int
	// Seed seeds the PCG generator that draws the resamples (0 means
	// DefaultSeed). The draws are tunecheck's own, not numpy's, so
	// intervals agree with sacrebleu's in distribution, not digit for digit.
	Seed uint64
}

func (o BootstrapOptions) resamples() int {
	if o.Resamples <= 0 {
		return DefaultResamples
	}
	return o.Resamples
}

func (o BootstrapOptions) seed() uint64 {
	if o.Seed == 0 {
		return DefaultSeed
	}
	return o.Seed
}

// BootstrapResult is what sacrebleu reports for --confidence:
// "score (μ = Mean ± CI)".
type BootstrapResult struct {
	// Score is the metric on the whole corpus.
	Score float64
	// Mean is the mean of the resampled scores.
	Mean float64
	// CI is sacrebleu's "±" value: half the distance between the resampled
	// scores at sorted positions n/40 and n-n/40-1 (a 95% percentile
	// interval).
	CI float64
	// Lower and Upper are those two percentile scores.
	Lower, Upper float64
	// Resamples and Seed record how the resamples were drawn.
	Resamples int
	Seed      uint64
}

// PairedResult is sacrebleu's paired bootstrap test (--paired-bs) of a
// system against a baseline on the same segments.
type PairedResult struct {
	// Baseline and System carry each side's corpus score and interval.
	Baseline, System BootstrapResult
	// PValue is (c+1)/(n+1), c counting resamples whose centred absolute
	// difference exceeds the observed absolute difference.
	PValue float64
}

// SumStats adds statistics vectors element-wise (sacrebleu's sum_of_lists).
func SumStats(stats [][]float64) []float64 {
	if len(stats) == 0 {
		return nil
	}
	sum := make([]float64, len(stats[0]))
	for _, s := range stats {
		for k, v := range s {
			sum[k] += v
		}
	}
	return sum
}

// Bootstrap resamples segments with replacement, as sacrebleu's
// _bootstrap_resample does, scoring each resampled corpus from its summed
// statistics. score is a metric's ScoreStats (wrapped to return the number).
func Bootstrap(stats [][]float64, score func([]float64) float64, opts BootstrapOptions) (BootstrapResult, error) {
	if err := checkStats(stats); err != nil {
		return BootstrapResult{}, err
	}
	res, _ := bootstrapScores(stats, score, drawIndices(len(stats), opts), opts)
	return res, nil
}

// PairedBootstrap runs the paired bootstrap test of sacrebleu's
// _paired_bs_test: both systems are resampled with the same segment indices.
func PairedBootstrap(baseline, system [][]float64, score func([]float64) float64, opts BootstrapOptions) (PairedResult, error) {
	if err := checkStats(baseline); err != nil {
		return PairedResult{}, fmt.Errorf("baseline: %w", err)
	}
	if err := checkStats(system); err != nil {
		return PairedResult{}, fmt.Errorf("system: %w", err)
	}
	if len(baseline) != len(system) {
		return PairedResult{}, fmt.Errorf("paired bootstrap needs the same segments: baseline has %d, system %d", len(baseline), len(system))
	}
	idx := drawIndices(len(system), opts)
	var res PairedResult
	var blScores, sysScores []float64
	res.Baseline, blScores = bootstrapScores(baseline, score, idx, opts)
	res.System, sysScores = bootstrapScores(system, score, idx, opts)
	diff := math.Abs(res.Baseline.Score - res.System.Score)
	sample := make([]float64, len(sysScores))
	mean := 0.0
	for i := range sample {
		sample[i] = math.Abs(sysScores[i] - blScores[i])
		mean += sample[i]
	}
	mean /= float64(len(sample))
	c := 0
	for _, d := range sample {
		if d-mean > diff {
			c++
		}
	}
	res.PValue = float64(c+1) / float64(len(sample)+1)
	return res, nil
}

func checkStats(stats [][]float64) error {
	if len(stats) == 0 {
		return fmt.Errorf("no segment statistics to resample")
	}
	d := len(stats[0])
	for i, s := range stats {
		if len(s) != d {
			return fmt.Errorf("segment %d has %d statistics, segment 0 has %d: all must come from one metric", i, len(s), d)
		}
	}
	return nil
}

// drawIndices draws Resamples rows of n segment indices from a seeded PCG.
func drawIndices(n int, opts BootstrapOptions) []int32 {
	r := rand.New(rand.NewPCG(opts.seed(), 0x5ac4eb1e))
	idx := make([]int32, opts.resamples()*n)
	for i := range idx {
		idx[i] = int32(r.IntN(n))
	}
	return idx
}

// bootstrapScores scores the resampled corpora whose segment indices are
// idx (Resamples rows of len(stats)) and summarises them as sacrebleu's
// estimate_ci does.
func bootstrapScores(stats [][]float64, score func([]float64) float64, idx []int32, opts BootstrapOptions) (BootstrapResult, []float64) {
	n := len(stats)
	R := opts.resamples()
	res := BootstrapResult{Score: score(SumStats(stats)), Resamples: R, Seed: opts.seed()}
	scores := make([]float64, R)
	sum := make([]float64, len(stats[0]))
	for k := range R {
		clear(sum)
		for _, i := range idx[k*n : (k+1)*n] {
			for j, v := range stats[i] {
				sum[j] += v
			}
		}
		scores[k] = score(sum)
	}
	sorted := slices.Clone(scores)
	slices.Sort(sorted)
	lo := R / 40
	hi := R - lo - 1
	res.Lower, res.Upper = sorted[lo], sorted[hi]
	res.CI = 0.5 * (res.Upper - res.Lower)
	m := 0.0
	for _, s := range sorted {
		m += s
	}
	res.Mean = m / float64(R)
	return res, scores
}
