// Package ollama is tunecheck's provider for Ollama's native API: /api/chat and
// /api/generate with stream:false, generation parameters in "options"
// (temperature, top_p, num_predict, stop, seed) and usage from
// prompt_eval_count / eval_count, as docs/api.md of ollama/ollama describes
// them. Plain net/http: Ollama publishes no official Go SDK outside its own
// module. The native API returns no prompt logprobs, so loglikelihood requests
// fail with provider.ErrUnsupported.
package ollama

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// Provider talks to one model on one Ollama server; safe for concurrent use.
type Provider struct {
	http     *http.Client
	base     string
	model    string
	key      string
	endpoint string
	timeout  time.Duration
	now      func() time.Time
}

// New builds a provider from cfg; nil httpClient uses http.DefaultClient.
// An API key, when given, is sent as a bearer token (Ollama behind a proxy, ollama.com).
func New(cfg provider.Config, httpClient *http.Client) (*Provider, error) {
	if cfg.Model == "" {
		return nil, fmt.Errorf("ollama provider: model is empty; set model: to a pulled model such as llama3.2 (ollama list shows them)")
	}
	switch cfg.Endpoint {
	case "", provider.EndpointChat, provider.EndpointCompletions:
	default:
		return nil, fmt.Errorf("ollama provider: endpoint %q is not chat or completions", cfg.Endpoint)
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := cfg.BaseURL
	if base == "" {
		base = provider.DefaultOllamaBaseURL
	}
	// Ollama's OpenAI-compatible base (".../v1") is a common copy-paste; the native API lives at the root.
	base = strings.TrimSuffix(strings.TrimRight(base, "/"), "/v1")
	ep := cfg.Endpoint
	if ep == "" {
		ep = provider.EndpointChat
	}
	return &Provider{http: httpClient, base: base, model: cfg.Model, key: cfg.APIKey, endpoint: ep, timeout: cfg.Timeout, now: time.Now}, nil
}

// Options is Ollama's "options" object, the parameters tunecheck sets.
type Options struct {
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	NumPredict  int      `json:"num_predict,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
}

// ChatRequest is the body of POST /api/chat.
type ChatRequest struct {
	Model    string             `json:"model"`
	Messages []provider.Message `json:"messages"`
	Stream   bool               `json:"stream"`
	Options  *Options           `json:"options,omitempty"`
}

// GenerateRequest is the body of POST /api/generate. Raw skips the model's
// prompt template: a completion prompt is already what the model should see.
type GenerateRequest struct {
	Model   string   `json:"model"`
	Prompt  string   `json:"prompt"`
	Raw     bool     `json:"raw"`
	Stream  bool     `json:"stream"`
	Options *Options `json:"options,omitempty"`
}

// answer is the shared shape of /api/chat and /api/generate replies.
type answer struct {
	Model   string `json:"model"`
	Message *struct {
		Content string `json:"content"`
	} `json:"message"`
	Response        *string `json:"response"`
	Done            bool    `json:"done"`
	DoneReason      string  `json:"done_reason"`
	PromptEvalCount int     `json:"prompt_eval_count"`
	EvalCount       int     `json:"eval_count"`
	Error           string  `json:"error"`
}

func options(p provider.Params) *Options {
	o := Options{Temperature: p.Temperature, TopP: p.TopP, NumPredict: p.MaxTokens, Stop: p.Stop, Seed: p.Seed}
	if o.Temperature == nil && o.TopP == nil && o.NumPredict == 0 && len(o.Stop) == 0 && o.Seed == nil {
		return nil
	}
	return &o
}

// Chat converts a request into an /api/chat body: System first, then Messages,
// or Prompt as the one user turn.
func Chat(model string, req provider.Request) ChatRequest {
	msgs := make([]provider.Message, 0, len(req.Messages)+2)
	if req.System != "" {
		msgs = append(msgs, provider.Message{Role: "system", Content: req.System})
	}
	msgs = append(msgs, req.Messages...)
	if len(req.Messages) == 0 {
		msgs = append(msgs, provider.Message{Role: "user", Content: req.Prompt})
	}
	return ChatRequest{Model: model, Messages: msgs, Options: options(req.Params)}
}

// Generate converts a request into a raw /api/generate body.
func Generate(model string, req provider.Request) GenerateRequest {
	return GenerateRequest{Model: model, Prompt: req.Prompt, Raw: true, Options: options(req.Params)}
}

// Do makes exactly one attempt at req.
func (p *Provider) Do(ctx context.Context, req provider.Request) (provider.Response, error) {
	switch req.Type {
	case provider.Generate, "":
	case provider.Loglikelihood, provider.LoglikelihoodRolling:
		return provider.Response{}, provider.Unsupported("ollama: the native API returns no prompt logprobs, so %s cannot be scored; serve the model with vLLM and use provider: openai", req.Type)
	default:
		return provider.Response{}, provider.Invalid("ollama: unknown request type %q", req.Type)
	}
	if req.Params.N > 1 {
		return provider.Response{}, provider.Unsupported("ollama: one answer per request; n=%d needs n: 1 (item %s)", req.Params.N, req.ItemID)
	}
	ctx, cancel := provider.WithTimeout(ctx, p.timeout)
	defer cancel()
	if len(req.Messages) > 0 || p.endpoint == provider.EndpointChat {
		return p.post(ctx, "/api/chat", Chat(p.model, req))
	}
	if req.System != "" {
		// A raw prompt skips the template, and with it the system prompt.
		return provider.Response{}, provider.Invalid("ollama: item %s has a system prompt, which a raw /api/generate prompt has no place for; put it in the prompt template or use endpoint: chat", req.ItemID)
	}
	return p.post(ctx, "/api/generate", Generate(p.model, req))
}

func (p *Provider) post(ctx context.Context, path string, body any) (provider.Response, error) {
	what := "ollama " + path
	buf, err := json.Marshal(body)
	if err != nil {
		return provider.Response{}, provider.Invalid("%s: encoding the request: %v", what, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+path, bytes.NewReader(buf))
	if err != nil {
		return provider.Response{}, provider.Describe(&provider.Error{Err: err}, what, p.key)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if p.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+p.key)
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return provider.Response{}, provider.Describe(provider.TransportError(err), what, p.key)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return provider.Response{}, provider.Describe(provider.TransportError(err), what, p.key)
	}
	if resp.StatusCode >= 400 {
		return provider.Response{}, provider.Describe(provider.StatusError(resp.StatusCode, resp.Header, provider.ErrorMessage(data), p.now()), what, p.key)
	}
	out, perr := Response(data)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, what, p.key)
	}
	return out, nil
}

// Response converts an /api/chat or /api/generate reply.
func Response(body []byte) (provider.Response, *provider.Error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return provider.Response{}, provider.Malformed("body (%d bytes): %v", len(body), err)
	}
	if a.Error != "" {
		return provider.Response{}, &provider.Error{Err: fmt.Errorf("%s", a.Error)}
	}
	if !a.Done {
		return provider.Response{}, provider.Malformed("done is false in a non-streaming reply")
	}
	r := provider.Response{
		FinishReason: a.DoneReason,
		Model:        a.Model,
		Usage:        provider.Usage{PromptTokens: a.PromptEvalCount, CompletionTokens: a.EvalCount},
	}
	switch {
	case a.Message != nil:
		r.Text = a.Message.Content
	case a.Response != nil:
		r.Text = *a.Response
	default:
		return provider.Response{}, provider.Malformed("neither message nor response in the reply")
	}
	return r, nil
}

// Probe checks the server answers /api/version, then tries one tiny chat and
// one tiny raw generate.
func (p *Provider) Probe(ctx context.Context) (provider.Capabilities, error) {
	caps := provider.Capabilities{}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/version", nil)
	if err != nil {
		return caps, err
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return caps, provider.Describe(provider.TransportError(err), "ollama /api/version", p.key)
	}
	var v struct {
		Version string `json:"version"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&v)
	resp.Body.Close()
	if v.Version != "" {
		caps.Notes = append(caps.Notes, "ollama version "+v.Version)
	}
	zero := 0.0
	gen := provider.Params{MaxTokens: 1, Temperature: &zero}
	t0 := time.Now()
	if _, err := p.post(ctx, "/api/chat", Chat(p.model, provider.Request{Messages: []provider.Message{{Role: "user", Content: "Say OK."}}, Params: gen})); err == nil {
		caps.Chat = true
		caps.Latency = time.Since(t0)
	} else {
		caps.Notes = append(caps.Notes, "chat: "+err.Error())
	}
	t0 = time.Now()
	if _, err := p.post(ctx, "/api/generate", Generate(p.model, provider.Request{Prompt: "The capital of France is", Params: gen})); err == nil {
		caps.Completions = true
		if d := time.Since(t0); caps.Latency == 0 || d < caps.Latency {
			caps.Latency = d
		}
	} else {
		caps.Notes = append(caps.Notes, "completions (/api/generate raw): "+err.Error())
	}
	caps.Notes = append(caps.Notes, "echo logprobs, tokenize: not offered by the native API (multiple_choice and perplexity tasks need vLLM)")
	return caps, nil
}
