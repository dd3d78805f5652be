package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// tokenizeHelp is the advice attached to every "no tokenize route" error.
const tokenizeHelp = "perplexity tasks score token windows and need the server's token ids: serve the model with vLLM " +
	"(POST /tokenize beside /v1, and prompt logprobs with echo); llama.cpp's llama-server has /tokenize but does not echo prompt logprobs"

// Tokenize routes: vLLM's POST /tokenize {"model","prompt","add_special_tokens"}
// answers {"tokens","count","max_model_len"}; llama.cpp server's POST
// /tokenize {"content","add_special"} answers {"tokens"}, and its GET /props
// holds the context length. Both live at the server root, beside /v1. TGI's
// /tokenize answers token objects and its completions do not echo prompt
// logprobs, so it is not tried.
const (
	routeVLLM  = "vLLM /tokenize"
	routeLlama = "llama.cpp /tokenize"
)

// tokenizer remembers, once found, which tokenize route the endpoint has and
// what it said about the model, so that each document costs one tokenize call.
type tokenizer struct {
	mu     sync.Mutex
	route  string
	maxLen int  // the server's max_model_len (vLLM) or n_ctx (llama.cpp); 0 unknown
	bos    *int // the token the empty string becomes with special tokens, when exactly one
	bosSet bool
}

func (p *Provider) root() string {
	return strings.TrimSuffix(strings.TrimRight(p.baseURL, "/"), "/v1")
}

// tokenRoute finds the endpoint's tokenize route, trying vLLM's body and then
// llama.cpp's, and remembers it. The error wraps ErrUnsupported when the
// server answered but has no route (a transport failure is returned as is).
func (p *Provider) tokenRoute(ctx context.Context) (string, *provider.Error) {
	p.tok.mu.Lock()
	defer p.tok.mu.Unlock()
	if p.tok.route != "" {
		return p.tok.route, nil
	}
	var tried []string
	for _, route := range []string{routeVLLM, routeLlama} {
		ids, maxLen, pe := p.tokenizeAt(ctx, route, "Hello world", false)
		if pe != nil {
			if pe.Status == 0 {
				return "", pe
			}
			tried = append(tried, fmt.Sprintf("%s: HTTP %d", route, pe.Status))
			continue
		}
		if len(ids) == 0 {
			tried = append(tried, route+": no tokens for \"Hello world\"")
			continue
		}
		p.tok.route, p.tok.maxLen = route, maxLen
		if route == routeLlama {
			p.tok.maxLen = p.llamaContext(ctx)
		}
		return route, nil
	}
	return "", provider.Unsupported("model %s at %s has no tokenize route (%s); %s", p.model, p.root(), strings.Join(tried, "; "), tokenizeHelp)
}

// tokenizeAt sends text to one tokenize route. special adds the tokenizer's
// special tokens (BOS), as lm-eval's add_bos_token would.
func (p *Provider) tokenizeAt(ctx context.Context, route, text string, special bool) ([]int, int, *provider.Error) {
	var body any
	if route == routeVLLM {
		body = map[string]any{"model": p.model, "prompt": text, "add_special_tokens": special}
	} else {
		body = map[string]any{"content": text, "add_special": special}
	}
	data, pe := p.postURL(ctx, p.root()+"/tokenize", body)
	if pe != nil {
		return nil, 0, pe
	}
	var out struct {
		Tokens      []int `json:"tokens"`
		MaxModelLen int   `json:"max_model_len"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, 0, provider.Malformed("%s answered %.80q, not {\"tokens\": [ids…]}: %v", route, data, err)
	}
	return out.Tokens, out.MaxModelLen, nil
}

// llamaContext reads llama.cpp server's context length from GET /props; 0
// when it cannot.
func (p *Provider) llamaContext(ctx context.Context) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.root()+"/props", nil)
	if err != nil {
		return 0
	}
	if p.key != "" {
		req.Header.Set("Authorization", "Bearer "+p.key)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var props struct {
		NCtx     int `json:"n_ctx"`
		Defaults struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&props) != nil {
		return 0
	}
	return max(props.NCtx, props.Defaults.NCtx)
}

// tokens tokenizes text without special tokens (lm-eval's tok_encode for
// API models with add_bos_token false).
func (p *Provider) tokens(ctx context.Context, text string) ([]int, *provider.Error) {
	route, pe := p.tokenRoute(ctx)
	if pe != nil {
		return nil, pe
	}
	ids, _, pe := p.tokenizeAt(ctx, route, text, false)
	return ids, pe
}

// rollingSetup resolves w against the server: the prefix token and the
// window length.
func (p *Provider) rollingSetup(ctx context.Context, w provider.Window) (prefix, seqLen int, pe *provider.Error) {
	route, pe := p.tokenRoute(ctx)
	if pe != nil {
		return 0, 0, pe
	}
	maxLen := w.MaxLength
	p.tok.mu.Lock()
	serverLen := p.tok.maxLen
	p.tok.mu.Unlock()
	if maxLen == 0 {
		maxLen = serverLen
	}
	if maxLen == 0 {
		return 0, 0, provider.Unsupported("model %s: %s does not say the model's context length; set the task's options.max_length (lm-eval's max_length, e.g. 2048)", p.model, route)
	}
	if serverLen > 0 && maxLen > serverLen {
		return 0, 0, provider.Invalid("model %s: options.max_length %d is over the server's context length %d; lower it to %d or less", p.model, maxLen, serverLen, serverLen)
	}
	seqLen, err := provider.SeqLen(maxLen)
	if err != nil {
		return 0, 0, provider.Invalid("model %s: %v", p.model, err)
	}
	if w.PrefixToken != nil {
		return *w.PrefixToken, seqLen, nil
	}
	bos, pe := p.bosToken(ctx, route)
	if pe != nil {
		return 0, 0, pe
	}
	return bos, seqLen, nil
}

// bosToken is the tokenizer's BOS: the one token the empty string becomes
// with special tokens. Tokenizers without a BOS (GPT-2, Qwen) give none, and
// lm-eval then conditions on EOS, which no tokenize route reports: the plan
// must say it.
func (p *Provider) bosToken(ctx context.Context, route string) (int, *provider.Error) {
	p.tok.mu.Lock()
	defer p.tok.mu.Unlock()
	if !p.tok.bosSet {
		ids, _, pe := p.tokenizeAt(ctx, route, "", true)
		if pe != nil {
			return 0, pe
		}
		p.tok.bosSet = true
		if len(ids) == 1 {
			b := ids[0]
			p.tok.bos = &b
		}
	}
	if p.tok.bos == nil {
		return 0, provider.Unsupported("model %s: its tokenizer adds no BOS token, so the first window has nothing to condition on; set the task's options.prefix_token_id to the EOS token id (lm-eval's custom_prefix_token_id)", p.model)
	}
	return *p.tok.bos, nil
}

// CheckRolling makes sure, before any scoring request, that rolling windows
// can be sent: the tokenize route answers, the context length is known and a
// prefix token found. It sends only tokenize (and props) requests.
func (p *Provider) CheckRolling(ctx context.Context, w provider.Window) error {
	if _, _, pe := p.rollingSetup(ctx, w); pe != nil {
		return provider.Describe(pe, "openai rolling log-likelihood", p.key)
	}
	return nil
}
