package provider

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Endpoint values for Config.Endpoint (openai only).
const (
	EndpointChat        = "chat"
	EndpointCompletions = "completions"
)

// Default base URLs, used when Config.BaseURL is empty.
const (
	DefaultOpenAIBaseURL    = "https://api.openai.com/v1"
	DefaultAnthropicBaseURL = "https://api.anthropic.com"
	DefaultOllamaBaseURL    = "http://localhost:11434"
)

// Config is everything needed to build one Provider. The API key is the value
// itself (the CLI reads it from the environment variable the plan names); it is
// never part of String, CacheNamespace or any error.
type Config struct {
	Kind    Kind
	BaseURL string
	Model   string
	APIKey  string
	// Endpoint is chat (default) or completions: where openai sends generate requests.
	Endpoint string
	// Path is the outputs file of the file provider.
	Path string
	// Turn is the file provider's default turn (1-based) for multi-turn answer rows.
	Turn int
	// Timeout bounds one attempt (0: only the caller's context).
	Timeout time.Duration
	// ExtraBody is a JSON object merged into every request body (openai
	// only): server parameters tunecheck does not set itself, such as
	// llama-server's per-request `lora` and `cache_prompt`. It is text, the
	// canonical JSON of ExtraBodyJSON, so that Config stays comparable.
	ExtraBody string
}

// String describes the config without its API key, so that printing a Config
// by accident cannot leak the secret.
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	extra := ""
	if c.ExtraBody != "" {
		extra = " extra_body=" + c.ExtraBody
	}
	return fmt.Sprintf("provider=%s base_url=%s model=%s endpoint=%s path=%s timeout=%s%s api_key=%s",
		c.Kind, c.BaseURL, c.Model, c.Endpoint, c.Path, c.Timeout, extra, key)
}

// GoString keeps %#v from printing the key either.
func (c Config) GoString() string { return "provider.Config{" + c.String() + "}" }

// DefaultBaseURL is the base URL a kind uses when none is configured ("" for file).
func DefaultBaseURL(k Kind) string {
	switch k {
	case KindOpenAI:
		return DefaultOpenAIBaseURL
	case KindAnthropic:
		return DefaultAnthropicBaseURL
	case KindOllama:
		return DefaultOllamaBaseURL
	}
	return ""
}

// CacheNamespace names the response-cache partition of a config: kind,
// normalized base URL and model, plus the endpoint for openai (a prompt sent to
// chat and to completions gets different answers) and its extra_body (another
// LoRA scale or sampler setting is another model's answer), and the file path
// for file.
// The API key is deliberately absent: rotating a key must not invalidate the cache,
// and the cache must not hold secrets.
func CacheNamespace(c Config) string {
	var b strings.Builder
	b.WriteString(string(c.Kind))
	b.WriteByte('|')
	if c.Kind == KindFile {
		p := c.Path
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		b.WriteString(filepath.ToSlash(filepath.Clean(p)))
		return b.String()
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL(c.Kind)
	}
	b.WriteString(NormalizeBaseURL(base))
	b.WriteByte('|')
	b.WriteString(c.Model)
	if c.Kind == KindOpenAI {
		ep := c.Endpoint
		if ep == "" {
			ep = EndpointChat
		}
		b.WriteByte('|')
		b.WriteString(ep)
		if c.ExtraBody != "" {
			// Absent when empty, so that plans without it keep their cache.
			b.WriteString("|extra_body=")
			b.WriteString(c.ExtraBody)
		}
	}
	return b.String()
}

// ExtraBodyJSON is the canonical JSON of an extra_body: encoding/json sorts
// map keys at every level, so equal maps always give equal text.
// An empty map is "".
func ExtraBodyJSON(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("extra_body cannot be sent as JSON: %w", err)
	}
	return string(b), nil
}

// NormalizeBaseURL lowercases scheme and host, drops default ports, user info,
// query, fragment and trailing slashes, so that spellings of one endpoint agree.
func NormalizeBaseURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return strings.TrimRight(raw, "/")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	if strings.Contains(u.Hostname(), ":") { // IPv6 literal
		host = "[" + strings.ToLower(u.Hostname()) + "]"
		if port != "" {
			host += ":" + port
		}
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return scheme + "://" + host + path
}
