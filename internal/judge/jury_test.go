package judge

import (
	"errors"
	"math"
	"testing"
)

func TestAggregateScores(t *testing.T) {
	fail := errors.New("timeout")
	cases := []struct {
		name  string
		votes []ScoreVote
		want  JuryScore
		err   bool
	}{
		{"one", []ScoreVote{{"j1", 7, nil}}, JuryScore{7, 7, 1, 0}, false},
		{"odd", []ScoreVote{{"j1", 9, nil}, {"j2", 3, nil}, {"j3", 6, nil}}, JuryScore{6, 6, 3, 0}, false},
		{"even", []ScoreVote{{"j1", 1, nil}, {"j2", 10, nil}, {"j3", 4, nil}, {"j4", 5, nil}}, JuryScore{5, 4.5, 4, 0}, false},
		{"failed-left-out", []ScoreVote{{"j1", 8, nil}, {"j2", 0, fail}, {"j3", 6, nil}}, JuryScore{7, 7, 2, 1}, false},
		{"nan-is-failed", []ScoreVote{{"j1", math.NaN(), nil}, {"j2", 4, nil}}, JuryScore{4, 4, 1, 1}, false},
		{"all-failed", []ScoreVote{{"j1", 0, fail}, {"j2", 0, ErrTruncated}}, JuryScore{N: 0, Failed: 2}, true},
		{"none", nil, JuryScore{}, true},
	}
	for _, c := range cases {
		got, err := AggregateScores(c.votes)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v (error %v)", c.name, got, err, c.want, c.err)
		}
		if c.err && !errors.Is(err, ErrNoVotes) {
			t.Errorf("%s: error %v does not wrap ErrNoVotes", c.name, err)
		}
	}
}

func TestAggregateOutcomes(t *testing.T) {
	C, B, T, F := OutcomeCandidate, OutcomeBaseline, OutcomeTie, OutcomeFailed
	cases := []struct {
		name  string
		votes []Outcome
		want  JuryOutcome
		err   bool
	}{
		{"unanimous", []Outcome{C, C, C}, JuryOutcome{C, 3, 0, 0, 0}, false},
		{"majority", []Outcome{C, B, C}, JuryOutcome{C, 2, 1, 0, 0}, false},
		{"plurality", []Outcome{B, B, C, T}, JuryOutcome{B, 1, 2, 1, 0}, false},
		{"split-is-tie", []Outcome{C, B}, JuryOutcome{T, 1, 1, 0, 0}, false},
		{"three-way-is-tie", []Outcome{C, B, T}, JuryOutcome{T, 1, 1, 1, 0}, false},
		{"tie-majority", []Outcome{T, T, C}, JuryOutcome{T, 1, 0, 2, 0}, false},
		{"candidate-vs-tie-split", []Outcome{C, T}, JuryOutcome{T, 1, 0, 1, 0}, false},
		{"failed-left-out", []Outcome{F, C, F}, JuryOutcome{C, 1, 0, 0, 2}, false},
		{"failed-do-not-break-ties", []Outcome{C, B, F, F, F}, JuryOutcome{T, 1, 1, 0, 3}, false},
		{"all-failed", []Outcome{F, F}, JuryOutcome{F, 0, 0, 0, 2}, true},
		{"none", nil, JuryOutcome{}, true},
	}
	for _, c := range cases {
		got, err := AggregateOutcomes(c.votes)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		}
		if c.err && !errors.Is(err, ErrNoVotes) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestAggregateChoices(t *testing.T) {
	A, B, T, N := ChoiceA, ChoiceB, ChoiceTie, ChoiceNone
	cases := []struct {
		votes []Choice
		want  JuryChoice
		err   bool
	}{
		{[]Choice{A, A, B}, JuryChoice{A, 2, 1, 0, 0}, false},
		{[]Choice{A, B}, JuryChoice{T, 1, 1, 0, 0}, false},
		{[]Choice{B, N, N}, JuryChoice{B, 0, 1, 0, 2}, false},
		{[]Choice{T, T, A, B}, JuryChoice{T, 1, 1, 2, 0}, false},
		{[]Choice{N}, JuryChoice{N, 0, 0, 0, 1}, true},
	}
	for _, c := range cases {
		got, err := AggregateChoices(c.votes)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%v: %+v, %v; want %+v", c.votes, got, err, c.want)
		}
	}
}
