package openai

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

// Probe finds out what the endpoint can do: one tiny chat call, one tiny
// completion with logprobs (whose format it names), the echo check (one
// scoring call whose prompt logprobs are checked: returned, ignored or
// refused), the /tokenize routes of vLLM and llama.cpp server, and what a
// llama.cpp server says about itself (GET /props, /apply-template,
// /lora-adapters, and a repeated completion for its prompt cache). Latency
// is the fastest successful call. The error is non-nil only when the server
// could not be reached at all.
func (p *Provider) Probe(ctx context.Context) (provider.Capabilities, error) {
	var caps provider.Capabilities
	var lastTransport error
	reached := false
	timed := func(f func() error) error {
		t0 := time.Now()
		err := f()
		if err == nil {
			if d := time.Since(t0); caps.Latency == 0 || d < caps.Latency {
				caps.Latency = d
			}
		}
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Status == 0 && !errors.Is(err, provider.ErrUnsupported) && pe.Retryable {
			lastTransport = err
		} else {
			reached = true
		}
		return err
	}
	if note := p.checkModel(ctx); note != "" {
		caps.Notes = append(caps.Notes, note)
	}
	one := 1
	zero := 0.0
	gen := provider.Params{MaxTokens: one, Temperature: &zero}

	if err := timed(func() error {
		_, err := p.doChat(ctx, provider.Request{Type: provider.Generate, ItemID: "probe", Messages: []provider.Message{{Role: "user", Content: "Say OK."}}, Params: gen})
		return err
	}); err == nil {
		caps.Chat = true
	} else {
		caps.Notes = append(caps.Notes, "chat: "+err.Error())
	}
	var first []byte
	if err := timed(func() error {
		var err error
		first, err = p.probeCompletion(ctx)
		return err
	}); err == nil {
		caps.Completions = true
		caps.LogprobFormat = LogprobFormat(first)
	} else {
		caps.Notes = append(caps.Notes, "completions: "+err.Error())
	}
	if caps.Completions {
		var chk provider.EchoCheck
		err := timed(func() error {
			var err error
			chk, err = p.CheckEcho(ctx)
			return err
		})
		switch {
		case err != nil:
			caps.Notes = append(caps.Notes, "echo logprobs: "+err.Error())
		case chk.Supported:
			caps.EchoLogprobs = true
			caps.Echo = provider.EchoReturned
		default:
			caps.Echo = chk.Behaviour
			detail := chk.Detail
			if chk.Behaviour == provider.EchoIgnored && !strings.HasPrefix(detail, EchoIgnoredNote) {
				detail = EchoIgnoredNote + ": " + detail
			}
			if !strings.Contains(detail, "vLLM") {
				detail += "; multiple_choice (loglikelihood), crows_pairs, bbq and perplexity tasks need prompt logprobs: serve the model with vLLM for them"
			}
			caps.Notes = append(caps.Notes, "echo logprobs: "+detail)
		}
	} else {
		caps.Notes = append(caps.Notes, "echo logprobs: not tried (completions endpoint unavailable); multiple_choice and perplexity tasks need it")
	}
	if route, n, err := p.tokenize(ctx, "Hello world"); err == nil {
		caps.Tokenize = true
		caps.TokenizeRoute = route
		caps.Notes = append(caps.Notes, fmt.Sprintf("tokenize: %s (%d tokens for %q)", route, n, "Hello world"))
		reached = true
	}
	if info, ok := p.ServerInfo(ctx); ok {
		reached = true
		if caps.Completions {
			info.PromptCache = p.probePromptCache(ctx, first)
		}
		caps.Server = &info
	}
	if !reached && lastTransport != nil {
		return caps, lastTransport
	}
	return caps, nil
}

// probePrompt is the completion probe sends, twice on a llama.cpp server.
const probePrompt = "The capital of France is"

// probeCompletion sends a two-token completion with logprobs=1 and returns
// its body, checked by CompletionResponse (a logprobs shape it cannot read
// fails the probe's completions line).
func (p *Provider) probeCompletion(ctx context.Context) ([]byte, error) {
	zero := 0.0
	req := provider.Request{Type: provider.Generate, ItemID: "probe", Prompt: probePrompt, Params: provider.Params{MaxTokens: 2, Temperature: &zero, Logprobs: 1}}
	body, pe := p.post(ctx, "completions", CompletionParams(p.model, req))
	if pe != nil {
		return nil, provider.Describe(pe, "openai completion", p.key)
	}
	if _, perr := CompletionResponse(body); perr != nil {
		return nil, provider.Describe(perr, "openai completion", p.key)
	}
	return body, nil
}

