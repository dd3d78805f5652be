package lmeval

import (
	"fmt"
	"github.com/tunecheck/tunecheck/internal/pyrand"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Splits holds a task's dataset rows by split name, as read from disk
// (before process_docs).
type Splits map[string][]Doc

// Instance is one evaluation doc turned into what a model is asked.
type Instance struct {
	Doc     int // index in the evaluation split
	Context string
	// Fewshot are the positions of the few-shot docs in the few-shot pool.
	Fewshot []int
	// multiple_choice: Choices and Continuations (target_delimiter + choice),
	// Gold the correct index. loglikelihood: one continuation.
	Choices       []string
	Continuations []string
	Gold          int
	// generate_until and loglikelihood(_rolling): the reference(s).
	Targets []string
}

// BuildOptions are the run-time settings lm-eval takes from its CLI.
type BuildOptions struct {
	// NumFewshot overrides the task's num_fewshot when not nil.
	NumFewshot *int
	// Limit keeps the first Limit evaluation docs (0: all).
	Limit int
	// Seed is the few-shot seed (lm-eval's --seed third value); nil is 1234.
	Seed *int64
}

// EvalSplit is the split lm-eval evaluates: test_split, else validation_split.
func (t *Task) EvalSplit() string {
	if t.TestSplit != nil {
		return *t.TestSplit
	}
	return *t.ValidationSplit
}

// FewshotSource says where few-shot docs come from: a split name, or "" when
// they are fewshot_config.samples.
func (t *Task) FewshotSource() string {
	switch {
	case t.Fewshot.Split != nil:
		return *t.Fewshot.Split
	case t.Fewshot.Samples != nil:
		return ""
	case t.TrainingSplit != nil:
		return *t.TrainingSplit
	case t.ValidationSplit != nil:
		return *t.ValidationSplit
	}
	return *t.TestSplit
}

func (t *Task) shots(o BuildOptions) int {
	if o.NumFewshot != nil {
		return *o.NumFewshot
	}
	return t.NumFewshot
}

// SplitsNeeded lists the splits Build reads for these options.
func (t *Task) SplitsNeeded(o BuildOptions) []string {
	need := []string{t.EvalSplit()}
	if t.shots(o) > 0 {
		if s := t.FewshotSource(); s != "" && s != need[0] {
			need = append(need, s)
		}
	}
	return need
}

func (t *Task) docs(splits Splits, name string) ([]Doc, error) {
	d, ok := splits[name]
	if !ok {
		return nil, fmt.Errorf("task %s: split %q was not loaded", t.Name, name)
	}
	if t.ProcessDocs != nil {
		return t.ProcessDocs.ProcessDocs(d)
	}
	return d, nil
}

// Build turns the evaluation docs into instances exactly as lm-eval's
// fewshot_context and construct_requests do.
func (t *Task) Build(splits Splits, o BuildOptions) ([]Instance, error) {
	evalDocs, err := t.docs(splits, t.EvalSplit())
	if err != nil {
		return nil, err
	}
	if len(evalDocs) == 0 {
		return nil, fmt.Errorf("task %s: split %q has no docs", t.Name, t.EvalSplit())
	}
	features := map[string]bool{}
	for k := range maps.Keys(evalDocs[0]) {
		features[k] = true
	}
	n := t.shots(o)
	var pool []Doc
	if n > 0 {
		if src := t.FewshotSource(); src != "" {
			if pool, err = t.docs(splits, src); err != nil {
				return nil, err
			}
		} else {
			pool = t.Fewshot.Samples
		}
	}
	seed := int64(1234)
	if o.Seed != nil {
		seed = *o.Seed
	}
	rnd := pyrand.New(seed)
	// lm-eval drops the doc from its own few-shot examples only when the
	// few-shot split is the test split (two absent splits count as equal).
	exclude := eqOpt(t.Fewshot.Split, t.TestSplit)
	limit := len(evalDocs)
	if o.Limit > 0 && o.Limit < limit {
		limit = o.Limit
	}
	out := make([]Instance, 0, limit)
	for i, doc := range evalDocs[:limit] {
		in, err := t.instance(i, doc, pool, n, exclude, rnd, features)
		if err != nil {
			return nil, fmt.Errorf("task %s (%s), doc %d: %w", t.Name, t.File, i, err)
		}
		out = append(out, in)
	}
	return out, nil
}

func eqOpt(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (t *Task) sample(pool []Doc, n int, doc Doc, exclude bool, rnd *pyrand.Random) ([]int, error) {
	isDoc := func(i int) bool { return exclude && reflect.DeepEqual(pool[i], doc) }
	if t.Fewshot.Sampler == "first_n" {
		var idx []int
		for i := range pool {
			if !isDoc(i) {
				idx = append(idx, i)
			}
		}
		if n > len(idx) {
			return nil, fmt.Errorf("%d few-shot examples requested, %d available (first_n sampler)", n, len(idx))
		}
		return idx[:n], nil
	}
	k := n
	if exclude {
		k = n + 1
	}
	picked, err := rnd.SampleIndices(len(pool), k)
	if err != nil {
		return nil, fmt.Errorf("few-shot sample: %w", err)
	}
	idx := slices.DeleteFunc(picked, isDoc)
	if len(idx) > n {
		idx = idx[:n]
	}
	if len(idx) != n {
		return nil, fmt.Errorf("few-shot sample returned %d docs, %d requested", len(idx), n)
	}
	return idx, nil
}

func pick[T any](override *T, base T) T {
	if override != nil {
		return *override
	}
	return base
}

func (t *Task) instance(i int, doc Doc, pool []Doc, n int, exclude bool, rnd *pyrand.Random, features map[string]bool) (Instance, error) {
	in := Instance{Doc: i}
	var b strings.Builder
	if t.Description != "" {
		var desc string
		if v, ok := doc[t.Description]; ok {
			s, err := pyStr(v)
			if err != nil {
				return in, fmt.Errorf("description: %w", err)
			}
			desc = s
		} else {
			s, err := t.descTmpl.Render(doc)
			if err != nil {
				return in, fmt.Errorf("description (%s): %w", t.raw.at("description"), err)
			}
			desc = s
		}
		b.WriteString(desc)
	}
	hasChoices := t.DocToChoice != nil
	if n > 0 {
		idx, err := t.sample(pool, n, doc, exclude, rnd)
		if err != nil {
			return in, err
		}
		in.Fewshot = idx
		text := t.DocToText
		if t.Fewshot.DocToText != nil {
			text = t.Fewshot.DocToText
		}
		target := t.DocToTarget
		if t.Fewshot.DocToTarget != nil {
			target = t.Fewshot.DocToTarget
		}
		choice := t.DocToChoice
		if t.Fewshot.DocToChoice != nil {
			choice = t.Fewshot.DocToChoice
		}
		tgtDelim := pick(t.Fewshot.TargetDelimiter, t.TargetDelimiter)
		fewDelim := pick(t.Fewshot.FewshotDelimiter, t.FewshotDelimiter)
		for _, j := range idx {
			fs := pool[j]
			q, err := t.question(text, fs, features, hasChoices)
			if err != nil {
				return in, fmt.Errorf("few-shot doc %d: %w", j, err)
			}
			var c []string
			if choice != nil {
				if c, err = choice.choices(fs, features); err != nil {
					return in, fmt.Errorf("few-shot doc %d: %s (%s): %w", j, choice.Key, choice.At, err)
				}
			}
			if target == nil {
				return in, fmt.Errorf("doc_to_target is missing: few-shot examples need an answer")
			}
			a, err := target.target(fs, features, hasChoices)
			if err != nil {
				return in, fmt.Errorf("few-shot doc %d: %s (%s): %w", j, target.Key, target.At, err)
			}
			b.WriteString(q)
			if ans, ok, err := answerText(a, c); err != nil {
				return in, fmt.Errorf("few-shot doc %d: %s (%s): %w", j, target.Key, target.At, err)
			} else if ok {
				b.WriteString(tgtDelim)
				b.WriteString(ans)
				b.WriteString(fewDelim)
			}
		}
	}
	q, err := t.question(t.DocToText, doc, features, hasChoices)
	if err != nil {
		return in, err
	}
	b.WriteString(q)
	in.Context = b.String()
	return in, t.requests(&in, doc, features)
}

func (t *Task) question(f *Field, doc Doc, features map[string]bool, hasChoices bool) (string, error) {
	v, err := f.text(doc, features, hasChoices)
	if err != nil {
		return "", fmt.Errorf("%s (%s): %w", f.Key, f.At, err)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s (%s): gave %v; a doc_to_text that picks among inputs (Winogrande's multiple-input form) is not supported", f.Key, f.At, v)
	}
	return s, nil
}

// answerText is build_qa_turn's answer: an index into the choices, the
// first of a list, or the text; ok is false when there is no answer
// (None or ""), which drops the delimiters too.
func answerText(a any, choices []string) (string, bool, error) {
	switch x := a.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, x != "", nil
	case int64:
		if choices == nil {
			return "", false, fmt.Errorf("answer is index %d but the task has no doc_to_choice", x)
		}
		if x < 0 || int(x) >= len(choices) {
			return "", false, fmt.Errorf("answer index %d is out of range for %d choices", x, len(choices))
		}
		return choices[x], true, nil
	case []any:
		if len(x) == 0 {
			return "", false, nil
		}
		s, err := pyStr(x[0])
		return s, true, err
	}
	s, err := pyStr(a)
	return s, true, err
}

func (t *Task) requests(in *Instance, doc Doc, features map[string]bool) error {
	hasChoices := t.DocToChoice != nil
	var target any
	if t.DocToTarget != nil {
		var err error
		if target, err = t.DocToTarget.target(doc, features, hasChoices); err != nil {
			return fmt.Errorf("%s (%s): %w", t.DocToTarget.Key, t.DocToTarget.At, err)
		}
	}
	switch t.OutputType {
	case MultipleChoice:
		c, err := t.DocToChoice.choices(doc, features)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", t.DocToChoice.Key, t.DocToChoice.At, err)
		}
		in.Choices = c
		for _, ch := range c {
			in.Continuations = append(in.Continuations, t.TargetDelimiter+ch)
		}
		switch x := target.(type) {
		case int64:
			if x < 0 || int(x) >= len(c) {
				return fmt.Errorf("gold index %d is out of range for %d choices", x, len(c))
			}
			in.Gold = int(x)
		case string:
			g := slices.Index(c, x)
			if g < 0 {
				return fmt.Errorf("gold %q is not one of the choices %q", x, c)
			}
			in.Gold = g
		default:
			return fmt.Errorf("doc_to_target gave %v; a multiple_choice task needs an index or the text of a choice", target)
		}
	case GenerateUntil, Loglikelihood, LoglikelihoodRolling:
		switch x := target.(type) {
		case []any:
			for _, e := range x {
				s, err := pyStr(e)
				if err != nil {
					return err
				}
				in.Targets = append(in.Targets, s)
			}
		case int64:
			// lm-eval compares generations against str(target) with choices
			// absent; with choices it is the indexed choice.
			in.Targets = []string{fmt.Sprint(x)}
		case nil:
			if t.OutputType != GenerateUntil {
				return fmt.Errorf("doc_to_target is missing: %s needs it", t.OutputType)
			}
		default:
			s, err := pyStr(x)
			if err != nil {
				return err
			}
			in.Targets = []string{s}
		}
		if t.OutputType == Loglikelihood {
			in.Continuations = []string{t.TargetDelimiter + in.Targets[0]}
		}
	}
	return nil
}
