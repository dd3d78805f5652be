package task

import (
	"fmt"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// multipleChoiceType scores each choice by its log-likelihood after the
// prompt, as lm-evaluation-harness does: one loglikelihood request per
// choice, continuation = target delimiter " " + choice, few-shot examples
// joined by "\n\n"; acc and acc_norm (scorer.ChoiceScorer).
type multipleChoiceType struct{}

func (multipleChoiceType) Name() string { return MultipleChoice }

func (multipleChoiceType) Doc() string {
	return "log-likelihood of each choice after the prompt (acc, acc_norm as lm-evaluation-harness); needs echo with logprobs"
}

func (multipleChoiceType) Keys() []Key {
	return []Key{
		{Name: "choices", Doc: "field holding the list of choices", Required: true},
		{Name: "answer", Doc: "field holding the correct choice, as an index or a letter A, B, C…", Required: true},
	}
}

func (multipleChoiceType) Check(t *plan.Task, at string, r plan.Reporter) {
	checkTemplate(t, at, r, "the context each choice is scored after")
	if t.Choices == "" {
		r.Missing(at, "choices", "name the field holding the list of choices, e.g. `choices: choices`")
	}
	if t.Answer == "" {
		r.Missing(at, "answer", "name the field holding the correct choice (index or letter), e.g. `answer: label`")
	}
	checkNoScorers(t, at, r, "acc, acc_norm")
	checkNoTurns(t, at, r)
	checkNoOptions(t, at, r)
}

// checkTemplate requires prompt.template for types that cannot do without.
func checkTemplate(t *plan.Task, at string, r plan.Reporter, what string) {
	if t.Prompt.Template == "" {
		r.Missing(at+".prompt", "template", fmt.Sprintf("write a Jinja template for %s, e.g. `prompt: {template: \"{{ question }}\"}`", what))
	}
}

func checkNoScorers(t *plan.Task, at string, r plan.Reporter, own string) {
	if len(t.Scorers) > 0 {
		r.Errorf(at+".scorers", "remove the scorers, or make the task type generate",
			"scorers apply to generate tasks; a %s task is scored by its type (%s)", t.Type, own)
	}
}

// checkNoOptions refuses type options for a type that reads none.
func checkNoOptions(t *plan.Task, at string, r plan.Reporter) {
	if len(t.Options) > 0 {
		r.Errorf(at+".options", "remove options: the keys this type reads are documented in docs/plan.md (Task types)", "a %s task takes no options", t.Type)
	}
}

// checkNoChoices refuses multiple-choice keys on another type.
func checkNoChoices(t *plan.Task, at string, r plan.Reporter) {
	if t.Choices != "" || t.Answer != "" {
		r.Errorf(at+".type", "set `type: multiple_choice`, or remove choices and answer", "choices and answer apply to multiple_choice tasks, not %s", t.Type)
	}
}

func checkNoTurns(t *plan.Task, at string, r plan.Reporter) {
	if t.Turns != "" {
		r.Errorf(at+".turns", "remove turns, or make the task type generate", "turns apply to generate tasks")
	}
}

func (multipleChoiceType) Stages(Spec, []Item) []string { return []string{"choices"} }

func (multipleChoiceType) Build(spec Spec, rows []Row) ([]Item, error) {
	return renderRows(spec, rows, func(r Row, rd rendered) (Item, error) {
		it := rd.item
		raw, ok := r.Fields[spec.Choices]
		if !ok {
			return it, fmt.Errorf("field %q (choices) is missing", spec.Choices)
		}
		list, ok := raw.([]any)
		if !ok || len(list) < 2 {
			return it, fmt.Errorf("field %q (choices) must be a list of at least two choices, got %s", spec.Choices, describe(raw))
		}
		for _, c := range list {
			it.Choices = append(it.Choices, stringify(c))
		}
		gold, err := goldIndex(r.Fields[spec.Answer], len(it.Choices))
		if err != nil {
			return it, fmt.Errorf("field %q (answer): %w", spec.Answer, err)
		}
		it.Gold = gold
		ctx := completionPrompt(rd.system, rd.shots, it.Prompt)
		for i, c := range it.Choices {
			it.Requests = append(it.Requests, provider.Request{
				Type:         provider.Loglikelihood,
				ItemID:       RequestID(r.ID, i, len(it.Choices)),
				Prompt:       ctx,
				Continuation: " " + c,
			})
		}
		return it, nil
	})
}

func (multipleChoiceType) Next(Spec, int, *Item, [][]provider.Response) ([]provider.Request, error) {
	return nil, nil
}

func (multipleChoiceType) Scorers(Spec) []scorer.Scorer { return []scorer.Scorer{scorer.ChoiceScorer} }

func (multipleChoiceType) Input(spec Spec, it *Item, resps [][]provider.Response) (scorer.Input, string, error) {
	rs := resps[0]
	in := scorer.Input{Fields: it.Fields, Choices: it.Choices, Gold: it.Gold,
		ChoiceLogLikelihoods: make([]float64, len(rs)), ChoiceGreedy: make([]bool, len(rs))}
	best := 0
	for i, r := range rs {
		in.ChoiceLogLikelihoods[i] = r.LogLikelihood
		in.ChoiceGreedy[i] = r.IsGreedy
		if r.LogLikelihood > rs[best].LogLikelihood {
			best = i
		}
	}
	in.Prediction = it.Choices[best]
	return in, it.Choices[best], nil
}
