package judge

import (
	"math"
	"testing"
)

// TestResolve covers all nine combinations of two successful judgments and
// the failures. First: baseline is A, candidate is B; second: swapped.
func TestResolve(t *testing.T) {
	cases := []struct {
		first, second Choice
		want          Outcome
		consistent    bool
	}{
		// Consistent: the same model in both orders.
		{ChoiceB, ChoiceA, OutcomeCandidate, true}, // candidate was B, then A
		{ChoiceA, ChoiceB, OutcomeBaseline, true},  // baseline was A, then B
		{ChoiceTie, ChoiceTie, OutcomeTie, true},
		// Inconsistent: position bias or a tie on one side → tie, not consistent.
		{ChoiceA, ChoiceA, OutcomeTie, false}, // always the first position
		{ChoiceB, ChoiceB, OutcomeTie, false}, // always the second position
		{ChoiceA, ChoiceTie, OutcomeTie, false},
		{ChoiceTie, ChoiceA, OutcomeTie, false},
		{ChoiceB, ChoiceTie, OutcomeTie, false},
		{ChoiceTie, ChoiceB, OutcomeTie, false},
		// A failed judgment fails the pair; it is never a tie.
		{ChoiceNone, ChoiceA, OutcomeFailed, false},
		{ChoiceB, ChoiceNone, OutcomeFailed, false},
		{ChoiceNone, ChoiceNone, OutcomeFailed, false},
		{ChoiceTie, ChoiceNone, OutcomeFailed, false},
		{Choice(9), ChoiceA, OutcomeFailed, false},
	}
	for _, c := range cases {
		got, consistent := Resolve(c.first, c.second)
		if got != c.want || consistent != c.consistent {
			t.Errorf("Resolve(%v, %v) = %v, %v; want %v, %v", c.first, c.second, got, consistent, c.want, c.consistent)
		}
	}
}

// TestResolveFromJudgments runs the whole path: two judge texts, parsed in
// FastChat mode, resolved.
func TestResolveFromJudgments(t *testing.T) {
	g1, err1 := ParseChoice("Assistant B is more accurate. [[B]]", ModeFastChat)
	g2, err2 := ParseChoice("Assistant A is more accurate. [[A]]", ModeFastChat)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if w, ok := Resolve(g1, g2); w != OutcomeCandidate || !ok {
		t.Errorf("%v %v", w, ok)
	}
	g2, err2 = ParseChoice("I cannot decide.", ModeFastChat)
	if err2 == nil {
		t.Fatal("no error")
	}
	if w, _ := Resolve(g1, g2); w != OutcomeFailed {
		t.Errorf("failed judgment resolved to %v", w)
	}
}

func TestPositionStats(t *testing.T) {
	pairs := []Swap{
		{ChoiceB, ChoiceA},     // consistent, candidate
		{ChoiceA, ChoiceB},     // consistent, baseline
		{ChoiceTie, ChoiceTie}, // consistent tie
		{ChoiceA, ChoiceA},     // first position both times
		{ChoiceA, ChoiceA},     // again
		{ChoiceB, ChoiceB},     // second position both times
		{ChoiceA, ChoiceTie},   // inconsistent
		{ChoiceNone, ChoiceA},  // failed
		{ChoiceB, ChoiceNone},  // failed
	}
	s := ComputePositionStats(pairs)
	want := PositionStats{
		Pairs: 7, Failed: 2, Consistent: 3, Inconsistent: 4,
		FirstBoth: 2, SecondBoth: 1,
		FirstWins: 7, SecondWins: 4, Ties: 3,
	}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if r := s.ConsistencyRate(); math.Abs(r-3.0/7) > 1e-15 {
		t.Errorf("consistency %v", r)
	}
	if r := s.FirstPositionShare(); math.Abs(r-7.0/11) > 1e-15 {
		t.Errorf("first share %v", r)
	}
	// An unbiased judge shows 0.5 and full consistency.
	fair := ComputePositionStats([]Swap{{ChoiceB, ChoiceA}, {ChoiceA, ChoiceB}})
	if fair.FirstPositionShare() != 0.5 || fair.ConsistencyRate() != 1 {
		t.Errorf("fair: %+v", fair)
	}
	empty := ComputePositionStats([]Swap{{ChoiceNone, ChoiceNone}})
	if !math.IsNaN(empty.ConsistencyRate()) || !math.IsNaN(empty.FirstPositionShare()) || empty.Failed != 1 {
		t.Errorf("empty: %+v", empty)
	}
}

func TestChoiceOutcomeStrings(t *testing.T) {
	for c, s := range map[Choice]string{ChoiceNone: "none", ChoiceA: "A", ChoiceB: "B", ChoiceTie: "tie"} {
		if c.String() != s {
			t.Errorf("%d: %s", c, c)
		}
	}
	for o, s := range map[Outcome]string{OutcomeFailed: "failed", OutcomeCandidate: "candidate", OutcomeBaseline: "baseline", OutcomeTie: "tie"} {
		if o.String() != s {
			t.Errorf("%d: %s", o, o)
		}
	}
}
