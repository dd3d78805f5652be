package rouge

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGoldenCorpus records a small corpus's tokens and scores (all types,
// with and without stemming, rouge3 included) so that any change of value
// shows up in review; go test -update rewrites testdata/corpus.golden.json.
func TestGoldenCorpus(t *testing.T) {
	preds := []string{
		"The cats were running quickly.\nThey stopped at the gate.",
		"A summary with one line only",
		"Police arrested three suspects on Tuesday.",
		"",
	}
	refs := [][]string{
		{"Cats ran quickly to the gate.\nThen they stopped."},
		{"one line summary", "a summary that has only one line"},
		{"Three suspects were arrested by police on Tuesday night."},
		{"nothing predicted"},
	}
	out := map[string]any{}
	for _, stem := range []bool{false, true} {
		c, err := ScoreCorpus(preds, refs, Options{Types: []string{"rouge1", "rouge2", "rouge3", "rougeL", "rougeLsum"}, Stem: stem})
		if err != nil {
			t.Fatal(err)
		}
		var toks [][]string
		for _, p := range preds {
			toks = append(toks, Tokenize(p, stem))
		}
		key := "no_stem"
		if stem {
			key = "stem"
		}
		out[key] = map[string]any{"tokens": toks, "mean": c.Mean, "per_example": c.PerExample}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	path := filepath.Join("testdata", "corpus.golden.json")
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
