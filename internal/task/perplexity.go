package task

import (
	"fmt"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// perplexityType measures the rolling log-likelihood of each rendered text
// (lm-evaluation-harness's loglikelihood_rolling): word and byte perplexity
// and bits per byte over the corpus.
type perplexityType struct{}

func (perplexityType) Name() string { return Perplexity }

func (perplexityType) Doc() string {
	return "rolling log-likelihood of held-out text: word/byte perplexity, bits per byte; needs echo with logprobs"
}

func (perplexityType) Keys() []Key { return nil }

func (perplexityType) Check(t *plan.Task, at string, r plan.Reporter) {
	checkTemplate(t, at, r, "the text whose likelihood is measured")
	checkNoScorers(t, at, r, "word_perplexity, byte_perplexity, bits_per_byte")
	checkNoTurns(t, at, r)
	checkNoOptions(t, at, r)
	checkNoChoices(t, at, r)
}

func (perplexityType) Stages(Spec, []Item) []string { return []string{"rolling"} }

func (perplexityType) Build(spec Spec, rows []Row) ([]Item, error) {
	return renderRows(spec, rows, func(r Row, rd rendered) (Item, error) {
		it := rd.item
		it.Requests = []provider.Request{{Type: provider.LoglikelihoodRolling, ItemID: r.ID, Prompt: it.Prompt}}
		return it, nil
	})
}

func (perplexityType) Next(Spec, int, *Item, [][]provider.Response) ([]provider.Request, error) {
	return nil, nil
}

func (perplexityType) Scorers(Spec) []scorer.Scorer {
	return []scorer.Scorer{scorer.PerplexityScorer}
}

func (perplexityType) Input(spec Spec, it *Item, resps [][]provider.Response) (scorer.Input, string, error) {
	r := &resps[0][0]
	in := scorer.Input{Prediction: it.Prompt, Fields: it.Fields, LogLikelihood: r.LogLikelihood, Response: r, Gold: -1}
	return in, fmt.Sprintf("log-likelihood %.4f over %d tokens", r.LogLikelihood, r.Tokens), nil
}
