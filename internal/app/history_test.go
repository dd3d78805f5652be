package app

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

func storedRun(t *testing.T, id string, model string, scores map[string]float64, fp string) Side {
	t.Helper()
	p := plan.Plan{Tasks: []plan.Task{{Name: "t", Type: "generate", Scorers: []plan.Scorer{{Name: "exact_match"}}}},
		Gates: []string{"t.exact_match.delta >= 0"}}
	pj, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	tk := report.Task{Name: "t", Type: "generate", Metrics: []string{"exact_match"}, Dataset: report.Dataset{Fingerprint: fp, Rows: len(scores)},
		PerModel: []report.ModelScore{{Model: model}}}
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		v, ok := scores[id]
		if !ok {
			continue
		}
		tk.Records = append(tk.Records, report.Record{ID: id, Outcomes: map[string]report.Outcome{model: {Status: report.StatusOK, Scores: map[string]float64{"exact_match": v}}}})
	}
	rep := &report.Report{Schema: report.Schema, Seed: 1, Bootstrap: report.BootstrapInfo{Resamples: 200, Confidence: 0.95}, Tasks: []report.Task{tk}}
	return Side{Label: model + "@" + id, Run: store.Run{ID: id, Plan: pj}, Report: rep, Model: model}
}

// Two runs are paired on the items both scored; runs on different data are
// refused with the differences unless allowed; the first run's gates decide.
func TestCompareAcrossRuns(t *testing.T) {
	a := storedRun(t, "r1", "m", map[string]float64{"1": 0, "2": 0, "3": 1, "4": 1}, "sha256:a")
	b := storedRun(t, "r2", "m", map[string]float64{"1": 1, "2": 1, "3": 1, "5": 0}, "sha256:b")
	_, err := Compare(CompareOptions{A: a, B: b})
	if err == nil || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "1 items only in r1 (4), 1 only in r2 (5)") {
		t.Fatalf("different data must be refused with the differences: %v", err)
	}
	out, err := Compare(CompareOptions{A: a, B: b, AllowDataChange: true})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Tasks[0].Comparison
	p := c.Metrics["exact_match"]
	if c.Pairs != 3 || p.N != 3 || math.Abs(p.Delta-2.0/3) > 1e-12 || p.Wins != 2 || p.Ties != 1 {
		t.Fatalf("%+v %+v", c, p)
	}
	if len(out.Gates) != 1 || out.Verdict == "" {
		t.Fatalf("the plan's gates were not checked: %+v", out.Gates)
	}
	// A worse candidate fails the gate: the verdict is not a constant.
	worse := storedRun(t, "r3", "m", map[string]float64{"1": 0, "2": 0, "3": 0, "4": 0}, "sha256:a")
	better := storedRun(t, "r4", "m", map[string]float64{"1": 1, "2": 1, "3": 1, "4": 1}, "sha256:a")
	out, err = Compare(CompareOptions{A: better, B: worse})
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != "fail" {
		t.Fatalf("every delta worse, verdict %q", out.Verdict)
	}
	if _, err := Compare(CompareOptions{A: better, B: worse, Gates: []string{"t.exact_macth.delta >= 0"}}); err == nil || exitcode.Of(err) != exitcode.BadInput {
		t.Fatalf("a gate typo must be refused: %v", err)
	}
	if _, err := Compare(CompareOptions{A: Side{Label: "x", Run: a.Run, Report: a.Report, Model: "nope"}, B: b, AllowDataChange: true}); err == nil {
		t.Fatal("an unknown model must be an error")
	}
}
