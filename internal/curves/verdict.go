package curves

import (
	"fmt"
	"math"
	"slices"
)

// minEvals is the fewest evaluations from which a trend can be told apart
// from noise: a minimum with at least two points after it, and one before.
const minEvals = 4

// verdict decides the run's verdict, in order of severity: a run that ends
// in NaN or whose train loss climbs back has diverged whatever its eval loss
// did; without eval loss nothing can be said about generalisation; then a
// sustained eval-loss rise is overfitting (if train loss is not rising too,
// which is instability), then a jittery eval curve is noisy.
func verdict(a *Analysis, evals []Point) {
	if a.divergedNonFinite() || a.divergedTrain() {
		return
	}
	if len(a.Eval) == 0 {
		a.Verdict = VerdictNoEvalLoss
		a.Reason = "the log has no eval loss, so overfitting cannot be measured; log an eval set (Trainer: eval_strategy=\"steps\" with an eval_dataset; Keras: validation_data) and run again"
		return
	}
	if len(evals) < minEvals {
		a.Verdict = VerdictTooShort
		a.Reason = fmt.Sprintf("only %d finite eval-loss points; at least %d are needed to tell a trend from noise (evaluate more often)", len(evals), minEvals)
		return
	}
	if a.overfitting(evals) {
		return
	}
	// A steady climb inflates the noise estimate the test above relies on.
	if a.risingEveryEval(evals) {
		return
	}
	if a.noisy(evals) {
		return
	}
	a.Verdict = VerdictHealthy
	b := a.BestEval
	last := evals[len(evals)-1]
	if b.Step == evals[0].Step {
		a.Reason = fmt.Sprintf("eval loss never went below its first evaluation, %.5g at %s, its minimum (last %.5g at %s), with no sustained rise", b.Value, a.at(b.Step), last.Value, a.at(last.Step))
	} else {
		a.Reason = fmt.Sprintf("eval loss fell from %.5g to its minimum %.5g at %s (last %.5g at %s) with no sustained rise", evals[0].Value, b.Value, a.at(b.Step), last.Value, a.at(last.Step))
	}
	p := plateauStart(evals, a.plateauBand())
	switch {
	case b.Step == last.Step:
		a.Reason += "; it was still improving at the end, so more steps may help"
	case len(evals)-p >= 3:
		a.Reason += fmt.Sprintf("; it has been flat (within %.2g of the minimum) since %s, so more steps of this run are unlikely to help", a.plateauBand(), a.at(evals[p].Step))
	case 5*(len(evals)-1-indexOfStep(evals, b.Step)) < len(evals):
		a.Reason += "; its minimum is near the end, so more steps may help"
	}
}

// plateauBand is how close to the minimum an evaluation must be to count
// as on the final plateau: twice the noise, at least 0.2% of the minimum.
func (a *Analysis) plateauBand() float64 {
	return max(2*a.EvalNoise, 0.002*math.Abs(a.BestEval.Value))
}

// plateauStart is the index from which every evaluation stays within band
// of the minimum.
func plateauStart(evals []Point, band float64) int {
	low := evals[0].Value
	for _, p := range evals {
		low = min(low, p.Value)
	}
	// len(evals) when even the last evaluation is outside the band: there
	// is no plateau to speak of.
	i := len(evals)
	for i > 0 && evals[i-1].Value <= low+band {
		i--
	}
	return i
}

// risingEveryEval: after its minimum the eval loss went up at every one of
// at least minRises evaluations, to the last. Whatever the noise estimate
// says (a steady climb inflates it), that is never healthy: with train loss
// rising too it is instability (diverged), else overfitting.
func (a *Analysis) risingEveryEval(evals []Point) bool {
	const minRises = 3
	m := indexOfStep(evals, bestPoint(evals, false).Step)
	post := evals[m:]
	if len(post)-1 < minRises {
		return false
	}
	for i := 1; i < len(post); i++ {
		if post[i].Value <= post[i-1].Value {
			return false
		}
	}
	low, lastV := evals[m].Value, evals[len(evals)-1].Value
	if lastV-low <= 0.002*math.Abs(low) {
		return false // float jitter on a plateau, not a rise
	}
	on := &Onset{Step: evals[m].Step, EvalAtOnset: low, EvalLast: lastV, Rise: median(values(post[1:])) - low, EvalsAfter: len(post) - 1}
	a.Overfit = on
	tAt, okAt := valueAt(a.trainFinite, on.Step)
	tLast, okLast := valueAt(a.trainFinite, a.LastStep)
	if okAt && okLast {
		on.TrainAtOnset, on.TrainLast = tAt, tLast
	}
	where := "its minimum " + num(low) + " at " + a.at(evals[m].Step)
	if m == 0 {
		where = num(low) + " at the first evaluation (" + a.at(evals[m].Step) + "), its minimum"
	}
	if okAt && okLast && tLast-tAt > max(2*a.trainSigma, 0.01*math.Abs(tAt)) {
		a.Instability.BothRising = true
		a.Verdict, a.Since = VerdictDiverged, on.Step
		a.Reason = fmt.Sprintf("eval loss rose at every one of the %d evaluations after %s, to %.5g at %s, and smoothed train loss rose too, from %.5g to %.5g: that is instability, not overfitting (lower the learning rate, check the restart)",
			len(post)-1, where, lastV, a.at(evals[len(evals)-1].Step), tAt, tLast)
		a.Reason += a.restartNote()
		return true
	}
	a.Verdict, a.Since = VerdictOverfitting, on.Step
	a.Reason = fmt.Sprintf("eval loss rose at every one of the %d evaluations after %s, to %.5g at %s", len(post)-1, where, lastV, a.at(evals[len(evals)-1].Step))
	if okAt && okLast {
		a.Reason += fmt.Sprintf(" while smoothed train loss went from %.5g to %.5g", tAt, tLast)
	} else {
		a.Reason += " (no train loss to confirm it kept falling)"
	}
	a.Reason += fmt.Sprintf("; keep the checkpoint from %s", a.at(evals[m].Step))
	return true
}

