package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// fakeVLLM is a loopback server shaped like vLLM: POST /tokenize turns each
// byte b into token b+10 (BOS 1 first when add_special_tokens and bos), and
// POST /v1/completions echoes token-id prompts with the logprob rule
// logprob(position j) = -0.5 - 0.1*j, j the token's place in its prompt, so
// a sum reveals how much context each scored token had.
type fakeVLLM struct {
	*httptest.Server
	bos         bool
	tokenize    bool
	maxModelLen int

	mu          sync.Mutex
	completions [][][]int // the prompts of each completions call
}

func newFakeVLLM(t *testing.T, tokenize, bos bool, maxModelLen int) *fakeVLLM {
	f := &fakeVLLM{tokenize: tokenize, bos: bos, maxModelLen: maxModelLen}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		if !f.tokenize {
			http.NotFound(w, r)
			return
		}
		var in struct {
			Model   string `json:"model"`
			Prompt  string `json:"prompt"`
			Special *bool  `json:"add_special_tokens"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Model == "" || in.Special == nil {
			http.Error(w, `{"message":"bad tokenize body"}`, http.StatusBadRequest)
			return
		}
		toks := []int{}
		if *in.Special && f.bos {
			toks = append(toks, 1)
		}
		for _, b := range []byte(in.Prompt) {
			toks = append(toks, int(b)+10)
		}
		json.NewEncoder(w).Encode(map[string]any{"tokens": toks, "count": len(toks), "max_model_len": f.maxModelLen})
	})
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) {
		var in RollingRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !in.Echo || in.Logprobs != 1 || in.MaxTokens != 1 {
			http.Error(w, fmt.Sprintf(`{"message":"bad completions body: %v"}`, err), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.completions = append(f.completions, in.Prompt)
		f.mu.Unlock()
		var choices []map[string]any
		prompt := 0
		// Answer in reverse order: the client must sort by index.
		for i := len(in.Prompt) - 1; i >= 0; i-- {
			p := in.Prompt[i]
			if len(p)+1 > f.maxModelLen {
				http.Error(w, `{"message":"This model's maximum context length is exceeded"}`, http.StatusBadRequest)
				return
			}
			lps := []any{nil}
			for j := 1; j < len(p); j++ {
				lps = append(lps, -0.5-0.1*float64(j))
			}
			lps = append(lps, -0.25) // the generated token
			choices = append(choices, map[string]any{"index": i, "text": "x", "logprobs": map[string]any{"token_logprobs": lps}})
			prompt += len(p)
		}
		json.NewEncoder(w).Encode(map[string]any{"choices": choices, "usage": map[string]int{"prompt_tokens": prompt, "completion_tokens": len(in.Prompt)}})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVLLM) provider(t *testing.T) *Provider {
	p, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: f.URL + "/v1", Model: "m", Endpoint: provider.EndpointCompletions}, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A 12-byte document with max_model_len 7 (window length 7-2 = 5) is scored
// in three windows sent in one call: BOS|t1..t5, t5|t6..t10 and
// t7..t10|t11 t12 — the last keeps a full context of 4 tokens.
// Windows 1 and 2 score positions 1..5: 5*-0.5 - 0.1*15 = -4.0 each; window 3
// scores positions 4 and 5 (after its 4 context tokens at 0..3):
// -1.0 - 0.1*9 = -1.9. Total -9.9 over 12 tokens.
func TestRollingWindowsOverHTTP(t *testing.T) {
	f := newFakeVLLM(t, true, true, 7)
	p := f.provider(t)
	doc := "abcdefghijkl"
	resp, err := p.Do(context.Background(), provider.Request{Type: provider.LoglikelihoodRolling, ItemID: "d", Prompt: doc, Window: &provider.Window{}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(resp.LogLikelihood-(-9.9)) > 1e-9 || resp.Tokens != 12 {
		t.Fatalf("got ll %v over %d tokens, want -9.9 over 12", resp.LogLikelihood, resp.Tokens)
	}
	tk := func(s string) []int {
		var out []int
		for _, b := range []byte(s) {
			out = append(out, int(b)+10)
		}
		return out
	}
	want := [][][]int{{
		append([]int{1}, tk("abcde")...),
		tk("efghij"),
		tk("ghijkl"),
	}}
	if !reflect.DeepEqual(f.completions, want) {
		t.Fatalf("completions calls %v, want one batched call %v", f.completions, want)
	}
	if resp.Usage.PromptTokens != 18 {
		t.Errorf("usage prompt tokens %d, want 18", resp.Usage.PromptTokens)
	}
	// Token perplexity as the harness's windows give it: exp(9.9/12).
	if got, want := math.Exp(-resp.LogLikelihood/float64(resp.Tokens)), math.Exp(9.9/12); math.Abs(got-want) > 1e-12 {
		t.Errorf("token perplexity %v, want %v", got, want)
	}
}

func TestRollingBatchesLongDocuments(t *testing.T) {
	f := newFakeVLLM(t, true, true, 3) // window length 1: one window per token
	p := f.provider(t)
	doc := strings.Repeat("z", rollingBatch+3)
	resp, err := p.Do(context.Background(), provider.Request{Type: provider.LoglikelihoodRolling, ItemID: "d", Prompt: doc, Window: &provider.Window{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.completions) != 2 || len(f.completions[0]) != rollingBatch || len(f.completions[1]) != 3 {
		t.Fatalf("calls of %d windows; want %d then 3", len(f.completions), rollingBatch)
	}
	// Every window scores one token at position 1: -0.6 each.
	if want := -0.6 * float64(len(doc)); math.Abs(resp.LogLikelihood-want) > 1e-9 {
		t.Fatalf("ll %v, want %v", resp.LogLikelihood, want)
	}
}

func TestRollingRefusedWithoutTokenize(t *testing.T) {
	f := newFakeVLLM(t, false, true, 7)
	p := f.provider(t)
	err := p.CheckRolling(context.Background(), provider.Window{})
	if !errors.Is(err, provider.ErrUnsupported) || !strings.Contains(err.Error(), "tokenize") || !strings.Contains(err.Error(), "vLLM") {
		t.Fatalf("CheckRolling = %v; want an unsupported error naming the tokenize route and vLLM", err)
	}
	_, err = p.Do(context.Background(), provider.Request{Type: provider.LoglikelihoodRolling, ItemID: "d", Prompt: "abc", Window: &provider.Window{}})
	if !errors.Is(err, provider.ErrUnsupported) {
		t.Fatalf("Do = %v; want unsupported", err)
	}
	if len(f.completions) != 0 {
		t.Fatalf("%d completions calls were sent; want none", len(f.completions))
	}
}

func TestRollingSetup(t *testing.T) {
	ctx := context.Background()
	seven := 7
	t.Run("no BOS needs prefix_token_id", func(t *testing.T) {
		f := newFakeVLLM(t, true, false, 7)
		p := f.provider(t)
		if err := p.CheckRolling(ctx, provider.Window{}); err == nil || !strings.Contains(err.Error(), "prefix_token_id") {
			t.Fatalf("CheckRolling = %v; want a hint to set prefix_token_id", err)
		}
		if err := p.CheckRolling(ctx, provider.Window{PrefixToken: &seven}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Do(ctx, provider.Request{Type: provider.LoglikelihoodRolling, Prompt: "ab", Window: &provider.Window{PrefixToken: &seven}}); err != nil {
			t.Fatal(err)
		}
		if got := f.completions[0][0][0]; got != 7 {
			t.Fatalf("first window conditions on %d, want the prefix token 7", got)
		}
	})
	t.Run("max_length over the server's", func(t *testing.T) {
		p := newFakeVLLM(t, true, true, 7).provider(t)
		if err := p.CheckRolling(ctx, provider.Window{MaxLength: 8}); err == nil || !strings.Contains(err.Error(), "max_length 8") {
			t.Fatalf("CheckRolling = %v; want max_length refused", err)
		}
	})
	t.Run("plan max_length shortens windows", func(t *testing.T) {
		f := newFakeVLLM(t, true, true, 100)
		p := f.provider(t)
		if _, err := p.Do(ctx, provider.Request{Type: provider.LoglikelihoodRolling, Prompt: "abcdefghijkl", Window: &provider.Window{MaxLength: 7}}); err != nil {
			t.Fatal(err)
		}
		if len(f.completions) != 1 || len(f.completions[0]) != 3 {
			t.Fatalf("calls %v; want one call of 3 windows", f.completions)
		}
	})
}

func TestRollingResponseRefusesMissingEcho(t *testing.T) {
	w := []provider.TokenWindow{{Context: []int{1}, Scored: []int{2, 3}}}
	for name, body := range map[string]string{
		"no logprobs":   `{"choices":[{"index":0,"text":"x"}]}`,
		"no echo":       `{"choices":[{"index":0,"logprobs":{"token_logprobs":[-0.1]}}]}`,
		"null logprob":  `{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,null,-0.1,-0.2]}}]}`,
		"wrong choices": `{"choices":[]}`,
		"overflow":      `{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,-1e308,-1e308]}}]}`,
	} {
		if _, _, perr := RollingResponse([]byte(body), w); perr == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzRollingResponse feeds arbitrary answers to the window scorer: it must
// never panic, and a sum it accepts is a finite log-likelihood (≤ 0).
func FuzzRollingResponse(f *testing.F) {
	f.Add([]byte(`{"choices":[{"index":0,"logprobs":{"token_logprobs":[null,-0.1,-0.2,-0.3]}}]}`), 1, 2)
	f.Add([]byte(`{"choices":[{"index":1,"logprobs":{"token_logprobs":[null]}},{"index":0}]}`), 0, 3)
	f.Fuzz(func(t *testing.T, body []byte, ctx, scored int) {
		if ctx < 0 || scored < 0 || ctx+scored > 64 {
			return
		}
		w := []provider.TokenWindow{{Context: make([]int, ctx), Scored: make([]int, scored)}}
		ll, _, perr := RollingResponse(body, w)
		if perr == nil && (math.IsNaN(ll) || math.IsInf(ll, 0) || ll > 0) {
			t.Fatalf("accepted ll %v", ll)
		}
	})
}
