// Package openai is tunecheck's provider for any OpenAI-compatible server —
// vLLM, llama.cpp server, Ollama /v1, TGI, SGLang and hosted APIs. Generate
// requests go to /chat/completions or /completions; loglikelihood requests go
// to /completions with echo=true and logprobs=1 and max_tokens=1, as
// lm-evaluation-harness's local-completions model sends them, and score the
// echoed prompt tokens that cover the continuation. Each Do is one attempt:
// the runner owns the one retry layer.
//
// The HTTP and JSON are hand-written rather than the official openai-go SDK:
// tunecheck uses two endpoints with a dozen fields between them, while the
// SDK's generated types for the whole API made up a fifth of the binary
// (7.8 MB of symbols; issue 15 caps the stripped binary at 40 MB). The request
// fields follow the API reference for chat completions and (legacy)
// completions; the httptest servers in openai_test.go replay the official
// answer and error shapes, and golden files pin every request body.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// Provider talks to one model on one OpenAI-compatible endpoint. It holds no
// per-request state and is safe for concurrent use.
type Provider struct {
	http     *http.Client
	baseURL  string
	model    string
	key      string
	endpoint string
	timeout  time.Duration
	now      func() time.Time
	// sleep waits between the echo check's attempts (tests replace it).
	sleep func(context.Context, time.Duration) error
	// completionTokens sends max_completion_tokens instead of max_tokens on
	// chat: api.openai.com rejects max_tokens for its reasoning models, while
	// self-hosted servers know max_tokens best.
	completionTokens bool
	// tok is what the endpoint's tokenize route is, found once (tokenize.go).
	tok tokenizer
	// extra is the config's extra_body as JSON object members, spliced
	// into every chat and completions body (extrabody.go).
	extra []byte
}

// New builds a provider from cfg. httpClient is shared by all providers of a
// run (connection pooling); nil uses http.DefaultClient.
func New(cfg provider.Config, httpClient *http.Client) (*Provider, error) {
	if cfg.Model == "" {
		return nil, fmt.Errorf("openai provider: model is empty; set model: to the id the server serves (GET %s/models lists them)", strings.TrimRight(baseOrDefault(cfg.BaseURL), "/"))
	}
	switch cfg.Endpoint {
	case "", provider.EndpointChat, provider.EndpointCompletions:
	default:
		return nil, fmt.Errorf("openai provider: endpoint %q is not chat or completions", cfg.Endpoint)
	}
	extra, err := extraBodyFragment(cfg.ExtraBody)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := strings.TrimRight(baseOrDefault(cfg.BaseURL), "/") + "/"
	ep := cfg.Endpoint
	if ep == "" {
		ep = provider.EndpointChat
	}
	return &Provider{
		completionTokens: strings.EqualFold(hostOf(base), "api.openai.com"),
		http:             httpClient,
		baseURL:          base,
		model:            cfg.Model,
		key:              cfg.APIKey,
		endpoint:         ep,
		timeout:          cfg.Timeout,
		now:              time.Now,
		sleep:            sleepCtx,
		extra:            extra,
	}, nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func baseOrDefault(b string) string {
	if b == "" {
		return provider.DefaultOpenAIBaseURL
	}
	return b
}

// Do makes exactly one attempt at req.
func (p *Provider) Do(ctx context.Context, req provider.Request) (provider.Response, error) {
	ctx, cancel := provider.WithTimeout(ctx, p.timeout)
	defer cancel()
	switch req.Type {
	case provider.Generate, "":
		if len(req.Messages) > 0 || p.endpoint == provider.EndpointChat {
			return p.doChat(ctx, req)
		}
		return p.doCompletion(ctx, req)
	case provider.Loglikelihood, provider.LoglikelihoodRolling:
		if req.Type == provider.LoglikelihoodRolling && req.Window != nil {
			return p.doRolling(ctx, req)
		}
		return p.doLoglikelihood(ctx, req)
	}
	return provider.Response{}, provider.Invalid("openai: unknown request type %q", req.Type)
}

func (p *Provider) doChat(ctx context.Context, req provider.Request) (provider.Response, error) {
	params := ChatParams(p.model, req)
	if p.completionTokens && params.MaxTokens > 0 {
		params.MaxCompletionTokens, params.MaxTokens = params.MaxTokens, 0
	}
	body, pe := p.post(ctx, "chat/completions", params)
	if pe != nil {
		return provider.Response{}, provider.Describe(pe, "openai chat completion", p.key)
	}
	resp, perr := ChatResponse(body)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, "openai chat completion", p.key)
	}
	return resp, nil
}

func (p *Provider) doCompletion(ctx context.Context, req provider.Request) (provider.Response, error) {
	if req.System != "" {
		// Silently dropping it would change what the model is asked.
		return provider.Response{}, provider.Invalid("openai: item %s has a system prompt, which the completions endpoint has no place for; put it in the prompt template or use endpoint: chat", req.ItemID)
	}
	body, pe := p.post(ctx, "completions", CompletionParams(p.model, req))
	if pe != nil {
		return provider.Response{}, provider.Describe(pe, "openai completion", p.key)
	}
	resp, perr := CompletionResponse(body)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, "openai completion", p.key)
	}
	return resp, nil
}

func (p *Provider) doLoglikelihood(ctx context.Context, req provider.Request) (provider.Response, error) {
	params, err := EchoParams(p.model, req)
	if err != nil {
		return provider.Response{}, err
	}
	body, pe := p.post(ctx, "completions", params)
	if pe != nil {
		// The server's own message decides, not ours: a 400 for a prompt
		// over the context length is not a refusal of echo.
		if (pe.Status == 400 || pe.Status == 422) && strings.Contains(strings.ToLower(pe.Err.Error()), "echo") {
			// llama-server answers "Only no echo is supported"; say what that means for scoring.
			return provider.Response{}, provider.Describe(provider.Unsupported("the server refused echo=true (HTTP %d: %v); %s", pe.Status, pe.Err, echoHelp), "openai loglikelihood", p.key)
		}
		return provider.Response{}, provider.Describe(pe, "openai loglikelihood (completions, echo=true)", p.key)
	}
	resp, perr := EchoResponse(body, req)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, "openai loglikelihood", p.key)
	}
	return resp, nil
}

// post sends one JSON request to base+path and returns the body of a 2xx
// answer. Failures come back classified, for the caller to Describe (which
// redacts the key): a status of 400 or more
// by its code, Retry-After and x-should-retry headers and the message in
// whatever error shape the server uses (OpenAI's {"error":{…}}, older vLLM's
// {"message":…}, a proxy's plain-text 502); no answer, or a body cut short, as
// a transport error.
// The config's extra_body goes into every body post sends (not to the
// tokenize routes, which are no model call).
func (p *Provider) post(ctx context.Context, path string, body any) ([]byte, *provider.Error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, provider.Invalid("encoding the request: %v", err)
	}
	return p.postURL(ctx, p.baseURL+path, json.RawMessage(withExtra(buf, p.extra)))
}

// postURL is post to a full URL (the /tokenize routes live at the server root).
func (p *Provider) postURL(ctx context.Context, url string, body any) ([]byte, *provider.Error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, provider.Invalid("encoding the request: %v", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(buf))
	if err != nil {
		return nil, &provider.Error{Err: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "tunecheck")
	if p.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+p.key)
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return nil, provider.TransportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, llamaCppError(provider.StatusError(resp.StatusCode, resp.Header, provider.ErrorMessage(data), p.now()))
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, provider.TransportError(err)
	}
	return data, nil
}
