package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
)

var update = flag.Bool("update", false, "rewrite golden request bodies in testdata/")

const testKey = "sk-ant-api03-SECRET-abcdefghijklmnop"

func newTestServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32, chan []byte) {
	t.Helper()
	var hits atomic.Int32
	bodies := make(chan []byte, 4)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		if r.URL.Path != "/v1/messages" {
			t.Errorf("path = %s, want /v1/messages", r.URL.Path)
		}
		if r.Header.Get("X-Api-Key") != testKey || r.Header.Get("Anthropic-Version") == "" {
			t.Errorf("headers: x-api-key=%q anthropic-version=%q", r.Header.Get("X-Api-Key"), r.Header.Get("Anthropic-Version"))
		}
		select {
		case bodies <- buf.Bytes():
		default:
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &hits, bodies
}

func newProvider(t *testing.T, url string) *Provider {
	t.Helper()
	p, err := New(provider.Config{Kind: provider.KindAnthropic, BaseURL: url, Model: "claude-sonnet-4-5", APIKey: testKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	got, _ := json.MarshalIndent(v, "", "  ")
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("request body differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestMessages(t *testing.T) {
	fixture, err := os.ReadFile("testdata/message_response.json")
	if err != nil {
		t.Fatal(err)
	}
	s, _, bodies := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixture)
	})
	p := newProvider(t, s.URL)
	temp, topP := 0.2, 0.95
	resp, err := p.Do(context.Background(), provider.Request{
		Type: provider.Generate, ItemID: "q1", System: "Answer briefly.",
		Messages: []provider.Message{{Role: "system", Content: "Use English."}, {Role: "user", Content: "Capital of France?"}, {Role: "assistant", Content: "Which country?"}, {Role: "user", Content: "France."}},
		Params:   provider.Params{Temperature: &temp, TopP: &topP, Stop: []string{"\n\nHuman:"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "messages_request.golden.json", <-bodies)
	want := provider.Response{Text: "The capital of France is Paris.", FinishReason: "end_turn", Model: "claude-sonnet-4-5-20250929", Usage: provider.Usage{PromptTokens: 25, CompletionTokens: 10}}
	g, _ := json.Marshal(resp)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("got %s\nwant %s", g, w)
	}
}

func TestUnsupported(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1")
	for _, req := range []provider.Request{
		{Type: provider.Loglikelihood, ItemID: "a", Prompt: "x", Continuation: "y"},
		{Type: provider.LoglikelihoodRolling, ItemID: "b", Prompt: "x"},
		{Type: provider.Generate, ItemID: "c", Prompt: "x", Params: provider.Params{N: 3}},
	} {
		_, err := p.Do(context.Background(), req)
		if !errors.Is(err, provider.ErrUnsupported) || provider.IsRetryable(err) {
			t.Errorf("%s: err = %v, want final ErrUnsupported", req.ItemID, err)
		}
	}
}

func TestErrors(t *testing.T) {
	errBody := func(status int, typ, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
			if status == 429 {
				w.Header().Set("retry-after", "12")
			}
			w.WriteHeader(status)
			w.Write([]byte(`{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`))
		}
	}
	cases := []struct {
		name       string
		h          http.HandlerFunc
		status     int
		retry      bool
		retryAfter time.Duration
		msg        string
	}{
		{"400", errBody(400, "invalid_request_error", "max_tokens: Field required"), 400, false, 0, "invalid_request_error: max_tokens"},
		{"401 echoes key", errBody(401, "authentication_error", "invalid x-api-key "+testKey), 401, false, 0, "authentication_error"},
		{"403", errBody(403, "permission_error", "Your API key does not have permission to use the specified resource."), 403, false, 0, "permission_error"},
		{"404", errBody(404, "not_found_error", "model: claude-nope"), 404, false, 0, "not_found_error"},
		{"413", errBody(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."), 413, false, 0, "request_too_large"},
		{"429", errBody(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"), 429, true, 12 * time.Second, "rate_limit_error"},
		{"500", errBody(500, "api_error", "An unexpected error has occurred internal to Anthropic's systems."), 500, true, 0, "api_error"},
		{"529", errBody(529, "overloaded_error", "Overloaded"), 529, true, 0, "overloaded_error: Overloaded"},
		{"malformed", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":"msg_01","type":"message","content":[{"type":"text","text":"Par`))
		}, 0, true, 0, ""},
		{"truncated", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "900")
			w.Write([]byte(`{"id":"msg_01","type":"message",`))
		}, 0, true, 0, ""},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, 0, true, 0, "timed out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, hits, _ := newTestServer(t, tc.h)
			p := newProvider(t, s.URL)
			limit := 10 * time.Second
			if tc.name == "timeout" {
				limit = 200 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			_, err := p.Do(ctx, provider.Request{Type: provider.Generate, ItemID: "q", Prompt: "hi"})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if pe.Status != tc.status || pe.Retryable != tc.retry || pe.RetryAfter != tc.retryAfter {
				t.Errorf("got status=%d retry=%v after=%v, want %d %v %v (%v)", pe.Status, pe.Retryable, pe.RetryAfter, tc.status, tc.retry, tc.retryAfter, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the key: %v", err)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
}

func TestParamsTable(t *testing.T) {
	cases := []struct {
		name string
		req  provider.Request
		want string
	}{
		{"prompt only, default max_tokens", provider.Request{Prompt: "hi"},
			`{"max_tokens":1024,"messages":[{"content":[{"text":"hi","type":"text"}],"role":"user"}],"model":"m"}`},
		{"system turns join", provider.Request{System: "a", Messages: []provider.Message{{Role: "system", Content: "b"}, {Role: "user", Content: "q"}}, Params: provider.Params{MaxTokens: 5}},
			`{"max_tokens":5,"messages":[{"content":[{"text":"q","type":"text"}],"role":"user"}],"model":"m","system":[{"text":"a\n\nb","type":"text"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Params("m", tc.req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(p)
			var v any
			json.Unmarshal(b, &v)
			got, _ := json.Marshal(v)
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if _, err := Params("m", provider.Request{ItemID: "s", Messages: []provider.Message{{Role: "system", Content: "only"}}}); err == nil {
		t.Error("system-only request must fail")
	}
}

func TestProbe(t *testing.T) {
	fixture, _ := os.ReadFile("testdata/message_response.json")
	s, _, _ := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixture)
	})
	caps, err := newProvider(t, s.URL).Probe(context.Background())
	if err != nil || !caps.Chat || caps.Completions || caps.EchoLogprobs {
		t.Errorf("caps = %+v, err = %v", caps, err)
	}
}
