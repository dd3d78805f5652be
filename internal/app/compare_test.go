package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/store"
)

// compare of a run's own baseline and candidate recomputes every number from
// the stored records — corpus BLEU and chrF included, and a group pooling two
// tasks — and gets exactly what run printed and stored.
func TestCompareEqualsRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "examples", "quickstart")
	plan, err := os.ReadFile(filepath.Join(src, "tunecheck.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	// Two tasks over the same rows, one group over both.
	text := strings.ReplaceAll(string(plan), "path: data/", "path: "+abs+"/data/")
	task := text[strings.Index(text, "  - name: mtbench-ref"):strings.Index(text, "\ncompare:")]
	second := strings.Replace(task, "name: mtbench-ref", "name: mtbench-ref-2", 1)
	text = strings.Replace(text, task, task+second, 1)
	text = strings.ReplaceAll(text, "    dataset:\n", "    group: mtbench\n    dataset:\n")
	text = strings.Replace(text, "  - mtbench-ref.token_f1.delta >= 0", "  - mtbench-ref.token_f1.delta >= 0\n  - mtbench.bleu.delta >= 0", 1)
	if err := os.WriteFile(filepath.Join(dir, "tunecheck.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	dsn := filepath.Join(dir, "tc.db")
	res, err := Run(ctx, Options{PlanPath: filepath.Join(dir, "tunecheck.yaml"), StoreDSN: dsn, OutputDir: filepath.Join(dir, "out"), ToolVersion: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Groups) != 1 || res.Report.Groups[0].Comparison == nil {
		t.Fatalf("no group in the run's report: %+v", res.Report.Groups)
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
	// The listed summary stays small; the records are stored beside it and
	// come back with the report.
	if strings.Contains(string(run.Summary), `"records"`) || len(stored.Tasks[0].Records) != 30 {
		t.Fatalf("records: in summary %v, loaded %d", strings.Contains(string(run.Summary), `"records"`), len(stored.Tasks[0].Records))
	}
	cmp, err := Compare(CompareOptions{A: Side{Label: "llama-13b", Run: run, Report: stored, Model: "llama-13b"},
		B: Side{Label: "vicuna-13b", Run: run, Report: stored, Model: "vicuna-13b"}})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]any{}, tasksOf(res.Report.Tasks)...), tasksOf(res.Report.Groups)...)
	got := append(append([]any{}, tasksOf(cmp.Tasks)...), tasksOf(cmp.Groups)...)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("compare differs from run:\n got %+v\nwant %+v", got, want)
	}
	if len(cmp.Gates) != 3 || cmp.Verdict != res.Report.Verdict || !reflect.DeepEqual(cmp.Gates, res.Report.Gates) {
		t.Fatalf("gates: compare %+v, run %+v", cmp.Gates, res.Report.Gates)
	}
	// The slices (by category and question length) and their disparity gate
	// are recomputed too.
	if s := cmp.Tasks[0].Slices; len(s) != 2 || len(s[0].Groups) != 3 || s[0].Groups[0].Value != "coding" || s[1].Groups[2].Value != "≥40" {
		t.Fatalf("slices: %+v", s)
	}
}

// tasksOf keeps the numbers of each task: per-model aggregates and the
// paired comparison.
func tasksOf[T any](ts []T) []any {
	var out []any
	for _, t := range ts {
		out = append(out, t)
	}
	return numbers(out)
}

func numbers(ts []any) []any {
	var out []any
	for _, x := range ts {
		v := reflect.ValueOf(x)
		out = append(out, []any{v.FieldByName("Name").Interface(), v.FieldByName("PerModel").Interface(), v.FieldByName("Comparison").Interface(), v.FieldByName("Slices").Interface()})
	}
	return out
}

// compare of one model across two runs shows the worst items too, from the
// texts each run stored: here run 2's Vicuna answers are cut to their first
// 40 characters, so it loses token F1 on every item.
func TestCompareTwoRunsShowsWorstItems(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, _ := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart"))
	raw, err := os.ReadFile(filepath.Join(src, "tunecheck.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "path: data/", "path: "+src+"/data/")
	// Run 2 reads a copy of Vicuna's answers, each cut short.
	lines, _ := os.ReadFile(filepath.Join(src, "data", "vicuna-13b-v1.3.jsonl"))
	var cut strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatal(err)
		}
		// FastChat's answer format: choices[0].turns holds each turn's answer.
		for _, c := range row["choices"].([]any) {
			turns := c.(map[string]any)["turns"].([]any)
			for i, v := range turns {
				if s := v.(string); len(s) > 40 {
					turns[i] = s[:40]
				}
			}
		}
		b, _ := json.Marshal(row)
		cut.Write(append(b, '\n'))
	}
	os.WriteFile(filepath.Join(dir, "vicuna-cut.jsonl"), []byte(cut.String()), 0o644)
	plan1, plan2 := filepath.Join(dir, "p1.yaml"), filepath.Join(dir, "p2.yaml")
	os.WriteFile(plan1, []byte(text), 0o644)
	os.WriteFile(plan2, []byte(strings.Replace(text, src+"/data/vicuna-13b-v1.3.jsonl", filepath.Join(dir, "vicuna-cut.jsonl"), 1)), 0o644)
	db := filepath.Join(dir, "tc.db")
	r1, err := Run(ctx, Options{PlanPath: plan1, StoreDSN: db, OutputDir: filepath.Join(dir, "o1")})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Run(ctx, Options{PlanPath: plan2, StoreDSN: db, OutputDir: filepath.Join(dir, "o2")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenExisting(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run1, rep1, _ := LoadReport(ctx, st, r1.RunID)
	run2, rep2, _ := LoadReport(ctx, st, r2.RunID)
	cmp, err := Compare(CompareOptions{A: Side{Label: "before", Run: run1, Report: rep1, Model: "vicuna-13b"},
		B: Side{Label: "after", Run: run2, Report: rep2, Model: "vicuna-13b"}, Texts: StoredTexts(ctx, st), Gates: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	worst := cmp.Tasks[0].Worst
	if len(worst) == 0 {
		t.Fatal("no worst items across two runs")
	}
	w := worst[0]
	if w.Metric != "token_f1" || len([]rune(w.Candidate)) > 40 || len(w.Baseline) <= 40 || w.Prompt == "" || len(w.References) == 0 {
		t.Errorf("worst item %+v", w)
	}
}
