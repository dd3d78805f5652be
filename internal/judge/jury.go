package judge

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNoVotes: every judge of a jury failed (or there was none), so the jury
// has no verdict.
var ErrNoVotes = errors.New("no judge of the jury gave a verdict")

// A ScoreVote is one judge's score for an item, or the error that kept it
// from scoring (a parse error, ErrTruncated, a failed request).
type ScoreVote struct {
	Judge string
	Score float64
	Err   error
}

// JuryScore is a jury's combined score.
type JuryScore struct {
	Mean   float64 // mean of the judges that scored
	Median float64 // median of the same (mean of the middle two when even)
	N      int     // judges that scored
	Failed int     // judges that failed (Err set, or a NaN or infinite score)
}

// AggregateScores combines several judges' scores for one item. Failed
// judges are counted and left out, never scored 0; if none scored, the
// error wraps ErrNoVotes.
func AggregateScores(votes []ScoreVote) (JuryScore, error) {
	var j JuryScore
	var xs []float64
	for _, v := range votes {
		if v.Err != nil || math.IsNaN(v.Score) || math.IsInf(v.Score, 0) {
			j.Failed++
			continue
		}
		xs = append(xs, v.Score)
	}
	j.N = len(xs)
	if j.N == 0 {
		return j, fmt.Errorf("%w (%d failed)", ErrNoVotes, j.Failed)
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	j.Mean = sum / float64(j.N)
	slices.Sort(xs)
	if j.N%2 == 1 {
		j.Median = xs[j.N/2]
	} else {
		j.Median = (xs[j.N/2-1] + xs[j.N/2]) / 2
	}
	return j, nil
}

// JuryOutcome is a jury's pairwise verdict.
type JuryOutcome struct {
	Outcome   Outcome // the majority; OutcomeTie when the top count is shared
	Candidate int     // judges whose resolved pair went to the candidate
	Baseline  int     // … to the baseline
	Tie       int     // … was a tie (inconsistent pairs included)
	Failed    int     // judges whose pair failed
}

// AggregateOutcomes takes a majority over the judges' resolved pairs (one
// Outcome per judge, from Resolve): the outcome with the most votes wins; if
// two or three share the top count, the jury's verdict is a tie. Failed
// judges are counted and left out; if all failed, the outcome is
// OutcomeFailed and the error wraps ErrNoVotes.
func AggregateOutcomes(votes []Outcome) (JuryOutcome, error) {
	var j JuryOutcome
	for _, v := range votes {
		switch v {
		case OutcomeCandidate:
			j.Candidate++
		case OutcomeBaseline:
			j.Baseline++
		case OutcomeTie:
			j.Tie++
		default:
			j.Failed++
		}
	}
	if j.Candidate+j.Baseline+j.Tie == 0 {
		return j, fmt.Errorf("%w (%d failed)", ErrNoVotes, j.Failed)
	}
	j.Outcome = majority(
		[]int{j.Candidate, j.Baseline, j.Tie},
		[]Outcome{OutcomeCandidate, OutcomeBaseline, OutcomeTie},
		OutcomeTie)
	return j, nil
}

// JuryChoice is a jury's verdict on one ordering of a pair.
type JuryChoice struct {
	Choice Choice // the majority; ChoiceTie when the top count is shared
	A, B   int    // judges choosing A, B
	Tie    int    // judges calling a tie
	Failed int    // judges that failed (ChoiceNone)
}

// AggregateChoices is AggregateOutcomes for single judgments (one ordering):
// the most chosen of A, B and tie, a tie when the top count is shared;
// ChoiceNone votes are counted as failed; all failed wraps ErrNoVotes.
func AggregateChoices(votes []Choice) (JuryChoice, error) {
	var j JuryChoice
	for _, v := range votes {
		switch v {
		case ChoiceA:
			j.A++
		case ChoiceB:
			j.B++
		case ChoiceTie:
			j.Tie++
		default:
			j.Failed++
		}
	}
	if j.A+j.B+j.Tie == 0 {
		return j, fmt.Errorf("%w (%d failed)", ErrNoVotes, j.Failed)
	}
	j.Choice = majority([]int{j.A, j.B, j.Tie}, []Choice{ChoiceA, ChoiceB, ChoiceTie}, ChoiceTie)
	return j, nil
}

// majority returns the value with the highest count, or tie when the highest
// count is shared.
func majority[T any](counts []int, values []T, tie T) T {
	top := slices.Max(counts)
	winner := -1
	for i, c := range counts {
		if c != top {
			continue
		}
		if winner >= 0 {
			return tie
		}
		winner = i
	}
	return values[winner]
}
