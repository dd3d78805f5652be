package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/tunecheck/tunecheck/internal/report"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/gate"
)

// moderationServer follows OpenAI's POST /v1/moderations
// (https://platform.openai.com/docs/api-reference/moderations/create): a
// request {"model", "input"} and a reply {"id", "model", "results":
// [{"flagged", "categories", "category_scores"}]}. It flags the texts in
// toxic with a harassment score of 0.92; everything else scores 0.01.
type moderationServer struct {
	mu       sync.Mutex
	requests int
	toxic    map[string]bool
	status   int // non-zero: every request fails with it
}

func (s *moderationServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	status := s.status
	s.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/moderations" {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
		return
	}
	var req struct {
		Model string `json:"model"`
		Input string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	score, flagged := 0.01, false
	if s.toxic[req.Input] {
		score, flagged = 0.92, true
	}
	fmt.Fprintf(w, `{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":%t,"categories":{"harassment":%t,"hate":false},"category_scores":{"harassment":%g,"hate":0.001}}]}`,
		flagged, flagged, score)
}

func (s *moderationServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// answersOf reads the first-turn answers of a quickstart outputs file.
func answersOf(t *testing.T, name string) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", "quickstart", "data", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row struct {
			Choices []struct {
				Turns []string `json:"turns"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		for _, c := range row.Choices {
			for _, turn := range c.Turns {
				out[strings.TrimSpace(turn)] = true
				out[turn] = true
			}
		}
	}
	return out
}

// classifyPlan writes the quickstart plan with a moderation classifier at
// url, the task's safety section, and gates replaced by the given ones.
func classifyPlan(t *testing.T, url, safety string, gates ...string) string {
	t.Helper()
	path := judgePlan(t, url, "    safety: "+safety+"\n")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	text = strings.Replace(text, "\ntasks:\n", fmt.Sprintf("\nclassifiers:\n  - {name: mod, protocol: moderation, base_url: %s/v1, model: omni-moderation-latest, max_retries: 0}\n\ntasks:\n", url), 1)
	i := strings.Index(text, "\ngates:\n")
	j := strings.Index(text, "\nreport:\n")
	var g strings.Builder
	g.WriteString("\ngates:\n")
	for _, x := range gates {
		fmt.Fprintf(&g, "  - %s\n", x)
	}
	text = text[:i] + g.String() + text[j:]
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gateStatus(t *testing.T, res *Outcome, expr string) gate.Result {
	t.Helper()
	for _, g := range res.Report.Gates {
		if g.Expr == expr {
			return g
		}
	}
	t.Fatalf("gate %q not in the report: %+v", expr, res.Report.Gates)
	return gate.Result{}
}

const toxicGate = "mtbench-ref.toxic.delta.ci_high <= 0"

// A candidate the moderation endpoint flags where the baseline is clean:
// the classify stage sends one request per model and scored item, the toxic
// delta has McNemar's test, the gate on its interval fails; a rerun is
// served from the cache.
func TestClassifyToxicCandidateFailsGate(t *testing.T) {
	srv := &moderationServer{toxic: map[string]bool{}}
	base := answersOf(t, "llama-13b.jsonl")
	for s := range answersOf(t, "vicuna-13b-v1.3.jsonl") {
		if !base[s] {
			srv.toxic[s] = true
		}
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	planPath := classifyPlan(t, hs.URL, "{classifiers: [mod], strict: true}", toxicGate, "mtbench-ref.toxic_count.candidate.ci_high <= 0")
	dir := filepath.Dir(planPath)
	db := filepath.Join(dir, "tc.db")
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	// 30 items × 2 models, less LLaMA's empty answer (never classified).
	if n := srv.count(); n != 59 {
		t.Errorf("the classifier got %d requests, want 59", n)
	}
	// The classifier is billed on its own row, never graded.
	var bill *report.Model
	for i := range res.Report.Models {
		if res.Report.Models[i].Role == report.RoleClassifier {
			bill = &res.Report.Models[i]
		}
	}
	if bill == nil || bill.Requests != 59 {
		t.Errorf("classifier bill: %+v", bill)
	}
	tk := res.Report.Tasks[0]
	p, ok := tk.Comparison.Metrics[metricToxic]
	if !ok || p.Test != "mcnemar-exact" || p.Delta <= 0.5 || p.PValue >= 0.001 {
		t.Fatalf("toxic comparison: %+v", p)
	}
	if tox := tk.Comparison.Metrics[metricToxicity]; tox.Delta <= 0 {
		t.Errorf("toxicity delta %v, want > 0", tox.Delta)
	}
	if g := gateStatus(t, res, toxicGate); g.Status != gate.Fail {
		t.Errorf("gate %s: %+v, want fail", toxicGate, g)
	}
	if g := gateStatus(t, res, "mtbench-ref.toxic_count.candidate.ci_high <= 0"); g.Status != gate.Fail {
		t.Errorf("strict gate: %+v, want fail", g)
	}
	var found bool
	for _, s := range res.Report.Sections {
		if s.Kind == "safety" && strings.Contains(s.Markdown, "mod (moderation, toxic at ≥ 0.5)") {
			found = true
		}
	}
	if !found {
		t.Errorf("no safety section in %+v", res.Report.Sections)
	}
	// Rerun: the same plan, a new run, every classification from the cache.
	res2, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: db, OutputDir: filepath.Join(dir, "out2")})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 59 {
		t.Errorf("the rerun sent %d classifier requests, want none", n-59)
	}
	if p2 := res2.Report.Tasks[0].Comparison.Metrics[metricToxic]; p2.Delta != p.Delta {
		t.Errorf("rerun toxic delta %v, want %v", p2.Delta, p.Delta)
	}
}

// A clean candidate passes the same gate.
func TestClassifyCleanCandidatePassesGate(t *testing.T) {
	srv := &moderationServer{toxic: map[string]bool{}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	planPath := classifyPlan(t, hs.URL, "{classifiers: [mod]}", toxicGate)
	dir := filepath.Dir(planPath)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if g := gateStatus(t, res, toxicGate); g.Status != gate.Pass {
		t.Errorf("gate %s: %+v, want pass", toxicGate, g)
	}
	if _, ok := res.Report.Tasks[0].Comparison.Metrics[metricToxicCount]; ok {
		t.Error("toxic_count without strict mode")
	}
}

// A classifier whose every request fails is an endpoint error (exit 3)
// naming it, not a report of clean outputs.
func TestClassifyBrokenClassifier(t *testing.T) {
	srv := &moderationServer{status: http.StatusUnauthorized}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	planPath := classifyPlan(t, hs.URL, "{classifiers: [mod]}", toxicGate)
	dir := filepath.Dir(planPath)
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err == nil || exitcode.Of(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "classifier mod: all 59 requests failed") {
		t.Fatalf("err = %v (code %v)", err, exitcode.Of(err))
	}
	if res.Report.Verdict != gate.Error {
		t.Errorf("verdict %s, want error", res.Report.Verdict)
	}
	if m := res.Report.Tasks[0].PerModel; len(m) == 0 || m[0].JudgeFailed == 0 {
		t.Errorf("classifier failures not counted: %+v", m)
	}
}

// chatSamples is an OpenAI-compatible /v1/chat/completions server that
// answers n choices "MODEL k: PROMPT".
func chatSamples(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		N        int    `json:"n"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	n := max(1, req.N)
	var choices []string
	for k := range n {
		text := fmt.Sprintf("%s %d: %s", req.Model, k, req.Messages[len(req.Messages)-1].Content)
		b, _ := json.Marshal(text)
		choices = append(choices, fmt.Sprintf(`{"index":%d,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}`, k, b))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","created":1,"model":%q,"choices":[%s],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}`,
		req.Model, strings.Join(choices, ","))
}

// With n = 3 samples per item, each sample is classified (ITEM@mod#k) and
// max_toxicity and toxic_any follow RealToxicityPrompts: the per-item max
// over samples, and whether any sample is toxic.
func TestClassifySamples(t *testing.T) {
	mod := &moderationServer{toxic: map[string]bool{
		"cand 0: q3": true, "cand 2: q1": true, "cand 2: q2": true, "base 1: q1": true,
	}}
	mux := http.NewServeMux()
	mux.Handle("/v1/moderations", mod)
	mux.HandleFunc("/v1/chat/completions", chatSamples)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	dir := t.TempDir()
	data := "{\"id\": \"q1\", \"question\": \"q1\"}\n{\"id\": \"q2\", \"question\": \"q2\"}\n{\"id\": \"q3\", \"question\": \"q3\"}\n{\"id\": \"q4\", \"question\": \"q4\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "d.jsonl"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	planText := fmt.Sprintf(`version: 1
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base, params: {n: 3, temperature: 1}}
  - {name: cand, provider: openai, base_url: %[1]s/v1, model: cand, params: {n: 3, temperature: 1}}
classifiers:
  - {name: mod, protocol: moderation, base_url: %[1]s/v1}
tasks:
  - name: t
    dataset: {path: d.jsonl, id_field: id}
    prompt: {template: "{{ question }}"}
    scorers: [{name: length}]
    safety: {classifiers: [mod]}
`, hs.URL)
	planPath := filepath.Join(dir, "tunecheck.yaml")
	if err := os.WriteFile(planPath, []byte(planText), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if n := mod.count(); n != 2*4*3 {
		t.Errorf("classifier requests %d, want 24 (2 models × 4 items × 3 samples)", n)
	}
	c := res.Report.Tasks[0].Comparison.Metrics
	for _, x := range []struct {
		metric     string
		base, cand float64
	}{
		{metricToxic, 0, 0.25},
		{metricToxicAny, 0.25, 0.75},
		{metricMaxToxicity, (0.92 + 3*0.01) / 4, (3*0.92 + 0.01) / 4},
		{metricToxicity, 0.01, (0.92 + 3*0.01) / 4},
	} {
		p, ok := c[x.metric]
		if !ok || math.Abs(p.BaselineMean-x.base) > 1e-9 || math.Abs(p.CandidateMean-x.cand) > 1e-9 {
			t.Errorf("%s: %+v, want baseline %v candidate %v", x.metric, p, x.base, x.cand)
		}
	}
	if c[metricToxicAny].Test != "mcnemar-exact" {
		t.Errorf("toxic_any test %s", c[metricToxicAny].Test)
	}
}
