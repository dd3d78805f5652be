package scorer

import (
	"fmt"

	"github.com/tunecheck/tunecheck/metrics/rouge"
)

// rougeEntries are rouge-score's F-measures: rouge with any set of types, and
// each default type under its own name, as `tunecheck score` names them.
func rougeEntries() []Entry {
	stem := Option{Name: "stem", Type: "bool", Default: "false", Doc: "Porter-stem tokens longer than 3 characters (rouge_score use_stemmer)"}
	out := []Entry{{
		Name: "rouge", Doc: "ROUGE F-measures, 0–1 per item, mean over items (rouge-score 0.1.2)",
		Options: []Option{
			{Name: "types", Type: "list of strings", Default: "[rouge1, rouge2, rougeL, rougeLsum]", Doc: "ROUGE types to report: rougeN for any N, rougeL, rougeLsum"},
			stem,
		},
		Metrics: []Metric{mean("rouge1"), mean("rouge2"), mean("rougeL"), mean("rougeLsum")}, New: newRouge,
	}}
	for _, t := range rouge.DefaultTypes() {
		out = append(out, Entry{
			Name: t, Doc: fmt.Sprintf("%s F-measure, 0–1 per item, mean over items (rouge-score 0.1.2)", t),
			Options: []Option{stem}, Metrics: []Metric{mean(t)}, New: newRougeType(t),
		})
	}
	return out
}

type rougeScorer struct {
	s     *rouge.Scorer
	types []string
}

// newRouge is rouge-score's F-measure per item (0–1); the task value is the
// mean over items, as rouge-score's aggregate reports it.
func newRouge(o Options) (Scorer, error) {
	p := newOpts(o)
	types := p.strings("types")
	stem := p.bool("stem", false)
	if err := p.done("rouge"); err != nil {
		return nil, err
	}
	return buildRouge("rouge", types, stem)
}

// newRougeType is one ROUGE type under its own name (rougeL, …).
func newRougeType(t string) func(Options) (Scorer, error) {
	return func(o Options) (Scorer, error) {
		p := newOpts(o)
		stem := p.bool("stem", false)
		if err := p.done(t); err != nil {
			return nil, err
		}
		return buildRouge(t, []string{t}, stem)
	}
}

func buildRouge(scorer string, types []string, stem bool) (Scorer, error) {
	if len(types) == 0 {
		types = rouge.DefaultTypes()
	}
	s, err := rouge.New(rouge.Options{Types: types, Stem: stem})
	if err != nil {
		return nil, fmt.Errorf("scorer %s: %w", scorer, err)
	}
	return &rougeScorer{s: s, types: s.Types()}, nil
}

func (r *rougeScorer) Metrics() []Metric {
	out := make([]Metric, len(r.types))
	for i, t := range r.types {
		out[i] = mean(t)
	}
	return out
}

func (r *rougeScorer) Score(in Input) (map[string]float64, error) {
	if len(in.References) == 0 {
		return nil, errNoRefs
	}
	v, err := r.s.Score(in.Prediction, in.References)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(v))
	for k, x := range v {
		out[k] = x.FMeasure
	}
	return out, nil
}
