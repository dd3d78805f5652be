package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tunecheck/tunecheck/internal/bench"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/report"
)

// run --tasks arc_easy: the built-in benchmark joins the plan's task, its
// prompts are lm-eval's bytes (scored per choice with echo), and the report
// task names the benchmark.
func TestRunBuiltinBenchmark(t *testing.T) {
	set, err := bench.LoadTasks()
	if err != nil {
		t.Fatal(err)
	}
	bs, _ := bench.Lookup("arc_easy")
	ins, err := bs[0].Build(set, bench.Embedded(), bench.Options{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	// tuned "knows" every word of the gold answers; base knows none.
	knows := map[string]bool{}
	for _, in := range ins {
		for _, w := range strings.Fields(in.Choices[in.Gold]) {
			knows[w] = true
		}
	}
	echo := echoServer(t, map[string]map[string]bool{"tuned": knows}, false)
	defer echo.Close()
	var mu sync.Mutex
	var prompts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct{ Prompt string }
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		prompts = append(prompts, req.Prompt)
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		echo.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Options{PlanPath: mcPlan(t, srv.URL), StoreDSN: filepath.Join(t.TempDir(), "tc.db"),
		OutputDir: t.TempDir(), Benchmarks: []string{"arc_easy"}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, tk := range res.Report.Tasks {
		if tk.Name != "arc_easy" {
			continue
		}
		found = true
		if tk.Benchmark == nil || tk.Benchmark.Name != "arc_easy" || tk.Benchmark.Version != "1.0" || tk.Items != 3 {
			t.Fatalf("task %+v benchmark %+v", tk.Name, tk.Benchmark)
		}
		for _, m := range tk.PerModel {
			if m.Model == "tuned" && m.Metrics["acc"].Mean != 1 {
				t.Errorf("tuned acc %v, want 1", m.Metrics["acc"].Mean)
			}
		}
	}
	if !found {
		t.Fatal("no arc_easy task in the report")
	}
	for _, in := range ins {
		for _, c := range in.Continuations {
			want := in.Context + c
			ok := false
			for _, p := range prompts {
				ok = ok || p == want
			}
			if !ok {
				t.Errorf("no request with lm-eval's bytes %q", want)
			}
		}
	}
}

func TestRunBuiltinBenchmarkRefusals(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"mmlu_pro", `unknown benchmark "mmlu_pro"`},
		{"humaneval", "--confirm-run-unsafe-code"},
	} {
		_, err := Run(context.Background(), Options{PlanPath: mcPlan(t, "http://127.0.0.1:1"), StoreDSN: filepath.Join(t.TempDir(), "tc.db"),
			OutputDir: t.TempDir(), Benchmarks: []string{tc.name}, DryRun: true})
		if err == nil || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want exit 2 naming %q, got %v", tc.name, tc.want, err)
		}
	}
}

