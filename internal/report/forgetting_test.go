package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/lmres"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// answers is a model's item outcomes on a subject: right items out of n,
// the first `right` correct.
func answers(n, right int) []float64 {
	xs := make([]float64, n)
	for i := range right {
		xs[i] = 1
	}
	return xs
}

// mmluFixture is a compared run of an MMLU-like group of three subjects
// and a standalone benchmark: the numbers are computed from the item
// outcomes with the stats package, as a run computes them.
func mmluFixture() *Report {
	cfg := stats.Config{Resamples: 1000, Confidence: 0.95, Seed: 7}
	bin := map[string]Metric{"acc": {Direction: "higher", Test: "mcnemar-exact", Binary: true}}
	type subject struct {
		name       string
		base, cand []float64
	}
	// anatomy loses 6 of 15, astronomy gains 1, law loses 4 of 14: the
	// tuned model got worse on two subjects and on the pooled group.
	subjects := []subject{
		{"mmlu_anatomy", answers(40, 30), answers(40, 24)},
		{"mmlu_astronomy", answers(16, 10), answers(16, 11)},
		{"mmlu_law", answers(24, 14), answers(24, 10)},
	}
	task := func(name string, base, cand []float64, bi *BenchmarkInfo) Task {
		return Task{Name: name, Type: "multiple_choice", Protocol: "loglikelihood", Items: len(base), Metrics: []string{"acc"}, MetricInfo: bin, Primary: "acc",
			Dataset: Dataset{Path: "builtin:" + name, Fingerprint: "sha256:00", Rows: len(base), Total: len(base)},
			PerModel: []ModelScore{
				{Model: "base", Items: len(base), Scored: len(base), Metrics: map[string]stats.Summary{"acc": stats.DescribeFast(base, cfg)}},
				{Model: "tuned", Items: len(cand), Scored: len(cand), Metrics: map[string]stats.Summary{"acc": stats.DescribeFast(cand, cfg)}},
			},
			Comparison: &Comparison{Baseline: "base", Candidate: "tuned", Pairs: len(base), Metrics: map[string]stats.Paired{"acc": stats.ComparePairedTest(base, cand, stats.DeclMcNemar, cfg)}},
			Benchmark:  bi,
		}
	}
	r := &Report{Schema: Schema, ToolVersion: "test", Plan: PlanInfo{Name: "forgetting", Hash: "0123456789abcdef0123456789abcdef"},
		Seed: 7, Bootstrap: BootstrapInfo{Resamples: 1000, Confidence: 0.95}, Compare: &CompareInfo{Baseline: "base", Candidate: "tuned"},
		Models: []Model{{Name: "base", Provider: "file"}, {Name: "tuned", Provider: "file"}}}
	var allBase, allCand []float64
	var names []string
	for _, s := range subjects {
		r.Tasks = append(r.Tasks, task(s.name, s.base, s.cand, &BenchmarkInfo{Name: s.name, Version: "1.0", Source: "cais/mmlu", Metrics: []string{"acc"}}))
		allBase, allCand = append(allBase, s.base...), append(allCand, s.cand...)
		names = append(names, s.name)
	}
	g := task("mmlu", allBase, allCand, nil)
	g.Type, g.Tasks, g.Dataset = "multiple_choice", names, Dataset{}
	r.Groups = []Task{g}
	// gsm8k: a benchmark on its own, no change.
	r.Tasks = append(r.Tasks, task("gsm8k", answers(30, 12), answers(30, 12), &BenchmarkInfo{Name: "gsm8k", Version: "3.0", Source: "openai/gsm8k", NShot: 5, Metrics: []string{"acc"}}))
	for i := range r.Tasks[:3] {
		r.Tasks[i].Group = "mmlu"
	}
	for _, e := range []string{"mmlu.acc.delta.ci_low > -0.02", "mmlu.acc.delta > -0.2"} {
		gt, err := gate.Parse(e)
		if err != nil {
			panic(err)
		}
		r.Gates = append(r.Gates, gate.Check(gt, r.Lookup))
	}
	r.Verdict = gate.Verdict(r.Gates)
	return r
}

