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
	"strings"
	"sync"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
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
	// shorter makes the pairwise judge prefer the shorter answer in either
	// position (a consistent judge that favours the baseline here).
	shorter bool
}

// between is the text of s between the markers start and end.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(start) : j]
}

func (j *loopbackJudge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model       string `json:"model"`
		Logprobs    bool   `json:"logprobs"`
		TopLogprobs int    `json:"top_logprobs"`
		Messages    []struct {
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
	// tokens are the verdict's tokens; top the alternatives at the verdict.
	var tokens []string
	var top map[string]float64
	switch {
	case len(req.Messages) > 1 && req.Messages[len(req.Messages)-2].Role == "assistant":
		// Asked again for the verdict format (judge.repair): it complies.
		tokens = []string{"Sorry. ", "[[", "5", "]]"}
	case j.shorter && strings.Contains(user, "[The Start of Assistant A's Answer]"):
		a := between(user, "[The Start of Assistant A's Answer]", "[The End of Assistant A's Answer]")
		b := between(user, "[The Start of Assistant B's Answer]", "[The End of Assistant B's Answer]")
		letter := "A"
		if len(b) < len(a) {
			letter = "B"
		}
		tokens = []string{"The more concise answer is better. ", "[[", letter, "]]"}
	case strings.Contains(user, "[The Start of Assistant A's Answer]"):
		tokens = []string{"Both are fine, but the first is better. ", "[[", "A", "]]"}
		top = map[string]float64{"A": -0.2231435513142097, "B": -1.6094379124341003} // 0.8, 0.2
	case strings.Contains(user, "UNRATABLE"):
		tokens = []string{"I would rather not say."}
	default:
		start := strings.Index(user, "[The Start of Assistant's Answer]")
		end := strings.LastIndex(user, "[The End of Assistant's Answer]")
		score := 1
		if start >= 0 && end > start {
			score = min(10, 1+(end-start)/200)
		}
		if req.Model == "judge-2" { // a harsher second judge
			score = max(1, score-1)
		}
		tokens = []string{"The answer is adequate. Rating: ", "[[", fmt.Sprint(score), "]]"}
		// half the mass on the score, half on the score above it (capped)
		top = map[string]float64{fmt.Sprint(score): -0.6931471805599453, fmt.Sprint(min(10, score+1)): -0.6931471805599453}
	}
	verdict := strings.Join(tokens, "")
	var logprobs any
	if req.Logprobs {
		var content []any
		for _, tok := range tokens {
			entry := map[string]any{"token": tok, "logprob": -0.01, "bytes": []byte(tok), "top_logprobs": []any{}}
			if len(content) > 0 && tokens[len(content)-1] == "[[" {
				var alts []any
				for k, v := range top {
					alts = append(alts, map[string]any{"token": k, "logprob": v, "bytes": []byte(k)})
				}
				entry["top_logprobs"] = alts
			}
			content = append(content, entry)
		}
		logprobs = map[string]any{"content": content, "refusal": nil}
	}
	body := map[string]any{"id": "chatcmpl-j", "object": "chat.completion", "created": 1700000000, "model": "judge-served-1",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": verdict}, "logprobs": logprobs, "finish_reason": "stop"}},
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

func TestSharedFamily(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"meta-llama/Llama-3.1-70B-Instruct", "my-org/llama3-8b-lora", "llama"},
		{"gpt-4o-2024-08-06", "gpt-3.5-turbo-1106", "gpt"},
		{"Qwen/Qwen2.5-72B-Instruct", "qwen2-7b-sft", "qwen"},
		{"gpt-4o", "meta-llama/Llama-3.1-8B", ""},
		{"claude-3-5-sonnet", "", ""},
		{"phi-3-mini", "graphite-7b", ""}, // a family name inside another word does not count
	} {
		if got := sharedFamily(c.a, c.b); got != c.want {
			t.Errorf("sharedFamily(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// A jury of two judges with top logprobs: judge_score is the mean of the
// two, judge_score_weighted G-Eval's expectation over the score tokens (the
// loopback judges put half the mass on the score and half on the next, so
// it is 0.5 above the plain score below 10), and the section gives the
// jury's agreement. Pairwise with logprobs, the soft preference is the mass
// on the candidate's letter averaged over the two orders: with a judge that
// puts 0.8 on whatever is first, exactly 0.5.
func TestJudgeJuryAndLogprobs(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop, loop2], logprobs: 5}\n")
	text, _ := os.ReadFile(planPath)
	text = []byte(strings.Replace(string(text), "\ntasks:\n", fmt.Sprintf("  - {name: loop2, provider: openai, base_url: %s/v1, model: judge-2}\n\ntasks:\n", srv.URL), 1))
	os.WriteFile(planPath, text, 0o644)
	dir := filepath.Dir(planPath)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if j.requests != 2*59 {
		t.Errorf("%d judge requests, want %d", j.requests, 2*59)
	}
	tk := res.Report.Tasks[0]
	for _, rec := range tk.Records {
		o := rec.Outcomes["vicuna-13b"]
		s, w := o.Scores[metricJudgeScore], o.Scores[metricJudgeScoreWeighted]
		// judge-1 gives s1, judge-2 max(1, s1−1); each weighted +0.5 unless capped at 10.
		if s < 1 || w < s || w > s+0.5+1e-9 {
			t.Errorf("item %s: judge_score %v, weighted %v", rec.ID, s, w)
		}
	}
	var sec string
	for _, s := range res.Report.Sections {
		if s.Kind == "judge" {
			sec = s.Markdown
		}
	}
	if !strings.Contains(sec, "Jury agreement: Krippendorff's alpha") {
		t.Errorf("no jury agreement in:\n%s", sec)
	}

	planPath = judgePlan(t, srv.URL, "    judge: {with: [loop], mode: pairwise, logprobs: 5}\n")
	dir = filepath.Dir(planPath)
	res, err = Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range res.Report.Tasks[0].PerModel {
		if got := ms.Metrics[metricJudgeWinSoft]; got.N != 29 || math.Abs(got.Mean-0.5) > 1e-12 {
			t.Errorf("%s judge_win_soft %+v, want 0.5 over 29", ms.Model, got)
		}
	}
	for _, s := range res.Report.Sections {
		if s.Kind == "judge" && !strings.Contains(s.Markdown, "length-controlled") {
			t.Errorf("no length-controlled win rate in:\n%s", s.Markdown)
		}
	}
}

// MT-Bench turn 2 is judged on the whole conversation: the multi-turn
// template shows both user turns and the model's own two answers, with the
// reference's two turns for questions that have one (FastChat's math
// template); each model's conversation is its own.
func TestJudgeMultiTurn(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	dir := t.TempDir()
	src, _ := filepath.Abs(filepath.Join("..", "..", "examples", "mtbench-turns"))
	raw, err := os.ReadFile(filepath.Join(src, "tunecheck.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "path: ../quickstart/", "path: "+src+"/../quickstart/")
	text = strings.ReplaceAll(text, "path: data/", "path: "+src+"/data/")
	text = strings.Replace(text, "\ntasks:\n", fmt.Sprintf("\njudges:\n  - {name: loop, provider: openai, base_url: %s/v1, model: judge-1}\n\ntasks:\n", srv.URL), 1)
	text = strings.Replace(text, "    scorers:\n", "    judge: {with: [loop]}\n    scorers:\n", 1)
	planPath := filepath.Join(dir, "tunecheck.yaml")
	os.WriteFile(planPath, []byte(text), 0o644)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	// LLaMA's empty turn-1 answer to question 127 ends that item: 59 judged.
	if j.requests != 59 {
		t.Errorf("%d judge requests, want 59", j.requests)
	}
	multi := 0
	for _, p := range j.prompts {
		if strings.Contains(p, "<|The Start of Assistant A's Conversation with User|>") && strings.Count(p, "### User:") == 2 {
			multi++
		}
	}
	if multi != 59 {
		t.Errorf("%d of %d prompts show the two-turn conversation", multi, len(j.prompts))
	}
	if _, ok := res.Report.Tasks[0].Comparison.Metrics[metricJudgeScore]; !ok {
		t.Errorf("no judge_score comparison")
	}
}

// judge.max_cost stops the run cleanly once the judges' spend reaches it
// (each loopback judgment costs 100 prompt + 10 completion tokens at 1 and
// 2 per million: 0.00012), stores what finished, and the same plan with a
// higher limit resumes without judging anything twice beyond the requests
// in flight when it stopped.
func TestJudgeMaxCost(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], max_cost: 0.0012}\n")
	dir := filepath.Dir(planPath)
	db := filepath.Join(dir, "tc.db")
	_, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, OutputDir: filepath.Join(dir, "out")})
	if err == nil || exitcode.Of(err) != exitcode.Interrupted || !strings.Contains(err.Error(), "judge.max_cost 0.0012") {
		t.Fatalf("want a clean stop at max_cost, got %v", err)
	}
	first := j.requests
	if first < 10 || first >= 59 {
		t.Fatalf("%d judge requests before the stop, want 10 or a few more (in flight)", first)
	}
	text, _ := os.ReadFile(planPath)
	os.WriteFile(planPath, []byte(strings.Replace(string(text), "max_cost: 0.0012", "max_cost: 1", 1)), 0o644)
	// The plan changed (its hash), so the run starts anew, but every judgment
	// already made comes from the response cache.
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if j.requests > 59+8 {
		t.Errorf("%d judge requests in all, want at most 59 + 8 in flight", j.requests)
	}
	if n := res.Report.Tasks[0].Comparison.Metrics[metricJudgeScore].N; n != 29 {
		t.Errorf("judge_score pairs %d, want 29", n)
	}
}

// examples/quickstart/judged.yaml against a loopback judge: single-math-v1
// (every quickstart question has a reference), judge scores per MT-Bench
// category through the plan's slices, and its gates decided.
func TestQuickstartJudged(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	src, _ := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart"))
	raw, err := os.ReadFile(filepath.Join(src, "judged.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.ReplaceAll(string(raw), "path: data/", "path: "+src+"/data/")
	text = strings.Replace(text, "base_url: https://api.openai.com/v1", "base_url: "+srv.URL+"/v1", 1)
	planPath := filepath.Join(dir, "judged.yaml")
	os.WriteFile(planPath, []byte(text), 0o644)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out"),
		Getenv: func(k string) string { return map[string]string{"OPENAI_API_KEY": "sk-test"}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	math := 0
	for _, p := range j.prompts {
		if strings.Contains(p, "[The Start of Reference Answer]") {
			math++
		}
	}
	if math != 59 {
		t.Errorf("%d of %d judge prompts show the reference answer", math, len(j.prompts))
	}
	tk := res.Report.Tasks[0]
	var cat *report.Slice
	for i := range tk.Slices {
		if tk.Slices[i].Name == "category" {
			cat = &tk.Slices[i]
		}
	}
	if cat == nil || len(cat.Groups) != 3 || cat.Groups[0].Comparison.Metrics[metricJudgeScore].N == 0 {
		t.Fatalf("no judge_score per category: %+v", cat)
	}
	if len(res.Report.Gates) != 4 {
		t.Fatalf("gates: %+v", res.Report.Gates)
	}
	for _, g := range res.Report.Gates {
		if strings.Contains(g.Expr, "judge") && g.Status == "error" {
			t.Errorf("gate %s: %s (%s)", g.Expr, g.Status, g.Reason)
		}
	}
}

// A dry run checks the plan and prints what it would send — every model's
// requests and every judge call, with estimated tokens and cost — and
// sends and stores nothing.
func TestDryRun(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], mode: pairwise}\n    safety: {classifiers: [words]}\n")
	dir := filepath.Dir(planPath)
	os.WriteFile(filepath.Join(dir, "words.txt"), []byte("badword\n"), 0o644)
	text, _ := os.ReadFile(planPath)
	os.WriteFile(planPath, []byte(strings.Replace(string(text), "\ntasks:\n", "\nclassifiers:\n  - {name: words, protocol: wordlist, path: words.txt}\n\ntasks:\n", 1)), 0o644)
	db := filepath.Join(dir, "tc.db")
	out, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if j.requests != 0 {
		t.Errorf("a dry run sent %d requests", j.requests)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a dry run created the store")
	}
	got := map[string]EndpointEstimate{}
	for _, e := range out.Estimate.Endpoints {
		got[e.Name] = e
	}
	// 30 items per model; pairwise: 30 pairs × 2 orders (before knowing
	// that one answer will be empty).
	// The word-list classifier: one request per model and item.
	if got["llama-13b"].Requests != 30 || got["loop"].Requests != 60 || got["loop"].Role != "judge" || !got["loop"].HasPrice || got["loop"].Cost <= 0 ||
		got["words"].Requests != 60 || got["words"].Role != "classifier" {
		t.Fatalf("estimate: %+v", out.Estimate.Endpoints)
	}
	var b strings.Builder
	if err := out.Estimate.Write(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "loop        judge       60") || !strings.Contains(b.String(), "nothing was sent or stored") {
		t.Errorf("table:\n%s", b.String())
	}

	// A task's params.max_tokens bounds its answers, not the model's (or
	// the 512 default): it was once ignored, estimating 30 × 512 tokens.
	text, _ = os.ReadFile(planPath)
	os.WriteFile(planPath, []byte(strings.Replace(string(text), "    scorers:", "    params: {max_tokens: 7}\n    scorers:", 1)), 0o644)
	out, err = Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Estimate.Endpoints {
		if e.Name == "llama-13b" && e.CompletionTokens != 30*7 {
			t.Errorf("llama-13b: %d completion tokens estimated with the task's max_tokens 7, want %d", e.CompletionTokens, 30*7)
		}
	}
}

// Strict parsing with repair: a judgment without a verdict is asked for
// once more (its own judgment and the format request in the conversation),
// and the verdict of that second answer counts; the report says how many.
func TestJudgeStrictRepair(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], parse: strict, repair: true, prompt: \"Q: {question}\\n[The Start of Assistant's Answer]\\n{answer}\\n[The End of Assistant's Answer]\\nRef: {reference}\", reference: \"{{ 'UNRATABLE' if category == 'coding' else reference }}\"}\n")
	dir := filepath.Dir(planPath)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	// 59 judgments, then 19 asked again (10 coding answers of Vicuna, 9 of LLaMA).
	if j.requests != 59+19 {
		t.Errorf("%d judge requests, want 78", j.requests)
	}
	for _, ms := range res.Report.Tasks[0].PerModel {
		if ms.JudgeFailed != 0 || ms.Metrics[metricJudgeScore].N != ms.Scored {
			t.Errorf("%s: %d without a verdict, judge_score n %d of %d", ms.Model, ms.JudgeFailed, ms.Metrics[metricJudgeScore].N, ms.Scored)
		}
	}
	for _, s := range res.Report.Sections {
		if s.Kind == "judge" && !strings.Contains(s.Markdown, "19 verdicts came from asking the judge again") {
			t.Errorf("section:\n%s", s.Markdown)
		}
	}
}