// divergedNonFinite: the run ends with a NaN/Inf loss.
func (a *Analysis) divergedNonFinite() bool {
	in := a.Instability
	if in.NonFinite == 0 {
		return false
	}
	endsBad := (len(a.Train) > 0 && !finite(a.Train[len(a.Train)-1].Value)) ||
		(len(a.Eval) > 0 && !finite(a.Eval[len(a.Eval)-1].Value))
	if !endsBad {
		a.Notes = append(a.Notes, fmt.Sprintf("%d NaN/Inf loss values, the first at %s; training recovered from them", in.NonFinite, a.at(in.FirstNonFinite)))
		return false
	}
	a.Verdict, a.Since = VerdictDiverged, in.FirstNonFinite
	a.Reason = fmt.Sprintf("the loss became NaN/Inf at %s and the run ends that way (%d non-finite values); lower the learning rate, enable gradient clipping, or check for fp16 overflow", a.at(in.FirstNonFinite), in.NonFinite)
	return true
}

// divergedTrain: smoothed train loss climbs well back above its minimum by
// the end (a quarter of the drop it had made, and beyond its jitter).
func (a *Analysis) divergedTrain() bool {
	ts := a.trainFinite
	if len(ts) < 10 {
		return false
	}
	low := bestPoint(ts, false)
	first, last := ts[0].Value, ts[len(ts)-1].Value
	margin := max(0.25*(first-low.Value), 0.05*math.Abs(low.Value), 2*a.trainSigma)
	if last-low.Value <= margin {
		return false
	}
	rawLast := lastFinite(a.Train)
	if first-low.Value <= max(0.05*math.Abs(first), 2*a.trainSigma) {
		// The loss never fell in the first place: either a language-modelling
		// loss that blew up from the first steps (a diverging run), or one
		// that is not minimised, as an RL objective (GRPO, PPO: the KL term
		// grows). The first is diverged with or without eval loss; the
		// second is judged on its eval loss.
		if !a.rlObjective && first >= minLMLoss && last >= divergeFactor*first {
			a.Verdict, a.Since = VerdictDiverged, ts[0].Step
			a.Reason = fmt.Sprintf("the train loss (%s) never fell and climbed from %.5g at %s to %.5g by %s (smoothed; the last logged value is %.5g), %.3gx its start: the run diverged; lower the learning rate, enable gradient clipping, or check the data and the quantisation setup",
				a.TrainKey, first, a.at(ts[0].Step), last, a.at(ts[len(ts)-1].Step), rawLast, last/first)
			a.Reason += a.restartNote()
			return true
		}
		a.Notes = append(a.Notes, fmt.Sprintf("the train loss (%s) never fell: %.5g at the start, %.5g at the end (smoothed; the last logged value is %.5g); an RL objective (GRPO, PPO) is not expected to fall, otherwise check the learning rate and the data", a.TrainKey, first, last, rawLast))
		return false
	}
	a.Verdict, a.Since = VerdictDiverged, low.Step
	a.Reason = fmt.Sprintf("smoothed train loss fell to %.5g at %s and then climbed to %.5g by %s; the optimiser is no longer making progress (learning rate too high, or a bad restart)", low.Value, a.at(low.Step), last, a.at(ts[len(ts)-1].Step))
	a.Reason += a.restartNote()
	return true
}

// minLMLoss and divergeFactor decide when a train loss that never fell has
// diverged: a language-modelling cross-entropy starts well above zero (an RL
// objective such as GRPO's starts near it), and climbing to several times
// its start is no plateau but a blow-up.
const (
	minLMLoss     = 0.05
	divergeFactor = 3
)

// lastFinite is the last finite value of ps (NaN when none).
func lastFinite(ps []Point) float64 {
	for i := len(ps) - 1; i >= 0; i-- {
		if finite(ps[i].Value) {
			return ps[i].Value
		}
	}
	return math.NaN()
}

// restartNote points at resumes, the usual cause of losses climbing back.
func (a *Analysis) restartNote() string {
	if len(a.Restarts) == 0 {
		return ""
	}
	return fmt.Sprintf("; the log was resumed at %s %s: check that the optimiser, scheduler and data order were restored", a.StepUnit, stepList(a.Restarts))
}