func TestForgettingNumbers(t *testing.T) {
	r := mmluFixture()
	f, ok := BuildForgetting(r, nil)
	if !ok || len(f.Benchmarks) != 2 {
		t.Fatalf("BuildForgetting: ok %v, %d benchmarks; want the mmlu group and gsm8k", ok, len(f.Benchmarks))
	}
	mmlu, gsm := f.Benchmarks[0], f.Benchmarks[1]
	if mmlu.Name != "mmlu" || mmlu.Task != "mmlu" || gsm.Name != "gsm8k" || len(gsm.Subjects) != 0 {
		t.Fatalf("benchmarks %q (%q), %q with %d subjects", mmlu.Name, mmlu.Task, gsm.Name, len(gsm.Subjects))
	}
	// Subjects worst first: anatomy −6/40 = −.15, law −4/24 = −.1667, astronomy +1/16.
	var order []string
	for _, s := range mmlu.Subjects {
		order = append(order, s.Task)
	}
	if strings.Join(order, ",") != "mmlu_law,mmlu_anatomy,mmlu_astronomy" {
		t.Errorf("subjects in order %v, want law, anatomy, astronomy (by delta)", order)
	}
	if mmlu.SubjectsWorse != 2 {
		t.Errorf("%d subjects worse, want 2", mmlu.SubjectsWorse)
	}
	// anatomy base: 30 of 40 right, sd = √(.25·.75·40/39), se = sd/√40.
	wantSE := math.Sqrt(0.75*0.25*40/39) / math.Sqrt(40)
	for _, s := range mmlu.Subjects {
		if s.Task == "mmlu_anatomy" && math.Abs(s.Scores[0].Stderr-wantSE) > 1e-12 {
			t.Errorf("anatomy base stderr %v, want %v", s.Scores[0].Stderr, wantSE)
		}
	}
	// The group: 54 of 80 right for base; its stderr pooled from the subjects'.
	if b := mmlu.Scores[0]; b.N != 80 || math.Abs(b.Score-54.0/80) > 1e-12 {
		t.Errorf("mmlu base %+v, want n 80, score .675", b)
	}
	pooled, _ := lmres.PooledStderr([]lmres.Subtask{
		{Score: 0.75, Stderr: wantSE, Size: 40},
		{Score: 10.0 / 16, Stderr: math.Sqrt(10.0/16*6/16*16/15) / 4, Size: 16},
		{Score: 14.0 / 24, Stderr: math.Sqrt(14.0/24*10/24*24/23) / math.Sqrt(24), Size: 24},
	})
	if math.Abs(mmlu.Scores[0].Stderr-pooled) > 1e-12 {
		t.Errorf("mmlu base stderr %v, want pooled %v", mmlu.Scores[0].Stderr, pooled)
	}
	// The delta is the group's comparison as the run computed it.
	if *mmlu.Delta != r.Groups[0].Comparison.Metrics["acc"] {
		t.Error("mmlu delta is not the group's comparison")
	}
	if math.Abs(mmlu.Delta.Delta-(-9.0/80)) > 1e-12 || mmlu.Delta.Test != "mcnemar-exact" {
		t.Errorf("mmlu delta %v (%s), want −9/80 by mcnemar-exact", mmlu.Delta.Delta, mmlu.Delta.Test)
	}
	if !mmlu.Worse || gsm.Worse {
		t.Errorf("worse flags: mmlu %v (want true), gsm8k %v (want false)", mmlu.Worse, gsm.Worse)
	}
	line := mmlu.Line()
	for _, want := range []string{"mmlu acc −11.2 points [", "2 of 3 subjects worse", "mcnemar-exact p = ", "▼"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
}

// The group's delta is gateable like any group metric.
func TestForgettingGate(t *testing.T) {
	r := mmluFixture()
	if got := r.Gates[0].Status; got != gate.Fail {
		t.Errorf("mmlu.acc.delta.ci_low > -0.02: %s (%s), want fail", got, r.Gates[0].Reason)
	}
	if got := r.Gates[1].Status; got != gate.Pass {
		t.Errorf("mmlu.acc.delta > -0.2: %s (%s), want pass", got, r.Gates[1].Reason)
	}
}

func TestForgettingAbsentWithoutBenchmarks(t *testing.T) {
	if _, ok, _ := ForgettingSection(fixture(), nil); ok {
		t.Error("a run without benchmark tasks has a Forgetting section")
	}
	r := mmluFixture()
	r.Compare = nil
	for i := range r.Tasks {
		r.Tasks[i].Comparison = nil
	}
	r.Groups[0].Comparison = nil
	sec, ok, err := ForgettingSection(r, nil)
	if err != nil || !ok {
		t.Fatalf("one-model run: ok %v, %v", ok, err)
	}
	if strings.Contains(sec.Markdown, "delta") && strings.Contains(sec.Markdown, "| delta") {
		t.Error("one-model Forgetting section has a delta column")
	}
}

func TestForgettingGolden(t *testing.T) {
	r := mmluFixture()
	sec, ok, err := ForgettingSection(r, nil)
	if err != nil || !ok {
		t.Fatalf("ForgettingSection: ok %v, %v", ok, err)
	}
	r.Sections = []Section{sec}
	for name, render := range Renderers {
		if name == "junit" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := render(&buf, r); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "forgetting."+name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from %s; run go test ./internal/report -update and review the diff", name, golden)
			}
			if !strings.Contains(buf.String(), "2 of 3 subjects worse") {
				t.Errorf("%s has no Forgetting line", name)
			}
		})
	}
	// results.json carries the section's data.
	var f Forgetting
	if err := json.Unmarshal(sec.Data, &f); err != nil || len(f.Benchmarks) != 2 {
		t.Errorf("section data: %v, %d benchmarks", err, len(f.Benchmarks))
	}
}

