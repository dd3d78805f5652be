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
// completion, one echo scoring call whose prompt logprobs are checked, and the
// /tokenize routes of vLLM and llama.cpp server. Latency is the fastest
// successful call. The error is non-nil only when the server could not be
// reached at all.
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
	if err := timed(func() error {
		_, err := p.doCompletion(ctx, provider.Request{Type: provider.Generate, ItemID: "probe", Prompt: "The capital of France is", Params: gen})
		return err
	}); err == nil {
		caps.Completions = true
	} else {
		caps.Notes = append(caps.Notes, "completions: "+err.Error())
	}
	if caps.Completions {
		err := timed(func() error {
			_, err := p.doLoglikelihood(ctx, provider.Request{Type: provider.Loglikelihood, ItemID: "probe", Prompt: "The capital of France is", Continuation: " Paris"})
			return err
		})
		if err == nil {
			caps.EchoLogprobs = true
		} else {
			caps.Notes = append(caps.Notes, "echo logprobs: "+err.Error())
		}
	} else {
		caps.Notes = append(caps.Notes, "echo logprobs: not tried (completions endpoint unavailable); multiple_choice and perplexity tasks need it")
	}
	if route, err := p.tokenize(ctx, "Hello world"); err == nil {
		caps.Tokenize = true
		caps.Notes = append(caps.Notes, "tokenize: "+route)
		reached = true
	}
	if !reached && lastTransport != nil {
		return caps, lastTransport
	}
	return caps, nil
}

// tokenize tries vLLM's POST /tokenize {"model","prompt"} and then llama.cpp
// server's POST /tokenize {"content"}; both live at the server root, beside /v1.
func (p *Provider) tokenize(ctx context.Context, text string) (string, error) {
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
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		if p.key != "" {
			req.Header.Set("Authorization", "Bearer "+p.key)
		}
		resp, err := p.http.Do(req)
		if err != nil {
			return "", provider.TransportError(err)
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		var out struct {
			Tokens []json.RawMessage `json:"tokens"`
		}
		if resp.StatusCode == http.StatusOK && json.Unmarshal(data, &out) == nil && len(out.Tokens) > 0 {
			return fmt.Sprintf("%s (%d tokens for %q)", b.name, len(out.Tokens), text), nil
		}
		last = fmt.Errorf("%s: HTTP %d", b.name, resp.StatusCode)
	}
	return "", last
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
			ID string `json:"id"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&list) != nil || len(list.Data) == 0 {
		return ""
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
