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

	"github.com/tunecheck/tunecheck/internal/judge"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// loopbackJudge is an OpenAI-compatible chat server that judges the way
// a scripted judge would: pointwise it rates an answer by its length
// (longer is better: a verbosity bias), says nothing parsable for answers
// mentioning "UNRATABLE", and pairwise it always prefers the answer shown
// first (a pure position bias).
type loopbackJudge struct {
	mu       sync.Mutex
	requests int
	prompts  []string
}

func (j *loopbackJudge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	user := req.Messages[len(req.Messages)-1].Content
	j.mu.Lock()
	j.requests++
	j.prompts = append(j.prompts, user)
	j.mu.Unlock()
	var verdict string
	switch {
	case strings.Contains(user, "[The Start of Assistant A's Answer]"):
		verdict = "Both are fine, but the first is better. [[A]]"
	case strings.Contains(user, "UNRATABLE"):
		verdict = "I would rather not say."
	default:
		start := strings.Index(user, "[The Start of Assistant's Answer]")
		end := strings.LastIndex(user, "[The End of Assistant's Answer]")
		score := 1
		if start >= 0 && end > start {
			score = min(10, 1+(end-start)/200)
		}
		verdict = fmt.Sprintf("The answer is adequate. Rating: [[%d]]", score)
	}
	body := map[string]any{"id": "chatcmpl-j", "object": "chat.completion", "created": 1700000000, "model": "judge-served-1",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": verdict}, "logprobs": nil, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// judgePlan writes the quickstart with a judge section against url.
func judgePlan(t *testing.T, url, judgeSection string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(src, "tunecheck.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "path: data/", "path: "+src+"/data/")
	text = strings.Replace(text, "\ntasks:\n", fmt.Sprintf("\njudges:\n  - {name: loop, provider: openai, base_url: %s/v1, model: judge-1, prices: {input_per_mtok: 1, output_per_mtok: 2}}\n\ntasks:\n", url), 1)
	text = strings.Replace(text, "    slices:", judgeSection+"    slices:", 1)
	path := filepath.Join(dir, "tunecheck.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Single-answer judging of the quickstart by a loopback judge: every scored
// answer of both models is judged once, through the runner, stored as a
// judge-stage result; the scores become the judge_score metric with a
// Wilcoxon test; the judge is billed apart; a rerun asks the judge nothing.
func TestJudgeSingle(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop]}\n")
	dir := filepath.Dir(planPath)
	db := filepath.Join(dir, "tc.db")
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	// 30 items × 2 models, less LLaMA's empty answer (never judged).
	if j.requests != 59 {
		t.Errorf("the judge got %d requests, want 59", j.requests)
	}
	tk := res.Report.Tasks[0]
	p, ok := tk.Comparison.Metrics[metricJudgeScore]
	if !ok || p.N != 29 || p.Test != "wilcoxon-exact" && p.Test != "wilcoxon-normal" {
		t.Fatalf("judge_score comparison: %+v", p)
	}
	// The loopback judge rewards length, and Vicuna writes longer answers.
	if p.Delta <= 0 {
		t.Errorf("judge_score delta %v, want > 0", p.Delta)
	}
	var judgeBill *report.Model
	for i := range res.Report.Models {
		if res.Report.Models[i].Role == report.RoleJudge {
			judgeBill = &res.Report.Models[i]
		}
	}
	if judgeBill == nil || judgeBill.Requests != 59 || judgeBill.PromptTokens != 5900 {
		t.Fatalf("judge bill: %+v", judgeBill)
	}
	var sec *report.Section
	for i := range res.Report.Sections {
		if res.Report.Sections[i].Kind == "judge" {
			sec = &res.Report.Sections[i]
		}
	}
	if sec == nil || !strings.Contains(sec.Markdown, "loop answered as judge-served-1") || !strings.Contains(sec.Markdown, "Template single-v1, sha256") {
		t.Fatalf("judging section: %+v", sec)
	}
	st, err := store.OpenExisting(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	results, err := st.Results(context.Background(), res.RunID)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	judged := 0
	for _, r := range results {
		if r.Stage == judgeStage {
			judged++
			if r.Endpoint != "loop" || !strings.HasSuffix(r.ItemID, "@loop") {
				t.Errorf("judge result %s/%s endpoint %q", r.Model, r.ItemID, r.Endpoint)
			}
		}
	}
	if judged != 59 {
		t.Errorf("stored %d judgments, want 59", judged)
	}
	// A second run is answered from the cache: the judge is not asked again.
	if _, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, OutputDir: filepath.Join(dir, "out2")}); err != nil {
		t.Fatal(err)
	}
	if j.requests != 59 {
		t.Errorf("a cached rerun sent %d more judge requests", j.requests-59)
	}
}

// Pairwise judging in both orders by a judge that always prefers the answer
// shown first: every pair is inconsistent, so every pair is a tie, the win
// rate is exactly 0.5 and the report measures the bias (position
// consistency 0%, first position wins 100%).
func TestJudgePairwisePositionBias(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], mode: pairwise}\n")
	dir := filepath.Dir(planPath)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	// 29 pairs (LLaMA's empty answer has no pair) × 2 orders.
	if j.requests != 58 {
		t.Errorf("the judge got %d requests, want 58", j.requests)
	}
	tk := res.Report.Tasks[0]
	var cand, base float64
	for _, ms := range tk.PerModel {
		switch ms.Model {
		case "vicuna-13b":
			cand = ms.Metrics[metricJudgeWin].Mean
		case "llama-13b":
			base = ms.Metrics[metricJudgeWin].Mean
		}
	}
	if cand != 0.5 || base != 0.5 {
		t.Errorf("win shares: candidate %v baseline %v, want 0.5 each (every pair inconsistent)", cand, base)
	}
	var data judgeSummary
	for _, s := range res.Report.Sections {
		if s.Kind == "judge" {
			if err := json.Unmarshal(s.Data, &data); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s.Markdown, "Position consistency: 0 of 29 pairs (0.0%)") || !strings.Contains(s.Markdown, "won 58 of 58 orders (100.0%)") {
				t.Errorf("section:\n%s", s.Markdown)
			}
		}
	}
	if data.Pairs != 29 || data.Inconsistent != 29 || data.FirstWins != 58 {
		t.Errorf("position stats %+v", data)
	}
	// Each pair's two prompts show the same two answers in swapped order.
	if len(j.prompts) != 58 {
		t.Fatalf("%d prompts", len(j.prompts))
	}
}

