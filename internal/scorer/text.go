package scorer

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/text"
)

// textEntries are the string-level scorers of metrics/text.
func textEntries() []Entry {
	norm := normalizationOptions()
	return []Entry{
		{
			Name: "exact_match", Doc: "1 when the normalised output equals a normalised reference, else 0 (metrics/text)",
			Notes:   "`tunecheck score`'s exact_match compares the strings as given: `collapse_whitespace: false` here gives its numbers.",
			Options: norm, Metrics: []Metric{passFail("exact_match")}, New: newExactMatch,
		},
		{
			Name: "contains", Doc: "1 when a normalised reference occurs in the normalised output, else 0 (metrics/text)",
			Options: norm, Metrics: []Metric{passFail("contains")}, New: newContains,
		},
		{
			Name: "regex", Doc: "1 when the output matches a Go RE2 regular expression, else 0 (no reference needed)",
			Options: []Option{
				{Name: "pattern", Type: "string", Doc: "the regular expression (required)"},
				{Name: "full", Type: "bool", Default: "false", Doc: "the whole output must match, not just a part"},
				{Name: "name", Type: "string", Default: "regex", Doc: "the metric name to report"},
			},
			Metrics: []Metric{passFail("regex")}, Example: Options{"pattern": `^\d+$`}, New: newRegex,
		},
		{
			Name: "token_f1", Doc: "SQuAD v1.1 token F1, maximum over the references, 0–1 (HF evaluate squad 0.4.6)",
			Metrics: []Metric{mean("token_f1")}, New: newTokenF1,
		},
		{
			Name: "squad", Doc: "SQuAD v1.1 exact match and token F1 together, each 0–1 per item (HF evaluate squad 0.4.6)",
			Notes:   "`tunecheck score` reports these two in percent, as HF evaluate does; a plan reports the fraction (× 100 gives score's number).",
			Metrics: []Metric{passFail("squad_em"), mean("squad_f1")}, New: newSquad,
		},
		{
			Name: "squad_em", Doc: "SQuAD v1.1 exact match after normalize_answer, 0 or 1 per item (HF evaluate squad 0.4.6)",
			Notes:   "A fraction, where `tunecheck score` reports percent.",
			Metrics: []Metric{passFail("squad_em")}, New: newSquadOne("squad_em"),
		},
		{
			Name: "squad_f1", Doc: "SQuAD v1.1 token F1, 0–1 per item (HF evaluate squad 0.4.6; the same number as token_f1)",
			Notes:   "A fraction, where `tunecheck score` reports percent.",
			Metrics: []Metric{mean("squad_f1")}, New: newSquadOne("squad_f1"),
		},
		{
			Name: "json_valid", Doc: "1 when the output is one JSON value (with the required keys), else 0 (Go encoding/json)",
			Options: []Option{
				{Name: "keys", Type: "list of strings", Doc: "keys the JSON object must have"},
				{Name: "strip_fence", Type: "bool", Default: "true", Doc: "remove a surrounding Markdown code fence first"},
				{Name: "object", Type: "bool", Default: "true when keys are set", Doc: "the value must be a JSON object"},
			},
			Metrics: []Metric{passFail("json_valid")}, New: newJSONValid,
		},
		{
			Name: "length", Doc: "output length in code points and in whitespace-separated words (Python len, str.split)",
			Metrics: []Metric{neutral("length_chars"), neutral("length_words")}, New: newLength,
		},
		{
			Name: "levenshtein", Doc: "edit distance in code points to the closest reference (rapidfuzz Levenshtein.distance)",
			Metrics: []Metric{lowerMean("levenshtein")}, New: newLevenshtein,
		},
		{
			Name: "levenshtein_similarity", Doc: "1 − distance / longer length, best over the references (rapidfuzz Levenshtein.normalized_similarity)",
			Metrics: []Metric{mean("levenshtein_similarity")}, New: newLevenshteinSimilarity,
		},
	}
}

func neutral(name string) Metric {
	return Metric{Name: name, Direction: Neutral, Test: TestPermutation}
}

func lowerMean(name string) Metric {
	return Metric{Name: name, Direction: Lower, Test: TestPermutation}
}

func newExactMatch(o Options) (Scorer, error) {
	p := newOpts(o)
	n := normalization(p)
	if err := p.done("exact_match"); err != nil {
		return nil, err
	}
	return one(passFail("exact_match"), func(in Input) (float64, error) { return text.ExactMatch(in.Prediction, in.References, n) }), nil
}

