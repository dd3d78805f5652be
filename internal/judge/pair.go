package judge

import "math"

// An Outcome is a pair's result after judging it in both orders. The zero
// value, OutcomeFailed, is a pair at least one of whose judgments failed: it
// is left out of win rates, never counted as a tie.
type Outcome int

const (
	OutcomeFailed    Outcome = iota // a judgment failed: no result
	OutcomeCandidate                // the candidate (fine-tuned model) won in both orders
	OutcomeBaseline                 // the baseline won in both orders
	OutcomeTie                      // a tie in both orders, or an inconsistent pair
)

func (o Outcome) String() string {
	switch o {
	case OutcomeCandidate:
		return "candidate"
	case OutcomeBaseline:
		return "baseline"
	case OutcomeTie:
		return "tie"
	}
	return "failed"
}

// Swap is one pair judged in both orders: First with the baseline as A and
// the candidate as B, Second with the candidate as A and the baseline as B
// (FastChat's game 1 and game 2).
type Swap struct {
	First, Second Choice
}

// Resolve combines a pair's two judgments as FastChat does (common.py maps
// game 1's A/B to model_1/model_2 and game 2's to model_2/model_1;
// show_result.py counts a win only when both games agree and a tie
// otherwise; load_pairwise_model_judgments calls a disagreement
// "inconsistent"):
//   - both judgments name the same model → that model wins, consistent;
//   - both are ties → a tie, consistent;
//   - they disagree (one model each, or a tie and a model) → a tie for win
//     rates, not consistent;
//   - either is ChoiceNone (a failed judgment) → OutcomeFailed, not
//     consistent: FastChat drops rows whose g1 or g2 winner is "error".
func Resolve(first, second Choice) (winner Outcome, consistent bool) {
	g1, ok1 := orderOutcome(first, false)
	g2, ok2 := orderOutcome(second, true)
	if !ok1 || !ok2 {
		return OutcomeFailed, false
	}
	if g1 == g2 {
		return g1, true
	}
	return OutcomeTie, false
}

// orderOutcome maps one judgment's verdict to a model: in the first order A
// is the baseline, in the swapped order A is the candidate.
func orderOutcome(c Choice, swapped bool) (Outcome, bool) {
	switch c {
	case ChoiceA:
		if swapped {
			return OutcomeCandidate, true
		}
		return OutcomeBaseline, true
	case ChoiceB:
		if swapped {
			return OutcomeBaseline, true
		}
		return OutcomeCandidate, true
	case ChoiceTie:
		return OutcomeTie, true
	}
	return OutcomeFailed, false
}

// PositionStats measures position bias over pairs judged in both orders
// (the MT-Bench paper's Table 2: consistent, biased toward first, biased
// toward second). Pairs with a failed judgment are counted in Failed and
// nowhere else.
type PositionStats struct {
	Pairs        int // pairs with both judgments
	Failed       int // pairs with a failed judgment, left out of the rest
	Consistent   int // the same verdict in both orders (two ties included)
	Inconsistent int // Pairs − Consistent
	FirstBoth    int // inconsistent: position A chosen in both orders
	SecondBoth   int // inconsistent: position B chosen in both orders
	FirstWins    int // single judgments (two per pair) choosing position A
	SecondWins   int // single judgments choosing position B
	Ties         int // single judgments calling a tie
}

// ComputePositionStats counts pairs judged in both orders.
func ComputePositionStats(pairs []Swap) PositionStats {
	var s PositionStats
	for _, p := range pairs {
		winner, consistent := Resolve(p.First, p.Second)
		if winner == OutcomeFailed {
			s.Failed++
			continue
		}
		s.Pairs++
		if consistent {
			s.Consistent++
		} else {
			s.Inconsistent++
		}
		switch {
		case p.First == ChoiceA && p.Second == ChoiceA:
			s.FirstBoth++
		case p.First == ChoiceB && p.Second == ChoiceB:
			s.SecondBoth++
		}
		for _, c := range []Choice{p.First, p.Second} {
			switch c {
			case ChoiceA:
				s.FirstWins++
			case ChoiceB:
				s.SecondWins++
			case ChoiceTie:
				s.Ties++
			}
		}
	}
	return s
}

// ConsistencyRate is Consistent / Pairs, NaN when no pair was judged.
func (s PositionStats) ConsistencyRate() float64 {
	if s.Pairs == 0 {
		return math.NaN()
	}
	return float64(s.Consistent) / float64(s.Pairs)
}

// FirstPositionShare is the share of decisive single judgments that chose
// the first position, FirstWins / (FirstWins + SecondWins): 0.5 for a judge
// without position bias, since every pair is shown in both orders. NaN when
// no judgment was decisive.
func (s PositionStats) FirstPositionShare() float64 {
	if s.FirstWins+s.SecondWins == 0 {
		return math.NaN()
	}
	return float64(s.FirstWins) / float64(s.FirstWins+s.SecondWins)
}
