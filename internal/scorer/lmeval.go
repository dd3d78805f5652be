package scorer

import (
	"fmt"
	"regexp"

	"github.com/tunecheck/tunecheck/internal/lmeval"
)

// lmevalEntries are scorers that reproduce lm-evaluation-harness's own
// answer extraction and exact_match (internal/lmeval), so a plan can score a
// generate task the way an lm-eval task file does.
func lmevalEntries() []Entry {
	return []Entry{{
		Name: "lm_eval_exact_match",
		Doc:  "exact match as lm-evaluation-harness's exact_match (HF evaluate), after its regex answer filter",
		Notes: "With `extract`, the answer is taken from the output as lm-eval's regex filter does (re.findall, the group_select-th match, " +
			"the first non-empty group, stripped; `fallback` when nothing matches). Then each of regexes_to_ignore is removed from the answer " +
			"and from each reference, then lower-casing, removal of string.punctuation and of digits as asked, and 1 if any reference equals the answer. " +
			"Unlike exact_match, whitespace is not collapsed. Regexes are Go RE2.",
		Options: []Option{
			{Name: "extract", Type: "string", Doc: "regex_pattern of lm-eval's regex filter (empty: score the whole output)"},
			{Name: "group_select", Type: "integer", Default: "0", Doc: "which match to keep; negative counts from the end"},
			{Name: "fallback", Type: "string", Default: "[invalid]", Doc: "the answer when extract finds nothing"},
			{Name: "ignore_case", Type: "bool", Default: "false", Doc: "lower-case both sides"},
			{Name: "ignore_punctuation", Type: "bool", Default: "false", Doc: "remove Python's string.punctuation from both sides"},
			{Name: "ignore_numbers", Type: "bool", Default: "false", Doc: "remove the digits 0–9 from both sides"},
			{Name: "regexes_to_ignore", Type: "list of strings", Doc: "regular expressions removed from both sides first"},
			{Name: "name", Type: "string", Default: "exact_match", Doc: "the metric's name (lm-eval reports one per filter, e.g. exact_match_strict_match)"},
		},
		Metrics: []Metric{passFail("exact_match")},
		Example: Options{"extract": `#### (\-?[0-9\.\,]+)`, "ignore_case": true, "regexes_to_ignore": []any{",", `\$`, "(?s).*#### ", `\.$`}},
		New:     newLMEvalExactMatch,
	}}
}

func newLMEvalExactMatch(o Options) (Scorer, error) {
	p := newOpts(o)
	extract := p.string("extract", "")
	step := lmeval.FilterStep{Function: "regex", GroupSelect: p.int("group_select", 0), Fallback: p.string("fallback", "[invalid]")}
	m := lmeval.MetricSpec{Metric: "exact_match", IgnoreCase: p.bool("ignore_case", false), IgnorePunct: p.bool("ignore_punctuation", false),
		IgnoreNumbers: p.bool("ignore_numbers", false), RegexesToIgnore: p.strings("regexes_to_ignore")}
	name := p.string("name", "exact_match")
	if err := p.done("lm_eval_exact_match"); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("scorer lm_eval_exact_match: option name is empty: give the metric a name, or leave name out for \"exact_match\"")
	}
	for _, r := range m.RegexesToIgnore {
		if _, err := regexp.Compile(r); err != nil {
			return nil, fmt.Errorf("scorer lm_eval_exact_match: regexes_to_ignore %q: %w", r, err)
		}
	}
	if extract != "" {
		re, err := regexp.Compile(extract)
		if err != nil {
			return nil, fmt.Errorf("scorer lm_eval_exact_match: extract %q is not a Go RE2 expression: %w", extract, err)
		}
		step.Pattern = re
	}
	return one(passFail(name), func(in Input) (float64, error) {
		if len(in.References) == 0 {
			return 0, fmt.Errorf("exact_match needs a reference")
		}
		pred := in.Prediction
		if step.Pattern != nil {
			pred = lmeval.FilterPipeline{Steps: []lmeval.FilterStep{step}}.Apply([]string{pred})[0]
		}
		for _, r := range in.References {
			v, err := m.ExactMatch(pred, r)
			if err != nil || v == 1 {
				return v, err
			}
		}
		return 0, nil
	}), nil
}
