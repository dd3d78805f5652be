// Package openai is tunecheck's provider for any OpenAI-compatible server —
// vLLM, llama.cpp server, Ollama /v1, TGI, SGLang and hosted APIs — built on
// the official openai-go v3 SDK with its retries disabled (the runner owns the
// one retry layer). Generate requests go to /chat/completions or /completions;
// loglikelihood requests go to /completions with echo=true and logprobs=1 and
// max_tokens=1, as lm-evaluation-harness's local-completions model sends them,
// and score the echoed prompt tokens that cover the continuation.
package openai

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// Provider talks to one model on one OpenAI-compatible endpoint. It holds no
// per-request state and is safe for concurrent use.
type Provider struct {
	chat     sdk.ChatCompletionService
	comp     sdk.CompletionService
	http     *http.Client
	baseURL  string
	model    string
	key      string
	endpoint string
	timeout  time.Duration
	now      func() time.Time
	// completionTokens sends max_completion_tokens instead of max_tokens on
	// chat: api.openai.com rejects max_tokens for its reasoning models, while
	// self-hosted servers know max_tokens best.
	completionTokens bool
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
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := strings.TrimRight(baseOrDefault(cfg.BaseURL), "/") + "/"
	// Built from explicit options only: sdk.NewClient would read OPENAI_* variables,
	// and nothing below the CLI may read the environment.
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	ep := cfg.Endpoint
	if ep == "" {
		ep = provider.EndpointChat
	}
	return &Provider{
		completionTokens: strings.EqualFold(hostOf(base), "api.openai.com"),
		chat:             sdk.NewChatCompletionService(opts...),
		comp:             sdk.NewCompletionService(opts...),
		http:             httpClient,
		baseURL:          base,
		model:            cfg.Model,
		key:              cfg.APIKey,
		endpoint:         ep,
		timeout:          cfg.Timeout,
		now:              time.Now,
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
		return p.doLoglikelihood(ctx, req)
	}
	return provider.Response{}, provider.Invalid("openai: unknown request type %q", req.Type)
}

func (p *Provider) doChat(ctx context.Context, req provider.Request) (provider.Response, error) {
	params := ChatParams(p.model, req)
	if p.completionTokens && params.MaxTokens.Valid() {
		params.MaxCompletionTokens, params.MaxTokens = params.MaxTokens, sdk.ChatCompletionNewParams{}.MaxTokens
	}
	var raw *http.Response
	var body []byte
	_, err := p.chat.New(ctx, params, option.WithResponseInto(&raw), option.WithResponseBodyInto(&body))
	if err != nil {
		return provider.Response{}, p.fail("chat completion", raw, err)
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
	params := CompletionParams(p.model, req)
	var raw *http.Response
	var body []byte
	_, err := p.comp.New(ctx, params, option.WithResponseInto(&raw), option.WithResponseBodyInto(&body))
	if err != nil {
		return provider.Response{}, p.fail("completion", raw, err)
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
	var raw *http.Response
	var body []byte
	_, serr := p.comp.New(ctx, params, option.WithResponseInto(&raw), option.WithResponseBodyInto(&body))
	if serr != nil {
		err := p.fail("loglikelihood (completions, echo=true)", raw, serr)
		if pe, ok := err.(*provider.Error); ok && (pe.Status == 400 || pe.Status == 422) && strings.Contains(strings.ToLower(pe.Err.Error()), "echo") {
			// llama-server answers "Only no echo is supported"; say what that means for scoring.
			return provider.Response{}, provider.Describe(provider.Unsupported("the server refused echo=true (HTTP %d: %v); %s", pe.Status, pe.Err, echoHelp), "openai loglikelihood", p.key)
		}
		return provider.Response{}, err
	}
	resp, perr := EchoResponse(body, req)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, "openai loglikelihood", p.key)
	}
	return resp, nil
}

// fail classifies an SDK error. The SDK keeps the *http.Response (with its body
// restored) for status errors, which lets us classify even when the body is not
// the {"error": …} shape the SDK expects (older vLLM, proxies, plain-text 502s).
func (p *Provider) fail(what string, raw *http.Response, err error) error {
	var pe *provider.Error
	if raw != nil && raw.StatusCode >= 400 {
		var body []byte
		if raw.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(raw.Body, 64<<10))
		}
		pe = provider.StatusError(raw.StatusCode, raw.Header, provider.ErrorMessage(body), p.now())
	} else {
		pe = provider.TransportError(err)
	}
	return provider.Describe(pe, "openai "+what, p.key)
}
