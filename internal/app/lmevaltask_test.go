package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/lmeval"
)

// A plan's `- lm_eval: FILE` entry reads an lm-eval task file unmodified
// and runs its task: the server receives exactly the prompt lm-eval builds
// (checked against the loader's own rendering, itself golden-tested
// against python3's jinja2), and the report scores it with the file's
// filters and marks it with the file as its source.
func TestPlanLMEvalEntry(t *testing.T) {
	taskFile, _ := filepath.Abs(filepath.Join("..", "lmeval", "testdata", "tasks", "gsm8k", "gsm8k.yaml"))
	dataDir, _ := filepath.Abs(filepath.Join("..", "lmeval", "testdata", "data"))
	set, err := lmeval.NewLoader().LoadFile(taskFile)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := set.Tasks[0].LoadSplits(dataDir, lmeval.BuildOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := set.Tasks[0].Build(splits, lmeval.BuildOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var prompts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Model, Prompt string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		prompts = append(prompts, req.Prompt)
		mu.Unlock()
		body, _ := json.Marshal(map[string]any{"id": "c", "object": "text_completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "text": " It is 42.\n#### 42", "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	write := func(entry string) string {
		plan := fmt.Sprintf(`name: lmeval-entry
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base, endpoint: completions}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned, endpoint: completions}
tasks:
%[2]s`, srv.URL, entry)
		p := filepath.Join(dir, "plan.yaml")
		if err := os.WriteFile(p, []byte(plan), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	path := write(fmt.Sprintf("  - lm_eval: %s\n    data_dir: %s\n", taskFile, dataDir))
	res, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out"), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(prompts) != 2 || prompts[0] != ins[0].Context || prompts[1] != ins[0].Context {
		t.Fatalf("prompts sent %q\nwant lm-eval's %q twice", prompts, ins[0].Context)
	}
	tk := res.Report.Tasks[0]
	if tk.Name != set.Tasks[0].Name || tk.Benchmark == nil || !strings.Contains(tk.Benchmark.Source, "gsm8k.yaml") || len(tk.Metrics) == 0 {
		t.Fatalf("task %s metrics %v benchmark %+v", tk.Name, tk.Metrics, tk.Benchmark)
	}

	// Plan errors before any request: data_dir missing, another key beside
	// lm_eval, a group file.
	groupFile, _ := filepath.Abs(filepath.Join("..", "lmeval", "testdata", "tasks", "groups"))
	groups, _ := filepath.Glob(filepath.Join(groupFile, "*.yaml"))
	for _, c := range []struct{ entry, want string }{
		{fmt.Sprintf("  - lm_eval: %s\n", taskFile), "data_dir"},
		{fmt.Sprintf("  - lm_eval: %s\n    data_dir: %s\n    name: x\n", taskFile, dataDir), "an lm_eval entry takes only lm_eval and data_dir"},
		{fmt.Sprintf("  - lm_eval: %s\n    data_dir: %s\n", groups[0], dataDir), "a file of one task"},
	} {
		prompts = nil
		_, err := Run(context.Background(), Options{PlanPath: write(c.entry), StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
		if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), c.want) || len(prompts) != 0 {
			t.Errorf("%q: %v (exit %d), %d requests; want exit 2 naming %q before any request", c.entry, err, exitcode.Of(err), len(prompts), c.want)
		}
	}
}
