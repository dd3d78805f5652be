// Package gate parses and checks gates: threshold expressions over a run's
// aggregates and paired deltas, in the spirit of k6 thresholds.
//
//	TASK.METRIC.FIELD OP NUMBER
//
// FIELD is one of baseline, candidate, delta (point estimates that carry a
// confidence interval), their interval ends (delta.ci_low, delta.ci_high,
// candidate.ci_low, …), or p_value / p_adjusted. OP is one of >= > <= < == !=.
//
// A gate on a point estimate is decided by its interval: it passes when the
// whole interval satisfies the threshold, fails when none of it does, and is
// inconclusive when the interval straddles the threshold. A gate on an
// interval end or a p-value is a plain comparison.
package gate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Status is a gate's outcome.
type Status string

const (
	Pass         Status = "pass"
	Fail         Status = "fail"
	Inconclusive Status = "inconclusive"
)

// Gate is one parsed expression.
type Gate struct {
	Expr      string  `json:"expr"`
	Task      string  `json:"task"`
	Metric    string  `json:"metric"`
	Field     string  `json:"field"`
	Op        string  `json:"op"`
	Threshold float64 `json:"threshold"`
}

var fields = []string{
	"delta.ci_low", "delta.ci_high", "candidate.ci_low", "candidate.ci_high",
	"baseline.ci_low", "baseline.ci_high", "delta", "candidate", "baseline",
	"p_value", "p_adjusted",
}

var ops = []string{">=", "<=", "==", "!=", ">", "<"}

// Parse reads one gate expression.
func Parse(expr string) (Gate, error) {
	g := Gate{Expr: strings.TrimSpace(expr)}
	var lhs, rhs string
	for _, op := range ops {
		if i := strings.Index(g.Expr, op); i >= 0 {
			g.Op, lhs, rhs = op, strings.TrimSpace(g.Expr[:i]), strings.TrimSpace(g.Expr[i+len(op):])
			break
		}
	}
	if g.Op == "" {
		return g, fmt.Errorf("gate %q has no comparison: write it as TASK.METRIC.delta >= 0 (operators: >= > <= < == !=)", expr)
	}
	v, err := strconv.ParseFloat(rhs, 64)
	if err != nil || math.IsNaN(v) {
		return g, fmt.Errorf("gate %q: %q is not a number; the right-hand side must be a number such as 0 or -0.02", expr, rhs)
	}
	g.Threshold = v
	for _, f := range fields {
		if strings.HasSuffix(lhs, "."+f) {
			g.Field = f
			lhs = strings.TrimSuffix(lhs, "."+f)
			break
		}
	}
	if g.Field == "" {
		return g, fmt.Errorf("gate %q: %q does not end in a known field; use one of %s", expr, lhs, strings.Join(fields, ", "))
	}
	task, metric, ok := strings.Cut(lhs, ".")
	if !ok || task == "" || metric == "" {
		return g, fmt.Errorf("gate %q: expected TASK.METRIC.%s before the operator, got %q", expr, g.Field, lhs)
	}
	g.Task, g.Metric = task, metric
	return g, nil
}

// Value is what a gate looks at: a number and, for point estimates, its interval.
type Value struct {
	X      float64
	Low    float64
	High   float64
	HasCI  bool
	Exists bool
}

// Lookup finds the value of TASK.METRIC.FIELD in a run.
type Lookup func(task, metric, field string) Value

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
	v := look(g.Task, g.Metric, g.Field)
	r := Result{Gate: g, Value: v.X}
	if !v.Exists {
		r.Status = Fail
		r.Reason = fmt.Sprintf("no value for %s.%s.%s in this run (unknown task or metric, or no comparison configured)", g.Task, g.Metric, g.Field)
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

// Verdict combines gate results: fail if any failed, else inconclusive if any
// was, else pass (also with no gates).
func Verdict(rs []Result) Status {
	v := Pass
	for _, r := range rs {
		switch r.Status {
		case Fail:
			return Fail
		case Inconclusive:
			v = Inconclusive
		}
	}
	return v
}
