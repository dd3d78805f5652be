package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// The prompt CheckEcho scores: short, and tokenised into several tokens by
// every tokenizer, so that logprobs covering it are told from logprobs of
// one generated token.
const (
	echoCheckContext      = "The capital of France is"
	echoCheckContinuation = " Paris"
)

// CheckEcho sends one loglikelihood request (echo=true, logprobs=1,
// max_tokens=1) and reports whether the answer's logprobs cover the prompt.
// A server can refuse echo (HTTP 400/422) or ignore it: llama.cpp's
// llama-server answers with logprobs for the generated token only, in the
// per-token list format (logprobs.content). The error is non-nil only when
// the check itself failed (unreachable, 5xx, unknown model): then nothing
// is known about echo.
//
// A server that answers 503 or 429 (llama-server answers 503 "Loading
// model" on every route until its model is loaded) is asked again with
// back-off for up to echoCheckPatience: the check runs once before the
// run's first request, often right after the server was started.
func (p *Provider) CheckEcho(ctx context.Context) (provider.EchoCheck, error) {
	req := provider.Request{Type: provider.Loglikelihood, ItemID: "echo-check", Prompt: echoCheckContext, Continuation: echoCheckContinuation}
	params, err := EchoParams(p.model, req)
	if err != nil {
		return provider.EchoCheck{}, err
	}
	var body []byte
	var pe *provider.Error
	wait, waited := time.Second, time.Duration(0)
	for {
		actx, cancel := provider.WithTimeout(ctx, p.timeout)
		body, pe = p.post(actx, "completions", params)
		cancel()
		if pe == nil || (pe.Status != http.StatusServiceUnavailable && pe.Status != http.StatusTooManyRequests) || waited >= echoCheckPatience {
			break
		}
		d := max(wait, pe.RetryAfter)
		if err := p.sleep(ctx, d); err != nil {
			break // cancelled: report the last answer
		}
		waited += d
		wait = min(2*wait, 16*time.Second)
	}
	if pe != nil {
		msg := strings.ToLower(pe.Err.Error())
		if (pe.Status == 400 || pe.Status == 422) && (strings.Contains(msg, "echo") || strings.Contains(msg, "logprobs")) {
			return provider.EchoCheck{Behaviour: provider.EchoRefused, Detail: fmt.Sprintf("HTTP %d: %s", pe.Status, provider.Truncate(pe.Err.Error(), 300))}, nil
		}
		return provider.EchoCheck{}, provider.Describe(pe, "openai echo check (completions, echo=true)", p.key)
	}
	if _, perr := EchoResponse(body, req); perr != nil {
		if !errors.Is(perr, provider.ErrUnsupported) {
			return provider.EchoCheck{}, provider.Describe(perr, "openai echo check", p.key)
		}
		detail := perr.Err.Error()
		if perContentFormat(body) {
			detail = EchoIgnoredNote + ": logprobs came back in the per-token list format (logprobs.content) for the generated token only, as llama.cpp's llama-server answers"
		}
		return provider.EchoCheck{Behaviour: provider.EchoIgnored, Detail: detail}, nil
	}
	return provider.EchoCheck{Supported: true}, nil
}

// EchoIgnoredNote is how probe and the echo check name a server that
// answers echo=true with logprobs of the generated tokens only.
const EchoIgnoredNote = "server ignores echo=true; prompt logprobs unavailable"

// echoCheckPatience is how long CheckEcho keeps asking a server that
// answers 503 or 429: long enough for llama-server or vLLM to load a
// model of tens of gigabytes from local disk.
const echoCheckPatience = 3 * time.Minute

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// perContentFormat reports whether a completion's logprobs are the chat-style
// list {"content": [{token, logprob, …}]} rather than the legacy arrays.
func perContentFormat(body []byte) bool {
	var c struct {
		Choices []struct {
			Logprobs struct {
				Content []json.RawMessage `json:"content"`
			} `json:"logprobs"`
		} `json:"choices"`
	}
	return json.Unmarshal(body, &c) == nil && len(c.Choices) > 0 && len(c.Choices[0].Logprobs.Content) > 0
}

