package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/leakage"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
)

var accDef = metricDef{Metric: scorer.Metric{Name: "acc", Direction: scorer.Higher, Test: stats.DeclMcNemar, Binary: true}}

// benchReport is a compared run of two MMLU-like subjects (grouped as
// mmlu) of n items each: base answers every item right, tuned the items
// for which right(i) holds.
func benchReport(n int, right func(task string, i int) bool) (*report.Report, map[string][]metricDef) {
	agg := aggregator{seed: 1, cfg: stats.Config{Resamples: 200, Confidence: 0.95}}
	defs := []metricDef{accDef}
	rep := &report.Report{Compare: &report.CompareInfo{Baseline: "base", Candidate: "tuned"}}
	defsOf := map[string][]metricDef{}
	for _, name := range []string{"mmlu_anatomy", "mmlu_law"} {
		t := report.Task{Name: name, Group: "mmlu", Metrics: []string{"acc"}, MetricInfo: metricInfo(defs), Primary: "acc",
			Benchmark: &report.BenchmarkInfo{Name: name, Version: "1", Source: "cais/mmlu", Metrics: []string{"acc"}}}
		for i := range n {
			tv := 0.0
			if right(name, i) {
				tv = 1
			}
			t.Records = append(t.Records, report.Record{ID: fmt.Sprint(i), Outcomes: map[string]report.Outcome{
				"base":  {Status: report.StatusOK, Scores: map[string]float64{"acc": 1}},
				"tuned": {Status: report.StatusOK, Scores: map[string]float64{"acc": tv}},
			}})
		}
		for _, m := range []string{"base", "tuned"} {
			t.PerModel = append(t.PerModel, agg.modelScore(name, m, defs, t.Records))
		}
		t.Comparison = agg.compare(name, "base", "tuned", defs, column(t.Records, "base"), column(t.Records, "tuned"))
		rep.Tasks = append(rep.Tasks, t)
		defsOf[name] = defs
	}
	rep.Groups = agg.groups(rep.Tasks, groupSpecs(rep.Tasks), defsOf, []string{"base", "tuned"}, "base", "tuned")
	return rep, defsOf
}

