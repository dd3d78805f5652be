package openai

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// rollingBatch is how many windows of one document go in one /completions
// call: vLLM takes a list of token-id prompts and schedules them together,
// so a long document costs a few calls instead of one per window. The cap
// keeps one answer (each window echoes up to max_length logprobs) small.
const rollingBatch = 16

// RollingRequest is the body of a rolling-window scoring call: token-id
// prompts, echoed with their logprobs, as lm-evaluation-harness's
// local-completions sends loglikelihood requests (max_tokens 1, logprobs 1,
// temperature 0).
type RollingRequest struct {
	Model       string   `json:"model"`
	Prompt      [][]int  `json:"prompt"`
	Echo        bool     `json:"echo"`
	Logprobs    int      `json:"logprobs"`
	MaxTokens   int      `json:"max_tokens"`
	Temperature *float64 `json:"temperature"`
	Seed        *int64   `json:"seed,omitempty"`
}

// RollingParams builds the calls that score windows: one per rollingBatch
// windows, each prompt the window's context followed by its scored tokens.
func RollingParams(model string, seed *int64, windows []provider.TokenWindow) []RollingRequest {
	zero := 0.0
	var out []RollingRequest
	for chunk := range slices.Chunk(windows, rollingBatch) {
		r := RollingRequest{Model: model, Echo: true, Logprobs: 1, MaxTokens: 1, Temperature: &zero, Seed: seed}
		for _, w := range chunk {
			r.Prompt = append(r.Prompt, slices.Concat(w.Context, w.Scored))
		}
		out = append(out, r)
	}
	return out
}

// RollingResponse sums the logprobs of each window's scored tokens from one
// answer to a RollingRequest over windows: choice i (by index) echoes window
// i's tokens, the scored ones after len(Context) of them (the harness's
// token_logprobs[ctxlen:-1], the last being the generated token).
func RollingResponse(body []byte, windows []provider.TokenWindow) (ll float64, usage provider.Usage, perr *provider.Error) {
	var c struct {
		Choices []rollingChoice `json:"choices"`
		Usage   *wireUsage      `json:"usage"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return 0, usage, provider.Malformed("decoding the completion: %v", err)
	}
	if len(c.Choices) != len(windows) {
		return 0, usage, provider.Malformed("%d choices for %d token-id prompts", len(c.Choices), len(windows))
	}
	slices.SortFunc(c.Choices, func(a, b rollingChoice) int { return a.Index - b.Index })
	for i, ch := range c.Choices {
		w := windows[i]
		if ch.Logprobs == nil || len(ch.Logprobs.TokenLogprobs) == 0 {
			return 0, usage, provider.Unsupported("the answer has no logprobs (logprobs=1 was ignored); %s", echoHelp)
		}
		lp := ch.Logprobs.TokenLogprobs
		end := len(w.Context) + len(w.Scored)
		if len(lp) < end {
			return 0, usage, provider.Unsupported("logprobs cover %d tokens of a %d-token prompt (echo=true was ignored); %s", len(lp), end, echoHelp)
		}
		for j := len(w.Context); j < end; j++ {
			if lp[j] == nil {
				return 0, usage, provider.Unsupported("prompt token %d has a null logprob (prompt logprobs were not returned); %s", j, echoHelp)
			}
			if math.IsNaN(*lp[j]) || *lp[j] > 0 {
				return 0, usage, provider.Malformed("prompt token %d has logprob %v", j, *lp[j])
			}
			ll += *lp[j]
		}
	}
	if math.IsInf(ll, 0) {
		return 0, usage, provider.Malformed("the window log-likelihoods sum to %v", ll)
	}
	if c.Usage != nil {
		usage = provider.Usage{PromptTokens: c.Usage.PromptTokens, CompletionTokens: c.Usage.CompletionTokens}
	}
	return ll, usage, nil
}

// rollingChoice is one echoed prompt of a RollingRequest's answer; the
// logprobs keep their nulls (the first token has none).
type rollingChoice struct {
	Index    int `json:"index"`
	Logprobs *struct {
		TokenLogprobs []*float64 `json:"token_logprobs"`
	} `json:"logprobs"`
}

// doRolling scores req.Prompt over token windows: tokenize it with the
// server's own tokenizer, cut the windows, send them in batches, and sum.
func (p *Provider) doRolling(ctx context.Context, req provider.Request) (provider.Response, error) {
	const what = "openai rolling log-likelihood"
	if req.Prompt == "" {
		return provider.Response{}, provider.Invalid("openai loglikelihood_rolling: item %s has an empty text", req.ItemID)
	}
	prefix, seqLen, pe := p.rollingSetup(ctx, *req.Window)
	if pe != nil {
		return provider.Response{}, provider.Describe(pe, what, p.key)
	}
	toks, pe := p.tokens(ctx, req.Prompt)
	if pe != nil {
		return provider.Response{}, provider.Describe(pe, what+" (tokenize)", p.key)
	}
	if len(toks) == 0 {
		return provider.Response{}, provider.Describe(provider.Malformed("the tokenize route gave no tokens for a %d-byte text", len(req.Prompt)), what, p.key)
	}
	windows := provider.RollingWindows(toks, prefix, seqLen)
	resp := provider.Response{Tokens: len(toks)}
	for i, body := range RollingParams(p.model, req.Params.Seed, windows) {
		batch := windows[i*rollingBatch : min(len(windows), (i+1)*rollingBatch)]
		data, pe := p.post(ctx, "completions", body)
		if pe != nil {
			if (pe.Status == 400 || pe.Status == 422) && strings.Contains(strings.ToLower(pe.Err.Error()), "echo") {
				return provider.Response{}, provider.Describe(provider.Unsupported("the server refused echo=true (HTTP %d: %v); %s", pe.Status, pe.Err, echoHelp), what, p.key)
			}
			return provider.Response{}, provider.Describe(pe, what+" (completions, token-id prompts, echo=true)", p.key)
		}
		ll, u, perr := RollingResponse(data, batch)
		if perr != nil {
			return provider.Response{}, provider.Describe(perr, what, p.key)
		}
		resp.LogLikelihood += ll
		resp.Usage.PromptTokens += u.PromptTokens
		resp.Usage.CompletionTokens += u.CompletionTokens
	}
	return resp, nil
}
