package task

import (
	"fmt"
	"math"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// multiple_choice options for lm-eval's two other scorings.
const (
	optContinuation = "continuation"
	optMC2Labels    = "mc2_labels"
)

// mcScoring is the scoring option set ("" when neither).
func mcScoring(opts map[string]any) string {
	switch {
	case opts[optContinuation] != nil:
		return optContinuation
	case opts[optMC2Labels] != nil:
		return optMC2Labels
	}
	return ""
}

// partialRequests asks, as lm-eval's partial evaluation (WinoGrande) does,
// the likelihood of one shared continuation (" " + the row's field) after
// each context: prompt + choice.
func partialRequests(it Item, r Row, ctx, field string) (Item, error) {
	cont, ok := r.Fields[field].(string)
	if !ok || cont == "" {
		return it, fmt.Errorf("field %q (continuation) must be a non-empty string, got %s", field, describe(r.Fields[field]))
	}
	for i, c := range it.Choices {
		it.Requests = append(it.Requests, provider.Request{
			Type:         provider.Loglikelihood,
			ItemID:       RequestID(r.ID, i, len(it.Choices)),
			Prompt:       ctx + c,
			Continuation: " " + cont,
		})
	}
	return it, nil
}

// partialScorer is acc under partial evaluation: the gold context must give
// the shared continuation the highest likelihood. There is no acc_norm: the
// continuation, lm-eval's normaliser, is the same for every choice.
type partialScorer struct{}

func (partialScorer) Metrics() []scorer.Metric {
	return []scorer.Metric{{Name: "acc", Direction: scorer.Higher, Test: scorer.TestMcNemar, Binary: true}}
}

func (partialScorer) Score(in scorer.Input) (map[string]float64, error) {
	if len(in.ChoiceLogLikelihoods) != len(in.Choices) || in.Gold < 0 || in.Gold >= len(in.Choices) {
		return nil, fmt.Errorf("partial evaluation: %d log-likelihoods for %d contexts, gold %d", len(in.ChoiceLogLikelihoods), len(in.Choices), in.Gold)
	}
	return map[string]float64{"acc": scorer.MultipleChoice(in.ChoiceLogLikelihoods, in.Choices, in.Gold)["acc"]}, nil
}

// mc2Split checks mc2 labels (0/1 per choice) and returns how many true
// answers lead. lm-eval's process_results_mc2 splits the choices at the
// first 0 label; a 1 after it would be counted false, so it is refused.
func mc2Split(v any, n int) (int, error) {
	list, ok := v.([]any)
	if !ok || len(list) != n {
		return 0, fmt.Errorf("want a list of %d labels (0 or 1), got %s", n, describe(v))
	}
	split := -1
	for i, e := range list {
		var l float64
		switch x := e.(type) {
		case int64:
			l = float64(x)
		case int:
			l = float64(x)
		case float64:
			l = x
		default:
			return 0, fmt.Errorf("label %d is %s, not 0 or 1", i, describe(e))
		}
		switch {
		case l == 0 && split < 0:
			split = i
		case l == 1 && split >= 0:
			return 0, fmt.Errorf("label %d is 1 after a 0; true answers must come first (as in TruthfulQA's mc2_targets)", i)
		case l != 0 && l != 1:
			return 0, fmt.Errorf("label %d is %v, not 0 or 1", i, l)
		}
	}
	if split == 0 {
		return 0, fmt.Errorf("no true answer (the first label is 0)")
	}
	if split < 0 {
		split = n
	}
	return split, nil
}

// mc2Scorer is TruthfulQA's MC2: the probability of the true answers,
// normalised over all answers, from each answer's summed log-likelihood
// (exp taken after subtracting the largest, which cancels in the ratio).
type mc2Scorer struct{ field string }

func (mc2Scorer) Metrics() []scorer.Metric {
	return []scorer.Metric{{Name: "mc2", Direction: scorer.Higher, Test: scorer.TestPermutation}}
}

func (s mc2Scorer) Score(in scorer.Input) (map[string]float64, error) {
	lls := in.ChoiceLogLikelihoods
	split, err := mc2Split(in.Fields[s.field], len(lls))
	if err != nil {
		return nil, fmt.Errorf("field %q (mc2_labels): %w", s.field, err)
	}
	return map[string]float64{"mc2": MC2(lls, split)}, nil
}

// MC2 is Σ p(true) / Σ p(all) for answers whose first split are true.
func MC2(lls []float64, split int) float64 {
	top := math.Inf(-1)
	for _, l := range lls {
		top = math.Max(top, l)
	}
	var t, all float64
	for i, l := range lls {
		p := math.Exp(l - top)
		all += p
		if i < split {
			t += p
		}
	}
	return t / all
}
