package judge

import (
	"errors"
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestSoftChoice(t *testing.T) {
	ln := math.Log
	cases := []struct {
		name   string
		top    []TokenLogprob
		tokens map[string]string
		want   map[string]float64
		err    error
	}{
		{"a-and-b", []TokenLogprob{{"A", ln(0.6)}, {"B", ln(0.2)}, {"The", ln(0.1)}}, PairTokens(),
			map[string]float64{"A": 0.75, "B": 0.25}, nil},
		// Leading-space variants add to the same verdict.
		{"space-variants", []TokenLogprob{{"A", ln(0.3)}, {" B", ln(0.3)}, {" A", ln(0.1)}, {"B", ln(0.3)}}, PairTokens(),
			map[string]float64{"A": 0.4, "B": 0.6}, nil},
		// Two ids decoding to the same text both count.
		{"duplicate-token", []TokenLogprob{{"B", ln(0.2)}, {"B", ln(0.2)}, {"A", ln(0.1)}}, PairTokens(),
			map[string]float64{"A": 0.2, "B": 0.8}, nil},
		{"only-b", []TokenLogprob{{"B", ln(0.05)}, {"x", 0}}, PairTokens(),
			map[string]float64{"A": 0, "B": 1}, nil},
		// Near-miss tokens do not count.
		{"near-misses", []TokenLogprob{{"a", ln(0.5)}, {"A.", ln(0.2)}, {"AB", ln(0.1)}, {"B", ln(0.1)}}, PairTokens(),
			map[string]float64{"A": 0, "B": 1}, nil},
		{"with-tie", []TokenLogprob{{"A", ln(0.2)}, {"B", ln(0.2)}, {"C", ln(0.4)}}, map[string]string{"A": "A", "B": "B", "C": "tie"},
			map[string]float64{"A": 0.25, "B": 0.25, "tie": 0.5}, nil},
		// Very small probabilities normalise without underflow.
		{"underflow", []TokenLogprob{{"A", -800}, {"B", -800 + ln(3)}}, PairTokens(),
			map[string]float64{"A": 0.25, "B": 0.75}, nil},
		{"none", []TokenLogprob{{"The", -0.1}, {"I", -3}}, PairTokens(), nil, ErrNoVerdictToken},
		{"empty", nil, PairTokens(), nil, ErrNoVerdictToken},
		{"all-minus-inf", []TokenLogprob{{"A", math.Inf(-1)}}, PairTokens(), nil, ErrNoVerdictToken},
	}
	for _, c := range cases {
		got, err := SoftChoice(c.top, c.tokens)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
			continue
		}
		for k, w := range c.want {
			if !near(got[k], w) {
				t.Errorf("%s: %s = %v, want %v", c.name, k, got[k], w)
			}
		}
	}
	if _, err := SoftChoice([]TokenLogprob{{"A", math.NaN()}}, PairTokens()); err == nil {
		t.Error("NaN accepted")
	}
}

func TestSoftScore(t *testing.T) {
	ln := math.Log
	cases := []struct {
		name  string
		top   []TokenLogprob
		scale [2]float64
		want  float64
		err   bool
	}{
		{"two", []TokenLogprob{{"8", ln(0.6)}, {"7", ln(0.2)}, {"The", ln(0.1)}}, ten, 7.75, false},
		{"renormalised", []TokenLogprob{{"10", ln(0.25)}, {" 6", ln(0.25)}}, ten, 8, false},
		{"one", []TokenLogprob{{"3", ln(0.01)}}, [2]float64{1, 5}, 3, false},
		{"same-score-twice", []TokenLogprob{{"9", ln(0.2)}, {" 9", ln(0.2)}, {"5", ln(0.4)}}, ten, 7, false},
		// Out of scale, signed, decimal, leading zero and non-ASCII digits are not score tokens.
		{"filtered", []TokenLogprob{{"11", -0.1}, {"0", -0.2}, {"-5", -0.3}, {"7.5", -0.4}, {"07", -0.5}, {"８", -0.6}, {"4", ln(0.1)}}, ten, 4, false},
		{"none", []TokenLogprob{{"Rating", -0.1}, {"[[", -1}}, ten, 0, true},
		{"empty", nil, ten, 0, true},
		{"bad-scale", []TokenLogprob{{"8", 0}}, [2]float64{}, 0, true},
	}
	for _, c := range cases {
		got, err := SoftScore(c.top, c.scale)
		if c.err {
			if err == nil {
				t.Errorf("%s: %v, no error", c.name, got)
			}
			continue
		}
		if err != nil || !near(got, c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := SoftScore([]TokenLogprob{{"4", -1}}, ten); err != nil {
		t.Error(err)
	}
	if _, err := SoftScore([]TokenLogprob{{"Rating", -1}}, ten); !errors.Is(err, ErrNoVerdictToken) {
		t.Errorf("%v", err)
	}
}
