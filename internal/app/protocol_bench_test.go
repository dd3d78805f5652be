package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
)

// BenchmarkMultipleChoice100k: 12,500 four-choice items × 2 models =
// 100,000 loglikelihood requests, end to end through app.Run — plan, echo
// checks, runner, the real openai provider, a loopback server scoring every
// prompt token by the rule of protocol_test.go, SQLite, evaluation (acc,
// acc_norm, bootstrap intervals, paired tests) and reports. Sub-benchmarks:
// shared (the choices of an item go out as one request with four prompts,
// 25,000 HTTP requests) and single (the server refuses a list of prompts,
// so after the first refusal every choice is its own request, 100,000).
// Each iteration uses a fresh store, so nothing comes from the cache.
// Figures: docs/benchmarks.md.
func BenchmarkMultipleChoice100k(b *testing.B) {
	const items, choices = 12500, 4
	for _, mode := range []string{"shared", "single"} {
		b.Run(mode, func(b *testing.B) {
			srv := newLLServer(b, false)
			if mode == "single" {
				inner := srv.Config.Handler
				srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v1/completions" {
						var body struct {
							Prompt json.RawMessage `json:"prompt"`
						}
						data, err := io.ReadAll(r.Body)
						if err != nil {
							http.Error(w, err.Error(), 400)
							return
						}
						if json.Unmarshal(data, &body) == nil && len(body.Prompt) > 0 && body.Prompt[0] == '[' {
							http.Error(w, `{"error":{"message":"prompt must be a string","code":400}}`, 400)
							return
						}
						r.Body = io.NopCloser(bytes.NewReader(data))
					}
					inner.ServeHTTP(w, r)
				})
			}
			dir := b.TempDir()
			var rows strings.Builder
			for i := range items {
				fmt.Fprintf(&rows, `{"id": "q%d", "q": "Question %d asks which of these words is the one", "choices": ["alpha", "be ta", "gam ma de", "x%d"], "gold": %d}`+"\n", i, i, i%97, i%choices)
			}
			if err := os.WriteFile(filepath.Join(dir, "mc.jsonl"), []byte(rows.String()), 0o644); err != nil {
				b.Fatal(err)
			}
			plan := fmt.Sprintf(`name: mcbench
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base, concurrency: 32}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned, concurrency: 32}
compare: {baseline: base, candidate: tuned}
tasks:
  - name: mc
    type: multiple_choice
    dataset: {path: mc.jsonl, id_field: id}
    prompt: {template: "{{ q }}"}
    choices: choices
    answer: gold
`, srv.URL)
			path := filepath.Join(dir, "plan.yaml")
			if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
				b.Fatal(err)
			}
			var iter, reqs int
			var elapsed, cpu time.Duration
			for b.Loop() {
				iter++
				t0, c0 := time.Now(), cpuclock.Process()
				out, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: filepath.Join(dir, fmt.Sprintf("tc-%d.db", iter)), OutputDir: filepath.Join(dir, "out"), ToolVersion: "bench"})
				elapsed += time.Since(t0)
				cpu += cpuclock.Process() - c0
				if err != nil {
					b.Fatal(err)
				}
				if p := out.Report.Tasks[0].Protocol; p != "loglikelihood" {
					b.Fatalf("protocol %q", p)
				}
				sent := 0
				for _, m := range out.Exec.Models {
					sent += m.Sent
				}
				if sent != 2*items*choices {
					b.Fatalf("%d requests sent, want %d", sent, 2*items*choices)
				}
				reqs += sent
			}
			b.ReportMetric(elapsed.Seconds()/float64(iter), "s/run")
			b.ReportMetric(float64(reqs)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(reqs)/cpu.Seconds(), "req/cpu-s")
			srv.mu.Lock()
			b.ReportMetric(float64(len(srv.echoRequests))/float64(iter), "http-req/run")
			srv.echoRequests, srv.echoPrompts = nil, nil
			srv.mu.Unlock()
		})
	}
}
