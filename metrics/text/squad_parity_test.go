package text

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// parityCase is one line of a shared/data/parity/*.jsonl file (format in
// shared/data/parity/README.md).
type parityCase struct {
	ID     string            `json:"id"`
	Metric string            `json:"metric"`
	Args   []string          `json:"args"`
	Input  []json.RawMessage `json:"input"`
	// Expected is decoded per metric by each test.
	Expected json.RawMessage `json:"expected"`
}

func readParity(t *testing.T, name string) []parityCase {
	t.Helper()
	return shareddata.ReadJSONL[parityCase](t, shareddata.Path(t, "parity", name))
}

type pairRow struct {
	Prediction string   `json:"prediction"`
	References []string `json:"references"`
}

func closeEnough(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestSquadParity(t *testing.T) {
	checks := 0
	for _, c := range readParity(t, "squad.jsonl") {
		t.Run(c.ID, func(t *testing.T) {
			var exp struct {
				Corpus struct {
					ExactMatch float64 `json:"exact_match"`
					F1         float64 `json:"f1"`
				} `json:"corpus"`
				PerExample []struct {
					ExactMatch int     `json:"exact_match"`
					F1         float64 `json:"f1"`
				} `json:"per_example"`
				Error *struct{ Message string } `json:"error"`
			}
			if err := json.Unmarshal(c.Expected, &exp); err != nil {
				t.Fatal(err)
			}
			corpus := exp.Corpus
			var preds []string
			var refs [][]string
			for _, in := range c.Input {
				var r pairRow
				if err := json.Unmarshal(in, &r); err != nil {
					t.Fatal(err)
				}
				preds = append(preds, r.Prediction)
				refs = append(refs, r.References)
			}
			got, err := Squad(preds, refs)
			if exp.Error != nil {
				if err == nil {
					t.Fatalf("want an error (reference: %s), got none", exp.Error.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.PerExample) != len(exp.PerExample) {
				t.Fatalf("%d rows, want %d", len(got.PerExample), len(exp.PerExample))
			}
			for i, w := range exp.PerExample {
				g := got.PerExample[i]
				if g.ExactMatch != float64(w.ExactMatch) || !closeEnough(g.F1, w.F1) {
					t.Errorf("row %d %q vs %q: got em %v f1 %v, want em %v f1 %v", i, preds[i], refs[i], g.ExactMatch, g.F1, w.ExactMatch, w.F1)
				}
				checks++
			}
			if !closeEnough(got.ExactMatch, corpus.ExactMatch) || !closeEnough(got.F1, corpus.F1) {
				t.Errorf("corpus: got em %v f1 %v, want em %v f1 %v", got.ExactMatch, got.F1, corpus.ExactMatch, corpus.F1)
			}
			checks++
		})
	}
	t.Logf("%d checks", checks)
}

func TestSquadNormalizeProbes(t *testing.T) {
	n := 0
	for _, c := range readParity(t, "probe.jsonl") {
		if c.Metric != "squad_normalize" {
			continue
		}
		var exp struct {
			PerExample []struct {
				Normalized string `json:"normalized"`
			} `json:"per_example"`
		}
		if err := json.Unmarshal(c.Expected, &exp); err != nil {
			t.Fatal(err)
		}
		if len(exp.PerExample) != len(c.Input) {
			t.Fatalf("%s: %d expectations for %d inputs", c.ID, len(exp.PerExample), len(c.Input))
		}
		for i, in := range c.Input {
			var r struct{ Text string }
			if err := json.Unmarshal(in, &r); err != nil {
				t.Fatal(err)
			}
			if got := SquadNormalize(r.Text); got != exp.PerExample[i].Normalized {
				t.Errorf("%s[%d] SquadNormalize(%q) = %q, want %q", c.ID, i, r.Text, got, exp.PerExample[i].Normalized)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no squad_normalize probes found")
	}
	t.Logf("%d probes", n)
}