// probePromptCache repeats the probe completion and says whether the repeat
// reused cached prompt tokens and whether its logprobs matched the first
// answer's. On llama-server a request whose prompt is partly in a slot's
// cache computes the rest in a smaller batch, and the logprobs move in the
// last digits: at temperature 0 the first answer can differ from repeats
// unless cache_prompt is false (docs/providers.md).
func (p *Provider) probePromptCache(ctx context.Context, first []byte) string {
	second, err := p.probeCompletion(ctx)
	if err != nil {
		return "not checked: " + err.Error()
	}
	var u struct {
		Usage struct {
			Details struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	json.Unmarshal(second, &u)
	a, _ := CompletionResponse(first)
	b, _ := CompletionResponse(second)
	same := len(a.Logprobs) == len(b.Logprobs) && len(a.Logprobs) > 0
	for i := range a.Logprobs {
		if same && a.Logprobs[i].Logprob != b.Logprobs[i].Logprob {
			same = false
		}
	}
	const fix = "set extra_body: {cache_prompt: false} on the model for repeatable logprobs"
	cached := u.Usage.Details.CachedTokens
	switch {
	case cached == 0:
		return "a repeated request reused no cached prompt tokens (cache_prompt off)"
	case !same:
		return fmt.Sprintf("on: a repeated request reused %d cached prompt tokens and its logprobs differed from the first answer's; %s", cached, fix)
	}
	return fmt.Sprintf("on: a repeated request reused %d cached prompt tokens (its logprobs matched this time, but a first answer's can differ from repeats); %s", cached, fix)
}

// tokenize tries vLLM's POST /tokenize {"model","prompt"} and then llama.cpp
// server's POST /tokenize {"content"}; both live at the server root, beside /v1.
func (p *Provider) tokenize(ctx context.Context, text string) (route string, n int, err error) {
	root := strings.TrimSuffix(strings.TrimRight(p.baseURL, "/"), "/v1")
	bodies := []struct {
		name string
		body map[string]any
	}{
		{"vLLM /tokenize", map[string]any{"model": p.model, "prompt": text}},
		{"llama.cpp /tokenize", map[string]any{"content": text}},
	}
	var last error
	for _, b := range bodies {
		buf, _ := json.Marshal(b.body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, root+"/tokenize", bytes.NewReader(buf))
		if err != nil {
			return "", 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		if p.key != "" {
			req.Header.Set("Authorization", "Bearer "+p.key)
		}
		resp, err := p.http.Do(req)
		if err != nil {
			return "", 0, provider.TransportError(err)
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		var out struct {
			Tokens []json.RawMessage `json:"tokens"`
		}
		if resp.StatusCode == http.StatusOK && json.Unmarshal(data, &out) == nil && len(out.Tokens) > 0 {
			return b.name, len(out.Tokens), nil
		}
		last = fmt.Errorf("%s: HTTP %d", b.name, resp.StatusCode)
	}
	return "", 0, last
}

// checkModel asks GET /models whether the configured model is served, so a
// typo shows as "not served; the server has …" instead of four 404s. Servers
// without the route are not an error.
func (p *Provider) checkModel(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL+"models", nil)
	if err != nil {
		return ""
	}
	if p.key != "" {
		req.Header.Set("Authorization", "Bearer "+p.key)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&list) != nil || len(list.Data) == 0 {
		return ""
	}
	if len(list.Data) == 1 && list.Data[0].OwnedBy == "llamacpp" && list.Data[0].ID != p.model {
		// llama-server with one model (-m) answers whatever model a request names.
		return fmt.Sprintf("model: llama.cpp serves the one model %s whatever a request names; %q is only a label here", list.Data[0].ID, p.model)
	}
	ids := make([]string, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID == p.model {
			return ""
		}
		ids = append(ids, m.ID)
	}
	if len(ids) > 10 {
		ids = append(ids[:10], fmt.Sprintf("… %d more", len(list.Data)-10))
	}
	return fmt.Sprintf("model %q is not among the served models: %s", p.model, strings.Join(ids, ", "))
}
