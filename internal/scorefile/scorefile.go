// Package scorefile scores prediction files offline: it reads predictions
// and references (or labels, scores, probabilities, pass@k tallies), runs
// the requested metrics from the metrics/ packages, adds seeded bootstrap
// confidence intervals, and renders a table, JSON or Markdown report and a
// per-item JSONL file. It is the engine of `tunecheck score`; the command
// only turns flags into Options.
package scorefile

import (
	"fmt"
	"math"
	"strings"

	"github.com/tunecheck/tunecheck/internal/stats"
)

// Options are every setting of a scoring run; the zero value of a metric
// option is that metric's reference default.
type Options struct {
	// Metrics to compute, in report order; empty means the defaults of the
	// input's kind.
	Metrics []string

	// Confidence > 0 adds a percentile-bootstrap interval at that level
	// (e.g. 0.95) to every metric, from Resamples resamples of the rows
	// drawn with a PCG generator seeded by Seed.
	Confidence float64
	Resamples  int
	Seed       uint64

	// BLEU (sacrebleu): tokenizer, smoothing, lower-casing, effective order.
	Tokenize       string
	Smooth         string
	SmoothValue    *float64
	Lowercase      bool
	EffectiveOrder *bool
	// chrF / chrF++: character and word n-gram orders, beta, whitespace,
	// eps smoothing. CharOrder 0 means 6; WordOrder nil means 0 for chrf and
	// 2 for chrf++; Beta 0 means 2.
	CharOrder    int
	WordOrder    *int
	ChrFBeta     int
	Whitespace   bool
	EpsSmoothing bool
	// TER (sacrebleu/Tercom) options.
	TERNormalized, TERNoPunct, TERAsian, TERCaseSensitive bool
	// ROUGE: Porter stemming of tokens longer than three characters.
	Stem bool

	// Classification: averaging ("auto" picks binary for two classes with
	// a known positive class, macro otherwise), positive class and label
	// set (JSON), zero_division, F-beta, adjusted balanced accuracy, kappa
	// weights, multiclass AUC strategy and average, partial AUC bound, and
	// the calibration bins (count and strategy) of ece.
	Average      string
	PosLabel     string
	Labels       string
	ZeroDivision string
	Beta         float64
	Adjusted     bool
	KappaWeights string
	MultiClass   string
	AUCAverage   string
	MaxFPR       float64
	Bins         int
	BinStrategy  string

	// K lists the k of pass@k when the metric is given as plain "pass@k".
	K []int
}

// Result is one metric's value.
type Result struct {
	Metric string
	Value  float64
	// CI is the bootstrap interval when asked for (nil otherwise, or when
	// the metric cannot be resampled).
	CI *stats.Interval
	// Details carries what the reference reports besides the value
	// (signature, counts, per-class values, confusion matrix), in key order.
	Details []Detail
	// Warnings are the undefined cases the reference would warn about.
	Warnings []string
	// PerItem holds one value per row when the metric has one.
	PerItem []float64
	// ItemDetails, when set, gives row i's own details (the sentence-level
	// counterparts of Details), built only when the per-item file is written.
	ItemDetails func(i int) []Detail
}

// Detail is one named extra of a Result.
type Detail struct {
	Key   string
	Value any
}

// Report is the outcome of a scoring run.
type Report struct {
	Kind       Kind
	Rows       int
	Confidence float64
	Resamples  int
	Seed       uint64
	Results    []Result
	// Input is what was scored, for the per-item file.
	Input Input
}

// Score computes every requested metric over in.
func Score(in Input, o Options) (Report, error) {
	metrics := o.Metrics
	if len(metrics) == 0 {
		metrics = DefaultMetrics(in.Kind)
	}
	metrics = expandPassAtK(metrics, o.K)
	rep := Report{Kind: in.Kind, Rows: in.Len(), Confidence: o.Confidence, Input: in}
	if o.Confidence != 0 {
		if o.Confidence <= 0 || o.Confidence >= 1 {
			return Report{}, fmt.Errorf("confidence %v: give a level between 0 and 1, such as 0.95", o.Confidence)
		}
		if o.Resamples == 0 {
			o.Resamples = 1000
		}
		if o.Resamples < 10 {
			return Report{}, fmt.Errorf("resamples %d: use at least 10 (1000 is usual)", o.Resamples)
		}
		rep.Resamples, rep.Seed = o.Resamples, o.Seed
	}
	ctx, err := newContext(in, o)
	if err != nil {
		return Report{}, err
	}
	for _, name := range metrics {
		if name = strings.TrimSpace(name); strings.HasPrefix(name, "rouge") {
			ctx.rougeTypes = append(ctx.rougeTypes, name)
		}
	}
	seen := map[string]bool{}
	for _, name := range metrics {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		m, err := ctx.metric(name)
		if err != nil {
			return Report{}, err
		}
		res, err := m.compute()
		if err != nil {
			return Report{}, fmt.Errorf("%s: %w", name, err)
		}
		res.Metric = name
		if o.Confidence > 0 && m.resample != nil {
			iv := bootstrap(in.Len(), m.resample, o)
			res.CI = &iv
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// DefaultMetrics are the metrics scored when none are named.
func DefaultMetrics(k Kind) []string {
	switch k {
	case KindText:
		return []string{"bleu", "chrf", "rougeL", "token_f1"}
	case KindLabels:
		return []string{"accuracy", "balanced_accuracy", "f1", "mcc"}
	case KindScores:
		return []string{"roc_auc", "average_precision"}
	case KindProbs:
		return []string{"log_loss", "brier", "ece", "roc_auc"}
	case KindCounts:
		return []string{"pass@k"}
	case KindLM:
		return []string{"nll", "perplexity", "word_perplexity", "bits_per_byte"}
	}
	return nil
}

func expandPassAtK(metrics []string, ks []int) []string {
	var out []string
	for _, m := range metrics {
		if strings.TrimSpace(m) != "pass@k" {
			out = append(out, m)
			continue
		}
		if len(ks) == 0 {
			ks = []int{1, 10, 100}
		}
		for _, k := range ks {
			out = append(out, fmt.Sprintf("pass@%d", k))
		}
	}
	return out
}

// metricRun is one metric bound to the input: compute gives the full
// result; resample (nil when the metric has no interval) evaluates the
// value on a bootstrap resample of row indices.
type metricRun struct {
	compute  func() (Result, error)
	resample func(idx []int) float64
}

// bootstrap is the percentile interval of stat over resamples of the rows.
// Resamples on which the metric is undefined (one class only, say) are
// left out of the interval rather than failing the run.
func bootstrap(n int, stat func(idx []int) float64, o Options) stats.Interval {
	vals := make([]float64, 0, o.Resamples)
	r := newRand(o.Seed)
	idx := make([]int, n)
	for range o.Resamples {
		for i := range idx {
			idx[i] = r.IntN(n)
		}
		if v := stat(idx); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return stats.Interval{Low: math.NaN(), High: math.NaN()}
	}
	sortFloats(vals)
	alpha := (1 - o.Confidence) / 2
	return stats.Interval{Low: stats.Quantile(vals, alpha), High: stats.Quantile(vals, 1-alpha)}
}
