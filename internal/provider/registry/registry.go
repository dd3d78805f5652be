// Package registry builds a provider.Provider from a provider.Config through an
// explicit kind→constructor map, and turns a plan's model entry into that
// Config. It lives beside the provider packages rather than in package provider
// itself because it imports every implementation, and they import provider.
package registry

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/anthropic"
	"github.com/tunecheck/tunecheck/internal/provider/file"
	"github.com/tunecheck/tunecheck/internal/provider/ollama"
	"github.com/tunecheck/tunecheck/internal/provider/openai"
)

// DefaultTimeout bounds one attempt when the plan sets none.
const DefaultTimeout = 120 * time.Second

// Constructor builds one provider kind.
type Constructor func(cfg provider.Config, httpClient *http.Client) (provider.Provider, error)

// Constructors is the registry: every kind tunecheck ships, by name.
func Constructors() map[provider.Kind]Constructor {
	return map[provider.Kind]Constructor{
		provider.KindOpenAI: func(c provider.Config, h *http.Client) (provider.Provider, error) {
			return openai.New(c, h)
		},
		provider.KindAnthropic: func(c provider.Config, h *http.Client) (provider.Provider, error) {
			return anthropic.New(c, h)
		},
		provider.KindOllama: func(c provider.Config, h *http.Client) (provider.Provider, error) {
			return ollama.New(c, h)
		},
		provider.KindFile: func(c provider.Config, _ *http.Client) (provider.Provider, error) {
			return file.New(c)
		},
	}
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	var out []string
	for k := range Constructors() {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}

// New builds the provider cfg names. httpClient is shared across providers
// (nil: http.DefaultClient); per-attempt timeouts come from cfg.Timeout.
func New(cfg provider.Config, httpClient *http.Client) (provider.Provider, error) {
	ctor, ok := Constructors()[cfg.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q; use one of %s", cfg.Kind, strings.Join(Kinds(), ", "))
	}
	return ctor(cfg, httpClient)
}

// FromPlan turns a plan model into a Config. getenv reads the variable the
// plan names in api_key_env (the caller decides where the environment comes
// from); planDir resolves a relative outputs path.
func FromPlan(m plan.Model, getenv func(string) string, planDir string) (provider.Config, error) {
	cfg := provider.Config{
		Kind:     provider.Kind(strings.ToLower(strings.TrimSpace(m.Provider))),
		BaseURL:  m.BaseURL,
		Model:    m.Model,
		Endpoint: m.Endpoint,
		Path:     m.Path,
		Timeout:  DefaultTimeout,
	}
	if cfg.BaseURL == "" && len(m.BaseURLs) > 0 {
		// Replicas (base_urls): the config names the first; the run builds
		// one provider per replica from it (app), a probe checks the first.
		cfg.BaseURL = m.BaseURLs[0]
	}
	if _, ok := Constructors()[cfg.Kind]; !ok {
		return cfg, fmt.Errorf("model %s: unknown provider %q; use one of %s", m.Name, m.Provider, strings.Join(Kinds(), ", "))
	}
	if len(m.ExtraBody) > 0 {
		if cfg.Kind != provider.KindOpenAI {
			return cfg, fmt.Errorf("model %s: extra_body is sent only by the openai provider, not %s; remove it", m.Name, cfg.Kind)
		}
		extra, err := provider.ExtraBodyJSON(m.ExtraBody)
		if err != nil {
			return cfg, fmt.Errorf("model %s: %w", m.Name, err)
		}
		cfg.ExtraBody = extra
	}
	if m.Timeout != "" {
		d, err := time.ParseDuration(m.Timeout)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("model %s: timeout %q is not a positive Go duration such as 120s or 5m", m.Name, m.Timeout)
		}
		cfg.Timeout = d
	}
	if cfg.Kind == provider.KindFile && cfg.Path != "" && !filepath.IsAbs(cfg.Path) && planDir != "" {
		cfg.Path = filepath.Join(planDir, cfg.Path)
	}
	if m.APIKeyEnv != "" {
		if getenv == nil {
			return cfg, fmt.Errorf("model %s: api_key_env %s given but no environment to read it from", m.Name, m.APIKeyEnv)
		}
		cfg.APIKey = getenv(m.APIKeyEnv)
		if cfg.APIKey == "" {
			return cfg, fmt.Errorf("model %s: environment variable %s (api_key_env) is empty; export it or remove api_key_env for a server without keys", m.Name, m.APIKeyEnv)
		}
	} else if needsKey(cfg) {
		return cfg, fmt.Errorf("model %s: %s at %s needs an API key; set api_key_env: to the name of the variable holding it", m.Name, cfg.Kind, provider.NormalizeBaseURL(provider.DefaultBaseURL(cfg.Kind)))
	}
	return cfg, nil
}

// needsKey is true for the hosted defaults, which always reject anonymous calls.
func needsKey(c provider.Config) bool {
	if c.BaseURL != "" {
		return false
	}
	return c.Kind == provider.KindOpenAI || c.Kind == provider.KindAnthropic
}
