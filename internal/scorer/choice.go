package scorer

import (
	"math"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/text"
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

// MultipleChoiceMetrics are the names MultipleChoice returns.
var MultipleChoiceMetrics = []string{"acc", "acc_norm"}

// Rolling holds one perplexity item's counts; the task's metrics are ratios
// of sums over items (lm-evaluation-harness's corpus-level definitions), not
// means of per-item ratios.
func Rolling(ll float64, doc string) map[string]float64 {
	return map[string]float64{
		"loglikelihood": ll,
		"bytes":         float64(len(doc)),
		"words":         float64(len(text.PySplit(doc))),
	}
}

// PerplexityMetrics are the corpus metrics of a perplexity task.
var PerplexityMetrics = []string{"word_perplexity", "byte_perplexity", "bits_per_byte"}

// Perplexity computes the corpus metrics from summed counts.
func Perplexity(sumLL, sumBytes, sumWords float64) map[string]float64 {
	return map[string]float64{
		"word_perplexity": math.Exp(-sumLL / sumWords),
		"byte_perplexity": math.Exp(-sumLL / sumBytes),
		"bits_per_byte":   -sumLL / sumBytes / math.Ln2,
	}
}
