package registry

import (
	"context"
	"net/http"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// ProbeResult is what probing one configured model found.
type ProbeResult struct {
	Name         string                `json:"name"`
	Provider     string                `json:"provider"`
	BaseURL      string                `json:"base_url,omitempty"`
	Model        string                `json:"model,omitempty"`
	Capabilities provider.Capabilities `json:"capabilities"`
	// Error is set when the endpoint could not be built or reached.
	Error string `json:"error,omitempty"`
	// Unreachable is true when no request reached the server.
	Unreachable bool `json:"unreachable,omitempty"`
}

// Probe builds the provider for cfg and asks it what it can do.
func Probe(ctx context.Context, name string, cfg provider.Config, httpClient *http.Client) ProbeResult {
	r := ProbeResult{Name: name, Provider: string(cfg.Kind), BaseURL: cfg.BaseURL, Model: cfg.Model}
	if r.BaseURL == "" && cfg.Kind != provider.KindFile {
		r.BaseURL = provider.DefaultBaseURL(cfg.Kind)
	}
	if cfg.Kind == provider.KindFile {
		r.BaseURL = cfg.Path
	}
	p, err := New(cfg, httpClient)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	prober, ok := p.(provider.Prober)
	if !ok {
		r.Error = "this provider cannot be probed"
		return r
	}
	ctx, cancel := provider.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	caps, err := prober.Probe(ctx)
	r.Capabilities = caps
	switch {
	case err != nil:
		r.Error = err.Error()
		r.Unreachable = true
	case !caps.Chat && !caps.Completions:
		r.Error = "the server answered, but neither chat nor completions works (see the notes)"
	}
	return r
}
