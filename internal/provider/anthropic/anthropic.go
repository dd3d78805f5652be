// Package anthropic is tunecheck's provider for Anthropic's Messages API
// (POST /v1/messages, anthropic-version 2023-06-01). Each Do is one attempt:
// the runner owns the one retry layer. The API returns no logprobs, so
// loglikelihood requests fail with provider.ErrUnsupported.
//
// The HTTP and JSON are hand-written rather than the official anthropic-sdk-go:
// tunecheck sends text messages to one endpoint, while the SDK (with the
// OpenTelemetry, gjson and sjson modules it brings) added 2.8 MB of symbols to
// the binary (issue 15 caps the stripped binary at 40 MB). The request fields
// follow the Messages API reference; anthropic_test.go replays its answer and
// error shapes ({"type":"error","error":{"type","message"}}, 529 overloaded,
// retry-after) and a golden file pins the request body.
package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// DefaultMaxTokens is sent when a request sets none: the API requires max_tokens.
const DefaultMaxTokens = 1024

// APIVersion is the anthropic-version header every request carries.
const APIVersion = "2023-06-01"

// Provider talks to one Claude model; safe for concurrent use.
type Provider struct {
	http    *http.Client
	url     string
	model   string
	key     string
	timeout time.Duration
	now     func() time.Time
}

// New builds a provider from cfg; nil httpClient uses http.DefaultClient.
func New(cfg provider.Config, httpClient *http.Client) (*Provider, error) {
	if cfg.Model == "" {
		return nil, fmt.Errorf("anthropic provider: model is empty; set model: to a Claude model id such as claude-sonnet-4-5")
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := cfg.BaseURL
	if base == "" {
		base = provider.DefaultAnthropicBaseURL
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		// A non-streaming call may take minutes for a long answer; bound it
		// anyway, as the official SDKs do, so a stuck connection ends.
		timeout = 10 * time.Minute
	}
	return &Provider{
		http:    httpClient,
		url:     strings.TrimRight(base, "/") + "/v1/messages",
		model:   cfg.Model,
		key:     cfg.APIKey,
		timeout: timeout,
		now:     time.Now,
	}, nil
}

// Do makes exactly one attempt at req.
func (p *Provider) Do(ctx context.Context, req provider.Request) (provider.Response, error) {
	switch req.Type {
	case provider.Generate, "":
	case provider.Loglikelihood, provider.LoglikelihoodRolling:
		return provider.Response{}, provider.Unsupported("anthropic: the Messages API returns no logprobs, so %s cannot be scored; run multiple_choice and perplexity tasks on an openai-compatible server that returns echo logprobs (vLLM)", req.Type)
	default:
		return provider.Response{}, provider.Invalid("anthropic: unknown request type %q", req.Type)
	}
	params, err := Params(p.model, req)
	if err != nil {
		return provider.Response{}, err
	}
	ctx, cancel := provider.WithTimeout(ctx, p.timeout)
	defer cancel()
	body, perr := p.post(ctx, params)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, "anthropic messages", p.key)
	}
	resp, perr := Response(body)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, "anthropic messages", p.key)
	}
	return resp, nil
}

