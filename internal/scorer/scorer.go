// Package scorer turns a model's output for one item into named scores. Each
// scorer is a thin adapter from plan options to the pure functions of the
// public metrics packages (metrics/text, metrics/bleu, metrics/rouge,
// metrics/classification, metrics/regression, metrics/code), registered by
// name in one explicit list (registry.go) with its options and metrics, from
// which `tunecheck scorers` and docs/plan.md are made. A scorer of a given
// name gives the same numbers as the metric of that name in `tunecheck score`.
//
// A scorer error means "this output could not be scored" (for example an item
// with no reference for a reference-based metric, or an output that is not a
// number for a regression metric): the item is counted as failed for that
// model, never scored as 0.
package scorer

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/metrics/text"
)

// Scorer scores one item.
type Scorer interface {
	// Metrics describes the values Score returns, in display order.
	Metrics() []Metric
	Score(in Input) (map[string]float64, error)
}

// Options are a scorer's plan options.
type Options map[string]any

// opts reads typed options and remembers which keys were used, so unknown
// options are reported instead of silently ignored.
type opts struct {
	o    Options
	used map[string]bool
	err  error
}

func newOpts(o Options) *opts { return &opts{o: o, used: map[string]bool{}} }

func (p *opts) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

// get marks key as known and returns its value.
func (p *opts) get(key string) (any, bool) {
	p.used[key] = true
	v, ok := p.o[key]
	return v, ok
}

// has reports whether the plan sets key (marking it known).
func (p *opts) has(key string) bool {
	_, ok := p.get(key)
	return ok
}

func (p *opts) bool(key string, def bool) bool {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		p.fail("option %s must be true or false, got %v", key, v)
	}
	return b
}

func (p *opts) string(key, def string) string {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok {
		p.fail("option %s must be a string, got %v", key, v)
	}
	return s
}

// asInt accepts the integer forms plan decoding produces (int64; float64 from
// JSON) when they hold a whole number.
func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= math.MaxInt32 {
			return int(x), true
		}
	}
	return 0, false
}

func (p *opts) int(key string, def int) int {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	n, ok := asInt(v)
	if !ok {
		p.fail("option %s must be a whole number, got %v", key, v)
	}
	return n
}

func (p *opts) float(key string, def float64) float64 {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x
		}
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	p.fail("option %s must be a finite number, got %v", key, v)
	return def
}

func (p *opts) list(key string, what string) ([]any, bool) {
	v, ok := p.get(key)
	if !ok {
		return nil, false
	}
	list, ok := v.([]any)
	if !ok {
		p.fail("option %s must be a list of %s, got %v", key, what, v)
		return nil, false
	}
	return list, true
}

func (p *opts) strings(key string) []string {
	list, ok := p.list(key, "strings")
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			p.fail("option %s must be a list of strings, found %v", key, x)
		}
		out = append(out, s)
	}
	return out
}

func (p *opts) ints(key string, def []int) []int {
	list, ok := p.list(key, "whole numbers")
	if !ok {
		return def
	}
	out := make([]int, 0, len(list))
	for _, x := range list {
		n, ok := asInt(x)
		if !ok {
			p.fail("option %s must be a list of whole numbers, found %v", key, x)
		}
		out = append(out, n)
	}
	return out
}

// mapping reads a nested options mapping (pass_at_k's check_options).
func (p *opts) mapping(key string) Options {
	v, ok := p.get(key)
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.fail("option %s must be a mapping of options, got %v", key, v)
		return nil
	}
	return Options(m)
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

// normalizationOptions documents the options normalization reads.
func normalizationOptions() []Option {
	return []Option{
		{Name: "nfkc", Type: "bool", Default: "false", Doc: "Unicode NFKC normalisation (full-width letters, ligatures) first"},
		{Name: "lowercase", Type: "bool", Default: "false", Doc: "lower-case as Python's str.lower"},
		{Name: "strip_punctuation", Type: "bool", Default: "false", Doc: "remove Unicode punctuation and Python's string.punctuation"},
		{Name: "remove_articles", Type: "bool", Default: "false", Doc: "remove the English articles a, an, the"},
		{Name: "collapse_whitespace", Type: "bool", Default: "true", Doc: "trim, and turn each run of whitespace into one space"},
	}
}

type funcScorer struct {
	metrics []Metric
	f       func(Input) (map[string]float64, error)
}

func (s funcScorer) Metrics() []Metric                          { return s.metrics }
func (s funcScorer) Score(in Input) (map[string]float64, error) { return s.f(in) }

func one(m Metric, f func(Input) (float64, error)) Scorer {
	name := m.Name
	return funcScorer{metrics: []Metric{m}, f: func(in Input) (map[string]float64, error) {
		v, err := f(in)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s is %v for this item", name, v)
		}
		return map[string]float64{name: v}, nil
	}}
}

var errNoRefs = fmt.Errorf("the item has no reference (set the task's reference)")
