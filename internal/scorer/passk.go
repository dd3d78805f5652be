package scorer

import (
	"fmt"
	"slices"

	"github.com/tunecheck/tunecheck/metrics/code"
)

// codeEntries hold pass@k over an item's samples.
func codeEntries() []Entry {
	return []Entry{{
		Name: "pass_at_k", Doc: "unbiased pass@k over the item's n samples, each passed or failed by a 0/1 check scorer (openai/human-eval estimator)",
		Notes: "Needs n ≥ k samples per item (the models' or task's `params.n`); an item with fewer is unscorable. " +
			"The check scorer sees each sample as the output, with the item's references and fields.",
		Options: []Option{
			{Name: "k", Type: "list of integers", Default: "[1]", Doc: "the k of each pass@k reported"},
			{Name: "check", Type: "string", Default: "exact_match", Doc: "the per-item 0/1 scorer that passes a sample (exact_match, contains, regex, json_valid, accuracy, …)"},
			{Name: "check_options", Type: "mapping", Doc: "the check scorer's options"},
		},
		Metrics: []Metric{mean("pass@1"), mean("pass@10")},
		Example: Options{"k": []any{1, 10}, "check": "regex", "check_options": map[string]any{"pattern": `^\s*42\s*$`}},
		New:     newPassAtK,
	}}
}

type passAtK struct {
	ks    []int
	check Scorer
	name  string // the check's metric
}

func newPassAtK(o Options) (Scorer, error) {
	p := newOpts(o)
	ks := p.ints("k", []int{1})
	check := p.string("check", "exact_match")
	checkOpts := p.mapping("check_options")
	if err := p.done("pass_at_k"); err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("scorer pass_at_k: option k is empty: list the k to report, e.g. k: [1, 10]")
	}
	for i, k := range ks {
		if k < 1 {
			return nil, fmt.Errorf("scorer pass_at_k: k = %d: each k must be at least 1", k)
		}
		if slices.Contains(ks[:i], k) {
			return nil, fmt.Errorf("scorer pass_at_k: k = %d is listed twice", k)
		}
	}
	if check == "pass_at_k" {
		return nil, fmt.Errorf("scorer pass_at_k: the check must be a per-item scorer, not pass_at_k")
	}
	s, err := New(check, checkOpts)
	if err != nil {
		return nil, fmt.Errorf("scorer pass_at_k: check: %w", err)
	}
	ms := s.Metrics()
	_, isCorpus := s.(CorpusScorer)
	if len(ms) != 1 || !ms[0].Binary || isCorpus || ms[0].Corpus {
		return nil, fmt.Errorf("scorer pass_at_k: check %s does not pass or fail one sample (it reports %v): use a 0/1 scorer such as exact_match, contains, regex or json_valid", check, MetricNames(ms))
	}
	return &passAtK{ks: ks, check: s, name: ms[0].Name}, nil
}

func (s *passAtK) Metrics() []Metric {
	out := make([]Metric, len(s.ks))
	for i, k := range s.ks {
		out[i] = mean(fmt.Sprintf("pass@%d", k))
	}
	return out
}

func (s *passAtK) Score(in Input) (map[string]float64, error) {
	samples := in.Samples
	if samples == nil {
		samples = []string{in.Prediction}
	}
	n := len(samples)
	if top := slices.Max(s.ks); n < top {
		return nil, fmt.Errorf("pass@%d needs at least %d samples per item but this item has %d: set params.n to %d or more", top, top, n, top)
	}
	c := 0
	for i, smp := range samples {
		one := in
		one.Prediction, one.Samples = smp, nil
		m, err := s.check.Score(one)
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", i+1, err)
		}
		if m[s.name] == 1 {
			c++
		}
	}
	out := make(map[string]float64, len(s.ks))
	for _, k := range s.ks {
		v, err := code.PassAtK(n, c, k)
		if err != nil {
			return nil, err
		}
		out[fmt.Sprintf("pass@%d", k)] = v
	}
	return out, nil
}
