package scorer

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/lm"
)

// MultipleChoice scores one multiple-choice item from the log-likelihood of
// each choice, as lm-evaluation-harness does: acc picks the choice with the
// highest log-likelihood, acc_norm divides each by the choice's length in
// characters first. Ties go to the first choice (numpy argmax).
func MultipleChoice(lls []float64, choices []string, gold int) map[string]float64 {
	best, bestNorm := 0, 0
	for i := range lls {
		if lls[i] > lls[best] {
			best = i
		}
		if norm(lls[i], choices[i]) > norm(lls[bestNorm], choices[bestNorm]) {
			bestNorm = i
		}
	}
	return map[string]float64{"acc": b2f(best == gold), "acc_norm": b2f(bestNorm == gold)}
}

func norm(ll float64, choice string) float64 {
	n := utf8.RuneCountInString(choice)
	if n == 0 {
		return math.Inf(-1)
	}
	return ll / float64(n)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// PerplexityMetrics are the corpus metrics of a perplexity task, as
// lm-evaluation-harness reports them for rolling log-likelihood tasks, and
// the token perplexity (exp of minus the summed log-likelihood over the
// summed token count), which only compares models that share a tokenizer.
var PerplexityMetrics = []string{"word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity"}

// perplexity computes the metrics from a document's (or summed documents')
// log-likelihood, words, bytes and tokens with metrics/lm, which counts
// words and bytes exactly as the harness does. tokens 0 (not known) gives a
// NaN token perplexity.
func perplexity(ll float64, words, bytes, tokens int) (map[string]float64, error) {
	s, err := lm.Summarize([]lm.Doc{{LogLikelihood: ll, Words: words, Bytes: bytes, Tokens: tokens}})
	if err != nil {
		return nil, err
	}
	return map[string]float64{"word_perplexity": s.WordPerplexity, "byte_perplexity": s.BytePerplexity, "bits_per_byte": s.BitsPerByte, "token_perplexity": s.Perplexity}, nil
}

type choiceScorer struct{}

// ChoiceScorer scores a multiple-choice item from Input.ChoiceLogLikelihoods
// (acc and acc_norm, as MultipleChoice).
var ChoiceScorer Scorer = choiceScorer{}

func (choiceScorer) Metrics() []Metric {
	return []Metric{passFail("acc"), passFail("acc_norm")}
}

func (choiceScorer) Score(in Input) (map[string]float64, error) {
	if len(in.ChoiceLogLikelihoods) != len(in.Choices) || len(in.Choices) == 0 {
		return nil, fmt.Errorf("multiple choice: %d log-likelihoods for %d choices", len(in.ChoiceLogLikelihoods), len(in.Choices))
	}
	if in.Gold < 0 || in.Gold >= len(in.Choices) {
		return nil, errNoRefs
	}
	return MultipleChoice(in.ChoiceLogLikelihoods, in.Choices, in.Gold), nil
}
