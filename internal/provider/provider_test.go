package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		h    map[string]string
		want time.Duration
	}{
		{"absent", nil, 0},
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{"http-date", map[string]string{"Retry-After": "Mon, 23 Nov 2026 06:00:30 GMT"}, 30 * time.Second},
		{"http-date in the past", map[string]string{"Retry-After": "Mon, 23 Nov 2026 05:59:00 GMT"}, 0},
		{"ms wins", map[string]string{"Retry-After": "9", "Retry-After-Ms": "250"}, 250 * time.Millisecond},
		{"negative", map[string]string{"Retry-After": "-3"}, 0},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
		{"bad ms falls back", map[string]string{"Retry-After": "2", "Retry-After-Ms": "x"}, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			if got := ParseRetryAfter(h, now); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRetryableStatus(t *testing.T) {
	for status, want := range map[int]bool{400: false, 401: false, 403: false, 404: false, 408: true, 409: true, 413: false, 422: false, 429: true, 500: true, 502: true, 503: true, 504: true, 529: true} {
		if got := RetryableStatus(status); got != want {
			t.Errorf("RetryableStatus(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestTransportError(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{context.Canceled, false},
		{fmt.Errorf("post: %w", context.DeadlineExceeded), true},
		{io.ErrUnexpectedEOF, true},
		{syscall.ECONNRESET, true},
		{syscall.ECONNREFUSED, true},
		{errors.New("something else"), false},
	}
	for _, tc := range cases {
		if got := TransportError(tc.err).Retryable; got != tc.want {
			t.Errorf("TransportError(%v).Retryable = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	cases := map[string]string{
		`{"error":{"message":"bad key","type":"invalid_request_error"}}`:                      "invalid_request_error: bad key",
		`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`:         "overloaded_error: Overloaded",
		`{"error":"model 'llama9' not found"}`:                                                "model 'llama9' not found",
		`{"object":"error","message":"context too long","type":"BadRequestError","code":400}`: "context too long",
		`{"detail":"Not Found"}`: "Not Found",
		`upstream connect error`: "upstream connect error",
	}
	for body, want := range cases {
		if got := ErrorMessage([]byte(body)); got != want {
			t.Errorf("ErrorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}

func TestDescribeRedacts(t *testing.T) {
	key := "sk-live-abcdef123456"
	e := Describe(&Error{Status: 401, Err: errors.New("Incorrect API key provided: " + key)}, "openai chat", key)
	if strings.Contains(e.Error(), key) || !strings.Contains(e.Error(), "[redacted]") {
		t.Errorf("not redacted: %v", e)
	}
	u := Describe(Unsupported("echo ignored for %s", key), "openai", key)
	if !errors.Is(u, ErrUnsupported) || strings.Contains(u.Error(), key) {
		t.Errorf("unsupported error lost its kind or leaked: %v", u)
	}
}

// ExtraBodyJSON is canonical: the same map, however written, gives the
// same text (and so the same cache namespace).
func TestExtraBodyJSON(t *testing.T) {
	a, err := ExtraBodyJSON(map[string]any{"lora": []any{map[string]any{"scale": 1.0, "id": 0}}, "cache_prompt": false})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"cache_prompt":false,"lora":[{"id":0,"scale":1}]}`; a != want {
		t.Errorf("got %s, want %s", a, want)
	}
	if e, err := ExtraBodyJSON(nil); e != "" || err != nil {
		t.Errorf("empty extra_body = %q, %v", e, err)
	}
}

func TestCacheNamespace(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Kind: KindOpenAI, BaseURL: "HTTP://LocalHost:80/v1/", Model: "llama", APIKey: "sk-x"}, "openai|http://localhost/v1|llama|chat"},
		{Config{Kind: KindOpenAI, Model: "gpt-4.1", Endpoint: "completions"}, "openai|https://api.openai.com/v1|gpt-4.1|completions"},
		{Config{Kind: KindOpenAI, BaseURL: "https://api.openai.com:443/v1", Model: "gpt-4.1", Endpoint: "chat"}, "openai|https://api.openai.com/v1|gpt-4.1|chat"},
		{Config{Kind: KindAnthropic, Model: "claude-sonnet-4-5"}, "anthropic|https://api.anthropic.com|claude-sonnet-4-5"},
		{Config{Kind: KindOllama, BaseURL: "http://127.0.0.1:11434/", Model: "llama3.2"}, "ollama|http://127.0.0.1:11434|llama3.2"},
		{Config{Kind: KindFile, Path: "/data/out.jsonl"}, "file|/data/out.jsonl"},
		// Another LoRA scale is another model's answer.
		{Config{Kind: KindOpenAI, BaseURL: "http://127.0.0.1:8080/v1", Model: "m", ExtraBody: `{"lora":[{"id":0,"scale":1}]}`}, `openai|http://127.0.0.1:8080/v1|m|chat|extra_body={"lora":[{"id":0,"scale":1}]}`},
		{Config{Kind: KindOpenAI, BaseURL: "http://127.0.0.1:8080/v1", Model: "m", ExtraBody: `{"lora":[{"id":0,"scale":0}]}`}, `openai|http://127.0.0.1:8080/v1|m|chat|extra_body={"lora":[{"id":0,"scale":0}]}`},
	}
	for _, tc := range cases {
		if got := CacheNamespace(tc.cfg); got != tc.want {
			t.Errorf("CacheNamespace(%v) = %q, want %q", tc.cfg, got, tc.want)
		}
		if tc.cfg.APIKey != "" && (strings.Contains(CacheNamespace(tc.cfg), tc.cfg.APIKey) || strings.Contains(tc.cfg.String(), tc.cfg.APIKey) || strings.Contains(fmt.Sprintf("%#v", tc.cfg), tc.cfg.APIKey)) {
			t.Errorf("key leaks from %v", tc.cfg)
		}
	}
}

func TestNewHTTPClient(t *testing.T) {
	for perHost, want := range map[int]int{0: 2, 1: 2, 64: 64, 1000: 1000} {
		tr := NewHTTPClient(perHost).Transport.(*http.Transport)
		if tr.MaxIdleConnsPerHost != want || tr.MaxIdleConns < want {
			t.Errorf("NewHTTPClient(%d): per host %d, total %d; want %d", perHost, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, want)
		}
	}
	if http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost != 0 {
		t.Error("NewHTTPClient must not modify http.DefaultTransport")
	}
}

func TestRequestAsked(t *testing.T) {
	for _, c := range []struct {
		req  Request
		want string
	}{
		{Request{Messages: []Message{{Role: "user", Content: "q1"}, {Role: "assistant", Content: "a1"}, {Role: "user", Content: "q2"}}}, "q2"},
		{Request{Prompt: "complete this"}, "complete this"},
		{Request{Messages: []Message{{Role: "system", Content: "s"}}}, "s"},
		{Request{}, ""},
	} {
		if got := c.req.Asked(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.req, got, c.want)
		}
	}
}