func writeLeakage(t *testing.T, ids ...string) string {
	t.Helper()
	bc := leakage.BenchmarkContamination{Benchmark: "mmlu", Items: 40, Checked: 40, Contaminated: len(ids)}
	for _, id := range ids {
		bc.ItemsHit = append(bc.ItemsHit, leakage.ContaminatedItem{ID: id, Class: "dirty"})
	}
	b, err := json.Marshal(map[string]any{"benchmarks": []leakage.BenchmarkContamination{bc}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "leakage.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The tuned model got wrong exactly the items the leakage check flagged
// (items 0–4 of anatomy, 0–2 of law): on the clean items it loses nothing.
func TestCleanSubset(t *testing.T) {
	flagged := map[string]int{"mmlu_anatomy": 5, "mmlu_law": 3}
	rep, _ := benchReport(20, func(task string, i int) bool { return i >= flagged[task] })
	path := writeLeakage(t, "mmlu/anatomy/0", "mmlu/anatomy/1", "mmlu/anatomy/2", "mmlu/anatomy/3", "mmlu/anatomy/4",
		"mmlu_law/0", "1", "mmlu/law/2", "mmlu/astronomy/7")
	// "1" matches item 1 of both subjects: anatomy's 1 is flagged anyway.
	ids, err := readContaminated(path)
	if err != nil {
		t.Fatal(err)
	}
	defsOf := map[string][]metricDef{"mmlu_anatomy": {accDef}, "mmlu_law": {accDef}}
	clean, err := cleanScores(aggregator{seed: 1, cfg: stats.Config{Resamples: 200, Confidence: 0.95}}, rep, defsOf, path, ids)
	if err != nil {
		t.Fatal(err)
	}
	g := clean["mmlu"]
	if g == nil || g.Items != 32 || g.Contaminated != 8 {
		t.Fatalf("mmlu clean: %+v; want 32 clean items, 8 contaminated", g)
	}
	if g.Delta == nil || g.Delta.Delta != 0 || g.Delta.N != 32 {
		t.Errorf("mmlu clean delta %+v; want 0 over 32 pairs", g.Delta)
	}
	if full := rep.Groups[0].Comparison.Metrics["acc"]; math.Abs(full.Delta-(-8.0/40)) > 1e-12 {
		t.Errorf("full delta %v, want −8/40", full.Delta)
	}
	// The clean base score is 1 with standard error 0 on every subject.
	for _, s := range g.Scores {
		if s.N != 32 || s.Score != 1 || s.Stderr != 0 {
			t.Errorf("clean %s: %+v; want n 32, score 1, stderr 0", s.Model, s)
		}
	}
	sec, ok, err := report.ForgettingSection(rep, clean)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	for _, want := range []string{"mmlu acc −20.0 points", `on the 32 clean items (8 contaminated left out) 0.0 \[0.0, 0.0\]`, "clean (8 contaminated items left out)"} {
		if !strings.Contains(sec.Markdown, want) {
			t.Errorf("section lacks %q:\n%s", want, sec.Markdown)
		}
	}
}

func TestCleanSubsetErrors(t *testing.T) {
	rep, defsOf := benchReport(4, func(string, int) bool { return true })
	agg := aggregator{seed: 1, cfg: stats.Config{Resamples: 100}}
	path := writeLeakage(t, "gsm8k/test/9", "hellaswag/3")
	ids, err := readContaminated(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cleanScores(agg, rep, defsOf, path, ids); err == nil || !strings.Contains(err.Error(), "none of its 2 contaminated ids matches") {
		t.Errorf("ids of another benchmark: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(bad, []byte(`{"pairs": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readContaminated(bad); err == nil || !strings.Contains(err.Error(), `no "benchmarks" field`) {
		t.Errorf("a leakage report without --bench: %v", err)
	}
	if _, _, err := forgettingSection(&report.Report{}, nil, 1, stats.Config{}, path, ""); err == nil || !strings.Contains(err.Error(), "no benchmark tasks") {
		t.Errorf("--contaminated on a run without benchmarks: %v", err)
	}
	if _, ok, err := forgettingSection(&report.Report{}, nil, 1, stats.Config{}, "", ""); ok || err != nil {
		t.Errorf("a run without benchmarks: ok %v, %v; want no section", ok, err)
	}
}

// compare keeps the tasks' benchmarks, so its report has Forgetting too,
// with the numbers recomputed from the stored records.
func TestCompareForgetting(t *testing.T) {
	srv := echoServer(t, map[string]map[string]bool{
		"base":  {"Rome": true, "four": true},
		"tuned": {"Paris": true, "four": true, "blue": true, "cold": true},
	}, false)
	defer srv.Close()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "tc.db")
	res, err := Run(ctx, Options{PlanPath: mcPlan(t, srv.URL), StoreDSN: dsn, OutputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenExisting(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, stored, err := LoadReport(ctx, st, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	// As the benchmark registry marks its tasks.
	stored.Tasks[0].Benchmark = &report.BenchmarkInfo{Name: "facts", Version: "1", Source: "test", Metrics: []string{"acc"}}
	cmp, err := Compare(CompareOptions{A: Side{Label: "base", Run: run, Report: stored, Model: "base"}, B: Side{Label: "tuned", Run: run, Report: stored, Model: "tuned"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Sections) == 0 || cmp.Sections[0].Kind != report.KindForgetting {
		t.Fatalf("compare sections %+v; want Forgetting first", cmp.Sections)
	}
	var f report.Forgetting
	if err := json.Unmarshal(cmp.Sections[0].Data, &f); err != nil {
		t.Fatal(err)
	}
	// base 1 of 4 right, tuned 4 of 4: +75 points.
	if len(f.Benchmarks) != 1 || f.Benchmarks[0].Name != "facts" || f.Benchmarks[0].Delta == nil || math.Abs(f.Benchmarks[0].Delta.Delta-0.75) > 1e-12 {
		t.Errorf("compare Forgetting %+v", f.Benchmarks)
	}
}

// report --contaminated: a stored run's Forgetting gets the clean numbers.
func TestCleanForgettingStoredRun(t *testing.T) {
	srv := echoServer(t, map[string]map[string]bool{
		"base":  {"Rome": true, "four": true},
		"tuned": {"Paris": true, "four": true, "blue": true, "cold": true},
	}, false)
	defer srv.Close()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "tc.db")
	res, err := Run(ctx, Options{PlanPath: mcPlan(t, srv.URL), StoreDSN: dsn, OutputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenExisting(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, stored, err := LoadReport(ctx, st, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	stored.Tasks[0].Benchmark = &report.BenchmarkInfo{Name: "facts", Version: "1", Source: "test", Metrics: []string{"acc"}}
	// Items 1 and 3 (base wrong, tuned right) are flagged: on items 2 and 4
	// base is right on 2 only, tuned on both: +50 points.
	if err := CleanForgetting(run, stored, writeLeakage(t, "facts/1", "facts/3")); err != nil {
		t.Fatal(err)
	}
	if len(stored.Sections) == 0 || stored.Sections[0].Kind != report.KindForgetting {
		t.Fatalf("sections %+v", stored.Sections)
	}
	var f report.Forgetting
	if err := json.Unmarshal(stored.Sections[0].Data, &f); err != nil {
		t.Fatal(err)
	}
	c := f.Benchmarks[0].Clean
	if c == nil || c.Items != 2 || c.Contaminated != 2 || c.Delta == nil || math.Abs(c.Delta.Delta-0.5) > 1e-12 {
		t.Errorf("clean %+v", c)
	}
}
