package text

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/metrics/bleu"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got, as indented JSON, with testdata/name; -update rewrites it.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("%s differs from the output (review, then go test -update):\n%s", path, data)
	}
}

// TestGoldenMetrics records every metric of the package on a few model
// outputs, so that any change of value shows up in review.
func TestGoldenMetrics(t *testing.T) {
	rows := []struct{ Prediction, Reference string }{
		{"The answer is Paris.", "Paris"},
		{"paris", "Paris, France"},
		{"I think it's the Eiffel Tower!", "Eiffel Tower"},
		{`{"city": "Lyon", "country": "FR"}`, "Lyon"},
		{"Ünïcödé — ＡＢＣ", "unicode abc"},
		{"The answer is Lyon.", "Lyon"},
	}
	type out struct {
		Prediction, Reference   string
		ExactMatch              float64
		ExactMatchNormalised    float64
		Contains                float64
		SquadExactMatch         float64
		SquadF1                 float64
		Levenshtein             int
		LevenshteinTokens       int
		LevenshteinSimilarity   float64
		JSONValid, JSONHasKeys  bool
		SquadNormalizedPred     string
		NormalisedPredictionAll string
	}
	all := Normalization{NFKC: true, Lowercase: true, StripPunctuation: true, RemoveArticles: true, CollapseWhitespace: true}
	var outs []out
	var preds []string
	for _, r := range rows {
		refs := []string{r.Reference}
		em, _ := ExactMatch(r.Prediction, refs, Normalization{})
		emn, _ := ExactMatch(r.Prediction, refs, all)
		c, _ := Contains(r.Prediction, refs, all)
		sq, _ := SquadScore(r.Prediction, refs)
		j := JSONValidity(r.Prediction, []string{"city"}, false)
		outs = append(outs, out{
			Prediction: r.Prediction, Reference: r.Reference,
			ExactMatch: em, ExactMatchNormalised: emn, Contains: c,
			SquadExactMatch: sq.ExactMatch, SquadF1: sq.F1,
			Levenshtein:           Levenshtein(r.Prediction, r.Reference),
			LevenshteinTokens:     LevenshteinTokens(r.Prediction, r.Reference),
			LevenshteinSimilarity: LevenshteinSimilarity(r.Prediction, r.Reference),
			JSONValid:             j.Valid, JSONHasKeys: j.OK(true),
			SquadNormalizedPred:     SquadNormalize(r.Prediction),
			NormalisedPredictionAll: all.Apply(r.Prediction),
		})
		preds = append(preds, r.Prediction)
	}
	d1, _ := DistinctN(preds, 1, true)
	d2, _ := DistinctN(preds, 2, true)
	sb, err := ComputeSelfBLEU(preds, bleu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "metrics.golden.json", map[string]any{
		"rows":       outs,
		"distinct_1": d1,
		"distinct_2": d2,
		"self_bleu":  sb,
		"lengths":    LengthStats(preds, nil),
	})
}
