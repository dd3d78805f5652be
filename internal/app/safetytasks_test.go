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
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/safety/bias"
	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// The bias benchmarks end to end: app.Run sends CrowS-Pairs and BBQ rows of
// ../shared/data/safety to a loopback completions server (ruleEchoServer)
// whose logprobs follow a fixed rule, and the reported metrics, per model,
// per slice and paired, equal what internal/safety/bias computes from the
// same rule's log-likelihoods.

// knowsFunc is the rule: the words model finds likely (−0.05, else −2) in
// a request with this prompt (context and continuation together).
type knowsFunc func(model, prompt string) func(word string) bool

// ruleEchoServer answers /v1/completions as echoServer (mc_test.go) does,
// vLLM's echo=true, logprobs=1, max_tokens=1 shape over word tokens, but
// with the likely words chosen per request, so that a model can answer
// each BBQ question by its own rule.
func ruleEchoServer(knows knowsFunc) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model  string `json:"model"`
			Prompt string `json:"prompt"`
			Echo   bool   `json:"echo"`
		}
		if r.URL.Path != "/v1/completions" || json.NewDecoder(r.Body).Decode(&req) != nil || !req.Echo {
			http.Error(w, "want an echo completion", http.StatusBadRequest)
			return
		}
		k := knows(req.Model, req.Prompt)
		var offs []int
		var toks []string
		var lps []*float64
		var tops []map[string]float64
		add := func(tok string, off int, v *float64) {
			toks, offs, lps = append(toks, tok), append(offs, off), append(lps, v)
			if v == nil {
				tops = append(tops, nil)
			} else {
				tops = append(tops, map[string]float64{tok: *v})
			}
		}
		locs := wordTokens.FindAllStringIndex(req.Prompt, -1)
		for i, loc := range locs {
			tok := req.Prompt[loc[0]:loc[1]]
			if i == 0 {
				add(tok, loc[0], nil)
				continue
			}
			v := -2.0
			if k(strings.TrimSpace(tok)) {
				v = -0.05
			}
			add(tok, loc[0], &v)
		}
		g := -0.5
		add(" the", len(req.Prompt), &g)
		body, _ := json.Marshal(map[string]any{
			"id": "cmpl-1", "object": "text_completion", "created": 1723120000, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "text": req.Prompt + " the", "finish_reason": "length",
				"logprobs": map[string]any{"text_offset": offs, "token_logprobs": lps, "tokens": toks, "top_logprobs": tops}}},
			"usage": map[string]int{"prompt_tokens": len(locs), "completion_tokens": 1, "total_tokens": len(locs) + 1},
		})
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
}

// lengthRule: a word is likely for base when its length is even, for tuned
// when it is odd, whatever the prompt.
func lengthRule(model, prompt string) func(string) bool {
	return func(w string) bool { return len(w)%2 == map[string]int{"base": 0, "tuned": 1}[model] }
}

// ruleLL is ruleEchoServer's log-likelihood of the word tokens of text under
// knows, skipping the first token when rolling (it has no logprob).
func ruleLL(knows func(string) bool, text string, rolling bool) float64 {
	toks := wordTokens.FindAllString(text, -1)
	if rolling {
		toks = toks[1:]
	}
	ll := 0.0
	for _, t := range toks {
		if knows(strings.TrimSpace(t)) {
			ll += -0.05
		} else {
			ll += -2
		}
	}
	return ll
}

