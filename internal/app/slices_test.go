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
	"github.com/tunecheck/tunecheck/internal/task"
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

func TestItemExamples(t *testing.T) {
	bt := &builtTask{}
	var base, cand []scored
	// exact (binary): items 0,1 regressed, 2 fixed, 3 tie; f1: losses on 0, 1, 3.
	vals := []struct{ be, ce, bf, cf float64 }{{1, 0, 0.9, 0.1}, {1, 0, 0.5, 0.4}, {0, 1, 0.2, 0.8}, {1, 1, 0.7, 0.6}}
	for i, v := range vals {
		bt.Items = append(bt.Items, task.Item{ID: string(rune('a' + i)), Prompt: "p"})
		base = append(base, scored{Outcome: report.Outcome{Status: report.StatusOK, Scores: map[string]float64{"exact": v.be, "f1": v.bf, "len": 1}}, Output: "b"})
		cand = append(cand, scored{Outcome: report.Outcome{Status: report.StatusOK, Scores: map[string]float64{"exact": v.ce, "f1": v.cf, "len": 9}}, Output: "c"})
	}
	// A failed item is never an example.
	bt.Items = append(bt.Items, task.Item{ID: "e"})
	base = append(base, scored{Outcome: report.Outcome{Status: report.StatusOK, Scores: map[string]float64{"exact": 1, "f1": 1}}})
	cand = append(cand, scored{Outcome: report.Outcome{Status: report.StatusFailed, Scores: map[string]float64{"exact": 0, "f1": 0}}})
	defs := []metricDef{
		{Metric: scorer.Metric{Name: "exact", Direction: scorer.Higher, Binary: true}},
		{Metric: scorer.Metric{Name: "f1", Direction: scorer.Higher}},
		{Metric: scorer.Metric{Name: "len", Direction: scorer.Neutral}},
	}
	worst, flipped := itemExamples(bt, defs, base, cand, 2)
	var got []string
	for _, e := range worst {
		got = append(got, e.Kind+":"+e.Metric+":"+e.ID)
	}
	for _, e := range flipped {
		got = append(got, e.Kind+":"+e.Metric+":"+e.ID)
	}
	want := "worst:exact:a worst:exact:b worst:f1:a worst:f1:b regressed:exact:a regressed:exact:b fixed:exact:c"
	if strings.Join(got, " ") != want {
		t.Errorf("examples\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