// A group whose subjects have one item each has no pooled standard error:
// it is marked, shown as —, and the section still encodes (no NaN in JSON).
func TestForgettingSingleItemSubjects(t *testing.T) {
	r := mmluFixture()
	for i := range r.Tasks[:3] {
		for k := range r.Tasks[i].PerModel {
			s := r.Tasks[i].PerModel[k].Metrics["acc"]
			s.N, s.Std = 1, 0
			r.Tasks[i].PerModel[k].Metrics["acc"] = s
		}
	}
	sec, ok, err := ForgettingSection(r, nil)
	if err != nil || !ok {
		t.Fatalf("ok %v, %v", ok, err)
	}
	if !strings.Contains(sec.Markdown, "± — (80)") {
		t.Errorf("group row without a standard error not shown as —:\n%s", sec.Markdown)
	}
	res, _ := LMEval(r, "base", 0)
	if res.Results["mmlu"]["acc_stderr,none"] != "N/A" {
		t.Errorf("lm-eval group stderr %v, want N/A", res.Results["mmlu"]["acc_stderr,none"])
	}
	if _, err := res.JSON(); err != nil {
		t.Error(err)
	}
}

// An MMLU-sized run: 57 subjects with their task tables and a long side
// section. report.md stays within GitHub's limit and keeps Forgetting
// whole (its subjects table included) whatever else it leaves out.
func TestForgettingWithinGitHubLimit(t *testing.T) {
	cfg := stats.Config{Resamples: 200, Confidence: 0.95, Seed: 3}
	bin := map[string]Metric{"acc": {Direction: "higher", Test: "mcnemar-exact", Binary: true}}
	r := &Report{Schema: Schema, ToolVersion: "test", Bootstrap: BootstrapInfo{Resamples: 200, Confidence: 0.95}, Compare: &CompareInfo{Baseline: "base", Candidate: "tuned"}}
	var allB, allC []float64
	g := Task{Name: "mmlu", Type: "group", Metrics: []string{"acc"}, MetricInfo: bin, Primary: "acc"}
	for i := range 57 {
		name := fmt.Sprintf("mmlu_subject_with_a_long_name_%02d", i)
		b, c := answers(20, 12), answers(20, 12-i%3)
		allB, allC = append(allB, b...), append(allC, c...)
		r.Tasks = append(r.Tasks, Task{Name: name, Type: "multiple_choice", Group: "mmlu", Items: 20, Metrics: []string{"acc"}, MetricInfo: bin, Primary: "acc",
			PerModel: []ModelScore{
				{Model: "base", Items: 20, Scored: 20, Metrics: map[string]stats.Summary{"acc": stats.DescribeFast(b, cfg)}},
				{Model: "tuned", Items: 20, Scored: 20, Metrics: map[string]stats.Summary{"acc": stats.DescribeFast(c, cfg)}}},
			Comparison: &Comparison{Baseline: "base", Candidate: "tuned", Pairs: 20, Metrics: map[string]stats.Paired{"acc": stats.ComparePairedTest(b, c, stats.DeclMcNemar, cfg)}},
			Benchmark:  &BenchmarkInfo{Name: name, Version: "1", Source: "cais/mmlu", Metrics: []string{"acc"}}})
		g.Tasks = append(g.Tasks, name)
	}
	g.PerModel = []ModelScore{
		{Model: "base", Items: len(allB), Scored: len(allB), Metrics: map[string]stats.Summary{"acc": stats.DescribeFast(allB, cfg)}},
		{Model: "tuned", Items: len(allC), Scored: len(allC), Metrics: map[string]stats.Summary{"acc": stats.DescribeFast(allC, cfg)}}}
	g.Comparison = &Comparison{Baseline: "base", Candidate: "tuned", Pairs: len(allB), Metrics: map[string]stats.Paired{"acc": stats.ComparePairedTest(allB, allC, stats.DeclMcNemar, cfg)}}
	r.Groups = []Task{g}
	sec, ok, err := ForgettingSection(r, nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	r.Sections = []Section{sec, {Title: "Leakage", Markdown: strings.Repeat("a long side analysis line\n", 3000)}}
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	if n := Length(md); n > GitHubLimit {
		t.Errorf("report.md is %d characters, over %d", n, GitHubLimit)
	}
	for _, want := range []string{"## Forgetting", "38 of 57 subjects worse", "mmlu\\_subject\\_with\\_a\\_long\\_name\\_56", "1 section left out"} {
		if !strings.Contains(md, strings.ReplaceAll(want, `\_`, "_")) && !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// A group is a benchmark when its own Benchmark is set (then all its
// members are its subjects) or when every member has one; a group of plan
// tasks is not.
func TestBenchmarkTasks(t *testing.T) {
	r := mmluFixture()
	r.Tasks[1].Benchmark = nil
	if bts := r.BenchmarkTasks(); len(bts) != 3 || bts[0].Name != "mmlu_anatomy" || bts[1].Name != "mmlu_law" || bts[2].Name != "gsm8k" {
		var names []string
		for _, b := range bts {
			names = append(names, b.Name)
		}
		t.Errorf("a group with a plan task: benchmarks %v; want its two benchmark tasks and gsm8k", names)
	}
	r.Groups[0].Benchmark = &BenchmarkInfo{Name: "MMLU", Metrics: []string{"acc"}}
	bts := r.BenchmarkTasks()
	if len(bts) != 2 || bts[0].Name != "MMLU" || len(bts[0].Members) != 3 || bts[0].Metric != "acc" {
		t.Errorf("a group with its own benchmark: %+v", bts)
	}
}