func TestResolveSwap(t *testing.T) {
	const A, B = 1, 2 // judge.ChoiceA, judge.ChoiceB; 3 is a tie
	cases := []struct {
		first, second int
		want          winner
		consistent    bool
	}{
		// first: baseline shown as A; second: candidate shown as A.
		{B, A, winnerCandidate, true},
		{A, B, winnerBaseline, true},
		{3, 3, winnerTie, true},
		{A, A, winnerTie, false}, // position bias: whatever is first wins
		{B, B, winnerTie, false},
		{B, 3, winnerTie, false},
		{3, A, winnerTie, false},
		{A, 3, winnerTie, false},
		{3, B, winnerTie, false},
	}
	for _, c := range cases {
		w, ok := resolveSwap(choiceOf(c.first), choiceOf(c.second))
		if w != c.want || ok != c.consistent {
			t.Errorf("resolve(%d, %d) = %v %v, want %v %v", c.first, c.second, w, ok, c.want, c.consistent)
		}
	}
}

func choiceOf(n int) judge.Choice { return judge.Choice(n) }

// A judge that cannot parse some answers leaves those items without a
// judge verdict — counted (judge_failed), shown, gateable, never scored 0 —
// and a judge whose every request fails makes the run an endpoint error
// (exit 3), not a failed gate.
func TestJudgeFailuresCounted(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	// A judge template of our own that shows the reference too, so the
	// loopback judge sees "UNRATABLE" on rows whose reference we mark.
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], prompt: \"Q: {question}\\n[The Start of Assistant's Answer]\\n{answer}\\n[The End of Assistant's Answer]\\nRef: {reference}\", reference: \"{{ 'UNRATABLE' if category == 'coding' else reference }}\"}\n")
	text, _ := os.ReadFile(planPath)
	text = []byte(strings.Replace(string(text), "  - mtbench-ref.token_f1.delta >= 0\n", "  - mtbench-ref.token_f1.delta >= 0\n  - mtbench-ref.judge_failed_rate <= 0.1\n", 1))
	os.WriteFile(planPath, text, 0o644)
	dir := filepath.Dir(planPath)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	tk := res.Report.Tasks[0]
	for _, ms := range tk.PerModel {
		// The 10 coding questions have no verdict; LLaMA's empty answer
		// (question 127, coding) is not judged at all.
		want := map[string]int{"vicuna-13b": 10, "llama-13b": 9}[ms.Model]
		if ms.JudgeFailed != want || ms.Metrics[metricJudgeScore].N != ms.Scored-want {
			t.Errorf("%s: judge_failed %d, judge_score n %d of %d scored", ms.Model, ms.JudgeFailed, ms.Metrics[metricJudgeScore].N, ms.Scored)
		}
	}
	var gate *string
	for _, g := range res.Report.Gates {
		if strings.Contains(g.Expr, "judge_failed_rate") {
			s := string(g.Status)
			gate = &s
		}
	}
	if gate == nil || *gate != "fail" {
		t.Errorf("judge_failed_rate gate: %v", gate)
	}

	// Every judge request fails: an endpoint error naming the judge.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"invalid api key"}}`, http.StatusUnauthorized)
	}))
	defer broken.Close()
	planPath = judgePlan(t, broken.URL, "    judge: {with: [loop]}\n")
	dir = filepath.Dir(planPath)
	_, err = Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err == nil || !strings.Contains(err.Error(), "judge loop: all 59 requests failed") {
		t.Fatalf("want the broken judge named, got %v", err)
	}
}
