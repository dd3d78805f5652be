package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// A slice template that fails on one row stops the run before anything is
// sent or stored, naming the plan key and the row.
func TestSliceTemplateFailsBeforeRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("qa.jsonl", "{\"id\": \"a\", \"q\": \"x\", \"lang\": \"de\"}\n{\"id\": \"b\", \"q\": \"y\"}\n")
	write("out.jsonl", "{\"id\": \"a\", \"output\": \"x\"}\n{\"id\": \"b\", \"output\": \"y\"}\n")
	write("plan.yaml", `models:
  - {name: m, provider: file, path: out.jsonl}
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "{{ q }}"}
    reference: q
    scorers: [{name: exact_match}]
    slices:
      - name: language
        template: "{{ lang | upper }}"
`)
	db := filepath.Join(dir, "tc.db")
	_, err := Run(context.Background(), Options{PlanPath: filepath.Join(dir, "plan.yaml"), StoreDSN: db, OutputDir: filepath.Join(dir, "out")})
	if err == nil || !strings.Contains(err.Error(), "tasks[0].slices[0]") || !strings.Contains(err.Error(), "qa.jsonl line 2 (item b)") {
		t.Fatalf("want an error naming the slice and row 2, got %v", err)
	}
	if _, statErr := os.Stat(db); statErr == nil {
		t.Errorf("the store was created: the plan should fail before the run starts")
	}
}

func TestDisparity(t *testing.T) {
	sum := func(n int, mean float64) stats.Summary { return stats.Summary{N: n, Mean: mean} }
	group := func(v string, acc, lat float64, dAcc float64) report.SliceGroup {
		return report.SliceGroup{Value: v, PerModel: []report.ModelScore{
			{Model: "base", Metrics: map[string]stats.Summary{"acc": sum(10, acc-dAcc), "latency": sum(10, lat)}},
			{Model: "tuned", Metrics: map[string]stats.Summary{"acc": sum(10, acc), "latency": sum(10, lat), "len": sum(10, 5)}},
		}, Comparison: &report.Comparison{Metrics: map[string]stats.Paired{"acc": {N: 10, Delta: dAcc}}}}
	}
	groups := []report.SliceGroup{group("de", 0.6, 200, -0.1), group("en", 0.8, 100, 0.05), group("fr", 0.7, 400, 0.02),
		{Value: "empty", PerModel: []report.ModelScore{{Model: "tuned", Metrics: map[string]stats.Summary{}}}}}
	defs := []metricDef{
		{Metric: scorer.Metric{Name: "acc", Direction: scorer.Higher}},
		{Metric: scorer.Metric{Name: "latency", Direction: scorer.Lower}},
		{Metric: scorer.Metric{Name: "len", Direction: scorer.Neutral}},
	}
	d := disparity(defs, groups, "tuned")
	acc := d["acc"]
	if acc.Worst != "de" || acc.Best != "en" || !near(acc.Gap, 0.2) || !near(acc.Ratio, 0.75) || acc.MinDeltaGroup != "de" || !near(acc.DeltaGap, 0.15) || acc.MinValue.N != 10 {
		t.Errorf("acc disparity %+v", acc)
	}
	// Lower is better: the slowest group is the worst; the ratio is best/worst.
	lat := d["latency"]
	if lat.Worst != "fr" || lat.Best != "en" || !near(lat.Gap, 300) || !near(lat.Ratio, 0.25) || lat.MinDelta != nil {
		t.Errorf("latency disparity %+v", lat)
	}
	if _, ok := d["len"]; ok {
		t.Errorf("a neutral metric has no worst group")
	}
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }
