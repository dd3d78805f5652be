package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// tokenServer is shaped like vLLM: POST /tokenize turns byte b into token
// b+10 (BOS 1 first with add_special_tokens) and reports max_model_len 10
// (windows of 8 scored tokens); POST /v1/completions echoes token-id prompts
// with one logprob per token: -1 for every token, except that model "tuned"
// gives -0.25 to the letters a–m, its "training text". Without tokenize the
// route answers 404. A text prompt (the run's echo check) is answered as
// echoServer answers it.
func tokenServer(t *testing.T, tokenize bool, completions *atomic.Int32) *httptest.Server {
	return tokenServerCounting(t, tokenize, completions, &atomic.Int32{})
}

func tokenServerCounting(t *testing.T, tokenize bool, completions, tokenizeCalls *atomic.Int32) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		tokenizeCalls.Add(1)
		if !tokenize {
			http.NotFound(w, r)
			return
		}
		var in struct {
			Prompt  string `json:"prompt"`
			Special bool   `json:"add_special_tokens"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		toks := []int{}
		if in.Special {
			toks = append(toks, 1)
		}
		for _, b := range []byte(in.Prompt) {
			toks = append(toks, int(b)+10)
		}
		json.NewEncoder(w).Encode(map[string]any{"tokens": toks, "count": len(toks), "max_model_len": 10})
	})
	text := echoServer(t, nil, false) // vLLM also takes text prompts: the run's echo check sends one
	t.Cleanup(text.Close)
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var probe struct {
			Prompt json.RawMessage `json:"prompt"`
		}
		if json.Unmarshal(raw, &probe) == nil && len(probe.Prompt) > 0 && probe.Prompt[0] == '"' {
			r.Body = io.NopCloser(bytes.NewReader(raw))
			text.Config.Handler.ServeHTTP(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		completions.Add(1)
		var in struct {
			Model  string  `json:"model"`
			Prompt [][]int `json:"prompt"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, `{"message":"want token-id prompts"}`, 400)
			return
		}
		var choices []any
		for i, p := range in.Prompt {
			if len(p)+1 > 10 {
				http.Error(w, `{"message":"maximum context length exceeded"}`, 400)
				return
			}
			lps := []any{nil}
			for _, tok := range p[1:] {
				v := -1.0
				if b := byte(tok - 10); in.Model == "tuned" && b >= 'a' && b <= 'm' {
					v = -0.25
				}
				lps = append(lps, v)
			}
			lps = append(lps, -0.5)
			choices = append(choices, map[string]any{"index": i, "text": "x", "logprobs": map[string]any{"token_logprobs": lps}})
		}
		json.NewEncoder(w).Encode(map[string]any{"model": in.Model, "choices": choices, "usage": map[string]int{"prompt_tokens": 1, "completion_tokens": 1}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func perplexityPlan(t *testing.T, url string) string {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("train.jsonl", `{"id": "t1", "text": "abcdefghijklm"}
{"id": "t2", "text": "abcabcabcabc"}
{"id": "t3", "text": "klmklm"}
`)
	write("heldout.jsonl", `{"id": "h1", "text": "nopqrstuvwxyz"}
{"id": "h2", "text": "nopnop"}
{"id": "h3", "text": "zzzzzzzzzzzzzzzzzzzz"}
`)
	write("plan.yaml", fmt.Sprintf(`name: ppl
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base, endpoint: completions}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned, endpoint: completions}
tasks:
  - name: train
    type: perplexity
    dataset: {path: train.jsonl, id_field: id}
    prompt: {template: "{{ text }}", chat: false}
  - name: heldout
    type: perplexity
    dataset: {path: heldout.jsonl, id_field: id}
    prompt: {template: "{{ text }}", chat: false}
    options: {train_task: train}
`, url))
	return filepath.Join(dir, "plan.yaml")
}

// Base scores every byte at -1 nat: 1/ln 2 bits per byte on both texts, no
// gap. The tuned model scores its training letters at -0.25: 0.25/ln 2 on the
// train text, 1/ln 2 on the held-out text, a gap of 0.75/ln 2 ≈ 1.082 bits per
// byte, all of it new — and with both models agreeing on every held-out
// document and differing by the same amount on every train byte, the paired
// interval is that one value.
func TestPerplexityGapThroughTokenWindows(t *testing.T) {
	var calls atomic.Int32
	srv := tokenServer(t, true, &calls)
	res, err := Run(context.Background(), Options{PlanPath: perplexityPlan(t, srv.URL), StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	metric := func(taskName, model, name string) float64 {
		for _, tk := range res.Report.Tasks {
			if tk.Name != taskName {
				continue
			}
			for _, m := range tk.PerModel {
				if m.Model == model {
					return m.Metrics[name].Mean
				}
			}
		}
		return math.NaN()
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if got := metric("heldout", "base", "bits_per_byte"); !near(got, 1/math.Ln2) {
		t.Errorf("base held-out bits_per_byte %v, want 1/ln2", got)
	}
	if got := metric("train", "tuned", "bits_per_byte"); !near(got, 0.25/math.Ln2) {
		t.Errorf("tuned train bits_per_byte %v, want 0.25/ln2", got)
	}
	if got := metric("heldout", "base", "token_perplexity"); !near(got, math.E) {
		t.Errorf("base token_perplexity %v, want e", got)
	}
	var sec *struct {
		Markdown string
		Rows     []gapRow
	}
	for _, s := range res.Report.Sections {
		if s.Kind == "perplexity_gap" {
			sec = &struct {
				Markdown string
				Rows     []gapRow
			}{Markdown: s.Markdown}
			if err := json.Unmarshal(s.Data, &sec.Rows); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sec == nil {
		t.Fatalf("no perplexity_gap section in %d sections", len(res.Report.Sections))
	}
	want := 0.75 / math.Ln2
	var delta *gapDeltaJS
	for _, r := range sec.Rows {
		switch {
		case r.Delta != nil:
			delta = r.Delta
		case r.Model == "base" && !near(r.Gap.Gap, 0):
			t.Errorf("base gap %v, want 0", r.Gap.Gap)
		case r.Model == "tuned" && !near(r.Gap.Gap, want):
			t.Errorf("tuned gap %v, want %v", r.Gap.Gap, want)
		}
	}
	if delta == nil || !near(delta.Delta, want) || !near(delta.Interval.Low, want) || !near(delta.Interval.High, want) {
		t.Fatalf("paired delta %+v, want %v with a zero-width interval", delta, want)
	}
	if !strings.Contains(sec.Markdown, "gap widened") {
		t.Errorf("markdown does not say the gap widened:\n%s", sec.Markdown)
	}
}

// Without a tokenize route the run is refused before any scoring request:
// the check tries vLLM's and llama.cpp's tokenize bodies once, for the first
// model, and nothing else is sent.
func TestPerplexityRefusedWithoutTokenize(t *testing.T) {
	var calls, tokenizeCalls atomic.Int32
	srv := tokenServerCounting(t, false, &calls, &tokenizeCalls)
	_, err := Run(context.Background(), Options{PlanPath: perplexityPlan(t, srv.URL), StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: t.TempDir()})
	if err == nil || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "tokenize") || !strings.Contains(err.Error(), "model base") {
		t.Fatalf("want a refusal naming the model and tokenize with exit code 2, got %v (code %d)", err, exitcode.Of(err))
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d completions requests were sent before the refusal", n)
	}
	if n := tokenizeCalls.Load(); n != 2 {
		t.Fatalf("%d tokenize requests; want the check's 2 (one per route body) and no per-document ones", n)
	}
}

func TestTrainTaskMustBePerplexityTask(t *testing.T) {
	var calls atomic.Int32
	srv := tokenServer(t, true, &calls)
	p := perplexityPlan(t, srv.URL)
	data, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(data), "train_task: train", "train_task: trian", 1)), 0o644)
	_, err := Run(context.Background(), Options{PlanPath: p, StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: t.TempDir()})
	if err == nil || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), `train_task "trian"`) || !strings.Contains(err.Error(), "plan.yaml:") {
		t.Fatalf("got %v", err)
	}
}
