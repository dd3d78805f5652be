package scorer

import (
	"math"

	"github.com/tunecheck/tunecheck/metrics/lm"
)

// CorpusScorer is a scorer whose task-level value is not a mean of item
// scores but a function of summed per-item sufficient statistics (corpus
// BLEU, chrF, perplexity). Score still gives a per-item value of the same
// metric, used for wins/losses and the worst examples.
type CorpusScorer interface {
	Scorer
	Stats(in Input) ([]float64, error)
	Aggregate(sum []float64) map[string]float64
}

// ItemAggregator is the optional capability of a CorpusScorer whose value
// needs each item's statistics, not only their sum: rank correlations
// (Spearman, Kendall), and R² and Pearson computed exactly as the reference
// does (two passes over the items instead of the sums). The caller passes
// the Stats of the items being aggregated — a bootstrap resample's items,
// repeated as drawn — in place of Aggregate of their sum.
type ItemAggregator interface {
	CorpusScorer
	AggregateItems(stats [][]float64) map[string]float64
}

// perplexityScorer turns rolling log-likelihoods into lm-evaluation-harness's
// corpus metrics; Input.LogLikelihood carries the model's number,
// Input.Prediction the scored document and Input.Response.Tokens its token
// count (token_perplexity only: it depends on the tokenizer, while the word
// and byte metrics compare models with different tokenizers).
type perplexityScorer struct{}

// PerplexityScorer is the scorer of perplexity tasks.
var PerplexityScorer CorpusScorer = perplexityScorer{}

func (perplexityScorer) Metrics() []Metric {
	out := make([]Metric, len(PerplexityMetrics))
	for i, n := range PerplexityMetrics {
		out[i] = corpus(n, Lower)
	}
	return out
}

// Stats are the document's log-likelihood, words, bytes and tokens.
func (perplexityScorer) Stats(in Input) ([]float64, error) {
	return []float64{in.LogLikelihood, float64(lm.CountWords(in.Prediction)), float64(lm.CountBytes(in.Prediction)), float64(tokensOf(in))}, nil
}

func (perplexityScorer) Score(in Input) (map[string]float64, error) {
	return perplexity(in.LogLikelihood, lm.CountWords(in.Prediction), lm.CountBytes(in.Prediction), tokensOf(in))
}

func (perplexityScorer) Aggregate(sum []float64) map[string]float64 {
	tokens := 0
	if len(sum) > 3 {
		tokens = int(sum[3])
	}
	m, err := perplexity(sum[0], int(sum[1]), int(sum[2]), tokens)
	if err != nil {
		// Only reachable with a positive or non-finite summed log-likelihood,
		// which Score has already refused item by item.
		m = map[string]float64{}
		for _, n := range PerplexityMetrics {
			m[n] = math.NaN()
		}
	}
	return m
}

func tokensOf(in Input) int {
	if in.Response == nil {
		return 0
	}
	return in.Response.Tokens
}
