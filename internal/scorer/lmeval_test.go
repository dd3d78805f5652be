package scorer

import (
	"encoding/json"
	"os"
	"testing"
)

// TestLMEvalExactMatchAsGSM8K scores ../lmeval/testdata/filters.json (Python
// re, as lm-eval's gsm8k strict-match pipeline and exact_match) through the
// plan-level scorer configured like gsm8k.yaml.
func TestLMEvalExactMatchAsGSM8K(t *testing.T) {
	raw, err := os.ReadFile("../lmeval/testdata/filters.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Reference string
		Cases     []struct {
			Response   string
			EMStrict   float64 `json:"em_strict"`
			EMFlexible float64 `json:"em_flexible"`
		}
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	ignore := []any{",", `\$`, "(?s).*#### ", `\.$`}
	strict, err := New("lm_eval_exact_match", Options{"extract": `#### (\-?[0-9\.\,]+)`, "ignore_case": true, "regexes_to_ignore": ignore})
	if err != nil {
		t.Fatal(err)
	}
	flexible, err := New("lm_eval_exact_match", Options{"extract": `(-?[$0-9.,]{2,})|(-?[0-9]+)`, "group_select": -1, "ignore_case": true, "regexes_to_ignore": ignore})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		in := Input{Prediction: c.Response, References: []string{g.Reference}}
		for _, x := range []struct {
			s    Scorer
			want float64
		}{{strict, c.EMStrict}, {flexible, c.EMFlexible}} {
			got, err := x.s.Score(in)
			if err != nil || got["exact_match"] != x.want {
				t.Errorf("%q: %v %v, want %v", c.Response, got, err, x.want)
			}
		}
	}
	if _, err := New("lm_eval_exact_match", Options{"extract": "(?<=x)"}); err == nil {
		t.Error("a look-behind compiled")
	}
	if _, err := New("lm_eval_exact_match", Options{"ignore_cases": true}); err == nil {
		t.Error("an unknown option was accepted")
	}
}
