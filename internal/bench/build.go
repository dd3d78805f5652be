package bench

import (
	"fmt"
	"strings"

	"github.com/tunecheck/tunecheck/internal/lmeval"
)

// Instance is one evaluation item of a built-in benchmark, as the model is
// asked it.
type Instance struct {
	Task string // lm-eval task name (mmlu: mmlu_<subject>)
	Doc  int    // index in the evaluation split
	// Context is the prompt every choice continues; empty under partial
	// scoring, where each choice has its own context in Contexts and the
	// continuation (Continuations[0]) is shared.
	Context  string
	Contexts []string
	Fewshot  []int
	// Choices, their continuations and the gold index (multiple choice).
	Choices       []string
	Continuations []string
	Gold          int
	// Golds are the indices of every true choice (truthfulqa_mc2).
	Golds []int
	// Targets are the references of generative tasks (gsm8k: the answer
	// text; humaneval: the test program).
	Targets []string
	// EntryPoint is humaneval's function name.
	EntryPoint string
}

// Options are run-time settings.
type Options struct {
	// NumFewshot overrides the benchmark's NShot when not nil.
	NumFewshot *int
	// Limit keeps the first Limit evaluation docs of each task (0: all).
	Limit int
}

// Build renders the benchmark's instances from d. set holds the task
// definitions (LoadTasks).
func (b *Benchmark) Build(set *lmeval.Set, d Data, o Options) ([]Instance, error) {
	shots := b.NShot
	if o.NumFewshot != nil {
		shots = *o.NumFewshot
	}
	switch b.Name {
	case "winogrande":
		return buildWinoGrande(d, shots, o.Limit)
	case "humaneval":
		return buildHumanEval(d, o.Limit)
	}
	var out []Instance
	for _, name := range b.TaskNames() {
		t, ok := set.Task(name)
		if !ok {
			return nil, fmt.Errorf("benchmark %s: task %s has no embedded definition", b.Name, name)
		}
		bo := lmeval.BuildOptions{NumFewshot: &shots, Limit: o.Limit}
		splits, err := d.Splits(t, t.SplitsNeeded(bo))
		if err != nil {
			if shots > 0 && t.FewshotSource() != t.EvalSplit() && strings.Contains(err.Error(), "split \""+t.FewshotSource()+"\"") {
				err = fmt.Errorf("%w\n(%s takes its %d few-shot examples from the %s split, which the embedded samples lack)", err, b.Name, shots, t.FewshotSource())
			}
			return nil, err
		}
		ins, err := t.Build(splits, bo)
		if err != nil {
			return nil, err
		}
		evalDocs := splits[t.EvalSplit()]
		for _, in := range ins {
			bi := Instance{Task: name, Doc: in.Doc, Context: in.Context, Fewshot: in.Fewshot, Choices: in.Choices,
				Continuations: in.Continuations, Gold: in.Gold, Targets: in.Targets}
			if b.Name == "truthfulqa_mc2" {
				if bi.Golds, err = mc2Golds(evalDocs[in.Doc]); err != nil {
					return nil, fmt.Errorf("truthfulqa_mc2 doc %d: %w", in.Doc, err)
				}
			}
			out = append(out, bi)
		}
	}
	return out, nil
}

// mc2Golds are the indices of the leading mc2_targets labelled 1. lm-eval's
// process_results_mc2 splits the answers at the first 0 label and counts
// everything after it as false — a few TruthfulQA v1 items list another
// true answer later, which lm-eval (and so tunecheck) scores as false.
func mc2Golds(doc lmeval.Doc) ([]int, error) {
	t, ok := doc["mc2_targets"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("mc2_targets must be an object {choices, labels}")
	}
	labels, ok := t["labels"].([]any)
	if !ok {
		return nil, fmt.Errorf("mc2_targets.labels must be a list")
	}
	var golds []int
	for i, l := range labels {
		v, ok := l.(int64)
		if !ok || (v != 0 && v != 1) {
			return nil, fmt.Errorf("mc2_targets.labels[%d] must be 0 or 1", i)
		}
		if v == 0 {
			break
		}
		golds = append(golds, i)
	}
	if len(golds) == 0 {
		return nil, fmt.Errorf("mc2_targets has no leading true answer")
	}
	return golds, nil
}

// buildHumanEval renders lm-eval's humaneval task: the prompt as is
// (doc_to_text "{{prompt}}"), the target "{{test}}\ncheck({{entry_point}})".
func buildHumanEval(d Data, limit int) ([]Instance, error) {
	t := &lmeval.Task{Name: "humaneval", DatasetPath: "openai/openai_humaneval"}
	docs, err := d.split(t, "test")
	if err != nil {
		return nil, err
	}
	if limit > 0 && limit < len(docs) {
		docs = docs[:limit]
	}
	out := make([]Instance, len(docs))
	for i, doc := range docs {
		if _, err := humanevalDoc(0, doc); err != nil {
			return nil, fmt.Errorf("humaneval doc %d: %w", i, err)
		}
		entry := doc["entry_point"].(string)
		out[i] = Instance{Task: "humaneval", Doc: i, Context: doc["prompt"].(string),
			Targets: []string{doc["test"].(string) + "\ncheck(" + entry + ")"}, EntryPoint: entry}
	}
	return out, nil
}