// overfitting looks for the first sustained rise of eval loss: after its
// minimum, at least two more evaluations whose median and last value sit
// above the minimum by more than twice the eval noise (and 0.2% of it), with
// two thirds of them above minimum + noise. It is overfitting only if the
// smoothed train loss did not rise over the same stretch; if both rose, it
// is instability and the run is called diverged.
func (a *Analysis) overfitting(evals []Point) bool {
	m := 0
	for i, p := range evals {
		if p.Value < evals[m].Value {
			m = i
		}
	}
	post := evals[m+1:]
	if len(post) < 2 {
		return false
	}
	low := evals[m].Value
	noise := a.EvalNoise
	margin := max(2*noise, 0.002*math.Abs(low))
	vs := values(post)
	med := median(slices.Clone(vs))
	lastV := vs[len(vs)-1]
	above := 0
	for _, v := range vs {
		if v > low+noise {
			above++
		}
	}
	if med-low <= margin || lastV-low <= margin || 3*above < 2*len(vs) {
		return false
	}
	// The minimum of a noisy curve is a low outlier, so a flat curve seems to
	// "rise" from it. The level must have changed too: the evaluations after
	// the minimum sit above the level around it (the median of the minimum
	// and its two neighbours) by more than the noise.
	// A rise that keeps growing shows most in its later half.
	around := values(evals[max(0, m-1):min(len(evals), m+2)])
	late := median(slices.Clone(vs[len(vs)/2:]))
	if late-median(around) <= margin {
		return false
	}
	// The rise starts after the last evaluation still within noise of the
	// minimum: on a plateau the minimum itself falls anywhere by chance.
	start := m
	for j := m + 1; j < len(evals); j++ {
		if evals[j].Value <= low+noise {
			start = j
		}
	}
	on := &Onset{Step: evals[start].Step, EvalAtOnset: low, EvalLast: lastV, Rise: med - low, EvalsAfter: len(evals) - 1 - start}
	a.Overfit = on
	tAt, okAt := valueAt(a.trainFinite, on.Step)
	tLast, okLast := valueAt(a.trainFinite, a.LastStep)
	if okAt && okLast {
		on.TrainAtOnset, on.TrainLast = tAt, tLast
		if tLast-tAt > max(2*a.trainSigma, 0.01*math.Abs(tAt)) {
			a.Instability.BothRising = true
			a.Verdict, a.Since = VerdictDiverged, on.Step
			a.Reason = fmt.Sprintf("after %s eval loss rose from %.5g to %.5g and smoothed train loss rose too, from %.5g to %.5g: that is instability, not overfitting", a.at(on.Step), low, lastV, tAt, tLast)
			a.Reason += a.restartNote()
			return true
		}
	}
	a.Verdict, a.Since = VerdictOverfitting, on.Step
	a.Reason = fmt.Sprintf("eval loss reached its minimum %.5g at %s, then stayed above it for %d evaluations (median +%.5g, last %.5g; eval noise ±%.2g)", low, a.at(evals[m].Step), len(post), on.Rise, lastV, noise)
	if okAt && okLast {
		a.Reason += fmt.Sprintf(" while smoothed train loss went from %.5g to %.5g", tAt, tLast)
	} else {
		a.Reason += " (no train loss to confirm it kept falling)"
	}
	if on.Step != evals[m].Step {
		a.Reason += fmt.Sprintf("; it stayed within noise of the minimum until %s", a.at(on.Step))
	}
	a.Reason += fmt.Sprintf("; keep the checkpoint from %s", a.at(evals[m].Step))
	return true
}

// noisy: on its way down to the final plateau the eval loss went up at a
// quarter or more of its evaluations, so single evaluations (and early
// stopping with small patience) mislead.
func (a *Analysis) noisy(evals []Point) bool {
	// Up-steps on the final plateau are expected jitter around a converged
	// loss; only those on the way down make the curve noisy.
	all := evals
	evals = evals[:min(plateauStart(evals, a.plateauBand()), len(evals)-1)+1]
	if len(evals) < 6 {
		return false
	}
	ups := 0
	for i := 1; i < len(evals); i++ {
		if evals[i].Value > evals[i-1].Value {
			ups++
		}
	}
	if 4*ups < len(evals)-1 {
		return false
	}
	b := a.BestEval
	a.Verdict = VerdictNoisy
	a.Reason = fmt.Sprintf("eval loss went up at %d of %d steps between evaluations on its way down (noise ±%.2g) though its minimum %.5g is at %s; compare checkpoints on smoothed eval loss and use a patience of several evaluations", ups, len(evals)-1, a.EvalNoise, b.Value, a.at(b.Step))
	if 5*(len(all)-1-indexOfStep(all, b.Step)) <= len(all) {
		a.Reason += "; the minimum is near the end, so it was still improving"
	}
	return true
}

func indexOfStep(ps []Point, step int64) int {
	for i, p := range ps {
		if p.Step == step {
			return i
		}
	}
	return -1
}
