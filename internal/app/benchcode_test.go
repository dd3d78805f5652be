package app

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tunecheck/tunecheck/internal/benchdata"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// A plan's `- benchmark: humaneval` (as run --tasks humaneval): the built-in benchmark becomes a code task whose
// prompts are HumanEval's, completed by a loopback server that answers each
// with its canonical solution; run in the sandbox, pass@1 is 1.0 for both
// models, and the report task names the benchmark. Without
// --confirm-run-unsafe-code the same run stops before any request.
func TestRunHumanEvalBenchmark(t *testing.T) {
	unsandboxed := needSandbox(t)
	f, err := benchdata.FS().Open("data/humaneval/HumanEval.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	canonical := map[string]string{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var p struct {
			Prompt            string `json:"prompt"`
			CanonicalSolution string `json:"canonical_solution"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		canonical[p.Prompt] = p.CanonicalSolution
	}
	var mu sync.Mutex
	asked := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Prompt string `json:"prompt"`
		}
		if r.URL.Path != "/v1/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"error":{"message":"unexpected request"}}`, http.StatusBadRequest)
			return
		}
		sol, ok := canonical[req.Prompt]
		if !ok {
			http.Error(w, `{"error":{"message":"prompt is not a HumanEval prompt"}}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		asked++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":%q,"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":10,"completion_tokens":10,"total_tokens":20}}`, sol)
	}))
	defer srv.Close()

	dir := t.TempDir()
	plan := fmt.Sprintf(`name: he
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base, endpoint: completions}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned, endpoint: completions}
tasks:
  - benchmark: humaneval
`, srv.URL)
	planPath := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planPath, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out"),
		Limit: 3, Getenv: os.Getenv}
	if _, err := Run(context.Background(), opts); exitcode.Of(err) != exitcode.BadInput || asked != 0 {
		t.Fatalf("without --confirm-run-unsafe-code: %v (exit %d), %d requests; want exit 2 before any", err, exitcode.Of(err), asked)
	}
	opts.ConfirmRunUnsafeCode, opts.AllowUnsandboxed = true, unsandboxed
	res, err := Run(context.Background(), opts)
	if err != nil && exitcode.Of(err) != exitcode.GateFailed {
		t.Fatal(err)
	}
	var found bool
	for _, task := range res.Report.Tasks {
		if task.Name != "humaneval" {
			continue
		}
		found = true
		if task.Type != "code" || task.Benchmark == nil || task.Benchmark.Name != "humaneval" || task.Items != 3 {
			t.Fatalf("humaneval task: type %s, benchmark %+v, %d items", task.Type, task.Benchmark, task.Items)
		}
		for _, m := range task.PerModel {
			if s := m.Metrics["pass@1"]; s.N != 3 || s.Mean != 1 {
				t.Errorf("%s pass@1 = %+v, want 1.0 over 3 problems", m.Model, s)
			}
		}
	}
	if !found || asked != 6 {
		t.Fatalf("humaneval task found %v, %d completions asked (want 3 per model)", found, asked)
	}
}
