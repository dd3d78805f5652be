package app

// Whole-run benchmarks: app.Run from a plan file on disk through the stages,
// the real openai provider and a loopback server that answers at once, into
// SQLite, then evaluation (exact_match, token_f1 and corpus BLEU, 1,000-resample
// bootstrap intervals, paired tests), gates and the reports. The runner's own
// benchmarks (internal/runner/bench_test.go) stop at the store; these are what
// a user waits for. Figures and commands: docs/benchmarks/app.md.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// benchCities make the references and, in three phrasings, the answers: the
// scores then vary across items (exact match on some, partial token overlap
// on others) as they would on a real task.
var benchCities = []string{"Paris", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Prague", "Warsaw",
	"Oslo", "Stockholm", "Helsinki", "Dublin", "Athens", "Budapest", "Copenhagen", "Brussels"}

func benchReference(city string) string { return "The capital is " + city + "." }

// benchCompletions are vLLM-shaped chat completions, one per answer.
var benchCompletions = func() []string {
	var out []string
	for _, c := range benchCities {
		for _, text := range []string{c, benchReference(c), "I believe the capital is " + c + ", on the river."} {
			content, _ := json.Marshal(text)
			out = append(out, `{"id":"chatcmpl-b1","object":"chat.completion","created":1763870000,"model":"bench",`+
				`"choices":[{"index":0,"message":{"role":"assistant","content":`+string(content)+`},"logprobs":null,"finish_reason":"stop"}],`+
				`"usage":{"prompt_tokens":24,"completion_tokens":8,"total_tokens":32}}`)
		}
	}
	return out
}()

// benchServer answers every chat completion at once with an answer chosen
// by a hash of the request body: deterministic per request, different for
// the two models (their bodies name different models). It counts requests.
func benchServer(b testing.TB) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h := fnv.New64a()
		io.Copy(h, r.Body)
		x := h.Sum64() // FNV's low bits follow the last bytes: mix (murmur3's finaliser)
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchCompletions[x%uint64(len(benchCompletions))])
	}))
	b.Cleanup(srv.Close)
	return srv, &n
}

