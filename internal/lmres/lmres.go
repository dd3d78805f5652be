// Package lmres computes the numbers lm-evaluation-harness reports beside
// its scores, so that a tunecheck benchmark score reads like the one
// lm-eval would print for the same items, and writes lm-eval's results
// and per-sample files.
//
// The formulas are lm-eval's (lm_eval/api/metrics.py): a mean metric's
// standard error is the sample standard deviation (n−1) over √n
// (mean_stderr); a group's score is its subtasks' scores weighted by their
// sizes (aggregate_subtask_metrics, weight_by_size true by default) and its
// standard error the pooled-variance one (pooled_sample_stderr). They are
// a few lines each, written here from the formulas rather than depending on
// a Python runtime; the table tests hold hand-computed values.
package lmres

import (
	"errors"
	"math"
)

// MeanStderr is lm-eval's standard error of a mean metric: the sample
// standard deviation (n−1 in the denominator) over √n. One value has
// standard error 0 (lm-eval's sample_stddev returns 0 for it); no values
// have none (ok false).
func MeanStderr(xs []float64) (se float64, ok bool) {
	n := len(xs)
	switch n {
	case 0:
		return 0, false
	case 1:
		return 0, true
	}
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(n)
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n)), true
}

// StderrFromStd is MeanStderr from a sample standard deviation (n−1)
// already computed over n values, as stats.Summary carries it.
func StderrFromStd(std float64, n int) (float64, bool) {
	if n <= 0 {
		return 0, false
	}
	return std / math.Sqrt(float64(n)), true
}

// Subtask is one member of a group: its score, its standard error and the
// number of items its score rests on.
type Subtask struct {
	Score  float64
	Stderr float64
	Size   int
}

// ErrNoSubtasks is returned for a group with no scored subtask.
var ErrNoSubtasks = errors.New("group has no scored subtasks")

// GroupScore is lm-eval's aggregate_subtask_metrics: the subtasks' scores
// weighted by their sizes, or their plain mean when weightBySize is false.
func GroupScore(subs []Subtask, weightBySize bool) (float64, error) {
	var num, den float64
	for _, s := range subs {
		w := 1.0
		if weightBySize {
			w = float64(s.Size)
		}
		num += s.Score * w
		den += w
	}
	if den == 0 {
		return 0, ErrNoSubtasks
	}
	return num / den, nil
}

// PooledStderr is lm-eval's pooled_sample_stderr: the subtasks' sample
// variances (recovered from their standard errors as se²·n) pooled with
// weights n−1 over Σn − k, then over √Σn. It is what lm-eval prints as a
// group's standard error whichever way the group's score is weighted.
func PooledStderr(subs []Subtask) (float64, error) {
	var num float64
	total := 0
	for _, s := range subs {
		num += float64(s.Size-1) * s.Stderr * s.Stderr * float64(s.Size)
		total += s.Size
	}
	if len(subs) == 0 || total == 0 {
		return 0, ErrNoSubtasks
	}
	den := total - len(subs)
	if den <= 0 {
		// Every subtask has one item: no variance to pool (lm-eval divides by zero).
		return 0, errors.New("every subtask has a single item: no pooled variance")
	}
	return math.Sqrt(num / float64(den) / float64(total)), nil
}
