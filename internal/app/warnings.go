package app

import (
	"fmt"
	"math"
	"strings"

	"github.com/tunecheck/tunecheck/internal/report"
)

// gateWarnings says which gates on a delta test a threshold finer than the
// eval set can resolve: the minimum detectable effect (80% power, α = 0.05)
// of the metric's paired comparison is larger than the distance between the
// threshold and zero. Such a gate is not wrong, but a real change smaller
// than the MDE will usually leave its interval straddling the threshold
// (inconclusive), and a reader should know before trusting a pass.
func gateWarnings(r *report.Report) []string {
	var out []string
	for _, g := range r.Gates {
		if g.Metric == "" || g.Slice != "" || !strings.HasPrefix(g.Field, "delta") {
			continue
		}
		var c *report.Comparison
		for _, list := range [][]report.Task{r.Tasks, r.Groups} {
			for i := range list {
				if list[i].Name == g.Task && c == nil {
					c = list[i].Comparison
				}
			}
		}
		if c == nil {
			continue
		}
		p, ok := c.Metrics[g.Metric]
		if !ok || p.MDE <= 0 || math.Abs(g.Threshold) >= p.MDE {
			continue
		}
		out = append(out, fmt.Sprintf("gate %s: with %d pairs this eval set detects a change in %s of ±%.4g (80%% power, α = 0.05); the threshold %g lies within that, so a true delta nearer to it than ±%.4g will usually leave the gate inconclusive — add items to resolve finer changes",
			g.Expr, p.N, g.Metric, p.MDE, g.Threshold, p.MDE))
	}
	return out
}
