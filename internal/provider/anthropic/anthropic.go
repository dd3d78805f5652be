// Package anthropic is tunecheck's provider for Anthropic's Messages API, built
// on the official anthropic-sdk-go with its retries disabled (the runner owns
// the one retry layer). The API returns no logprobs, so loglikelihood requests
// fail with provider.ErrUnsupported.
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// DefaultMaxTokens is sent when a request sets none: the API requires max_tokens.
const DefaultMaxTokens = 1024

// Provider talks to one Claude model; safe for concurrent use.
type Provider struct {
	msgs  sdk.MessageService
	model string
	key   string
	now   func() time.Time
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
		// An explicit timeout also stops the SDK from refusing large max_tokens
		// for non-streaming calls on its own estimate.
		timeout = 10 * time.Minute
	}
	// Explicit options only: sdk.NewClient reads ANTHROPIC_* variables and
	// profile files, and nothing below the CLI may read the environment.
	opts := []option.RequestOption{
		option.WithBaseURL(strings.TrimRight(base, "/") + "/"),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(timeout),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	return &Provider{msgs: sdk.NewMessageService(opts...), model: cfg.Model, key: cfg.APIKey, now: time.Now}, nil
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
	var raw *http.Response
	var body []byte
	_, serr := p.msgs.New(ctx, params, option.WithResponseInto(&raw), option.WithResponseBodyInto(&body))
	if serr != nil {
		var pe *provider.Error
		if raw != nil && raw.StatusCode >= 400 {
			var eb []byte
			if raw.Body != nil {
				eb, _ = io.ReadAll(io.LimitReader(raw.Body, 64<<10))
			}
			pe = provider.StatusError(raw.StatusCode, raw.Header, provider.ErrorMessage(eb), p.now())
		} else {
			pe = provider.TransportError(serr)
		}
		return provider.Response{}, provider.Describe(pe, "anthropic messages", p.key)
	}
	resp, perr := Response(body)
	if perr != nil {
		return provider.Response{}, provider.Describe(perr, "anthropic messages", p.key)
	}
	return resp, nil
}

// Params converts a request into a Messages API body. System messages (the
// request's System and any "system" turns) join the top-level system field,
// since the API has no system role; a request without Messages sends Prompt as
// the one user turn.
func Params(model string, req provider.Request) (sdk.MessageNewParams, error) {
	if req.Params.N > 1 {
		return sdk.MessageNewParams{}, provider.Unsupported("anthropic: the Messages API returns one answer per request; n=%d needs n: 1 (item %s)", req.Params.N, req.ItemID)
	}
	var system []string
	if req.System != "" {
		system = append(system, req.System)
	}
	msgs := make([]sdk.MessageParam, 0, len(req.Messages)+1)
	for _, m := range req.Messages {
		switch m.Role {
		case "system", "developer":
			system = append(system, m.Content)
		case "assistant":
			msgs = append(msgs, sdk.NewAssistantMessage(sdk.NewTextBlock(m.Content)))
		default:
			msgs = append(msgs, sdk.NewUserMessage(sdk.NewTextBlock(m.Content)))
		}
	}
	if len(req.Messages) == 0 {
		msgs = append(msgs, sdk.NewUserMessage(sdk.NewTextBlock(req.Prompt)))
	}
	if len(msgs) == 0 {
		return sdk.MessageNewParams{}, provider.Invalid("anthropic: item %s has only system messages; the API needs at least one user turn", req.ItemID)
	}
	g := req.Params
	maxTokens := g.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	out := sdk.MessageNewParams{Model: sdk.Model(model), MaxTokens: int64(maxTokens), Messages: msgs}
	if len(system) > 0 {
		out.System = []sdk.TextBlockParam{{Text: strings.Join(system, "\n\n")}}
	}
	if g.Temperature != nil {
		out.Temperature = sdk.Float(*g.Temperature)
	}
	if g.TopP != nil {
		out.TopP = sdk.Float(*g.TopP)
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
