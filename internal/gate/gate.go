// Package gate parses, validates and checks gates: threshold expressions over
// a run's aggregates, paired deltas and failure counts, in the spirit of k6
// thresholds. A gate has one of two shapes:
//
//	TASK.METRIC.FIELD OP NUMBER     a score, e.g. qa.token_f1.delta.ci_low >= -0.02
//	TASK.FIELD OP NUMBER            a count, e.g. qa.failed_rate <= 0.01
//
// OP is one of >= > <= < == !=. NUMBER is a finite decimal number (fractions,
// not percentages: 0.05, not 5%).
//
// Score fields (TASK.METRIC.FIELD):
//
//	value             the candidate's mean, or the only model's on a one-model run
//	value.ci_low      the low end of its confidence interval
//	value.ci_high     the high end
//	candidate         the same as value: on a one-model run the only model is the candidate
//	candidate.ci_low, candidate.ci_high
//	baseline          the baseline's mean (needs a comparison)
//	baseline.ci_low, baseline.ci_high
//	delta             the paired difference candidate − baseline (needs a comparison)
//	delta.ci_low, delta.ci_high
//	p_value           the paired permutation test's two-sided p-value (needs a comparison)
//	p_adjusted        the same after Holm's correction across the run (needs a comparison)
//
// Slice fields break a score down by a plan slice of the task (tasks[].slices):
//
//	TASK.METRIC.slice(NAME=GROUP).FIELD   a score field of one group, e.g.
//	                                      qa.token_f1.slice(language=de).delta.ci_low >= -0.05
//	TASK.METRIC.slice(NAME).FIELD         the disparity across the groups:
//	min_value         the worst group's candidate score (by the metric's direction)
//	min_value.ci_low, min_value.ci_high
//	min_delta         the worst group's paired delta (needs a comparison)
//	min_delta.ci_low, min_delta.ci_high
//	gap               best − worst group's candidate score (≥ 0)
//	ratio             worst / best group's candidate score (best / worst when lower is better)
//	delta_gap         best − worst group's delta (needs a comparison)
//
// GROUP is written as the report prints it, without spaces.
//
// Count fields (TASK.FIELD, no metric), over the candidate's items, or the
// only model's:
//
//	failed            items that failed (request error or unscorable output)
//	failed_rate       failed / items
//	empty             items answered with an empty output
//	empty_rate        empty / items
//	no_reference      items that had no reference to score against
//	judge_failed      scored items no judge gave a verdict on (request failed,
//	                  truncated or unparsable judgment)
//	judge_failed_rate judge_failed / items
//
// A gate on a point estimate (value, candidate, baseline, delta) is decided by
// its interval: it passes when the whole interval satisfies the threshold,
// fails when none of it does, and is inconclusive when the interval straddles
// the threshold. A gate on an interval end, a p-value or a count is a plain
// comparison. A gate whose value does not exist because every item failed is
// an error rather than a failure: the endpoint is broken, the model was not
// measured (see [Error]).
//
// The life of a gate: [Parse] reads it (a typo is an [*ExprError] with the
// byte offset of the bad character), [Validate] checks it against the plan as
// built, before any request is sent ([Known]), and [Check] decides it at the
// end of the run through a [Lookup], which a report implements with [Resolve].
package gate

import (
	"fmt"
	"math"
)

// Status is a gate's outcome.
type Status string

const (
	Pass         Status = "pass"
	Fail         Status = "fail"
	Inconclusive Status = "inconclusive"
	// Error is a gate that could not be decided because every item it rests
	// on failed: no data, rather than bad data. Callers map it to "endpoint
	// broken" (exit 3) rather than "gate failed" (exit 1).
	Error Status = "error"
)

// rank orders statuses for Verdict: error > fail > inconclusive > pass.
func rank(s Status) int {
	switch s {
	case Error:
		return 3
	case Fail:
		return 2
	case Inconclusive:
		return 1
	}
	return 0
}

// Gate is one parsed expression. Metric is "" for a count field.
type Gate struct {
	Expr   string `json:"expr"`
	Task   string `json:"task"`
	Metric string `json:"metric"`
	// Slice names a plan slice of the task, and Group one of its groups:
	// TASK.METRIC.slice(SLICE=GROUP).FIELD reads a score field of the
	// group; TASK.METRIC.slice(SLICE).FIELD a disparity field.
	Slice     string  `json:"slice,omitempty"`
	Group     string  `json:"group,omitempty"`
	Field     string  `json:"field"`
	Op        string  `json:"op"`
	Threshold float64 `json:"threshold"`
}

