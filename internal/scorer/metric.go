package scorer

import "github.com/tunecheck/tunecheck/internal/provider"

// Direction says which way a metric improves.
type Direction string

// The directions.
const (
	// Higher: a larger value is better (accuracy, F1, BLEU).
	Higher Direction = "higher"
	// Lower: a smaller value is better (perplexity, TER, error rates).
	Lower Direction = "lower"
	// Neutral: neither way is better in itself (length); a change is
	// reported, never coloured as a gain or a loss, and wins/losses are not counted.
	Neutral Direction = "neutral"
)

// Paired tests a metric can declare as its natural one.
const (
	// TestPermutation is the sign-flip permutation test on per-item differences.
	TestPermutation = "permutation"
	// TestMcNemar fits per-item pass/fail metrics (0 or 1 per item).
	TestMcNemar = "mcnemar"
	// TestWilcoxon fits ordinal per-item scores (ratings).
	TestWilcoxon = "wilcoxon"
	// TestBootstrap is the paired bootstrap of the corpus value (corpus metrics).
	TestBootstrap = "bootstrap"
)

// Metric describes one number a scorer reports, in the spirit of
// lm-evaluation-harness's higher_is_better() and aggregation() declared
// beside each metric.
type Metric struct {
	Name      string    `json:"name"`
	Direction Direction `json:"direction"`
	// Corpus is true when the task value is a function of summed per-item
	// sufficient statistics (CorpusScorer.Aggregate), not a mean of items.
	Corpus bool `json:"corpus,omitempty"`
	// Test is the paired test that fits the metric (Test* constants).
	Test string `json:"test"`
	// Binary is true when every per-item value is 0 or 1.
	Binary bool `json:"binary,omitempty"`
}

// Gain is b−a oriented so that a positive gain is an improvement (0 for
// neutral metrics).
func (m Metric) Gain(a, b float64) float64 {
	switch m.Direction {
	case Higher:
		return b - a
	case Lower:
		return a - b
	}
	return 0
}

func mean(name string) Metric {
	return Metric{Name: name, Direction: Higher, Test: TestPermutation}
}

func passFail(name string) Metric {
	return Metric{Name: name, Direction: Higher, Test: TestMcNemar, Binary: true}
}

func corpus(name string, d Direction) Metric {
	return Metric{Name: name, Direction: d, Corpus: true, Test: TestBootstrap}
}

// Names returns the metric names of ms in order.
func MetricNames(ms []Metric) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

// Input is what a scorer sees of one item for the model being scored: the
// row, the references, the model's final response with every sample and its
// logprobs, the earlier stages' responses, and the other models' outputs.
// Scorers are pure: they read Input and never call a model.
type Input struct {
	// Prediction is the scored text: the model's final answer (sample 0).
	Prediction string
	References []string
	Fields     map[string]any
	// Model names the model being scored.
	Model string
	// Response is the final stage's full response (nil for offline inputs).
	Response *provider.Response
	// Samples are all n generated samples (Samples[0] == Prediction); nil
	// when only one was asked for.
	Samples []string
	// Stages holds this model's earlier stage responses by stage name
	// (e.g. "turn1" when scoring a second turn).
	Stages map[string]*provider.Response
	// Others holds the other models' final predictions on the same item, by
	// model name (the baseline's output when scoring the candidate).
	Others map[string]string
	// LogLikelihood is the model's rolling log-likelihood of Prediction
	// (perplexity tasks only).
	LogLikelihood float64
	// ChoiceLogLikelihoods, ChoiceGreedy, Choices and Gold describe a
	// multiple-choice item (Gold −1 when there is none).
	ChoiceLogLikelihoods []float64
	ChoiceGreedy         []bool
	Choices              []string
	Gold                 int
}
