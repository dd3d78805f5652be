package app

import (
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/stats"
)

func TestGateWarningsOnThresholdsBelowMDE(t *testing.T) {
	r := &report.Report{Tasks: []report.Task{{Name: "qa", Comparison: &report.Comparison{Metrics: map[string]stats.Paired{
		"token_f1": {N: 80, MDE: 0.071},
		"exact":    {N: 80, MDE: 0},
	}}}}}
	for _, expr := range []string{
		"qa.token_f1.delta >= -0.02",         // finer than ±0.071: warned
		"qa.token_f1.delta.ci_low >= -0.1",   // coarser: fine
		"qa.token_f1.value >= 0.5",           // not a delta
		"qa.exact.delta >= 0",                // no MDE known
		"qa.token_f1.slice(c).min_delta > 0", // slices are not judged here
	} {
		g, err := gate.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		r.Gates = append(r.Gates, gate.Result{Gate: g})
	}
	w := gateWarnings(r)
	if len(w) != 1 || !strings.Contains(w[0], "qa.token_f1.delta >= -0.02") || !strings.Contains(w[0], "±0.071") || !strings.Contains(w[0], "80 pairs") {
		t.Fatalf("warnings: %q", w)
	}
}