// post sends body to /v1/messages and returns a 2xx answer's body. A status of
// 400 or more is classified by its code, retry-after headers, x-should-retry
// and the {"error":{"type","message"}} body; no answer or a body cut short is
// a transport error.
func (p *Provider) post(ctx context.Context, body MessagesRequest) ([]byte, *provider.Error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, provider.Invalid("encoding the request: %v", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(buf))
	if err != nil {
		return nil, &provider.Error{Err: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "tunecheck")
	hreq.Header.Set("Anthropic-Version", APIVersion)
	if p.key != "" {
		hreq.Header.Set("X-Api-Key", p.key)
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return nil, provider.TransportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, provider.StatusError(resp.StatusCode, resp.Header, provider.ErrorMessage(data), p.now())
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, provider.TransportError(err)
	}
	return data, nil
}

// TextBlock is a text content block, the only kind tunecheck sends.
type TextBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Message is one turn of a Messages API request.
type Message struct {
	Role    string      `json:"role"`
	Content []TextBlock `json:"content"`
}

// MessagesRequest is the body of POST /v1/messages, with only the fields
// tunecheck sends; unset sampling parameters stay off the wire.
type MessagesRequest struct {
	Model         string      `json:"model"`
	MaxTokens     int         `json:"max_tokens"`
	Messages      []Message   `json:"messages"`
	System        []TextBlock `json:"system,omitempty"`
	Temperature   *float64    `json:"temperature,omitempty"`
	TopP          *float64    `json:"top_p,omitempty"`
	StopSequences []string    `json:"stop_sequences,omitempty"`
}

func text(role, s string) Message {
	return Message{Role: role, Content: []TextBlock{{Type: "text", Text: s}}}
}

// Params converts a request into a Messages API body. System messages (the
// request's System and any "system" turns) join the top-level system field,
// since the API has no system role; a request without Messages sends Prompt as
// the one user turn.
func Params(model string, req provider.Request) (MessagesRequest, error) {
	if req.Params.N > 1 {
		return MessagesRequest{}, provider.Unsupported("anthropic: the Messages API returns one answer per request; n=%d needs n: 1 (item %s)", req.Params.N, req.ItemID)
	}
	var system []string
	if req.System != "" {
		system = append(system, req.System)
	}
	msgs := make([]Message, 0, len(req.Messages)+1)
	for _, m := range req.Messages {
		switch m.Role {
		case "system", "developer":
			system = append(system, m.Content)
		case "assistant":
			msgs = append(msgs, text("assistant", m.Content))
		default:
			msgs = append(msgs, text("user", m.Content))
		}
	}
	if len(req.Messages) == 0 {
		msgs = append(msgs, text("user", req.Prompt))
	}
	if len(msgs) == 0 {
		return MessagesRequest{}, provider.Invalid("anthropic: item %s has only system messages; the API needs at least one user turn", req.ItemID)
	}
	g := req.Params
	maxTokens := g.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	out := MessagesRequest{Model: model, MaxTokens: maxTokens, Messages: msgs, Temperature: g.Temperature, TopP: g.TopP}
	if len(system) > 0 {
		out.System = []TextBlock{{Type: "text", Text: strings.Join(system, "\n\n")}}
	}
	if len(g.Stop) > 0 {
		out.StopSequences = g.Stop
	}
	return out, nil
}

type wireMessage struct {
	Model   string `json:"model"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StopReason string `json:"stop_reason"`
	Usage      struct {
		InputTokens              int `json:"input_tokens"`
		OutputTokens             int `json:"output_tokens"`
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	} `json:"usage"`
	Type string `json:"type"`
}

// Response converts a Messages API answer: the text blocks joined (thinking
// and tool blocks are not the answer), stop_reason as the finish reason, and
// input tokens counted with cache reads and writes, which are input too.
func Response(body []byte) (provider.Response, *provider.Error) {
	var m wireMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return provider.Response{}, provider.Malformed("message body (%d bytes): %v", len(body), err)
	}
	if m.Type != "message" {
		return provider.Response{}, provider.Malformed("expected a message object, got type %q", m.Type)
	}
	var text strings.Builder
	for _, c := range m.Content {
		if c.Type == "text" {
			text.WriteString(c.Text)
		}
	}
	return provider.Response{
		Text:         text.String(),
		FinishReason: m.StopReason,
		Model:        m.Model,
		Usage: provider.Usage{
			PromptTokens:     m.Usage.InputTokens + m.Usage.CacheCreationInputTokens + m.Usage.CacheReadInputTokens,
			CompletionTokens: m.Usage.OutputTokens,
		},
	}, nil
}

// Probe sends one tiny message. The Messages API has no completions, echo
// logprobs or tokenizer endpoint.
func (p *Provider) Probe(ctx context.Context) (provider.Capabilities, error) {
	caps := provider.Capabilities{Notes: []string{
		"completions, echo logprobs, tokenize: not offered by the Messages API (multiple_choice and perplexity tasks need an openai-compatible server)",
	}}
	t0 := time.Now()
	_, err := p.Do(ctx, provider.Request{Type: provider.Generate, ItemID: "probe", Messages: []provider.Message{{Role: "user", Content: "Say OK."}}, Params: provider.Params{MaxTokens: 1}})
	if err != nil {
		caps.Notes = append(caps.Notes, "chat: "+err.Error())
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Status == 0 && pe.Retryable {
			return caps, err
		}
		return caps, nil
	}
	caps.Chat = true
	caps.Latency = time.Since(t0)
	return caps, nil
}