// Path is the gate's left-hand side: TASK.METRIC.FIELD, or TASK.FIELD for a count.
func (g Gate) Path() string {
	switch {
	case g.Metric == "":
		return g.Task + "." + g.Field
	case g.Slice != "" && g.Group != "":
		return g.Task + "." + g.Metric + ".slice(" + g.Slice + "=" + g.Group + ")." + g.Field
	case g.Slice != "":
		return g.Task + "." + g.Metric + ".slice(" + g.Slice + ")." + g.Field
	}
	return g.Task + "." + g.Metric + "." + g.Field
}

// String writes the gate in its canonical form, which Parse reads back.
func (g Gate) String() string {
	return fmt.Sprintf("%s %s %v", g.Path(), g.Op, g.Threshold)
}

// Value is what a gate looks at: a number and, for point estimates, its interval.
type Value struct {
	X      float64
	Low    float64
	High   float64
	HasCI  bool
	Exists bool
	// Why says, when the value does not exist, what is missing: the task,
	// the metric, the field (a comparison field on a one-model run) or the
	// scored items. Check reports it as the reason.
	Why string
	// Failed marks a value that does not exist because every item it rests
	// on failed; Check then reports Error instead of Fail.
	Failed bool
}

// Lookup finds the value of a gate's left-hand side in a run: TASK.FIELD
// (Metric ""), TASK.METRIC.FIELD, or a slice's (Slice, Group).
type Lookup func(g Gate) Value

// Result is a checked gate.
type Result struct {
	Gate
	Status Status  `json:"status"`
	Value  float64 `json:"value"`
	Low    float64 `json:"ci_low,omitempty"`
	High   float64 `json:"ci_high,omitempty"`
	Reason string  `json:"reason"`
}

func cmp(x float64, op string, t float64) bool {
	switch op {
	case ">=":
		return x >= t
	case ">":
		return x > t
	case "<=":
		return x <= t
	case "<":
		return x < t
	case "==":
		return x == t
	default:
		return x != t
	}
}

// Check evaluates g against the run.
func Check(g Gate, look Lookup) Result {
	v := look(g)
	r := Result{Gate: g, Value: v.X}
	if !v.Exists {
		r.Value = 0
		r.Status, r.Reason = Fail, v.Why
		if v.Failed {
			r.Status = Error
			if r.Reason == "" {
				r.Reason = "no scored items: every item failed"
			}
		}
		if r.Reason == "" {
			r.Reason = fmt.Sprintf("no value for %s in this run", g.Path())
		}
		return r
	}
	if math.IsNaN(v.X) {
		r.Status = Fail
		r.Reason = "the value is undefined (no scored items)"
		return r
	}
	if !v.HasCI || g.Op == "==" || g.Op == "!=" {
		if cmp(v.X, g.Op, g.Threshold) {
			r.Status, r.Reason = Pass, fmt.Sprintf("%.4g %s %g", v.X, g.Op, g.Threshold)
		} else {
			r.Status, r.Reason = Fail, fmt.Sprintf("%.4g is not %s %g", v.X, g.Op, g.Threshold)
		}
		return r
	}
	r.Low, r.High = v.Low, v.High
	lowOK, highOK := cmp(v.Low, g.Op, g.Threshold), cmp(v.High, g.Op, g.Threshold)
	switch {
	case lowOK && highOK:
		r.Status = Pass
		r.Reason = fmt.Sprintf("%.4g, interval [%.4g, %.4g] is entirely %s %g", v.X, v.Low, v.High, g.Op, g.Threshold)
	case !lowOK && !highOK:
		r.Status = Fail
		r.Reason = fmt.Sprintf("%.4g, interval [%.4g, %.4g] is entirely outside %s %g", v.X, v.Low, v.High, g.Op, g.Threshold)
	default:
		r.Status = Inconclusive
		r.Reason = fmt.Sprintf("%.4g, interval [%.4g, %.4g] straddles %g: more items are needed to decide", v.X, v.Low, v.High, g.Threshold)
	}
	return r
}

// Verdict combines gate results into the worst status among them, with the
// precedence error > fail > inconclusive > pass; no gates pass.
func Verdict(rs []Result) Status {
	v := Pass
	for _, r := range rs {
		if rank(r.Status) > rank(v) {
			v = r.Status
		}
	}
	return v
}