// WinoGrande (partial evaluation) and TruthfulQA MC2 run as multiple_choice
// tasks with their own scorings: one context per option before the shared
// continuation; mc2 in (0, 1].
func TestRunPartialAndMC2Benchmarks(t *testing.T) {
	set, err := bench.LoadTasks()
	if err != nil {
		t.Fatal(err)
	}
	wg, _ := bench.Lookup("winogrande")
	wins, err := wg[0].Build(set, bench.Embedded(), bench.Options{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	echo := echoServer(t, map[string]map[string]bool{"tuned": {"Nothing": true, "particular": true}}, false)
	defer echo.Close()
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct{ Prompt string }
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		seen[req.Prompt] = true
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		echo.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Options{PlanPath: mcPlan(t, srv.URL), StoreDSN: filepath.Join(t.TempDir(), "tc.db"),
		OutputDir: t.TempDir(), Benchmarks: []string{"winogrande", "truthfulqa_mc2"}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tk := range res.Report.Tasks {
		got[tk.Name] = tk.Metrics
		if tk.Name == "truthfulqa_mc2" {
			for _, m := range tk.PerModel {
				if v := m.Metrics["mc2"].Mean; v <= 0 || v > 1 {
					t.Errorf("%s mc2 %v", m.Model, v)
				}
			}
		}
	}
	if strings.Join(got["winogrande"], ",") != "acc" || strings.Join(got["truthfulqa_mc2"], ",") != "mc2" {
		t.Fatalf("metrics %v", got)
	}
	for _, in := range wins {
		for _, c := range in.Contexts {
			if want := c + in.Continuations[0]; !seen[want] {
				t.Errorf("no request %q", want)
			}
		}
	}
}

// GSM8K from --data-dir (original files: test and the train split its five
// few-shot examples come from) reports both filters and the format check.
func TestRunGSM8KFromDataDir(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Model, Prompt string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		text := " She makes 9 * 2 = 18 dollars.\n#### 18"
		if req.Model == "base" {
			text = " The answer is 18."
		}
		body, _ := json.Marshal(map[string]any{"id": "c", "object": "text_completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "text": text, "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	path := mcPlan(t, srv.URL)
	data, _ := os.ReadFile(path)
	plan := strings.ReplaceAll(string(data), "model: base}", "model: base, endpoint: completions}")
	plan = strings.ReplaceAll(plan, "model: tuned}", "model: tuned, endpoint: completions}")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir, _ := filepath.Abs(filepath.Join("..", "bench", "testdata", "original"))
	res, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: filepath.Join(t.TempDir(), "tc.db"),
		OutputDir: t.TempDir(), Benchmarks: []string{"gsm8k"}, BenchDataDir: dataDir, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range res.Report.Tasks {
		if tk.Name != "gsm8k" {
			continue
		}
		if strings.Join(tk.Metrics, ",") != "exact_match_strict_match,exact_match_flexible_extract,strict_match_format" || tk.Benchmark == nil || tk.Benchmark.NShot != 5 {
			t.Fatalf("metrics %v benchmark %+v", tk.Metrics, tk.Benchmark)
		}
		want := map[string][3]float64{"base": {0, 1, 0}, "tuned": {1, 1, 1}}
		for _, m := range tk.PerModel {
			w := want[m.Model]
			for i, name := range tk.Metrics {
				if got := m.Metrics[name].Mean; got != w[i] {
					t.Errorf("%s %s = %v, want %v", m.Model, name, got, w[i])
				}
			}
		}
		return
	}
	t.Fatal("no gsm8k task in the report")
}

// A plan's `- benchmark: NAME` entry runs like --tasks NAME.
func TestPlanBenchmarkEntry(t *testing.T) {
	echo := echoServer(t, nil, false)
	defer echo.Close()
	path := mcPlan(t, echo.URL)
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "gates:", "  - benchmark: arc_challenge\ngates:", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: t.TempDir(), Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tk := range res.Report.Tasks {
		names = append(names, tk.Name)
		if tk.Name == "arc_challenge" && (tk.Benchmark == nil || tk.Items != 2) {
			t.Fatalf("arc_challenge: %d items, benchmark %+v", tk.Items, tk.Benchmark)
		}
	}
	if strings.Join(names, ",") != "facts,arc_challenge" {
		t.Fatalf("tasks %v", names)
	}
}

// MMLU's 57 subjects report as the group mmlu, which names the benchmark.
func TestRunMMLUGroup(t *testing.T) {
	echo := echoServer(t, nil, false)
	defer echo.Close()
	res, err := Run(context.Background(), Options{PlanPath: mcPlan(t, echo.URL), StoreDSN: filepath.Join(t.TempDir(), "tc.db"),
		OutputDir: t.TempDir(), Benchmarks: []string{"mmlu"}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Tasks) != 58 {
		t.Fatalf("%d tasks, want facts and 57 subjects", len(res.Report.Tasks))
	}
	var g *report.Task
	for i := range res.Report.Groups {
		if res.Report.Groups[i].Name == "mmlu" {
			g = &res.Report.Groups[i]
		}
	}
	if g == nil || len(g.Tasks) != 57 || g.Benchmark == nil || g.Benchmark.NShot != 5 || g.Items != 57 {
		t.Fatalf("group %+v", g)
	}
	// The run's report carries the Forgetting section for the group, first.
	var kinds []string
	for _, s := range res.Report.Sections {
		kinds = append(kinds, s.Kind)
	}
	if len(res.Report.Sections) == 0 || res.Report.Sections[0].Kind != report.KindForgetting || !strings.Contains(res.Report.Sections[0].Markdown, "mmlu") {
		t.Fatalf("report sections %v; want Forgetting (naming mmlu) first", kinds)
	}
}
