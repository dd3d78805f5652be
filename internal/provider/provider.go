// Package provider defines what a model endpoint is asked and what it answers:
// the plain Request and Response values that flow through the pipeline, and the
// Provider interface that the openai, anthropic, ollama and file packages implement.
//
// Retrying is not a provider's job: the runner owns the one retry layer, so
// implementations make exactly one attempt per Do call and report failures as
// *Error, saying whether a retry can help and what the server asked for in Retry-After.
// The classification rules (status codes, Retry-After / retry-after-ms, transport
// failures, key redaction) live in classify.go and are shared by every
// implementation; Config and CacheNamespace (config.go) describe an endpoint
// without its key. Constructing a Provider from a Config is the registry
// subpackage's job, since it imports every implementation.
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind names a provider implementation.
type Kind string

// The provider kinds tunecheck ships.
const (
	KindOpenAI    Kind = "openai"
	KindAnthropic Kind = "anthropic"
	KindOllama    Kind = "ollama"
	KindFile      Kind = "file"
)

// RequestType says what a request asks of the model.
type RequestType string

const (
	// Generate asks for generated text (chat when Messages is set, completion otherwise).
	Generate RequestType = "generate"
	// Loglikelihood asks for log P(Continuation | Prompt), scored through echoed prompt logprobs.
	Loglikelihood RequestType = "loglikelihood"
	// LoglikelihoodRolling asks for the total log-likelihood of Prompt itself (perplexity).
	LoglikelihoodRolling RequestType = "loglikelihood_rolling"
	// Classify asks a safety classifier to score a model's output: Messages
	// hold the user's prompt and the assistant's answer (internal/provider/classifier).
	Classify RequestType = "classify"
)

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Params are the generation parameters. Pointers distinguish "unset" (server default)
// from an explicit zero; the zero Params sends nothing.
type Params struct {
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	N           int      `json:"n,omitempty"`
	// Logprobs asks for the top-N logprobs of generated tokens (0: none).
	Logprobs int `json:"logprobs,omitempty"`
}

// Request is one call to a model. Its canonical JSON (encoding/json of this struct,
// which has a fixed field order) is what the response cache hashes, together with
// the provider kind, endpoint and model; base and candidate models receive the
// same Request value for the same item.
type Request struct {
	Type     RequestType `json:"type"`
	ItemID   string      `json:"item_id"`
	System   string      `json:"system,omitempty"`
	Messages []Message   `json:"messages,omitempty"`
	// Prompt is the completion prompt (Messages empty), or the context for Loglikelihood.
	Prompt string `json:"prompt,omitempty"`
	// Continuation is the text whose likelihood is scored (Loglikelihood only).
	Continuation string `json:"continuation,omitempty"`
	Params       Params `json:"params"`
	// Window makes a LoglikelihoodRolling request score token windows as
	// lm-evaluation-harness's loglikelihood_rolling does (rolling.go); nil
	// scores the echoed prompt in one call, its first token unscored.
	Window *Window `json:"window,omitempty"`
}

// Asked is what a request asks, as a person reads it: its last user
// message, else its prompt, else its last message of any role.
func (r Request) Asked() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	if r.Prompt != "" || len(r.Messages) == 0 {
		return r.Prompt
	}
	return r.Messages[len(r.Messages)-1].Content
}

// Usage counts tokens as the server reported them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Response is a model's answer to one Request.
type Response struct {
	// Text is the first (or only) generated text.
	Text string `json:"text,omitempty"`
	// Texts holds all n choices when Params.N > 1 (Texts[0] == Text).
	Texts        []string `json:"texts,omitempty"`
	FinishReason string   `json:"finish_reason,omitempty"`
	// LogLikelihood is the summed logprob of the continuation tokens (or of the whole
	// prompt for LoglikelihoodRolling), in nats.
	LogLikelihood float64 `json:"loglikelihood,omitempty"`
	// IsGreedy reports whether every continuation token was the argmax token.
	IsGreedy bool `json:"is_greedy,omitempty"`
	// Tokens is the number of tokens scored (continuation or rolling prompt).
	Tokens int   `json:"tokens,omitempty"`
	Usage  Usage `json:"usage"`
	// Model is the model name the server says answered.
	Model string `json:"model,omitempty"`
	// LatencyMS is how long the answer took, set by the runner. A response
	// served from the cache keeps the latency measured when it was made, so
	// a re-run from cache reports the same latencies.
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// Logprobs are the first choice's generated tokens with their logprobs, when
	// Params.Logprobs > 0 and the server returned them.
	Logprobs []TokenLogprob `json:"logprobs,omitempty"`
	// Scores are a classifier's scores by category or attribute, in [0, 1]
	// (Classify requests; Text then holds the flagged categories).
	Scores map[string]float64 `json:"scores,omitempty"`
}