// batchRequest is a /completions body with a list of prompts: the API
// takes `prompt` as an array, and vLLM schedules the prompts together, so
// with prefix caching the context they share is computed once.
type batchRequest struct {
	CompletionRequest
	Prompt []string `json:"prompt"`
}

// LoglikelihoodBatch scores loglikelihood requests in one /completions call
// (echo=true, one prompt per request), as the choices of one
// multiple-choice item share their context. Each answer is scored exactly
// as Do scores it alone. An error fails the whole batch; the caller may
// send the requests one by one instead.
func (p *Provider) LoglikelihoodBatch(ctx context.Context, reqs []provider.Request) ([]provider.Response, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	ctx, cancel := provider.WithTimeout(ctx, p.timeout)
	defer cancel()
	var body batchRequest
	for i, r := range reqs {
		if r.Type != provider.Loglikelihood {
			return nil, provider.Invalid("openai loglikelihood batch: request %s is %s", r.ItemID, r.Type)
		}
		one, err := EchoParams(p.model, r)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			body.CompletionRequest = one
		}
		body.Prompt = append(body.Prompt, one.Prompt)
	}
	data, pe := p.post(ctx, "completions", body)
	if pe != nil {
		return nil, provider.Describe(pe, "openai loglikelihood batch (completions, echo=true)", p.key)
	}
	var c wireCompletion
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, provider.Describe(provider.Malformed("completion body (%d bytes): %v", len(data), err), "openai loglikelihood batch", p.key)
	}
	if len(c.Choices) != len(reqs) {
		return nil, provider.Describe(provider.Malformed("%d choices for %d prompts", len(c.Choices), len(reqs)), "openai loglikelihood batch", p.key)
	}
	slices.SortStableFunc(c.Choices, func(a, b wireCompletionChoice) int { return a.Index - b.Index })
	// One generated token per prompt (max_tokens=1), unless the usage says
	// otherwise in a way that cannot be split evenly.
	gen := 1
	if c.Usage != nil {
		if c.Usage.CompletionTokens%len(reqs) != 0 {
			return nil, provider.Describe(provider.Malformed("%d completion tokens for %d prompts cannot be attributed", c.Usage.CompletionTokens, len(reqs)), "openai loglikelihood batch", p.key)
		}
		gen = c.Usage.CompletionTokens / len(reqs)
	}
	out := make([]provider.Response, len(reqs))
	prompts := 0
	for i, ch := range c.Choices {
		if ch.Index != i {
			return nil, provider.Describe(provider.Malformed("choice indexes are not 0…%d", len(reqs)-1), "openai loglikelihood batch", p.key)
		}
		if ch.Logprobs == nil {
			return nil, provider.Describe(provider.Unsupported("the answer has no logprobs (logprobs=1 was ignored); %s", echoHelp), "openai loglikelihood batch", p.key)
		}
		r := reqs[i]
		s, perr := ScoreEcho(ch.Logprobs.EchoLogprobs, r.Prompt+r.Continuation, r.Continuation, gen, false)
		if perr != nil {
			return nil, provider.Describe(perr, "openai loglikelihood batch", p.key)
		}
		prompts += s.PromptTokens
		out[i] = provider.Response{LogLikelihood: s.LogLikelihood, IsGreedy: s.IsGreedy, Tokens: s.Tokens, FinishReason: ch.FinishReason, Model: c.Model,
			Usage: provider.Usage{PromptTokens: s.PromptTokens, CompletionTokens: gen}}
	}
	if c.Usage != nil && c.Usage.PromptTokens > 0 && prompts < c.Usage.PromptTokens {
		return nil, provider.Describe(provider.Unsupported("logprobs cover %d of the %d prompt tokens; %s", prompts, c.Usage.PromptTokens, echoHelp), "openai loglikelihood batch", p.key)
	}
	return out, nil
}