func newContains(o Options) (Scorer, error) {
	p := newOpts(o)
	n := normalization(p)
	if err := p.done("contains"); err != nil {
		return nil, err
	}
	return one(passFail("contains"), func(in Input) (float64, error) { return text.Contains(in.Prediction, in.References, n) }), nil
}

func newRegex(o Options) (Scorer, error) {
	p := newOpts(o)
	pattern := p.string("pattern", "")
	full := p.bool("full", false)
	name := p.string("name", "regex")
	if err := p.done("regex"); err != nil {
		return nil, err
	}
	if pattern == "" {
		return nil, fmt.Errorf("scorer regex: option pattern is required (a Go RE2 regular expression)")
	}
	if name == "" {
		return nil, fmt.Errorf("scorer regex: option name is empty: give the metric a name, or leave name out for \"regex\"")
	}
	re, err := text.CompileRegex(pattern, full)
	if err != nil {
		return nil, fmt.Errorf("scorer regex: %w", err)
	}
	return one(passFail(name), func(in Input) (float64, error) { return re.Match(in.Prediction), nil }), nil
}

func newTokenF1(o Options) (Scorer, error) {
	if err := newOpts(o).done("token_f1"); err != nil {
		return nil, err
	}
	return one(mean("token_f1"), func(in Input) (float64, error) { return text.SquadF1(in.Prediction, in.References) }), nil
}

// newSquad gives both SQuAD v1.1 numbers, as the official script reports them
// (exact match and F1, each in [0, 1] per item).
func newSquad(o Options) (Scorer, error) {
	if err := newOpts(o).done("squad"); err != nil {
		return nil, err
	}
	return funcScorer{metrics: []Metric{passFail("squad_em"), mean("squad_f1")}, f: func(in Input) (map[string]float64, error) {
		r, err := text.SquadScore(in.Prediction, in.References)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"squad_em": r.ExactMatch, "squad_f1": r.F1}, nil
	}}, nil
}

// newSquadOne is one of the two SQuAD numbers under its own name, as
// `tunecheck score --metrics squad_em` names it.
func newSquadOne(name string) func(Options) (Scorer, error) {
	return func(o Options) (Scorer, error) {
		if err := newOpts(o).done(name); err != nil {
			return nil, err
		}
		if name == "squad_em" {
			return one(passFail(name), func(in Input) (float64, error) { return text.SquadExactMatch(in.Prediction, in.References) }), nil
		}
		return one(mean(name), func(in Input) (float64, error) { return text.SquadF1(in.Prediction, in.References) }), nil
	}
}

func newJSONValid(o Options) (Scorer, error) {
	p := newOpts(o)
	keys := p.strings("keys")
	fence := p.bool("strip_fence", true)
	object := p.bool("object", len(keys) > 0)
	if err := p.done("json_valid"); err != nil {
		return nil, err
	}
	return one(passFail("json_valid"), func(in Input) (float64, error) {
		if text.JSONValidity(in.Prediction, keys, fence).OK(object) {
			return 1, nil
		}
		return 0, nil
	}), nil
}

// newLength reports response length in characters (code points) and
// whitespace-separated words, for verbosity comparisons.
func newLength(o Options) (Scorer, error) {
	if err := newOpts(o).done("length"); err != nil {
		return nil, err
	}
	return funcScorer{metrics: []Metric{neutral("length_chars"), neutral("length_words")}, f: func(in Input) (map[string]float64, error) {
		return map[string]float64{
			"length_chars": float64(utf8.RuneCountInString(in.Prediction)),
			"length_words": float64(len(text.PySplit(in.Prediction))),
		}, nil
	}}, nil
}

// newLevenshtein is the distance to the closest reference, as `tunecheck
// score` computes it.
func newLevenshtein(o Options) (Scorer, error) {
	if err := newOpts(o).done("levenshtein"); err != nil {
		return nil, err
	}
	return one(lowerMean("levenshtein"), func(in Input) (float64, error) {
		if len(in.References) == 0 {
			return 0, errNoRefs
		}
		v := math.Inf(1)
		for _, r := range in.References {
			v = math.Min(v, float64(text.Levenshtein(in.Prediction, r)))
		}
		return v, nil
	}), nil
}

func newLevenshteinSimilarity(o Options) (Scorer, error) {
	if err := newOpts(o).done("levenshtein_similarity"); err != nil {
		return nil, err
	}
	return one(mean("levenshtein_similarity"), func(in Input) (float64, error) {
		if len(in.References) == 0 {
			return 0, errNoRefs
		}
		v := 0.0
		for _, r := range in.References {
			v = math.Max(v, text.LevenshteinSimilarity(in.Prediction, r))
		}
		return v, nil
	}), nil
}
