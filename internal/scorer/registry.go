package scorer

import (
	"fmt"
	"slices"
	"strings"
)

// Entry is one registered scorer: what `tunecheck scorers` and docs/plan.md
// show, and how a plan's `{name, options}` becomes a Scorer.
type Entry struct {
	Name string `json:"name"`
	// Doc is one line: what the scorer computes and the reference
	// implementation it matches.
	Doc string `json:"doc"`
	// Notes is optional further detail (per-item values, undefined cases).
	Notes   string   `json:"notes,omitempty"`
	Options []Option `json:"options"`
	// Metrics are the metrics the scorer reports with the Example options
	// (its defaults when Example is nil). Options such as rouge's types,
	// regex's name or pass_at_k's k change them: MetricsOf gives the exact
	// list for configured options.
	Metrics []Metric `json:"metrics"`
	// Example is a valid set of options, shown in the docs and built by the
	// tests; nil where the defaults are enough.
	Example Options `json:"example,omitempty"`
	// New builds the scorer from plan options, refusing unknown ones.
	New func(Options) (Scorer, error) `json:"-"`
}

// Option documents one scorer option.
type Option struct {
	Name string `json:"name"`
	// Type is how the option is written in a plan: bool, string, integer,
	// number, list of strings, list of integers, list of labels, mapping,
	// label.
	Type string `json:"type"`
	// Default is the value used when the option is left out, as written in
	// a plan; "" when there is none (the option is required or unset).
	Default string `json:"default,omitempty"`
	Doc     string `json:"doc"`
}

// entries lists every scorer. It is a function, not a package variable,
// because pass_at_k builds its check scorer through New, which reads this
// list; each family of scorers declares its entries beside its code.
func entries() []Entry {
	all := slices.Concat(textEntries(), sacrebleuEntries(), rougeEntries(),
		classificationEntries(), regressionEntries(), codeEntries(), safetyEntries(), lmevalEntries())
	slices.SortFunc(all, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return all
}

// Entries returns every registered scorer, sorted by name.
func Entries() []Entry { return entries() }

// Lookup returns the named scorer's entry.
func Lookup(name string) (Entry, bool) {
	for _, e := range entries() {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Names lists the registered scorers, sorted.
func Names() []string {
	es := entries()
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

// New builds the named scorer, checking its options.
func New(name string, o Options) (Scorer, error) {
	e, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown scorer %q; known scorers: %s", name, strings.Join(Names(), ", "))
	}
	return e.New(o)
}

// MetricsOf describes the metrics the named scorer reports with options o,
// without scoring anything: what gates are checked against before a run.
func MetricsOf(name string, o Options) ([]Metric, error) {
	s, err := New(name, o)
	if err != nil {
		return nil, err
	}
	return s.Metrics(), nil
}
