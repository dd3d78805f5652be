package task

import (
	"errors"
	"maps"
	"slices"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// Type is a task type plug-in, in the shape of lm-evaluation-harness's Task
// (construct_requests / process_results) and Inspect's solver chain: its
// plan keys and their validation, its stages and the requests of each, and
// what its scorers see. Each type lives in one file of this package;
// adding one touches that file, its test and the docs.
type Type interface {
	Name() string
	// Doc is a one-line description for docs/plan.md and `tunecheck init`.
	Doc() string
	// Keys are the task keys the type reads beyond the common ones (name,
	// dataset, type, prompt, reference, few_shot, scorers, params, group).
	Keys() []Key
	// Check validates a task of this type before anything runs.
	Check(t *plan.Task, at string, r plan.Reporter)
	// Stages names the task's stages in order; every item goes through each.
	Stages(spec Spec, items []Item) []string
	// Build renders rows into items with their first stage's requests.
	Build(spec Spec, rows []Row) ([]Item, error)
	// Next builds stage s (≥ 1) of one item for one model from that model's
	// responses to the earlier stages (prior[k] answers stage k's requests
	// in order). No requests means the item has no such stage.
	Next(spec Spec, s int, it *Item, prior [][]provider.Response) ([]provider.Request, error)
	// Scorers are the type's own scorers; nil means the plan's `scorers`.
	Scorers(spec Spec) []scorer.Scorer
	// Input assembles what scorers see of an item for one model from its
	// responses to every stage, and the text shown for it in reports. It
	// returns ErrEmptyOutput for an empty answer.
	Input(spec Spec, it *Item, resps [][]provider.Response) (scorer.Input, string, error)
}

// Key documents one task key a type reads.
type Key struct {
	Name     string
	Doc      string
	Required bool
}

// ErrEmptyOutput marks an item whose model answered with nothing: counted
// as empty, shown and gateable, never scored.
var ErrEmptyOutput = errors.New("the model's output is empty")

// Types are the task types tunecheck ships, by name.
func Types() map[string]Type {
	return map[string]Type{
		BBQ:            bbqType{},
		Code:           codeType{},
		CrowsPairs:     crowsPairsType{},
		Generate:       generateType{},
		MultipleChoice: multipleChoiceType{},
		Perplexity:     perplexityType{},
	}
}

// TypeNames lists the task types, sorted.
func TypeNames() []string { return slices.Sorted(maps.Keys(Types())) }

// PlanTypes gives the types in the form plan validation takes.
func PlanTypes() map[string]plan.TaskType {
	out := map[string]plan.TaskType{}
	for k, t := range Types() {
		out[k] = t
	}
	return out
}
