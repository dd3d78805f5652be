package gate

import (
	"fmt"
	"strings"
)

// Estimate is a mean over N scored items (or N pairs, for a delta) with its
// confidence interval. N == 0 means nothing was scored.
type Estimate struct {
	N    int
	Mean float64
	Low  float64
	High float64
}

// Counts are one model's item tallies on one task.
type Counts struct {
	Items       int // items in the task
	Failed      int // request error or unscorable output
	Empty       int // answered with an empty output
	NoReference int // had no reference to score against
	JudgeFailed int // scored, but no judge gave a verdict
}

// Sources is what a run knows about one task and metric, as Resolve reads
// it. A report fills it from its own model; for a count field only Counts
// matter.
type Sources struct {
	// Compared is true when the run has both a baseline and a candidate.
	Compared bool
	// Candidate is the candidate's score, or the only model's on a one-model run.
	Candidate Estimate
	// Baseline is the baseline's score (only when Compared).
	Baseline Estimate
	// Delta is the paired difference candidate − baseline over Delta.N pairs.
	Delta     Estimate
	PValue    float64
	PAdjusted float64
	// Counts are the candidate's, or the only model's; BaselineCounts the baseline's.
	Counts         Counts
	BaselineCounts Counts
}

// Resolve answers a gate's field from s: the body of a report's Lookup once
// it has found the task and the metric (see NoTask and NoMetric for when it
// has not). A value that does not exist says why; one missing because every
// item failed is marked Failed.
func Resolve(field string, s Sources) Value {
	switch field {
	case "failed":
		return count(s.Counts.Failed)
	case "empty":
		return count(s.Counts.Empty)
	case "no_reference":
		return count(s.Counts.NoReference)
	case "judge_failed":
		return count(s.Counts.JudgeFailed)
	case "judge_failed_rate":
		return rate(s.Counts.JudgeFailed, s.Counts.Items)
	case "failed_rate":
		return rate(s.Counts.Failed, s.Counts.Items)
	case "empty_rate":
		return rate(s.Counts.Empty, s.Counts.Items)
	}
	base, end, _ := strings.Cut(field, ".")
	switch base {
	case "value", "candidate":
		role := ""
		if s.Compared {
			role = "candidate"
		}
		return estimate(s.Candidate, end, s.Counts, role)
	case "baseline":
		if !s.Compared {
			return noComparison(field)
		}
		return estimate(s.Baseline, end, s.BaselineCounts, "baseline")
	case "delta", "p_value", "p_adjusted":
		if !s.Compared {
			return noComparison(field)
		}
		if s.Delta.N == 0 {
			return noPairs(s)
		}
		switch base {
		case "p_value":
			return Value{X: s.PValue, Exists: true}
		case "p_adjusted":
			return Value{X: s.PAdjusted, Exists: true}
		}
		return estimate(s.Delta, end, s.Counts, "")
	}
	return Value{Why: fmt.Sprintf("unknown field %q; %s", field, fieldsList)}
}

func count(n int) Value { return Value{X: float64(n), Exists: true} }

func rate(n, items int) Value {
	if items == 0 {
		return Value{Why: "the task has no items"}
	}
	return Value{X: float64(n) / float64(items), Exists: true}
}

// estimate reads a point estimate ("") or one end of its interval.
func estimate(e Estimate, end string, c Counts, role string) Value {
	if e.N == 0 {
		return noScores(c, role)
	}
	switch end {
	case "ci_low":
		return Value{X: e.Low, Exists: true}
	case "ci_high":
		return Value{X: e.High, Exists: true}
	case "":
		return Value{X: e.Mean, Low: e.Low, High: e.High, HasCI: true, Exists: true}
	}
	return Value{Why: fmt.Sprintf("unknown field end %q; write ci_low or ci_high", end)}
}

// noScores explains an estimate over no items; it is Failed when every item
// failed, which points at the endpoint rather than the model.
func noScores(c Counts, role string) Value {
	on := ""
	if role != "" {
		on = " (" + role + ")"
	}
	switch {
	case c.Items == 0:
		return Value{Why: "no scored items: the task has no items"}
	case c.Failed >= c.Items:
		return Value{Failed: true, Why: fmt.Sprintf("no scored items: %d of %d failed%s", c.Failed, c.Items, on)}
	}
	return Value{Why: fmt.Sprintf("no scored items for this metric%s (%d of %d items failed)", on, c.Failed, c.Items)}
}

// noPairs explains a comparison with no pairs: an item is paired only when
// both models scored it.
func noPairs(s Sources) Value {
	c, b := s.Counts, s.BaselineCounts
	switch {
	case s.Candidate.N == 0:
		return noScores(c, "candidate")
	case s.Baseline.N == 0:
		return noScores(b, "baseline")
	case c.Items > 0 && c.Failed+b.Failed >= c.Items:
		return Value{Failed: true, Why: fmt.Sprintf("no paired items: each of the %d items failed on the baseline or the candidate (baseline %d failed, candidate %d failed)", c.Items, b.Failed, c.Failed)}
	}
	return Value{Why: "no paired items for this metric"}
}

func noComparison(field string) Value {
	return Value{Why: fmt.Sprintf("no comparison in this run: %s needs a baseline and a candidate (compare.baseline, compare.candidate); gate on value or candidate instead", field)}
}

// NoTask is the value of a gate on a task the run does not have; known
// lists the run's tasks.
func NoTask(task string, known []string) Value {
	return Value{Why: fmt.Sprintf("no task %q in this run; %s", task, knownFix(task, known, "the run has no tasks"))}
}

// NoMetric is the value of a gate on a metric the task does not have; known
// lists the task's metrics.
func NoMetric(task, metric string, known []string) Value {
	return Value{Why: fmt.Sprintf("no metric %q in task %s; %s", metric, task, knownFix(metric, known, "the task has no metrics"))}
}

// Disparity is what Resolve reads for a slice's disparity fields.
type Disparity struct {
	MinValue    Estimate
	HasMinValue bool
	MinDelta    Estimate
	HasMinDelta bool
	Gap, Ratio  float64
	DeltaGap    float64
}

// ResolveDisparity answers a disparity field (TASK.METRIC.slice(NAME).FIELD).
func ResolveDisparity(field string, d Disparity) Value {
	end := func(e Estimate, has bool, name string) Value {
		if !has || e.N == 0 {
			return Value{Why: "no group of the slice has " + name}
		}
		switch {
		case strings.HasSuffix(field, ".ci_low"):
			return Value{X: e.Low, Exists: true}
		case strings.HasSuffix(field, ".ci_high"):
			return Value{X: e.High, Exists: true}
		}
		return Value{X: e.Mean, Low: e.Low, High: e.High, HasCI: true, Exists: true}
	}
	switch {
	case strings.HasPrefix(field, "min_value"):
		return end(d.MinValue, d.HasMinValue, "scored items")
	case strings.HasPrefix(field, "min_delta"):
		return end(d.MinDelta, d.HasMinDelta, "scored pairs")
	case !d.HasMinValue:
		return Value{Why: "no group of the slice has scored items"}
	case field == "gap":
		return Value{X: d.Gap, Exists: true}
	case field == "ratio":
		return Value{X: d.Ratio, Exists: true}
	case field == "delta_gap":
		if !d.HasMinDelta {
			return Value{Why: "no group of the slice has scored pairs"}
		}
		return Value{X: d.DeltaGap, Exists: true}
	}
	return Value{Why: fmt.Sprintf("unknown slice field %q", field)}
}
