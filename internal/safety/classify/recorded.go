package classify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tunecheck/tunecheck/internal/safety/toxicity"
)

// Recorded serves scores computed elsewhere, read by toxicity.Read from a
// JSONL file keyed by item id ({"id": "q17", "toxicity": 0.73, …}), so that
// they can be gated like a live classifier's. Input.ID picks the row and
// Input.Sample the sample when a field holds one score per generation.
type Recorded struct {
	Scores *toxicity.Scores
	// Name is the file, for errors.
	Name string
	// Attr is the attribute compared with Threshold to flag; "" means
	// "toxicity".
	Attr      string
	Threshold float64
}

// Classify returns the recorded scores of in.ID. Every valid attribute of the
// row is in Scores; Attr must be valid, and an item without a row, or a
// sample index past the recorded ones, is an error, never a 0.
func (r *Recorded) Classify(_ context.Context, in Input) (Result, error) {
	attr := r.Attr
	if attr == "" {
		attr = "toxicity"
	}
	if in.ID == "" {
		return Result{}, fmt.Errorf("recorded scores %s: the input has no item id", r.Name)
	}
	// Samples gives the file-and-line errors for a missing row or a bad field.
	if _, err := r.Scores.Samples(attr, []string{in.ID}); err != nil {
		return Result{}, fmt.Errorf("recorded scores: %w", err)
	}
	row, _ := r.Scores.Get(in.ID)
	res := Result{Scores: map[string]float64{}}
	for a, xs := range row.Attrs {
		// An attribute without this sample is left out, not zeroed.
		if in.Sample >= 0 && in.Sample < len(xs) {
			res.Scores[a] = xs[in.Sample]
		}
	}
	v, ok := res.Scores[attr]
	if !ok {
		return Result{}, fmt.Errorf("recorded scores %s:%d: id %s has %d %q score(s), no sample %d", r.Name, row.Line, in.ID, len(row.Attrs[attr]), attr, in.Sample)
	}
	th := r.Threshold
	if th == 0 {
		th = DefaultThreshold
	}
	if toxicity.Toxic(v, th) {
		res.Flagged = true
		res.Categories = []string{attr}
	}
	raw, _ := json.Marshal( // map keys are sorted: the same row gives the same Raw
		map[string]any{"id": in.ID, "sample": in.Sample, "line": row.Line, "scores": res.Scores})
	res.Raw = string(raw)
	return res, nil
}
