package task

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// Code is the code task type.
const Code = "code"

// CodePassMarker is printed by a code program after its test passed; a
// program that exits 0 without it (exit() before the test) has not passed.
const CodePassMarker = "__tunecheck_tests_passed__"

// codeStops are the Codex paper's stop sequences (Chen et al., 2021),
// which lm-evaluation-harness's humaneval task also sends: a completion
// ends where the function body does.
var codeStops = []string{"\nclass", "\ndef", "\n#", "\nif", "\nprint"}

// codeType asks for a completion of a function (HumanEval's schema: a
// `prompt` with the signature and docstring, an `entry_point`, a `test`
// defining check(candidate)) and leaves scoring to the run's execute stage,
// which runs each sample as openai/human-eval builds it — prompt +
// completion + "\n" + test + "\n" + "check(entry_point)" — in the sandbox
// (internal/sandbox) and reports unbiased pass@k over the n samples.
type codeType struct{}

func (codeType) Name() string { return Code }

func (codeType) Doc() string {
	return "code completion (HumanEval schema) run against the row's `test` in the sandbox; pass@k over params.n samples (options: k, prompt, entry_point, test); needs --confirm-run-unsafe-code (docs/sandbox.md)"
}

// Keys is empty: a code task's settings are its `options` (k, prompt,
// entry_point, test), documented in docs/sandbox.md.
func (codeType) Keys() []Key { return nil }

// CodeConfig is a code task's options, resolved.
type CodeConfig struct {
	Prompt, EntryPoint, Test string
	Ks                       []int
}

// CodeOptions reads a code task's options.
func CodeOptions(opts map[string]any) (CodeConfig, error) {
	c := CodeConfig{Prompt: "prompt", EntryPoint: "entry_point", Test: "test", Ks: []int{1}}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		switch k {
		case "prompt", "entry_point", "test":
			s, ok := v.(string)
			if !ok || !fieldName.MatchString(s) {
				return c, fmt.Errorf("options.%s must be a field name, got %s", k, describe(v))
			}
			switch k {
			case "prompt":
				c.Prompt = s
			case "entry_point":
				c.EntryPoint = s
			default:
				c.Test = s
			}
		case "k":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return c, fmt.Errorf("options.k must be a non-empty list of integers such as [1, 10], got %s", describe(v))
			}
			c.Ks = nil
			for _, x := range list {
				n, ok := wholeNumber(x)
				if !ok || n < 1 {
					return c, fmt.Errorf("options.k: each k must be an integer of at least 1, got %v", x)
				}
				if slices.Contains(c.Ks, n) {
					return c, fmt.Errorf("options.k: k = %d is listed twice", n)
				}
				c.Ks = append(c.Ks, n)
			}
		default:
			return c, fmt.Errorf("unknown option %q: a code task reads k, prompt, entry_point and test", k)
		}
	}
	return c, nil
}

func wholeNumber(x any) (int, bool) {
	switch n := x.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case uint64:
		return int(n), n < math.MaxInt32
	case float64:
		return int(n), n == math.Trunc(n) && math.Abs(n) < math.MaxInt32
	}
	return 0, false
}

func (codeType) Check(t *plan.Task, at string, r plan.Reporter) {
	checkNoChoices(t, at, r)
	checkNoTurns(t, at, r)
	checkNoScorers(t, at, r, "pass@k from the execute stage")
	if t.FewShot.K > 0 {
		r.Errorf(at+".few_shot", "remove few_shot: the program is the row's own prompt and completion", "few_shot does not apply to code tasks")
	}
	c, err := CodeOptions(t.Options)
	if err != nil {
		r.Errorf(at+".options", "see docs/plan.md (Task types: code)", "%v", err)
		return
	}
	n := 1
	if t.Params != nil && t.Params.N > 0 {
		n = t.Params.N
	}
	if top := slices.Max(c.Ks); t.Params != nil && t.Params.N > 0 && n < top {
		r.Errorf(at+".params.n", fmt.Sprintf("set params.n to %d or more, or lower options.k", top), "pass@%d needs at least %d samples per problem, params.n is %d", top, top, n)
	}
}

func (codeType) Stages(Spec, []Item) []string { return []string{"generate"} }

// Build sends each row's prompt (rendered by the task's template, by
// default the prompt field itself) for completion, with the Codex paper's
// stop sequences unless the task sets params.stop.
func (codeType) Build(spec Spec, rows []Row) ([]Item, error) {
	c, err := CodeOptions(spec.Options)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", spec.Name, err)
	}
	if spec.Template == "" {
		spec.Template = "{{ " + c.Prompt + " }}"
	}
	if spec.Params.Stop == nil {
		spec.Params.Stop = slices.Clone(codeStops)
	}
	return renderRows(spec, rows, func(r Row, rd rendered) (Item, error) {
		it := rd.item
		for _, f := range []string{c.Prompt, c.EntryPoint, c.Test} {
			s, ok := r.Fields[f].(string)
			if !ok || strings.TrimSpace(s) == "" {
				return it, fmt.Errorf("field %q must be a non-empty string (HumanEval schema: task_id, prompt, entry_point, canonical_solution, test), got %s", f, describe(r.Fields[f]))
			}
		}
		if !fieldName.MatchString(r.Fields[c.EntryPoint].(string)) {
			return it, fmt.Errorf("field %q must name a Python function, got %q", c.EntryPoint, r.Fields[c.EntryPoint])
		}
		req := provider.Request{Type: provider.Generate, ItemID: r.ID, Params: spec.Params}
		if spec.Chat {
			req.System = rd.system
			req.Messages = []provider.Message{{Role: "user", Content: it.Prompt}}
		} else {
			req.Prompt = completionPrompt(rd.system, nil, it.Prompt)
		}
		it.Requests = []provider.Request{req}
		return it, nil
	})
}

func (codeType) Next(Spec, int, *Item, [][]provider.Response) ([]provider.Request, error) {
	return nil, nil
}

// Scorers is empty: the execute stage scores code tasks.
func (codeType) Scorers(Spec) []scorer.Scorer { return []scorer.Scorer{} }

// Input gives every sample; an item is empty only when all its samples are
// (an empty sample among others runs, and fails, like any other).
func (codeType) Input(spec Spec, it *Item, resps [][]provider.Response) (scorer.Input, string, error) {
	samples := CodeSamples(&resps[len(resps)-1][0])
	last := &resps[len(resps)-1][0]
	in := scorer.Input{Prediction: samples[0], Samples: samples, Fields: it.Fields, Response: last, Gold: -1}
	for _, s := range samples {
		if strings.TrimSpace(s) != "" {
			return in, samples[0], nil
		}
	}
	return in, samples[0], ErrEmptyOutput
}

// CodeSamples lists a response's samples: all n choices, or its one text.
func CodeSamples(r *provider.Response) []string {
	if len(r.Texts) > 0 {
		return r.Texts
	}
	return []string{r.Text}
}

// CodeProgram is the program that tests one completion, built as
// openai/human-eval's execution.py builds it, followed by the pass marker.
func CodeProgram(c CodeConfig, it *Item, completion string) []byte {
	prompt, _ := it.Fields[c.Prompt].(string)
	test, _ := it.Fields[c.Test].(string)
	entry, _ := it.Fields[c.EntryPoint].(string)
	var b strings.Builder
	b.WriteString(prompt)
	b.WriteString(completion)
	b.WriteString("\n")
	b.WriteString(test)
	b.WriteString("\n")
	fmt.Fprintf(&b, "check(%s)\n", entry)
	fmt.Fprintf(&b, "print(%q)\n", CodePassMarker)
	return []byte(b.String())
}
