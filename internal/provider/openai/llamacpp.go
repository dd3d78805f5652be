package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// What llama.cpp's llama-server does differently from vLLM, learnt from a
// real server (testdata/llamacpp holds its answers): it ignores echo and
// answers /v1/completions logprobs in the per-token list format; it answers
// every route with 503 "Loading model" until the model is loaded; it queues
// requests beyond its --parallel slots instead of refusing them; and two of
// its HTTP 500s are not passing faults but its configuration or the model's
// output, which the same request would meet again.

// llamaCppFinal are the messages of llama-server 500s that another attempt
// cannot cure, with what to do about each.
var llamaCppFinal = []struct{ msg, hint string }{
	{"this custom template is not supported",
		"llama-server was started without --jinja and cannot render the model's own chat template, so every chat request fails; restart it with --jinja (the default in recent builds), give it a template it knows with --chat-template, or set endpoint: completions for this model"},
	{"the model produced output that does not match the expected",
		"llama-server could not parse the model's reply into a chat message (with --jinja it parses every reply with the chat template's output format; output that is not valid UTF-8, as a small or byte-level model can produce, fails the parse); the same request fails again at temperature 0, so the item is not retried; set endpoint: completions for this model to get the raw text"},
}

// llamaCppError makes a llama-server error say what it means: the loading
// 503 stays retryable (the runner backs off and tries again) and names the
// cause; the deterministic 500s above become final, with their hint.
func llamaCppError(pe *provider.Error) *provider.Error {
	if pe == nil || pe.Status < 500 {
		return pe
	}
	msg := strings.ToLower(pe.Err.Error())
	if pe.Status == http.StatusServiceUnavailable && strings.Contains(msg, "loading model") {
		return &provider.Error{Status: pe.Status, Retryable: true, RetryAfter: pe.RetryAfter,
			Err: fmt.Errorf("%w (the server is still loading the model; retried with back-off)", pe.Err)}
	}
	if pe.Status != http.StatusInternalServerError {
		return pe
	}
	for _, f := range llamaCppFinal {
		if strings.Contains(msg, f.msg) {
			return &provider.Error{Status: pe.Status, Err: fmt.Errorf("%w; %s", pe.Err, f.hint)}
		}
	}
	return pe
}

// ServerInfo reads what a llama.cpp server says about itself: GET /props
// (context size per slot, slots, build, chat template), POST /apply-template
// (whether, and how, the chat template renders a user turn) and GET
// /lora-adapters (the adapters loaded, with the scale a request without
// `lora` gets). ok is false when the server is not llama.cpp (no /props of
// its shape); the probe then reports nothing about it.
func (p *Provider) ServerInfo(ctx context.Context) (info provider.ServerInfo, ok bool) {
	var props struct {
		TotalSlots int `json:"total_slots"`
		Defaults   struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
		ChatTemplate *string `json:"chat_template"`
		BuildInfo    string  `json:"build_info"`
		ModelPath    string  `json:"model_path"`
	}
	if p.getJSON(ctx, p.root()+"/props", &props) != nil || props.TotalSlots == 0 || props.ChatTemplate == nil {
		return info, false
	}
	info = provider.ServerInfo{Software: "llama.cpp", Build: props.BuildInfo, ContextSize: props.Defaults.NCtx, Slots: props.TotalSlots}
	switch {
	case *props.ChatTemplate == "":
		info.ChatTemplate = "none in the model"
	default:
		info.ChatTemplate = "the model's (GGUF metadata)"
	}
	msgs := map[string]any{"messages": []ChatMessage{{Role: "user", Content: "Say OK."}}}
	if data, pe := p.postURL(ctx, p.root()+"/apply-template", msgs); pe == nil {
		var out struct {
			Prompt string `json:"prompt"`
		}
		if json.Unmarshal(data, &out) == nil {
			info.ChatTemplateApplied = true
			info.ChatExample = out.Prompt
		}
	} else if pe.Status != 0 && pe.Status != http.StatusNotFound {
		info.ChatTemplateError = provider.Truncate(llamaCppError(pe).Error(), 400)
	}
	var adapters []struct {
		ID    int     `json:"id"`
		Path  string  `json:"path"`
		Scale float64 `json:"scale"`
	}
	if p.getJSON(ctx, p.root()+"/lora-adapters", &adapters) == nil {
		for _, a := range adapters {
			info.Adapters = append(info.Adapters, provider.Adapter{ID: a.ID, Name: path.Base(a.Path), DefaultScale: a.Scale})
		}
	}
	return info, true
}

// getJSON GETs url and decodes a 200 answer into v.
func (p *Provider) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if p.key != "" {
		req.Header.Set("Authorization", "Bearer "+p.key)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v)
}
