package task

import (
	"math"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/scorer"
)

// WinoGrande's partial evaluation: each context (sentence up to the blank,
// option filled in) is followed by the same continuation.
func TestPartialEvaluationRequestsAndScore(t *testing.T) {
	spec := Spec{Name: "wg", Type: MultipleChoice, Template: "{{ prefix }}", Choices: "contexts", Answer: "gold",
		Options: map[string]any{"protocol": "loglikelihood", "continuation": "rest"}}
	rows := []Row{{ID: "1", Fields: map[string]any{"prefix": "", "gold": int64(1), "rest": "always got the easier cases.",
		"contexts": []any{"Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria"}}}}
	items, err := Build(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	rs := items[0].Requests
	if len(rs) != 2 || rs[1].Prompt != "Sarah was a much better surgeon than Maria so Maria" || rs[0].Continuation != " always got the easier cases." || rs[1].Continuation != rs[0].Continuation {
		t.Fatalf("%+v", rs)
	}
	sc := (multipleChoiceType{}).Scorers(spec)
	if len(sc) != 1 || len(sc[0].Metrics()) != 1 || sc[0].Metrics()[0].Name != "acc" {
		t.Fatalf("partial evaluation reports acc only, got %+v", sc)
	}
	// The gold context (Maria) makes the continuation likelier: right, even
	// though its context is longer (no normalisation by the context).
	got, err := sc[0].Score(scorer.Input{Choices: items[0].Choices, Gold: 1, ChoiceLogLikelihoods: []float64{-9.5, -9.0}})
	if err != nil || got["acc"] != 1 {
		t.Fatalf("%v %v", got, err)
	}
	rows[0].Fields["rest"] = ""
	if _, err := Build(spec, rows); err == nil || !strings.Contains(err.Error(), `"rest" (continuation)`) {
		t.Fatalf("want an error naming the continuation field, got %v", err)
	}
}

// TruthfulQA MC2, computed by hand: log-likelihoods -1, -2, -3 with the
// first true gives e^-1/(e^-1+e^-2+e^-3) = 1/(1+e^-1+e^-2) = 0.665241.
func TestMC2ByHand(t *testing.T) {
	for _, c := range []struct {
		lls   []float64
		split int
		want  float64
	}{
		{[]float64{-1, -2, -3}, 1, 0.665241},
		{[]float64{-1, -2, -3}, 2, 0.909969},
		{[]float64{-3, -1}, 1, 0.119203},       // 1/(1+e^2)
		{[]float64{-1000, -1001}, 1, 0.731059}, // no underflow: 1/(1+e^-1)
	} {
		if got := MC2(c.lls, c.split); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("MC2(%v, %d) = %.6f, want %.6f", c.lls, c.split, got, c.want)
		}
	}
	spec := Spec{Name: "tqa", Type: MultipleChoice, Template: "{{ q }}", Choices: "choices", Answer: "gold",
		Options: map[string]any{"protocol": "loglikelihood", "mc2_labels": "labels"}}
	row := Row{ID: "1", Fields: map[string]any{"q": "Q: x\nA:", "choices": []any{"a", "b", "c"}, "gold": int64(0), "labels": []any{int64(1), int64(1), int64(0)}}}
	items, err := Build(spec, []Row{row})
	if err != nil {
		t.Fatal(err)
	}
	sc := (multipleChoiceType{}).Scorers(spec)
	got, err := sc[0].Score(scorer.Input{Fields: items[0].Fields, Choices: items[0].Choices, ChoiceLogLikelihoods: []float64{-1, -2, -3}})
	if err != nil || math.Abs(got["mc2"]-0.909969) > 1e-6 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range [][]any{{int64(0), int64(1), int64(1)}, {int64(1), int64(0), int64(1)}, {int64(1), int64(2), int64(0)}, {int64(1), int64(0)}} {
		row.Fields["labels"] = bad
		if _, err := Build(spec, []Row{row}); err == nil || !strings.Contains(err.Error(), "mc2_labels") {
			t.Errorf("labels %v: want a refusal, got %v", bad, err)
		}
	}
}
