package lmeval

import (
	"encoding/json"
	"os"
	"testing"
)

// TestGSM8KFiltersAndExactMatch runs the gsm8k fixture's filter pipelines and
// exact_match over testdata/filters.json (Python re, testdata/gen_filters.py).
func TestGSM8KFiltersAndExactMatch(t *testing.T) {
	set, err := NewLoader().LoadFile("testdata/tasks/gsm8k/gsm8k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	task := set.Tasks[0]
	raw, err := os.ReadFile("testdata/filters.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Reference string
		Cases     []struct {
			Response, Strict, Flexible string
			EMStrict                   float64 `json:"em_strict"`
			EMFlexible                 float64 `json:"em_flexible"`
		}
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	em := task.Metrics[0]
	for _, c := range g.Cases {
		s := task.Filters[0].Apply([]string{c.Response, "second repeat"})
		f := task.Filters[1].Apply([]string{c.Response})
		if len(s) != 1 || s[0] != c.Strict || f[0] != c.Flexible {
			t.Errorf("%q: strict %q flexible %q, want %q %q", c.Response, s, f, c.Strict, c.Flexible)
			continue
		}
		for _, x := range []struct {
			pred string
			want float64
		}{{s[0], c.EMStrict}, {f[0], c.EMFlexible}} {
			got, err := em.ExactMatch(x.pred, g.Reference)
			if err != nil || got != x.want {
				t.Errorf("exact_match(%q) = %v %v, want %v", x.pred, got, err, x.want)
			}
		}
	}
}
