package ollama

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
)

const testKey = "ollama-SECRET-key-0123456789"

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

// Conversions as table tests, in the manner of ollama's own openai package tests.
func TestBodies(t *testing.T) {
	cases := []struct {
		name     string
		endpoint string
		req      provider.Request
		want     string
	}{
		{"chat with system and options", "chat", provider.Request{System: "Be brief.", Messages: []provider.Message{{Role: "user", Content: "Capital of France?"}}, Params: provider.Params{Temperature: f64(0), TopP: f64(0.9), MaxTokens: 32, Stop: []string{"\n"}, Seed: i64(42)}},
			`{"model":"llama3.2","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"}],"stream":false,"options":{"temperature":0,"top_p":0.9,"num_predict":32,"stop":["\n"],"seed":42}}`},
		{"chat from prompt, no options", "chat", provider.Request{Prompt: "Hi"},
			`{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}],"stream":false}`},
		{"raw generate", "completions", provider.Request{Prompt: "The capital of France is", Params: provider.Params{MaxTokens: 5}},
			`{"model":"llama3.2","prompt":"The capital of France is","raw":true,"stream":false,"options":{"num_predict":5}}`},
		{"messages go to chat even on completions", "completions", provider.Request{Messages: []provider.Message{{Role: "user", Content: "Hi"}}},
			`{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}],"stream":false}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan []byte, 1)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b bytes.Buffer
				b.ReadFrom(r.Body)
				got <- b.Bytes()
				name := "testdata/chat_response.json"
				if r.URL.Path == "/api/generate" {
					name = "testdata/generate_response.json"
				}
				body, _ := os.ReadFile(name)
				w.Write(body)
			}))
			defer s.Close()
			p, err := New(provider.Config{Kind: provider.KindOllama, BaseURL: s.URL + "/v1/", Model: "llama3.2", Endpoint: tc.endpoint}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.req.Type = provider.Generate
			if _, err := p.Do(context.Background(), tc.req); err != nil {
				t.Fatal(err)
			}
			if g := string(<-got); g != tc.want {
				t.Errorf("body\n got %s\nwant %s", g, tc.want)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	chat, _ := os.ReadFile("testdata/chat_response.json")
	gen, _ := os.ReadFile("testdata/generate_response.json")
	cases := []struct {
		name string
		body []byte
		want provider.Response
	}{
		{"chat", chat, provider.Response{Text: "The capital of France is Paris.", FinishReason: "stop", Model: "llama3.2", Usage: provider.Usage{PromptTokens: 26, CompletionTokens: 8}}},
		{"generate", gen, provider.Response{Text: " Paris, which is also its largest city.", FinishReason: "length", Model: "llama3.2", Usage: provider.Usage{PromptTokens: 6, CompletionTokens: 9}}},
		{"cached prompt has no prompt_eval_count", []byte(`{"model":"m","created_at":"2024-01-01T00:00:00Z","response":"x","done":true,"done_reason":"stop","eval_count":1}`), provider.Response{Text: "x", FinishReason: "stop", Model: "m", Usage: provider.Usage{CompletionTokens: 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Response(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tc.want)
			if !bytes.Equal(g, w) {
				t.Errorf("got %s\nwant %s", g, w)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name   string
		h      http.HandlerFunc
		status int
		retry  bool
		msg    string
	}{
		{"model not found", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(404)
			w.Write([]byte(`{"error":"model \"llama9\" not found, try pulling it first"}`))
		}, 404, false, "try pulling it first"},
		{"bad request echoes key", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid token ` + testKey + `"}`))
		}, 400, false, "invalid token [redacted]"},
		{"server busy", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(503)
			w.Write([]byte(`{"error":"server busy, please try again.  maximum pending requests exceeded"}`))
		}, 503, true, "server busy"},
		{"runner crashed", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(500)
			w.Write([]byte(`{"error":"llama runner process has terminated: signal: killed"}`))
		}, 500, true, "runner process"},
		{"malformed", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"model":"llama3.2","message":{"role":"assistant","content":"Par`))
		}, 0, true, "malformed"},
		{"truncated", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "500")
			w.Write([]byte(`{"model":"llama3.2",`))
		}, 0, true, ""},
		{"not done", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"model":"llama3.2","message":{"role":"assistant","content":"Par"},"done":false}`))
		}, 0, true, "done is false"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, 0, true, "timed out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
				if r.Header.Get("Authorization") != "Bearer "+testKey {
					t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
				}
				tc.h(w, r)
			}))
			defer s.Close()
			timeout := 10 * time.Second
			if tc.name == "timeout" {
				timeout = 100 * time.Millisecond
			}
			p, err := New(provider.Config{Kind: provider.KindOllama, BaseURL: s.URL, Model: "llama3.2", APIKey: testKey, Timeout: timeout}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "q", Prompt: "hi"})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if pe.Status != tc.status || pe.Retryable != tc.retry {
				t.Errorf("status=%d retry=%v, want %d %v (%v)", pe.Status, pe.Retryable, tc.status, tc.retry, err)
			}
			if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q: want %q and no key", err, tc.msg)
			}
			if hits.Load() != 1 {
				t.Errorf("%d attempts", hits.Load())
			}
		})
	}
}

func TestSystemOnRawGenerate(t *testing.T) {
	p, _ := New(provider.Config{Kind: provider.KindOllama, BaseURL: "http://127.0.0.1:1", Model: "m", Endpoint: "completions"}, nil)
	_, err := p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "q7", System: "Be brief.", Prompt: "x"})
	if err == nil || provider.IsRetryable(err) || !strings.Contains(err.Error(), "item q7 has a system prompt") {
		t.Errorf("err = %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	p, _ := New(provider.Config{Kind: provider.KindOllama, Model: "m"}, nil)
	for _, req := range []provider.Request{{Type: provider.Loglikelihood, Prompt: "a", Continuation: "b"}, {Type: provider.LoglikelihoodRolling, Prompt: "a"}, {Type: provider.Generate, Params: provider.Params{N: 2}}} {
		if _, err := p.Do(context.Background(), req); !errors.Is(err, provider.ErrUnsupported) {
			t.Errorf("%s: err = %v", req.Type, err)
		}
	}
}

func TestProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/version", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"version":"0.12.6"}`)) })
	mux.HandleFunc("/api/chat", func(w http.ResponseWriter, _ *http.Request) {
		b, _ := os.ReadFile("testdata/chat_response.json")
		w.Write(b)
	})
	mux.HandleFunc("/api/generate", func(w http.ResponseWriter, _ *http.Request) {
		b, _ := os.ReadFile("testdata/generate_response.json")
		w.Write(b)
	})
	s := httptest.NewServer(mux)
	defer s.Close()
	p, _ := New(provider.Config{Kind: provider.KindOllama, BaseURL: s.URL, Model: "llama3.2"}, nil)
	caps, err := p.Probe(context.Background())
	if err != nil || !caps.Chat || !caps.Completions || caps.EchoLogprobs || !strings.Contains(caps.Notes[0], "0.12.6") {
		t.Errorf("caps = %+v err = %v", caps, err)
	}
}