// writeBenchData writes qa.jsonl with n items: a question and its reference,
// or with turns, two user turns (the second sees the model's first answer).
func writeBenchData(b testing.TB, dir string, n int, turns bool) {
	f, err := os.Create(filepath.Join(dir, "qa.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		q := fmt.Sprintf("Question %d: which city is the capital of country number %d in the list?", i, i)
		ans := benchReference(benchCities[i%len(benchCities)])
		var row map[string]any
		if turns {
			row = map[string]any{"id": fmt.Sprintf("q%06d", i), "turns": []string{q, "Name the city again, in one word."}, "answer": ans}
		} else {
			row = map[string]any{"id": fmt.Sprintf("q%06d", i), "question": q, "answer": ans}
		}
		line, _ := json.Marshal(row)
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// benchPlan writes tunecheck.yaml into dir: models base and tuned (or base
// alone) at concurrency 256 on srvURL, one task over qa.jsonl scored by
// exact_match, token_f1 and bleu, a gate, reports to out/ and the store in
// tc.db, and the default bootstrap (1,000 resamples) unless resamples > 0.
// tag is appended to the model ids: a new tag is a new cache namespace and a
// new plan hash, so every request of the plan is a cache miss.
func benchPlan(b testing.TB, dir, srvURL, tag string, models int, turns bool, resamples int) string {
	prompt := `prompt: {template: "{{ question }}"}`
	if turns {
		prompt = `turns: turns`
	}
	modelsYAML := ""
	for _, name := range []string{"base", "tuned"}[:models] {
		modelsYAML += fmt.Sprintf("  - {name: %s, provider: openai, base_url: %q, model: %q, concurrency: 256, max_retries: 3, params: {temperature: 0, max_tokens: 32}}\n",
			name, srvURL+"/v1", name+tag)
	}
	bootstrap := ""
	if resamples > 0 {
		bootstrap = fmt.Sprintf("bootstrap: {resamples: %d}\n", resamples)
	}
	plan := `version: 1
name: bench
seed: 1234
` + bootstrap + `models:
` + modelsYAML + `tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    ` + prompt + `
    reference: answer
    scorers: [{name: exact_match}, {name: token_f1}, {name: bleu}]
gates:
  - qa.failed_rate <= 0.01
output: out
store: tc.db
`
	path := filepath.Join(dir, "tunecheck.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// measuredRun is app.Run under the pprof label phase=measured, so that a
// -cpuprofile of a benchmark with a costly setup can be read for the measured
// runs alone: go tool pprof -tagfocus phase=measured.
func measuredRun(ctx context.Context, o Options) (out *Outcome, err error) {
	pprof.Do(ctx, pprof.Labels("phase", "measured"), func(ctx context.Context) { out, err = Run(ctx, o) })
	return out, err
}

// reportSplit reports the wall time per run in the runner's stages (sending,
// or finding cached and stored results) and in the rest (loading the plan and
// data, building requests, evaluating, writing the reports, finishing the run).
func reportSplit(b *testing.B, runs int, elapsed, stages time.Duration) {
	b.ReportMetric(stages.Seconds()/float64(runs), "stages-s/op")
	b.ReportMetric((elapsed-stages).Seconds()/float64(runs), "eval-s/op")
}

// checkOutcome fails b unless every model's jobs went the expected way and
// the run passed its gate.
func checkOutcome(b *testing.B, out *Outcome, models, sent, cached, resumed int) {
	b.Helper()
	if len(out.Exec.Models) != models {
		b.Fatalf("%d models in the summary, want %d", len(out.Exec.Models), models)
	}
	for _, m := range out.Exec.Models {
		if m.Sent != sent || m.Cached != cached || m.Resumed != resumed || m.Failed != 0 {
			b.Fatalf("model %s: sent %d cached %d resumed %d failed %d, want %d, %d, %d, 0", m.Model, m.Sent, m.Cached, m.Resumed, m.Failed, sent, cached, resumed)
		}
	}
	if out.Report.Verdict != "pass" {
		b.Fatalf("verdict %s", out.Report.Verdict)
	}
}

// BenchmarkAppRun20k: 10,000 items × 2 models at concurrency 256, one stage,
// every request sent (a new cache namespace per iteration).
func BenchmarkAppRun20k(b *testing.B) { benchAppRun(b, 10000, false) }

// BenchmarkAppRunTwoTurns: 5,000 items of two turns × 2 models, 20,000
// requests in two stages (the second built from the stored first answers).
func BenchmarkAppRunTwoTurns(b *testing.B) { benchAppRun(b, 5000, true) }

func benchAppRun(b *testing.B, items int, turns bool) {
	srv, _ := benchServer(b)
	dir := b.TempDir()
	writeBenchData(b, dir, items, turns)
	stages := 1
	if turns {
		stages = 2
	}
	ctx := context.Background()
	var (
		reqs, iter          int
		elapsed, cpu, sends time.Duration
	)
	for b.Loop() {
		iter++
		path := benchPlan(b, dir, srv.URL, fmt.Sprintf("-%d", iter), 2, turns, 0)
		t0, c0 := time.Now(), cpuclock.Process()
		out, err := measuredRun(ctx, Options{PlanPath: path, ToolVersion: "bench"})
		elapsed += time.Since(t0)
		cpu += cpuclock.Process() - c0
		if err != nil {
			b.Fatal(err)
		}
		checkOutcome(b, out, 2, items*stages, 0, 0)
		reqs += 2 * items * stages
		sends += out.Exec.Elapsed
	}
	b.ReportMetric(float64(reqs)/elapsed.Seconds(), "req/s")
	// CPU of the whole process (client, server, store, evaluation) per
	// request: on a shared machine req/s measures the neighbours, this less.
	b.ReportMetric(float64(reqs)/cpu.Seconds(), "req/cpu-s")
	reportSplit(b, iter, elapsed, sends)
}

// BenchmarkAppCachedRerun10k: a plan of 10,000 items answered once; each
// iteration is a new run of the same plan (the first is finished, so nothing
// resumes), answered wholly from the response cache. Sub-benchmarks: one
// model (10,000 cached requests) and two compared (20,000).
func BenchmarkAppCachedRerun10k(b *testing.B) {
	for _, models := range []int{1, 2} {
		b.Run(fmt.Sprintf("models=%d", models), func(b *testing.B) { benchCachedRerun(b, models) })
	}
}

func benchCachedRerun(b *testing.B, models int) {
	srv, served := benchServer(b)
	dir := b.TempDir()
	const items = 10000
	writeBenchData(b, dir, items, false)
	path := benchPlan(b, dir, srv.URL, "", models, false, 0)
	ctx := context.Background()
	out, err := Run(ctx, Options{PlanPath: path, ToolVersion: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	checkOutcome(b, out, models, items, 0, 0)
	before := served.Load()
	var elapsed, cpu, stages time.Duration
	for b.Loop() {
		t0, c0 := time.Now(), cpuclock.Process()
		out, err := measuredRun(ctx, Options{PlanPath: path, ToolVersion: "bench"})
		elapsed += time.Since(t0)
		cpu += cpuclock.Process() - c0
		if err != nil {
			b.Fatal(err)
		}
		if out.Resumed {
			b.Fatal("the re-run resumed the finished run")
		}
		checkOutcome(b, out, models, 0, items, 0)
		stages += out.Exec.Elapsed
	}
	if n := served.Load() - before; n != 0 {
		b.Fatalf("the server got %d requests during cached re-runs", n)
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	reportSplit(b, b.N, elapsed, stages)
}

// BenchmarkAppResume100k: 100,000 items × 1 model whose results are all
// stored in an unfinished run, as a run killed after its last result was
// committed leaves it. app.Run resumes it: sends nothing, evaluates the
// 100,000 items, writes the reports and finishes the run. Sub-benchmarks:
// the default bootstrap (1,000 resamples) and 200 resamples.
//
// The unfinished run is made from a finished one of the same data: its row
// (datasets) and every result copied under a new run id with the status
// running and the hash of the plan about to run. Each iteration resumes (and
// so finishes) a fresh copy.
func BenchmarkAppResume100k(b *testing.B) {
	srv, served := benchServer(b)
	dir := b.TempDir()
	const items = 100000
	writeBenchData(b, dir, items, false)
	ctx := context.Background()
	first, err := Run(ctx, Options{PlanPath: benchPlan(b, dir, srv.URL, "", 1, false, 0), ToolVersion: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	checkOutcome(b, first, 1, items, 0, 0)
	st, err := store.Open(ctx, filepath.Join(dir, "tc.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	tmpl, err := st.GetRun(ctx, first.RunID)
	if err != nil {
		b.Fatal(err)
	}
	results, err := st.Results(ctx, first.RunID)
	if err != nil {
		b.Fatal(err)
	}
	if len(results) != items {
		b.Fatalf("%d results stored, want %d", len(results), items)
	}
	copies := 0
	unfinished := func(path string) string {
		p, err := plan.LoadWith(path, task.PlanTypes())
		if err != nil {
			b.Fatal(err)
		}
		copies++
		run := tmpl
		run.ID = fmt.Sprintf("%s-copy%d", tmpl.ID, copies)
		run.PlanHash = p.Hash
		if run.Plan, err = json.Marshal(p); err != nil {
			b.Fatal(err)
		}
		run.Status, run.Verdict, run.Summary, run.FinishedAt = store.StatusRunning, "", nil, time.Time{}
		run.StartedAt = time.Now()
		if err := st.CreateRun(ctx, run); err != nil {
			b.Fatal(err)
		}
		for start := 0; start < len(results); start += 5000 {
			part := make([]store.Result, 0, 5000)
			for _, r := range results[start:min(start+5000, len(results))] {
				r.RunID = run.ID
				part = append(part, r)
			}
			if err := st.PutResults(ctx, part); err != nil {
				b.Fatal(err)
			}
		}
		return run.ID
	}
	for _, resamples := range []int{1000, 200} {
		b.Run(fmt.Sprintf("resamples=%d", resamples), func(b *testing.B) {
			path := benchPlan(b, dir, srv.URL, "", 1, false, resamples)
			before := served.Load()
			var elapsed, cpu, stages time.Duration
			for b.Loop() {
				b.StopTimer()
				id := unfinished(path)
				b.StartTimer()
				t0, c0 := time.Now(), cpuclock.Process()
				out, err := measuredRun(ctx, Options{PlanPath: path, ToolVersion: "bench"})
				elapsed += time.Since(t0)
				cpu += cpuclock.Process() - c0
				if err != nil {
					b.Fatal(err)
				}
				if !out.Resumed || out.RunID != id {
					b.Fatalf("run %s (resumed %v), want a resume of %s", out.RunID, out.Resumed, id)
				}
				checkOutcome(b, out, 1, 0, 0, items)
				stages += out.Exec.Elapsed
			}
			if n := served.Load() - before; n != 0 {
				b.Fatalf("the server got %d requests during resumes", n)
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			reportSplit(b, b.N, elapsed, stages)
			if fi, err := os.Stat(filepath.Join(dir, "out", "results.json")); err == nil {
				b.ReportMetric(float64(fi.Size())/1e6, "MB-results.json")
			}
		})
	}
}
