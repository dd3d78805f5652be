package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// llServer is a loopback OpenAI-compatible server with a deterministic
// likelihood: a prompt is tokenised into words with their leading space,
// and the logprob of token t is −len(trimmed t)/10. In vLLM mode it honours
// echo for a prompt string or a list of prompts; in llama.cpp mode it ignores
// echo and answers with the generated token's logprob in the per-token list
// format (logprobs.content), as llama-server does. Its chat route answers
// generative multiple-choice prompts: model "base" always says "A", any
// other the letter of the shortest choice, and "A or B" to a question
// starting with "Unsure".
type llServer struct {
	*httptest.Server
	llamacpp bool
	mu       sync.Mutex
	// echoPrompts is the number of echo requests, by how many prompts each had;
	// generated counts chat and plain completion requests.
	echoRequests []int
	echoPrompts  []string
	generated    int
}

func newLLServer(t testing.TB, llamacpp bool) *llServer {
	s := &llServer{llamacpp: llamacpp}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func ruleLogprob(tok string) float64 { return -float64(len(strings.TrimSpace(tok))) / 10 }

func (s *llServer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/completions":
		var req struct {
			Model  string          `json:"model"`
			Prompt json.RawMessage `json:"prompt"`
			Echo   bool            `json:"echo"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var prompts []string
		var one string
		if json.Unmarshal(req.Prompt, &one) == nil {
			prompts = []string{one}
		} else if err := json.Unmarshal(req.Prompt, &prompts); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		if req.Echo {
			s.echoRequests = append(s.echoRequests, len(prompts))
			s.echoPrompts = append(s.echoPrompts, prompts...)
		} else {
			s.generated++
		}
		s.mu.Unlock()
		if s.llamacpp {
			json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "choices": []any{map[string]any{"index": 0, "text": " the", "finish_reason": "length",
				"logprobs": map[string]any{"content": []any{map[string]any{"token": " the", "logprob": -0.3, "bytes": []int{32, 116, 104, 101}, "top_logprobs": []any{}}}}}},
				"usage": map[string]int{"prompt_tokens": 6, "completion_tokens": 1}})
			return
		}
		var choices []any
		promptTokens := 0
		for i, p := range prompts {
			type lp struct {
				TextOffset    []int                `json:"text_offset"`
				TokenLogprobs []*float64           `json:"token_logprobs"`
				Tokens        []string             `json:"tokens"`
				TopLogprobs   []map[string]float64 `json:"top_logprobs"`
			}
			var l lp
			add := func(tok string, off int, v *float64) {
				l.Tokens, l.TextOffset, l.TokenLogprobs = append(l.Tokens, tok), append(l.TextOffset, off), append(l.TokenLogprobs, v)
				if v == nil {
					l.TopLogprobs = append(l.TopLogprobs, nil)
				} else {
					l.TopLogprobs = append(l.TopLogprobs, map[string]float64{tok: *v})
				}
			}
			for j, loc := range wordTokens.FindAllStringIndex(p, -1) {
				tok := p[loc[0]:loc[1]]
				if j == 0 {
					add(tok, loc[0], nil)
					continue
				}
				v := ruleLogprob(tok)
				add(tok, loc[0], &v)
				promptTokens++
			}
			promptTokens++
			g := -0.5
			add(" the", len(p), &g)
			choices = append(choices, map[string]any{"index": i, "text": p + " the", "logprobs": l, "finish_reason": "length"})
		}
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "choices": choices,
			"usage": map[string]int{"prompt_tokens": promptTokens, "completion_tokens": len(prompts)}})
	case "/v1/chat/completions":
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		s.generated++
		s.mu.Unlock()
		last := req.Messages[len(req.Messages)-1].Content
		answer := "A"
		switch {
		case req.Model == "base":
		case strings.Contains(last, "Unsure"):
			answer = "A or B"
		default:
			best, bestLen := 0, math.MaxInt
			for i, m := range choiceLine.FindAllStringSubmatch(last, -1) {
				if len(m[1]) < bestLen {
					best, bestLen = i, len(m[1])
				}
			}
			answer = fmt.Sprintf("The answer is (%c).", 'A'+best)
		}
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": answer}}}, "usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 3}})
	default:
		http.NotFound(w, r)
	}
}

var choiceLine = regexp.MustCompile(`(?m)^[A-Z]\. (.*)$`)

// protoPlan writes a plan of four multiple-choice items against url; extra
// is YAML added to the task (indented four spaces).
func protoPlan(t *testing.T, url, extra string) string {
	dir := t.TempDir()
	rows := `{"id": "1", "q": "The capital of Italy is", "choices": ["Paris", "Rome", "Oslo"], "gold": 1}
{"id": "2", "q": "Two plus two is", "choices": ["four", "a bb"], "gold": 1}
{"id": "3", "q": "Pick one", "choices": ["x yy zz", "abc"], "gold": 0}
{"id": "4", "q": "Unsure what", "choices": ["hello", "hi"], "gold": 0}
`
	if err := os.WriteFile(filepath.Join(dir, "mc.jsonl"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := fmt.Sprintf(`name: proto
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned}
compare: {baseline: base, candidate: tuned}
tasks:
  - name: facts
    type: multiple_choice
    dataset: {path: mc.jsonl, id_field: id}
    prompt: {template: "{{ q }}"}
    choices: choices
    answer: gold
%[2]s`, url, extra)
	p := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(p, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runProto(t *testing.T, planPath string, o Options) (*Outcome, error) {
	t.Helper()
	o.PlanPath = planPath
	o.StoreDSN = filepath.Join(t.TempDir(), "tc.db")
	o.OutputDir = t.TempDir()
	return Run(context.Background(), o)
}

func modelScore(t *testing.T, task report.Task, model string) report.ModelScore {
	t.Helper()
	for _, m := range task.PerModel {
		if m.Model == model {
			return m
		}
	}
	t.Fatalf("no model %s in %+v", model, task.PerModel)
	return report.ModelScore{}
}

// Scores under the logprob rule, worked out by hand (acc picks the highest
// log-likelihood, the first on ties; acc_norm divides by the choice's length
// in characters):
//
//	item 1: Paris −0.5, Rome −0.4, Oslo −0.4 → acc picks Rome (gold) 1; norm all −0.1 → Paris, 0
//	item 2: four −0.4, "a bb" −0.3 → "a bb" (gold) 1; norm −0.1, −0.075 → "a bb", 1
//	item 3: "x yy zz" −0.5, abc −0.3 → abc, 0; norm −0.0714, −0.1 → "x yy zz" (gold), 1
//	item 4: hello −0.5, hi −0.2 → hi, 0; norm −0.1, −0.1 → hello (gold), 1
//
// so acc = 0.5 and acc_norm = 0.75 for both models.
func TestLoglikelihoodProtocolHandComputed(t *testing.T) {
	srv := newLLServer(t, false)
	out, err := runProto(t, protoPlan(t, srv.URL, "    options: {protocol: loglikelihood}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	task := out.Report.Tasks[0]
	for _, m := range []string{"base", "tuned"} {
		ms := modelScore(t, task, m)
		if ms.Metrics["acc"].Mean != 0.5 || ms.Metrics["acc_norm"].Mean != 0.75 || ms.Scored != 4 {
			t.Errorf("%s: acc %v acc_norm %v scored %d", m, ms.Metrics["acc"].Mean, ms.Metrics["acc_norm"].Mean, ms.Scored)
		}
	}
	if task.Protocol != "loglikelihood" || task.ChatTemplate {
		t.Errorf("recorded protocol %q chat template %v", task.Protocol, task.ChatTemplate)
	}
	for _, m := range out.Report.Models {
		if m.EchoLogprobs != "supported" {
			t.Errorf("model %s echo %q", m.Name, m.EchoLogprobs)
		}
	}
	// One echo check per model, then one request per item and model with
	// every choice's prompt: the choices share their context.
	want := []int{1, 1, 3, 2, 2, 2, 3, 2, 2, 2}
	got := append([]int(nil), srv.echoRequests...)
	if len(got) != len(want) || countOf(got, 1) != 2 || countOf(got, 3) != 2 || countOf(got, 2) != 6 || srv.generated != 0 {
		t.Errorf("echo requests by prompt count %v (want, in some order, %v); generate requests %d", got, want, srv.generated)
	}
}

func countOf(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

// An explicit loglikelihood protocol against a server that ignores echo is
// refused before any item request: the server saw the echo checks only.
func TestEchoIgnoringServerRefusedBeforeAnyItem(t *testing.T) {
	srv := newLLServer(t, true)
	dir := t.TempDir()
	_, err := runProto(t, protoPlan(t, srv.URL, "    options: {protocol: loglikelihood}\n"), Options{StoreDSN: filepath.Join(dir, "tc.db")})
	if err == nil || exitcode.Of(err) != exitcode.BadInput {
		t.Fatalf("want exit code 2, got %v", err)
	}
	for _, want := range []string{"task facts uses protocol loglikelihood", "model base (base) ignored echo", "model tuned (tuned) ignored echo", "per-token list format", "nothing was sent"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if h := exitcode.Hint(err); !strings.Contains(h, "vLLM") || !strings.Contains(h, "protocol: generate") {
		t.Errorf("hint %q", h)
	}
	if len(srv.echoRequests) != 2 || srv.generated != 0 {
		t.Fatalf("the server saw %v echo requests and %d others; want the two checks only", srv.echoRequests, srv.generated)
	}
	for _, p := range srv.echoPrompts {
		if p != "The capital of France is Paris" {
			t.Fatalf("an item request was sent: %q", p)
		}
	}
}

// auto falls back to the generative protocol for both models; the letter
// the model answers decides acc, and an answer naming two letters is a
// failed item, not a 0.
func TestAutoFallsBackToGenerateForBoth(t *testing.T) {
	srv := newLLServer(t, true)
	out, err := runProto(t, protoPlan(t, srv.URL, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	task := out.Report.Tasks[0]
	if task.Protocol != "generate" || !task.ChatTemplate || task.Metrics[0] != "acc" || len(task.Metrics) != 1 {
		t.Fatalf("protocol %q chat template %v metrics %v", task.Protocol, task.ChatTemplate, task.Metrics)
	}
	// base answers A: right on items 3 and 4. tuned answers the shortest
	// choice: Rome (right), four (wrong), abc (wrong), and "A or B" to item 4.
	base, tuned := modelScore(t, task, "base"), modelScore(t, task, "tuned")
	if base.Metrics["acc"].Mean != 0.5 || base.Failed != 0 {
		t.Errorf("base %+v", base)
	}
	if math.Abs(tuned.Metrics["acc"].Mean-1.0/3) > 1e-12 || tuned.Failed != 1 || tuned.Scored != 3 {
		t.Errorf("tuned acc %v failed %d scored %d", tuned.Metrics["acc"].Mean, tuned.Failed, tuned.Scored)
	}
	if len(tuned.Errors) != 1 || !strings.Contains(tuned.Errors[0].Message, "names more than one choice") {
		t.Errorf("tuned errors %+v", tuned.Errors)
	}
	if len(srv.echoRequests) != 2 || srv.generated != 8 {
		t.Errorf("echo requests %v, generate requests %d; want 2 checks and 8 answers", srv.echoRequests, srv.generated)
	}
	for _, m := range out.Report.Models {
		if m.EchoLogprobs != "ignored" {
			t.Errorf("model %s echo %q", m.Name, m.EchoLogprobs)
		}
	}
}

// A gate on acc_norm cannot hold once auto falls back to generate: the plan
// is refused before any item request.
func TestFallbackRechecksGates(t *testing.T) {
	srv := newLLServer(t, true)
	_, err := runProto(t, protoPlan(t, srv.URL, "gates:\n  - facts.acc_norm.candidate.mean >= 0\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "acc_norm") || srv.generated != 0 {
		t.Fatalf("err %v, %d generate requests", err, srv.generated)
	}
}

func TestDryRunSaysProtocol(t *testing.T) {
	srv := newLLServer(t, false)
	out, err := runProto(t, protoPlan(t, srv.URL, ""), Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Estimate.Protocols["facts"]; !strings.HasPrefix(got, "auto: loglikelihood if every model") {
		t.Fatalf("%q", got)
	}
	if len(srv.echoRequests)+srv.generated != 0 {
		t.Fatal("a dry run sent requests")
	}
	out, err = runProto(t, protoPlan(t, srv.URL, ""), Options{DryRun: true, ApplyChatTemplate: true})
	if err != nil || out.Estimate.Protocols["facts"] != "generate, chat template" {
		t.Fatalf("%v %+v", err, out)
	}
}

func TestApplyChatTemplateRefusesLoglikelihood(t *testing.T) {
	srv := newLLServer(t, false)
	_, err := runProto(t, protoPlan(t, srv.URL, "    options: {protocol: loglikelihood}\n"), Options{ApplyChatTemplate: true})
	if err == nil || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "no chat form") {
		t.Fatalf("%v", err)
	}
}

// Two models whose servers would treat the generative prompt differently
// (a chat endpoint applies the chat template, a completions endpoint does
// not) are refused.
func TestGenerativeChatTemplateMustMatch(t *testing.T) {
	srv := newLLServer(t, false)
	path := protoPlan(t, srv.URL, "    options: {protocol: generate}\n")
	data, _ := os.ReadFile(path)
	data = []byte(strings.Replace(string(data), "model: tuned}", "model: tuned, endpoint: completions}", 1))
	os.WriteFile(path, data, 0o644)
	_, err := runProto(t, path, Options{})
	if err == nil || !strings.Contains(err.Error(), "would apply its chat template") || srv.generated != 0 {
		t.Fatalf("%v (%d sent)", err, srv.generated)
	}
}

// compare refuses a task asked by different protocols in the two runs.
func TestCompareRefusesMixedProtocols(t *testing.T) {
	side := func(id, proto string, chat bool) Side {
		return Side{Label: id, Run: store.Run{ID: id}, Model: "m", Report: &report.Report{Schema: report.Schema,
			Tasks: []report.Task{{Name: "facts", Type: "multiple_choice", Protocol: proto, ChatTemplate: chat}}}}
	}
	_, err := Compare(CompareOptions{A: side("r1", "loglikelihood", false), B: side("r2", "generate", true)})
	if err == nil || exitcode.Of(err) != exitcode.BadInput {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{"task facts: protocol loglikelihood in run r1, generate in run r2", "task facts: chat template off in run r1, on in run r2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if err := protocolDiffs(side("r1", "generate", true), side("r2", "generate", true)); err != nil {
		t.Fatal(err)
	}
}

// fakeBatcher answers loglikelihood requests alone or in batches, counting
// both, and can fail batches.
type fakeBatcher struct {
	mu             sync.Mutex
	singles, calls int
	batchErr       error
}

func (f *fakeBatcher) Do(_ context.Context, r provider.Request) (provider.Response, error) {
	f.mu.Lock()
	f.singles++
	f.mu.Unlock()
	return provider.Response{LogLikelihood: -float64(len(r.Continuation))}, nil
}

func (f *fakeBatcher) LoglikelihoodBatch(_ context.Context, rs []provider.Request) ([]provider.Response, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.batchErr != nil {
		return nil, f.batchErr
	}
	out := make([]provider.Response, len(rs))
	for i, r := range rs {
		out[i] = provider.Response{LogLikelihood: -float64(len(r.Continuation)), Tokens: 100}
	}
	return out, nil
}

func TestSharedContext(t *testing.T) {
	item := func(id string) []provider.Request {
		var rs []provider.Request
		for i, c := range []string{" a", " bb", " ccc"} {
			rs = append(rs, provider.Request{Type: provider.Loglikelihood, ItemID: fmt.Sprintf("%s#%d", id, i), Prompt: "Q " + id, Continuation: c})
		}
		return rs
	}
	groups := [][]provider.Request{item("1"), item("2")}
	do := func(s *sharedContext) []provider.Response {
		var out []provider.Response
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, g := range groups {
			for _, r := range g {
				wg.Go(func() {
					resp, err := s.Do(context.Background(), r)
					if err != nil {
						t.Error(err)
					}
					if resp.LogLikelihood != -float64(len(r.Continuation)) {
						t.Errorf("%s: got the answer of another choice: %v", r.ItemID, resp.LogLikelihood)
					}
					mu.Lock()
					out = append(out, resp)
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		return out
	}
	f := &fakeBatcher{}
	if out := do(newSharedContext(f, f, groups)); len(out) != 6 || f.calls != 2 || f.singles != 0 {
		t.Fatalf("%d answers from %d batches and %d singles; want 6 from 2 batches", len(out), f.calls, f.singles)
	}
	// A request outside every group goes alone.
	s := newSharedContext(f, f, groups)
	if _, err := s.Do(context.Background(), provider.Request{Type: provider.Loglikelihood, ItemID: "9#0", Prompt: "Q 9", Continuation: " z"}); err != nil || f.singles != 1 {
		t.Fatalf("%v, %d singles", err, f.singles)
	}
	// A server refusing lists of prompts (HTTP 400) is asked one by one.
	f = &fakeBatcher{batchErr: &provider.Error{Status: 400, Err: fmt.Errorf("prompt must be a string")}}
	if out := do(newSharedContext(f, f, groups)); len(out) != 6 || f.singles != 6 || f.calls < 1 {
		t.Fatalf("%d answers, %d singles, %d batch tries", len(out), f.singles, f.calls)
	}
	// A retryable failure is the runner's to retry, as for a single request.
	f = &fakeBatcher{batchErr: &provider.Error{Status: 503, Retryable: true, Err: fmt.Errorf("overloaded")}}
	if _, err := newSharedContext(f, f, groups).Do(context.Background(), groups[0][1]); !provider.IsRetryable(err) || f.singles != 0 {
		t.Fatalf("%v, %d singles", err, f.singles)
	}
}

// A sharded run's merge builds its tasks from the plan alone; the stage of
// the stored results says which protocol the shards used.
func TestStoredProtocols(t *testing.T) {
	for _, c := range []struct {
		stage, want string
	}{{"answer", "generate"}, {"choices", "loglikelihood"}} {
		p, err := plan.LoadWith(protoPlan(t, "http://127.0.0.1:1", ""), task.PlanTypes())
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := buildTasks(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := storedProtocols(p, tasks, []store.Result{{Task: "facts", Model: "base", Stage: c.stage, ItemID: "1"}}); err != nil {
			t.Fatal(err)
		}
		bt := tasks[0]
		if bt.MC == nil || bt.MC.Protocol != c.want || bt.Stages[0] != c.stage {
			t.Fatalf("%s: %+v stages %v", c.stage, bt.MC, bt.Stages)
		}
		if c.want == "generate" && (bt.Items[0].Requests[0].Type != provider.Generate || !bt.MC.ChatTemplate || len(bt.Scorers[0].Metrics()) != 1) {
			t.Fatalf("not rebuilt: %+v", bt.Items[0].Requests[0])
		}
	}
}
