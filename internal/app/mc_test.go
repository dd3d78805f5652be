package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

var wordTokens = regexp.MustCompile(`\s*\S+`)

// echoServer is an OpenAI-compatible /v1/completions endpoint shaped as vLLM
// answers echo=true, logprobs=1, max_tokens=1: the prompt's tokens (here: words
// with their leading space) with text_offset, token_logprobs (null first) and
// top_logprobs, then one generated token. A token is likely (-0.05) when the
// model "knows" it and unlikely (-2) otherwise. ignoreEcho makes it behave like
// servers that drop echo and return only the generated token.
func echoServer(t *testing.T, knows map[string]map[string]bool, ignoreEcho bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Model     string `json:"model"`
			Prompt    string `json:"prompt"`
			Echo      bool   `json:"echo"`
			Logprobs  int    `json:"logprobs"`
			MaxTokens int    `json:"max_tokens"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		type lp struct {
			TextOffset    []int                `json:"text_offset"`
			TokenLogprobs []*float64           `json:"token_logprobs"`
			Tokens        []string             `json:"tokens"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
		}
		var l lp
		add := func(tok string, off int, v *float64) {
			l.Tokens = append(l.Tokens, tok)
			l.TextOffset = append(l.TextOffset, off)
			l.TokenLogprobs = append(l.TokenLogprobs, v)
			if v == nil {
				l.TopLogprobs = append(l.TopLogprobs, nil)
			} else {
				l.TopLogprobs = append(l.TopLogprobs, map[string]float64{tok: *v})
			}
		}
		text := ""
		if req.Echo && !ignoreEcho {
			for i, loc := range wordTokens.FindAllStringIndex(req.Prompt, -1) {
				tok := req.Prompt[loc[0]:loc[1]]
				if i == 0 {
					add(tok, loc[0], nil)
					continue
				}
				v := -2.0
				if knows[req.Model][strings.TrimSpace(tok)] {
					v = -0.05
				}
				add(tok, loc[0], &v)
			}
			text = req.Prompt
		}
		g := -0.5
		add(" the", len(req.Prompt), &g)
		text += " the"
		body, _ := json.Marshal(map[string]any{
			"id": "cmpl-1", "object": "text_completion", "created": 1723120000, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "text": text, "logprobs": l, "finish_reason": "length", "stop_reason": nil}},
			"usage":   map[string]int{"prompt_tokens": len(wordTokens.FindAllString(req.Prompt, -1)), "completion_tokens": 1, "total_tokens": len(wordTokens.FindAllString(req.Prompt, -1)) + 1},
		})
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
}

func mcPlan(t *testing.T, url string) string {
	dir := t.TempDir()
	rows := `{"id": "1", "q": "The capital of France is", "choices": ["Rome", "Paris", "Oslo"], "gold": 1}
{"id": "2", "q": "Two plus two is", "choices": ["four", "five"], "gold": 0}
{"id": "3", "q": "The sky is", "choices": ["green", "blue"], "gold": "B"}
{"id": "4", "q": "Ice is", "choices": ["hot", "cold"], "gold": 1}
`
	if err := os.WriteFile(filepath.Join(dir, "mc.jsonl"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := fmt.Sprintf(`name: mc
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned}
tasks:
  - name: facts
    type: multiple_choice
    dataset: {path: mc.jsonl, id_field: id}
    prompt: {template: "{{ q }}", chat: false}
    choices: choices
    answer: gold
gates:
  - facts.acc.candidate.ci_low >= 0.5
`, url)
	p := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(p, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Multiple choice through completions with echo, as lm-evaluation-harness's
// local-completions: the fine-tune that "knows" the answers wins every item.
func TestMultipleChoiceThroughEcho(t *testing.T) {
	srv := echoServer(t, map[string]map[string]bool{
		"base":  {"Rome": true, "four": true},
		"tuned": {"Paris": true, "four": true, "blue": true, "cold": true},
	}, false)
	defer srv.Close()
	res, err := Run(context.Background(), Options{PlanPath: mcPlan(t, srv.URL), StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	task := res.Report.Tasks[0]
	acc := func(model string) float64 {
		for _, m := range task.PerModel {
			if m.Model == model {
				return m.Metrics["acc"].Mean
			}
		}
		return -1
	}
	// base knows Rome (wrong) and four (right): items 1 wrong, 2 right, 3 and 4 tie at
	// equal logprobs and pick choice 0 (wrong). tuned gets all four.
	if acc("base") != 0.25 || acc("tuned") != 1 {
		t.Fatalf("acc base %v tuned %v", acc("base"), acc("tuned"))
	}
	if p := task.Comparison.Metrics["acc"]; p.Wins != 3 || p.Ties != 1 || p.N != 4 {
		t.Fatalf("paired %+v", p)
	}
}

// A server that ignores echo would make every choice look alike; with
// protocol loglikelihood tunecheck refuses it with exit code 2 and says why
// (protocol_test.go has auto's fallback).
func TestMultipleChoiceRefusesServerIgnoringEcho(t *testing.T) {
	srv := echoServer(t, nil, true)
	defer srv.Close()
	path := mcPlan(t, srv.URL)
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "answer: gold\n", "answer: gold\n    options: {protocol: loglikelihood}\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: t.TempDir()})
	if err == nil || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "echo") {
		t.Fatalf("want a refusal naming echo with exit code 2, got %v (code %d)", err, exitcode.Of(err))
	}
	if h := exitcode.Hint(err); !strings.Contains(h, "vLLM") {
		t.Fatalf("hint %q", h)
	}
}
