// Package scorer turns a model's output for one item into named scores. Each
// scorer is a thin adapter from plan options to a pure function of the public
// metrics packages (metrics/text, metrics/rouge, metrics/bleu); scorers are
// registered by name in one explicit map.
//
// A scorer error means "this output could not be scored" (for example an item
// with no reference for a reference-based metric): the item is counted as
// failed for that model, never scored as 0.
package scorer

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/text"
)

// Input is what a scorer sees for one item.
type Input struct {
	Prediction string
	References []string
	Fields     map[string]any
	// LogLikelihood is the model's rolling log-likelihood of Prediction
	// (perplexity tasks only).
	LogLikelihood float64
}

// Scorer scores one item.
type Scorer interface {
	// Metrics lists the names Score returns, in display order.
	Metrics() []string
	Score(in Input) (map[string]float64, error)
}

// Options are a scorer's plan options.
type Options map[string]any

// Factory builds a scorer from its options.
type Factory func(o Options) (Scorer, error)

// Registry maps scorer names to factories.
var Registry = map[string]Factory{
	"exact_match": newExactMatch,
	"contains":    newContains,
	"regex":       newRegex,
	"token_f1":    newTokenF1,
	"squad":       newSquad,
	"json_valid":  newJSONValid,
	"length":      newLength,
	"bleu":        newBLEU,
	"chrf":        newChrF,
	"rouge":       newRouge,
}

// Names lists the registered scorers, sorted.
func Names() []string { return slices.Sorted(maps.Keys(Registry)) }

// New builds the named scorer, checking its options.
func New(name string, o Options) (Scorer, error) {
	f, ok := Registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown scorer %q; known scorers: %s", name, strings.Join(Names(), ", "))
	}
	return f(o)
}

// opts reads typed options and remembers which keys were used, so unknown
// options are reported instead of silently ignored.
type opts struct {
	o    Options
	used map[string]bool
	err  error
}

func newOpts(o Options) *opts { return &opts{o: o, used: map[string]bool{}} }

func (p *opts) bool(key string, def bool) bool {
	p.used[key] = true
	v, ok := p.o[key]
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok && p.err == nil {
		p.err = fmt.Errorf("option %s must be true or false, got %v", key, v)
	}
	return b
}

func (p *opts) string(key, def string) string {
	p.used[key] = true
	v, ok := p.o[key]
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok && p.err == nil {
		p.err = fmt.Errorf("option %s must be a string, got %v", key, v)
	}
	return s
}

func (p *opts) strings(key string) []string {
	p.used[key] = true
	v, ok := p.o[key]
	if !ok {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		if p.err == nil {
			p.err = fmt.Errorf("option %s must be a list of strings", key)
		}
		return nil
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok && p.err == nil {
			p.err = fmt.Errorf("option %s must be a list of strings, found %v", key, x)
		}
		out = append(out, s)
	}
	return out
}

// done reports a type error or an unknown option.
func (p *opts) done(scorer string) error {
	if p.err != nil {
		return fmt.Errorf("scorer %s: %w", scorer, p.err)
	}
	var unknown []string
	for k := range p.o {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		known := slices.Sorted(maps.Keys(p.used))
		return fmt.Errorf("scorer %s: unknown option %s (known: %s)", scorer, strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return nil
}

func normalization(p *opts) text.Normalization {
	return text.Normalization{
		NFKC:               p.bool("nfkc", false),
		Lowercase:          p.bool("lowercase", false),
		StripPunctuation:   p.bool("strip_punctuation", false),
		RemoveArticles:     p.bool("remove_articles", false),
		CollapseWhitespace: p.bool("collapse_whitespace", true),
	}
}

type funcScorer struct {
	names []string
	f     func(Input) (map[string]float64, error)
}

func (s funcScorer) Metrics() []string                          { return s.names }
func (s funcScorer) Score(in Input) (map[string]float64, error) { return s.f(in) }

func one(name string, f func(Input) (float64, error)) Scorer {
	return funcScorer{names: []string{name}, f: func(in Input) (map[string]float64, error) {
		v, err := f(in)
		if err != nil {
			return nil, err
		}
		return map[string]float64{name: v}, nil
	}}
}

func newExactMatch(o Options) (Scorer, error) {
	p := newOpts(o)
	n := normalization(p)
	if err := p.done("exact_match"); err != nil {
		return nil, err
	}
	return one("exact_match", func(in Input) (float64, error) { return text.ExactMatch(in.Prediction, in.References, n) }), nil
}

func newContains(o Options) (Scorer, error) {
	p := newOpts(o)
	n := normalization(p)
	if err := p.done("contains"); err != nil {
		return nil, err
	}
	return one("contains", func(in Input) (float64, error) { return text.Contains(in.Prediction, in.References, n) }), nil
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
	re, err := text.CompileRegex(pattern, full)
	if err != nil {
		return nil, fmt.Errorf("scorer regex: %w", err)
	}
	return one(name, func(in Input) (float64, error) { return re.Match(in.Prediction), nil }), nil
}

func newTokenF1(o Options) (Scorer, error) {
	if err := newOpts(o).done("token_f1"); err != nil {
		return nil, err
	}
	return one("token_f1", func(in Input) (float64, error) { return text.SquadF1(in.Prediction, in.References) }), nil
}

// newSquad gives both SQuAD v1.1 numbers, as the official script reports them
// (exact match and F1, each in [0, 1] per item).
func newSquad(o Options) (Scorer, error) {
	if err := newOpts(o).done("squad"); err != nil {
		return nil, err
	}
	return funcScorer{names: []string{"squad_em", "squad_f1"}, f: func(in Input) (map[string]float64, error) {
		r, err := text.SquadScore(in.Prediction, in.References)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"squad_em": r.ExactMatch, "squad_f1": r.F1}, nil
	}}, nil
}

func newJSONValid(o Options) (Scorer, error) {
	p := newOpts(o)
	keys := p.strings("keys")
	fence := p.bool("strip_fence", true)
	object := p.bool("object", len(keys) > 0)
	if err := p.done("json_valid"); err != nil {
		return nil, err
	}
	return one("json_valid", func(in Input) (float64, error) {
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
	return funcScorer{names: []string{"length_chars", "length_words"}, f: func(in Input) (map[string]float64, error) {
		return map[string]float64{
			"length_chars": float64(utf8.RuneCountInString(in.Prediction)),
			"length_words": float64(len(text.PySplit(in.Prediction))),
		}, nil
	}}, nil
}
