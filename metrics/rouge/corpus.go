package rouge

import "fmt"

// Corpus is the ROUGE of a whole set: the mean of each per-row value, as
// rouge_score users (and HF evaluate with use_aggregator=False followed by a
// mean) report it.
type Corpus struct {
	// Types lists the ROUGE types in the scorer's order.
	Types []string
	// Mean holds, per type, the arithmetic means over rows of precision,
	// recall and F-measure (each averaged separately).
	Mean map[string]Value
	// PerExample holds each row's values, in input order.
	PerExample []map[string]Value
}

// Corpus scores predictions[i] against references[i] for every i.
func (s *Scorer) Corpus(predictions []string, references [][]string) (Corpus, error) {
	if len(predictions) != len(references) {
		return Corpus{}, fmt.Errorf("%d predictions but %d reference rows: give one reference row per prediction", len(predictions), len(references))
	}
	c := Corpus{Types: s.Types(), PerExample: make([]map[string]Value, len(predictions))}
	st := s.get()
	defer s.put(st)
	for i, p := range predictions {
		row, err := st.score(p, references[i])
		if err != nil {
			return Corpus{}, fmt.Errorf("row %d: %w", i, err)
		}
		c.PerExample[i] = row
	}
	c.Mean = Mean(c.PerExample, c.Types)
	return c, nil
}

// ScoreCorpus is the package-level shortcut: New(opts) then Corpus.
func ScoreCorpus(predictions []string, references [][]string, opts Options) (Corpus, error) {
	s, err := New(opts)
	if err != nil {
		return Corpus{}, err
	}
	return s.Corpus(predictions, references)
}

// Mean averages per-row values type by type. Rows lacking a type are an
// error of the caller; they count as zero. With no rows every mean is 0.
func Mean(rows []map[string]Value, types []string) map[string]Value {
	out := make(map[string]Value, len(types))
	for _, t := range types {
		var sum Value
		for _, r := range rows {
			v := r[t]
			sum.Precision += v.Precision
			sum.Recall += v.Recall
			sum.FMeasure += v.FMeasure
		}
		if n := float64(len(rows)); n > 0 {
			sum = Value{Precision: sum.Precision / n, Recall: sum.Recall / n, FMeasure: sum.FMeasure / n}
		}
		out[t] = sum
	}
	return out
}