// A worse candidate in the judge's eyes fails the plan: a consistent judge
// that prefers the shorter answer (LLaMA's, the baseline's, on most items)
// gives the candidate a low win share, and the gate on the judge's delta
// FAILS — the mirror of the passing runs above.
func TestJudgePairwiseWorseCandidateFails(t *testing.T) {
	j := &loopbackJudge{shorter: true}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], mode: pairwise}\n")
	text, _ := os.ReadFile(planPath)
	os.WriteFile(planPath, []byte(strings.Replace(string(text), "  - mtbench-ref.token_f1.delta >= 0\n", "  - mtbench-ref.token_f1.delta >= 0\n  - mtbench-ref.judge_win.delta >= 0\n", 1)), 0o644)
	dir := filepath.Dir(planPath)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Report.Tasks[0].Comparison.Metrics[metricJudgeWin]
	if p.Delta >= 0 || p.Test != "mcnemar-exact" || p.PValue >= 0.05 {
		t.Fatalf("judge_win: %+v", p)
	}
	for _, g := range res.Report.Gates {
		if g.Metric == metricJudgeWin && g.Status != "fail" {
			t.Errorf("gate %s: %s (%s)", g.Expr, g.Status, g.Reason)
		}
	}
	if res.Report.Verdict != "fail" {
		t.Errorf("verdict %s, want fail", res.Report.Verdict)
	}
}

// A judge reference template that fails on a row stops the plan before any
// request — not after every model has answered — naming the row.
func TestJudgeReferenceFailsBeforeRun(t *testing.T) {
	j := &loopbackJudge{}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], reference: \"{{ no_such_field }}\"}\n")
	dir := filepath.Dir(planPath)
	db := filepath.Join(dir, "tc.db")
	_, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, OutputDir: filepath.Join(dir, "out")})
	if err == nil || !strings.Contains(err.Error(), "tasks[0].judge.reference") || !strings.Contains(err.Error(), "line 1 (item 101)") {
		t.Fatalf("want the reference error naming row 1, got %v", err)
	}
	if j.requests != 0 {
		t.Errorf("%d judge requests before the error", j.requests)
	}
	if _, statErr := os.Stat(db); statErr == nil {
		t.Errorf("the store was created: the plan should fail before the run starts")
	}
}