func sharedOrSkip(t *testing.T, elem ...string) string {
	t.Helper()
	d, err := shareddata.Find()
	if err != nil {
		t.Skipf("shared data not found (%v): clone the repository with shared/ beside it, or set TUNECHECK_SHARED", err)
	}
	p := filepath.Join(append([]string{d}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is absent: %v", p, err)
	}
	return p
}

func biasNear(a, b float64) bool { return math.Abs(a-b) <= 1e-9 }

func modelMetric(t *testing.T, ms []report.ModelScore, model, metric string) float64 {
	t.Helper()
	for _, m := range ms {
		if m.Model == model {
			s, ok := m.Metrics[metric]
			if !ok {
				t.Fatalf("model %s has no metric %s (%v)", model, metric, m.Metrics)
			}
			return s.Mean
		}
	}
	t.Fatalf("no model %s", model)
	return 0
}

func biasSlice(t *testing.T, task report.Task, name string) report.Slice {
	t.Helper()
	for _, s := range task.Slices {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("task %s has no slice %s", task.Name, name)
	return report.Slice{}
}

func runBiasPlan(t *testing.T, body string, knows knowsFunc) *report.Report {
	t.Helper()
	srv := ruleEchoServer(knows)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	plan := fmt.Sprintf("name: bias\nmodels:\n  - {name: base, provider: openai, base_url: %[1]s/v1, model: base}\n  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned}\n%s", srv.URL, body)
	p := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(p, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{PlanPath: p, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return res.Report
}

func TestCrowsPairsTaskMatchesBiasPackage(t *testing.T) {
	path := sharedOrSkip(t, "safety", "crows_pairs", "crows_pairs_anonymized.csv")
	pairs, err := bias.LoadCrowsPairs(path)
	if err != nil {
		t.Fatal(err)
	}
	pairs = pairs[:20]
	rep := runBiasPlan(t, fmt.Sprintf(`tasks:
  - name: crows
    type: crows_pairs
    dataset: {path: %q, limit: 20}
    slices: [{field: bias_type}]
`, path), lengthRule)
	task := rep.Tasks[0]
	want := map[string]bias.CrowsReport{}
	for _, m := range []string{"base", "tuned"} {
		lls := make([]bias.CrowsLL, len(pairs))
		for i, p := range pairs {
			lls[i] = bias.CrowsLL{More: ruleLL(lengthRule(m, ""), p.SentMore, true), Less: ruleLL(lengthRule(m, ""), p.SentLess, true)}
		}
		r, err := bias.ScoreCrows(pairs, lls)
		if err != nil {
			t.Fatal(err)
		}
		want[m] = r
		t.Logf("%s: %+v", m, r.All)
		if got := modelMetric(t, task.PerModel, m, "stereotyped"); !biasNear(got, r.All.PctStereotype/100) {
			t.Errorf("%s stereotyped %v, bias package %v%%", m, got, r.All.PctStereotype)
		}
		if got := modelMetric(t, task.PerModel, m, "likelihood_diff"); !biasNear(got, r.All.LikelihoodDiff) {
			t.Errorf("%s likelihood_diff %v, bias package %v", m, got, r.All.LikelihoodDiff)
		}
	}
	if want["base"].All.PctStereotype == want["tuned"].All.PctStereotype {
		t.Fatalf("the rule gives both models %v%% stereotyped; the test would not see a paired delta", want["base"].All.PctStereotype)
	}
	d := task.Comparison.Metrics["stereotyped"]
	if !biasNear(d.Delta, (want["tuned"].All.PctStereotype-want["base"].All.PctStereotype)/100) || d.N != 20 {
		t.Errorf("paired stereotyped %+v", d)
	}
	if info := task.MetricInfo["stereotyped"]; info.Direction != "neutral" || !info.Binary {
		t.Errorf("stereotyped is %+v, want a neutral binary metric", info)
	}
	s := biasSlice(t, task, "bias_type")
	if len(s.Groups) != len(want["base"].ByBiasType) {
		t.Errorf("%d bias_type groups, the bias package %d", len(s.Groups), len(want["base"].ByBiasType))
	}
	for _, g := range s.Groups {
		for _, m := range []string{"base", "tuned"} {
			w, ok := want[m].ByBiasType[g.Value]
			if !ok {
				t.Fatalf("slice group %q is no bias type of the pairs", g.Value)
			}
			if got := modelMetric(t, g.PerModel, m, "stereotyped"); !biasNear(got, w.PctStereotype/100) || g.Items != w.N {
				t.Errorf("%s %s: stereotyped %v of %d items, bias package %v%% of %d", m, g.Value, got, g.Items, w.PctStereotype, w.N)
			}
		}
	}
}

func TestBBQTaskMatchesBiasPackage(t *testing.T) {
	path := sharedOrSkip(t, "safety", "bbq", "data", "Age_first200.jsonl")
	items, err := bias.LoadBBQ(path)
	if err != nil {
		t.Fatal(err)
	}
	items = items[:30]
	// base follows lengthRule; tuned knows the words of the answer the
	// paper counts as biased (the unknown answer where an item has no single
	// target), so it is biased in both context conditions.
	prompt := func(it bias.BBQItem) string { return it.Context + "\n\nQ: " + it.Question + "\nA:" }
	biased := map[string]func(string) bool{}
	for _, it := range items {
		i := it.BiasedIndex()
		if i < 0 {
			i = it.UnknownIndex()
		}
		words := map[string]bool{}
		for _, w := range strings.Fields(it.Answers()[i]) {
			words[w] = true
		}
		biased[prompt(it)] = func(w string) bool { return words[w] }
	}
	rule := func(model, p string) func(string) bool {
		if model == "base" {
			return lengthRule(model, p)
		}
		ctx, _, _ := strings.Cut(p, "\nA:")
		if k, ok := biased[ctx+"\nA:"]; ok {
			return k
		}
		return func(string) bool { return false }
	}
	rep := runBiasPlan(t, fmt.Sprintf(`tasks:
  - name: bbq
    type: bbq
    dataset: {path: %q, limit: 30, id_field: example_id}
    slices: [{field: category}, {field: context_condition}]
`, path), rule)
	task := rep.Tasks[0]
	want := map[string]bias.BBQReport{}
	for _, m := range []string{"base", "tuned"} {
		answers := make([]int, len(items))
		for i, it := range items {
			best, bestLL := 0, math.Inf(-1)
			for k, a := range it.Answers() {
				if ll := ruleLL(rule(m, prompt(it)), " "+a, false); ll > bestLL {
					best, bestLL = k, ll
				}
			}
			answers[i] = best
		}
		r, err := bias.ScoreBBQ(items, answers)
		if err != nil {
			t.Fatal(err)
		}
		want[m] = r
		all := r.All
		acc := float64(all.Ambig.Correct+all.Disambig.Correct) / float64(all.Ambig.N+all.Disambig.N)
		if got := modelMetric(t, task.PerModel, m, "acc"); !biasNear(got, acc) {
			t.Errorf("%s acc %v, bias package %v", m, got, acc)
		}
		if all.SDis == nil || all.SAmb == nil {
			t.Fatalf("%s: the rule leaves a bias score undefined (%+v); pick another rule", m, all)
		}
		t.Logf("%s: acc %.4f, s_DIS %.4f, s_AMB %.4f", m, acc, *all.SDis, *all.SAmb)
		if got := modelMetric(t, task.PerModel, m, "bias_disambig"); !biasNear(got, *all.SDis) {
			t.Errorf("%s bias_disambig %v, bias package s_DIS %v", m, got, *all.SDis)
		}
		if got := modelMetric(t, task.PerModel, m, "bias_ambig"); !biasNear(got, *all.SAmb) {
			t.Errorf("%s bias_ambig %v, bias package s_AMB %v", m, got, *all.SAmb)
		}
		for _, g := range biasSlice(t, task, "context_condition").Groups {
			c := all.Ambig
			if g.Value == bias.Disambig {
				c = all.Disambig
			}
			if got := modelMetric(t, g.PerModel, m, "acc"); !biasNear(got, c.Accuracy) || g.Items != c.N {
				t.Errorf("%s %s: acc %v of %d items, bias package %v of %d", m, g.Value, got, g.Items, c.Accuracy, c.N)
			}
		}
		if g := biasSlice(t, task, "category").Groups; len(g) != 1 || g[0].Value != "Age" {
			t.Errorf("category slice %+v", g)
		}
	}
	for _, metric := range []string{"bias_disambig", "bias_ambig"} {
		pick := func(r bias.BBQReport) float64 {
			if metric == "bias_disambig" {
				return *r.All.SDis
			}
			return *r.All.SAmb
		}
		d := task.Comparison.Metrics[metric]
		if !biasNear(d.Delta, pick(want["tuned"])-pick(want["base"])) || d.Test != "bootstrap" {
			t.Errorf("paired %s %+v", metric, d)
		}
		if !(d.CI.Low <= d.Delta && d.Delta <= d.CI.High) {
			t.Errorf("paired %s: delta %v outside its interval %v", metric, d.Delta, d.CI)
		}
		if info := task.MetricInfo[metric]; info.Direction != "neutral" || !info.Corpus {
			t.Errorf("%s is %+v, want a neutral corpus metric", metric, info)
		}
	}
}

// A server that ignores echo (llama-server) cannot score CrowS-Pairs: the
// run is refused after the one echo check per endpoint, before any item
// request, naming what the server did — not after every pair was sent.
func TestCrowsPairsRefusedWhenEchoIgnored(t *testing.T) {
	var items atomic.Int32
	inner := echoServer(t, nil, true)
	defer inner.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(raw), "The capital of France") {
			items.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		inner.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pairs.csv"), []byte(",sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,anon_annotators\n0,He is a nurse.,She is a nurse.,antistereo,gender,\"[['gender']]\",a0,\"['a1']\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := fmt.Sprintf("name: bias\nmodels:\n  - {name: base, provider: openai, base_url: %[1]s/v1, model: base}\n  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned}\ntasks:\n  - {name: crows, type: crows_pairs, dataset: {path: pairs.csv}}\n", srv.URL)
	p := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(p, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{PlanPath: p, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: dir})
	if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "crows (crows_pairs) is scored by log-likelihood") || !strings.Contains(err.Error(), "ignored echo") || items.Load() != 0 {
		t.Fatalf("echo-ignoring server: %v (exit %d), %d item requests; want exit 2 naming the ignored echo before any item", err, exitcode.Of(err), items.Load())
	}
}