// TokenLogprob is one generated token and its log-probability (nats).
type TokenLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	// Top are the most likely tokens at this position with their logprobs
	// (the server's top_logprobs, Params.Logprobs of them), when returned.
	Top []TokenLogprob `json:"top,omitempty"`
}

// Provider executes requests against one model endpoint. Do makes one attempt.
type Provider interface {
	Do(ctx context.Context, req Request) (Response, error)
}

// RollingChecker is implemented by providers that can score token windows
// (Request.Window). CheckRolling finds out, before any scoring request,
// whether the endpoint can: a tokenize route, a prefix token and a context
// length. A nil error means the requests can be sent.
type RollingChecker interface {
	CheckRolling(ctx context.Context, w Window) error
}

// Capabilities are what a probe found an endpoint can do.
type Capabilities struct {
	Chat         bool `json:"chat"`
	Completions  bool `json:"completions"`
	EchoLogprobs bool `json:"echo_logprobs"`
	// Echo is what the server did with echo=true: returned (prompt
	// logprobs came back), ignored or refused (EchoIgnored, EchoRefused);
	// empty when not tried.
	Echo string `json:"echo,omitempty"`
	// LogprobFormat is the shape of generated tokens' logprobs on
	// /completions: "legacy" (token_logprobs arrays) or "per-token list"
	// (content, as llama-server answers); empty when none came back.
	LogprobFormat string `json:"logprob_format,omitempty"`
	Tokenize      bool   `json:"tokenize"`
	// TokenizeRoute names the tokenize route found ("vLLM /tokenize",
	// "llama.cpp /tokenize").
	TokenizeRoute string        `json:"tokenize_route,omitempty"`
	Latency       time.Duration `json:"latency_ns"`
	// Server is what the server says about itself, when it says (llama.cpp).
	Server *ServerInfo `json:"server,omitempty"`
	Notes  []string    `json:"notes,omitempty"`
}

// EchoReturned is Capabilities.Echo for a server that returned prompt logprobs.
const EchoReturned = "returned"

// ServerInfo is what a server reports about itself beyond the OpenAI API.
type ServerInfo struct {
	// Software is the server, e.g. "llama.cpp".
	Software string `json:"software"`
	Build    string `json:"build,omitempty"`
	// ContextSize is the context length of one slot (llama.cpp n_ctx).
	ContextSize int `json:"n_ctx,omitempty"`
	// Slots is how many requests are computed at once (llama.cpp
	// total_slots, --parallel); more are queued, not refused.
	Slots int `json:"total_slots,omitempty"`
	// ChatTemplate is where the chat template comes from.
	ChatTemplate string `json:"chat_template,omitempty"`
	// ChatTemplateApplied is true when the server renders chat requests
	// with it (llama.cpp: a template it supports, or any with --jinja).
	ChatTemplateApplied bool `json:"chat_template_applied"`
	// ChatExample is one user turn "Say OK." as the server renders it.
	ChatExample string `json:"chat_example,omitempty"`
	// ChatTemplateError is why rendering failed, when it did.
	ChatTemplateError string `json:"chat_template_error,omitempty"`
	// Adapters are the LoRA adapters loaded.
	Adapters []Adapter `json:"lora_adapters,omitempty"`
	// PromptCache is what a repeated request showed about the prompt cache.
	PromptCache string `json:"prompt_cache,omitempty"`
}

// Adapter is one LoRA adapter a server has loaded.
type Adapter struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	// DefaultScale is the scale a request that names no adapters gets.
	DefaultScale float64 `json:"default_scale"`
}

// Prober is implemented by providers that can discover their capabilities.
type Prober interface {
	Probe(ctx context.Context) (Capabilities, error)
}

// Error is a failed attempt, classified for the runner's retry layer.
type Error struct {
	// Status is the HTTP status code, 0 for transport failures.
	Status int
	// Retryable is true for 429, 5xx, timeouts, connection resets and truncated bodies.
	Retryable bool
	// RetryAfter is the server's Retry-After, 0 when absent.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("HTTP %d: %v", e.Status, e.Err)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth another attempt.
func IsRetryable(err error) bool {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Retryable
	}
	return false
}

// RetryAfter returns the server-requested delay carried by err, or 0.
func RetryAfter(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

// ErrUnsupported is wrapped by a provider asked for a request type it cannot serve
// (for example Loglikelihood on an endpoint without echo logprobs).
var ErrUnsupported = errors.New("unsupported by this endpoint")
