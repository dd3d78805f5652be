package task

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// perplexityType measures the rolling log-likelihood of each rendered text
// (lm-evaluation-harness's loglikelihood_rolling): the text is tokenized by
// the endpoint's own tokenizer and scored in the harness's disjoint windows
// (provider.RollingWindows), giving word and byte perplexity, bits per byte
// and token perplexity over the corpus. Its options:
//
//   - max_length: the model's context length as lm-eval's max_length model
//     argument means it (windows of max_length-2 scored tokens); default the
//     server's max_model_len.
//   - prefix_token_id: the token the first window conditions on; default the
//     tokenizer's BOS.
//   - train_task: the name of another perplexity task holding text the
//     model was trained on; this task is then the held-out text, and the
//     report shows the train-vs-held-out bits-per-byte gap (internal/app).
type perplexityType struct{}

// The option names a perplexity task reads.
const (
	OptMaxLength     = "max_length"
	OptPrefixTokenID = "prefix_token_id"
	OptTrainTask     = "train_task"
)

func (perplexityType) Name() string { return Perplexity }

func (perplexityType) Doc() string {
	return "rolling log-likelihood of held-out text in lm-eval's token windows: word/byte/token perplexity, bits per byte; " +
		"needs the server's /tokenize and echo with logprobs (vLLM); options max_length, prefix_token_id, train_task"
}

func (perplexityType) Keys() []Key { return nil }

func (perplexityType) Check(t *plan.Task, at string, r plan.Reporter) {
	checkTemplate(t, at, r, "the text whose likelihood is measured")
	checkNoScorers(t, at, r, "word_perplexity, byte_perplexity, bits_per_byte")
	checkNoTurns(t, at, r)
	checkNoChoices(t, at, r)
	for _, k := range slices.Sorted(maps.Keys(t.Options)) {
		v := t.Options[k]
		switch k {
		case OptMaxLength:
			if n, ok := optInt(v); !ok || n < 3 {
				r.Errorf(at+".options.max_length", "set it to the model's context length in tokens (lm-eval's max_length, e.g. 2048), or remove it to take the server's", "max_length must be a whole number of at least 3, not %v", v)
			}
		case OptPrefixTokenID:
			if n, ok := optInt(v); !ok || n < 0 {
				r.Errorf(at+".options.prefix_token_id", "set it to a token id (the tokenizer's EOS for models without BOS), or remove it to take the BOS", "prefix_token_id must be a token id (a whole number ≥ 0), not %v", v)
			}
		case OptTrainTask:
			if name, ok := v.(string); !ok || name == "" || name == t.Name {
				r.Errorf(at+".options.train_task", "name another perplexity task of this plan, whose dataset is text the model was trained on", "train_task must name another task, not %v", v)
			}
		default:
			r.Errorf(at+".options."+k, "remove it; a perplexity task reads max_length, prefix_token_id and train_task", "unknown option %q", k)
		}
	}
}

// optInt reads a whole number from a decoded YAML or JSON value.
func optInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case uint64:
		return int(n), n <= math.MaxInt32
	case float64:
		return int(n), n == math.Trunc(n) && math.Abs(n) <= math.MaxInt32
	}
	return 0, false
}

// PerplexityWindow is the token-window setting of a perplexity task's
// options (checked by Check).
func PerplexityWindow(opts map[string]any) provider.Window {
	var w provider.Window
	if n, ok := optInt(opts[OptMaxLength]); ok {
		w.MaxLength = n
	}
	if n, ok := optInt(opts[OptPrefixTokenID]); ok {
		w.PrefixToken = &n
	}
	return w
}

func (perplexityType) Stages(Spec, []Item) []string { return []string{"rolling"} }

func (perplexityType) Build(spec Spec, rows []Row) ([]Item, error) {
	return renderRows(spec, rows, func(r Row, rd rendered) (Item, error) {
		it := rd.item
		w := PerplexityWindow(spec.Options)
		it.Requests = []provider.Request{{Type: provider.LoglikelihoodRolling, ItemID: r.ID, Prompt: it.Prompt, Window: &w}}
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
