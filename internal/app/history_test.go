package app

import (
	"math"
	"testing"

	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/stats"
)

func reportWith(model string, scores map[string]float64, fp string) *report.Report {
	items := map[string]map[string]float64{}
	for id, v := range scores {
		items[id] = map[string]float64{"acc": v}
	}
	return &report.Report{Schema: report.Schema, Bootstrap: report.BootstrapInfo{Resamples: 200, Confidence: 0.95},
		Tasks: []report.Task{{Name: "t", Metrics: []string{"acc"}, Dataset: report.Dataset{Fingerprint: fp},
			ItemScores: map[string]map[string]map[string]float64{model: items}}}}
}

// Two runs are paired on the items both scored; the rest are counted.
func TestCompareSidesAcrossRuns(t *testing.T) {
	a := reportWith("m", map[string]float64{"1": 0, "2": 0, "3": 1, "4": 1}, "sha256:a")
	b := reportWith("m", map[string]float64{"1": 1, "2": 1, "3": 1, "5": 0}, "sha256:b")
	out, err := CompareSides(Side{Label: "m@r1", Report: a, Model: "m"}, Side{Label: "m@r2", Report: b, Model: "m"}, stats.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Tasks[0].Comparison
	p := c.Metrics["acc"]
	if c.Pairs != 3 || c.Excluded != 2 || p.N != 3 || math.Abs(p.Delta-2.0/3) > 1e-12 || p.Wins != 2 || p.Ties != 1 {
		t.Fatalf("%+v %+v", c, p)
	}
	if out.Tasks[0].Dataset.Selection == "" {
		t.Fatal("different dataset fingerprints must be flagged")
	}
	if _, err := CompareSides(Side{Label: "x", Report: a, Model: "nope"}, Side{Label: "y", Report: b, Model: "m"}, stats.Config{}); err == nil {
		t.Fatal("an unknown model must be an error")
	}
}
