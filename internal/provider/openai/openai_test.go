package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"net"
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

const testKey = "sk-test-SECRET-0123456789abcdef"

// server is an httptest server that records what it receives.
type server struct {
	*httptest.Server
	hits   atomic.Int32
	bodies chan []byte
	paths  chan string
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{bodies: make(chan []byte, 16), paths: make(chan string, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("Authorization = %q, want the bearer key", got)
		}
		select {
		case s.bodies <- buf.Bytes():
		default:
		}
		select {
		case s.paths <- r.URL.Path:
		default:
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serveJSON(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

func newProvider(t testing.TB, base, endpoint string) *Provider {
	t.Helper()
	p, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: base + "/v1", Model: "m", APIKey: testKey, Endpoint: endpoint}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// golden compares a received JSON body with testdata/name, canonicalised.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("request body is not JSON: %v\n%s", err, body)
	}
	got, _ := json.MarshalIndent(v, "", "  ")
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("request body differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

func TestChat(t *testing.T) {
	s := newServer(t, serveJSON(fixture(t, "chat_response.json")))
	p := newProvider(t, s.URL, "")
	resp, err := p.Do(context.Background(), provider.Request{
		Type: provider.Generate, ItemID: "q1", System: "Answer briefly.",
		Messages: []provider.Message{{Role: "user", Content: "Capital of France?"}, {Role: "assistant", Content: "Which country?"}, {Role: "user", Content: "France."}},
		Params:   provider.Params{Temperature: f64(0.7), TopP: f64(0.9), MaxTokens: 64, Stop: []string{"\n\n"}, Seed: i64(42), N: 2, Logprobs: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if path := <-s.paths; path != "/v1/chat/completions" {
		t.Errorf("path = %s", path)
	}
	golden(t, "chat_request.golden.json", <-s.bodies)
	want := provider.Response{
		Text: "Paris.", Texts: []string{"Paris.", "The capital of France is Paris."}, FinishReason: "stop",
		Usage: provider.Usage{PromptTokens: 24, CompletionTokens: 9}, Model: "gpt-4.1-2025-04-14",
		Logprobs: []provider.TokenLogprob{
			{Token: "Paris", Logprob: -0.0019, Top: []provider.TokenLogprob{{Token: "Paris", Logprob: -0.0019}, {Token: "The", Logprob: -6.5}}},
			{Token: ".", Logprob: -0.21, Top: []provider.TokenLogprob{{Token: ".", Logprob: -0.21}, {Token: "<|end|>", Logprob: -1.7}}},
		},
	}
	assertJSONEqual(t, resp, want)
}

func TestChatFromPrompt(t *testing.T) {
	s := newServer(t, serveJSON(fixture(t, "chat_response.json")))
	p := newProvider(t, s.URL, "chat")
	if _, err := p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "q1", Prompt: "Capital of France?"}); err != nil {
		t.Fatal(err)
	}
	golden(t, "chat_prompt_request.golden.json", <-s.bodies)
}

func TestCompletion(t *testing.T) {
	s := newServer(t, serveJSON(fixture(t, "completion_response.json")))
	p := newProvider(t, s.URL, "completions")
	resp, err := p.Do(context.Background(), provider.Request{
		Type: provider.Generate, ItemID: "q1", Prompt: "The capital of France is",
		Params: provider.Params{Temperature: f64(0), MaxTokens: 5, Stop: []string{"."}, Seed: i64(7)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if path := <-s.paths; path != "/v1/completions" {
		t.Errorf("path = %s", path)
	}
	golden(t, "completion_request.golden.json", <-s.bodies)
	assertJSONEqual(t, resp, provider.Response{Text: " Paris, which is also", FinishReason: "length", Usage: provider.Usage{PromptTokens: 5, CompletionTokens: 5}, Model: "gpt-3.5-turbo-instruct"})

	_, err = p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "q2", Messages: []provider.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatalf("messages must go to chat even when endpoint is completions: %v", err)
	}
}

func TestLoglikelihoodVLLMEcho(t *testing.T) {
	s := newServer(t, serveJSON(fixture(t, "vllm_echo_response.json")))
	p := newProvider(t, s.URL, "")
	resp, err := p.Do(context.Background(), provider.Request{Type: provider.Loglikelihood, ItemID: "mc1", Prompt: "The capital of France is", Continuation: " Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if path := <-s.paths; path != "/v1/completions" {
		t.Errorf("path = %s", path)
	}
	golden(t, "echo_request.golden.json", <-s.bodies)
	if resp.Tokens != 1 || math.Abs(resp.LogLikelihood-(-1.2637)) > 1e-12 || !resp.IsGreedy {
		t.Errorf("got ll=%v tokens=%d greedy=%v, want -1.2637, 1, true", resp.LogLikelihood, resp.Tokens, resp.IsGreedy)
	}

	resp, err = p.Do(context.Background(), provider.Request{Type: provider.LoglikelihoodRolling, ItemID: "ppl1", Prompt: "The capital of France is Paris"})
	if err != nil {
		t.Fatal(err)
	}
	<-s.paths
	<-s.bodies
	// Every prompt token except the BOS, which has no logprob.
	want := -9.121 - 2.3412 - 0.0713 - 0.6391 - 0.0252 - 1.2637
	if resp.Tokens != 6 || math.Abs(resp.LogLikelihood-want) > 1e-9 || resp.IsGreedy {
		t.Errorf("rolling: got ll=%v tokens=%d greedy=%v, want %v, 6, false (BOS beat \"The\")", resp.LogLikelihood, resp.Tokens, resp.IsGreedy, want)
	}
}

// Servers that accept echo=true but do not return prompt logprobs must fail
// loudly: silently scoring the generated token would make multiple-choice
// accuracy chance-level.
func TestEchoIgnored(t *testing.T) {
	cases := []struct{ name, body string }{
		{"logprobs null", `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" Paris","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":6,"completion_tokens":1,"total_tokens":7}}`},
		{"only generated token", `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":".","logprobs":{"text_offset":[30],"token_logprobs":[-1.6],"tokens":["."],"top_logprobs":[{".":-1.6}]},"finish_reason":"length"}],"usage":{"prompt_tokens":6,"completion_tokens":1,"total_tokens":7}}`},
		{"offsets past prompt", `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":". It","logprobs":{"text_offset":[30,31],"token_logprobs":[-1.6,-2.0],"tokens":["."," It"],"top_logprobs":[{".":-1.6},{" It":-2.0}]},"finish_reason":"length"}]}`},
		{"null prompt logprobs", `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"The capital of France is Paris.","logprobs":{"text_offset":[0,3,11,14,21,24,30],"token_logprobs":[null,null,null,null,null,null,-1.6],"tokens":["The"," capital"," of"," France"," is"," Paris","."],"top_logprobs":[null,null,null,null,null,null,{".":-1.6}]},"finish_reason":"length"}],"usage":{"prompt_tokens":6,"completion_tokens":1,"total_tokens":7}}`},
		{"llama-server rejects echo", `{"error":{"code":400,"message":"Only no echo is supported","type":"invalid_request_error"}}`},
		{"partial prompt", `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" Paris.","logprobs":{"text_offset":[0,6],"token_logprobs":[-1.2,-1.6],"tokens":[" Paris","."],"top_logprobs":[{" Paris":-1.2},{".":-1.6}]},"finish_reason":"length"}],"usage":{"prompt_tokens":6,"completion_tokens":1,"total_tokens":7}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, serveJSON([]byte(tc.body)))
			if tc.name == "llama-server rejects echo" {
				s = newServer(t, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(400)
					w.Write([]byte(tc.body))
				})
			}
			p := newProvider(t, s.URL, "")
			_, err := p.Do(context.Background(), provider.Request{Type: provider.Loglikelihood, ItemID: "mc1", Prompt: "The capital of France is", Continuation: " Paris"})
			if !errors.Is(err, provider.ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
			if provider.IsRetryable(err) {
				t.Error("unsupported must not be retryable")
			}
			if !strings.Contains(err.Error(), "does not return prompt logprobs with echo") || !strings.Contains(err.Error(), "chance-level") {
				t.Errorf("message lacks the advice: %v", err)
			}
		})
	}
}

// A loglikelihood request refused for another reason (here the context
// length) keeps the server's status and message: only a message about echo
// means the endpoint cannot score.
func TestLoglikelihoodOtherBadRequest(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		w.Write([]byte(`{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400}`))
	})
	_, err := newProvider(t, s.URL, "").Do(context.Background(), provider.Request{Type: provider.Loglikelihood, ItemID: "mc1", Prompt: "The capital of France is", Continuation: " Paris"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 400 || errors.Is(err, provider.ErrUnsupported) || pe.Retryable {
		t.Fatalf("err = %v, want a final HTTP 400 that is not ErrUnsupported", err)
	}
	if !strings.Contains(err.Error(), "maximum context length") {
		t.Errorf("error %q lost the server's message", err)
	}
}

func TestErrors(t *testing.T) {
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		h          http.HandlerFunc
		timeout    time.Duration
		status     int
		retry      bool
		retryAfter time.Duration // exact, or -1 for "about 30s"
		msg        string
	}{
		{"429 retry-after seconds", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			w.Write([]byte(`{"error":{"message":"Rate limit reached for gpt-4.1 in organization org-x on requests per min (RPM): Limit 500, Used 500, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`))
		}, 0, 429, true, 7 * time.Second, "Rate limit reached"},
		{"429 retry-after-ms wins", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "2")
			w.Header().Set("retry-after-ms", "1500")
			w.WriteHeader(429)
			w.Write([]byte(`{"error":{"message":"slow down","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`))
		}, 0, 429, true, 1500 * time.Millisecond, "slow down"},
		{"503 retry-after http-date", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", date)
			w.WriteHeader(503)
			w.Write([]byte(`{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`))
		}, 0, 503, true, -1, "overloaded"},
		{"500 plain text", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			w.Write([]byte("Internal Server Error"))
		}, 0, 500, true, 0, "Internal Server Error"},
		{"502 html from proxy", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		}, 0, 502, true, 0, "502 Bad Gateway"},
		{"400 invalid request", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"message":"'max_tokens' must be a positive integer","type":"invalid_request_error","param":"max_tokens","code":null}}`))
		}, 0, 400, false, 0, "max_tokens"},
		{"400 old vLLM shape", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(400)
			w.Write([]byte(`{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400}`))
		}, 0, 400, false, 0, "maximum context length"},
		{"401 echoes key", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(401)
			w.Write([]byte(`{"error":{"message":"Incorrect API key provided: ` + testKey + `. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
		}, 0, 401, false, 0, "Incorrect API key"},
		{"404 model", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(404)
			w.Write([]byte(`{"error":{"message":"The model 'm' does not exist","type":"NotFoundError","param":"model","code":404}}`))
		}, 0, 404, false, 0, "does not exist"},
		{"408", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(408) }, 0, 408, true, 0, "Request Timeout"},
		{"409", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(409) }, 0, 409, true, 0, "Conflict"},
		{"x-should-retry false", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Should-Retry", "false")
			w.WriteHeader(500)
		}, 0, 500, false, 0, "Internal Server Error"},
		{"malformed json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id": "chatcmpl-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Par`))
		}, 0, 0, true, 0, ""},
		{"truncated body", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "4000")
			w.Write([]byte(`{"id": "chatcmpl-1", "object": "chat.completion", "choices": [`))
		}, 0, 0, true, 0, ""},
		{"no choices", serveJSON([]byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`)), 0, 0, true, 0, "no choices"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, 50 * time.Millisecond, 0, true, 0, "timed out"},
		{"connection reset", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			conn.Close()
		}, 0, 0, true, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.h)
			p := newProvider(t, s.URL, "")
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			_, err := p.Do(ctx, provider.Request{Type: provider.Generate, ItemID: "q1", Messages: []provider.Message{{Role: "user", Content: "hi"}}})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want *provider.Error", err, err)
			}
			if pe.Status != tc.status || pe.Retryable != tc.retry {
				t.Errorf("status=%d retryable=%v, want %d %v (%v)", pe.Status, pe.Retryable, tc.status, tc.retry, err)
			}
			switch {
			case tc.retryAfter == -1:
				if pe.RetryAfter < 25*time.Second || pe.RetryAfter > 31*time.Second {
					t.Errorf("RetryAfter = %v, want about 30s", pe.RetryAfter)
				}
			case pe.RetryAfter != tc.retryAfter:
				t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tc.retryAfter)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the API key: %v", err)
			}
			if n := s.hits.Load(); n != 1 {
				t.Errorf("server saw %d attempts, want exactly 1 (the runner owns retries)", n)
			}
		})
	}
}

func TestCancelledIsFinal(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	p := newProvider(t, s.URL, "")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := p.Do(ctx, provider.Request{Type: provider.Generate, ItemID: "q", Prompt: "hi"})
	if !errors.Is(err, context.Canceled) || provider.IsRetryable(err) {
		t.Fatalf("err = %v, want a non-retryable context.Canceled", err)
	}
}

func TestConfigTimeout(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	p, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: s.URL + "/v1", Model: "m", APIKey: testKey, Timeout: 30 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "q", Prompt: "hi"})
	if !provider.IsRetryable(err) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a retryable timeout", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := newProvider(t, "http://"+addr, "")
	_, err = p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "q", Prompt: "hi"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 0 || !pe.Retryable {
		t.Fatalf("err = %v, want a retryable transport error", err)
	}
	if _, err := p.Probe(context.Background()); err == nil {
		t.Error("Probe of a closed port must fail")
	}
}

func TestInvalidRequests(t *testing.T) {
	s := newServer(t, serveJSON(fixture(t, "vllm_echo_response.json")))
	p := newProvider(t, s.URL, "completions")
	for name, req := range map[string]provider.Request{
		"empty context":         {Type: provider.Loglikelihood, ItemID: "a", Continuation: " Paris"},
		"empty continuation":    {Type: provider.Loglikelihood, ItemID: "b", Prompt: "x"},
		"empty rolling":         {Type: provider.LoglikelihoodRolling, ItemID: "c"},
		"unknown type":          {Type: "embed", ItemID: "d"},
		"system on completions": {Type: provider.Generate, ItemID: "e", System: "Be brief.", Prompt: "x"},
	} {
		_, err := p.Do(context.Background(), req)
		if err == nil || provider.IsRetryable(err) || !strings.Contains(err.Error(), "") {
			t.Errorf("%s: err = %v, want a final error", name, err)
		}
		if err != nil && req.ItemID != "d" && !strings.Contains(err.Error(), "item "+req.ItemID) {
			t.Errorf("%s: error %q does not name the item", name, err)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("invalid requests reached the server %d times", n)
	}
}

func TestProbe(t *testing.T) {
	echo := fixture(t, "vllm_echo_response.json")
	vllm := http.NewServeMux()
	vllm.HandleFunc("/v1/chat/completions", serveJSON(fixture(t, "chat_response.json")))
	vllm.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		if body["echo"] == true {
			serveJSON(echo)(w, r)
			return
		}
		serveJSON(fixture(t, "completion_response.json"))(w, r)
	})
	vllm.HandleFunc("/v1/models", serveJSON([]byte(`{"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B","object":"model","created":1,"owned_by":"vllm","root":"meta-llama/Llama-3.1-8B","parent":null,"max_model_len":8192}]}`)))
	vllm.HandleFunc("/tokenize", serveJSON([]byte(`{"count":3,"max_model_len":8192,"tokens":[128000,9906,1917],"token_strs":null}`)))
	s := httptest.NewServer(vllm)
	defer s.Close()
	caps, err := newProvider(t, s.URL, "").Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Chat || !caps.Completions || !caps.EchoLogprobs || !caps.Tokenize || caps.Latency <= 0 {
		t.Errorf("vLLM-like server: caps = %+v, want everything", caps)
	}
	if !strings.Contains(strings.Join(caps.Notes, "\n"), `model "m" is not among the served models: meta-llama/Llama-3.1-8B`) {
		t.Errorf("a model the server does not list must be named: %q", caps.Notes)
	}

	hosted := http.NewServeMux()
	hosted.HandleFunc("/v1/chat/completions", serveJSON(fixture(t, "chat_response.json")))
	hosted.HandleFunc("/v1/completions", serveJSON(fixture(t, "completion_response.json")))
	s2 := httptest.NewServer(hosted)
	defer s2.Close()
	caps, err = newProvider(t, s2.URL, "").Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Chat || !caps.Completions || caps.EchoLogprobs || caps.Tokenize {
		t.Errorf("echo-less server: caps = %+v, want chat+completions only", caps)
	}
	if !strings.Contains(strings.Join(caps.Notes, "\n"), "chance-level") {
		t.Errorf("notes do not explain the missing echo: %q", caps.Notes)
	}
}

func assertJSONEqual(t *testing.T, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("got  %s\nwant %s", g, w)
	}
}

// recordingTransport answers every request with body and keeps what was sent.
type recordingTransport struct {
	body []byte
	sent chan *http.Request
	data chan []byte
}

func (rt recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var b bytes.Buffer
	if r.Body != nil {
		b.ReadFrom(r.Body)
	}
	rt.sent <- r
	rt.data <- b.Bytes()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(rt.body)), Request: r}, nil
}

// api.openai.com rejects max_tokens for reasoning models; self-hosted servers
// keep getting max_tokens, which they all understand.
func TestHostedOpenAIMaxCompletionTokens(t *testing.T) {
	rt := recordingTransport{body: fixture(t, "chat_response.json"), sent: make(chan *http.Request, 1), data: make(chan []byte, 1)}
	p, err := New(provider.Config{Kind: provider.KindOpenAI, Model: "gpt-5", APIKey: testKey}, &http.Client{Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "q", Prompt: "hi", Params: provider.Params{MaxTokens: 16}}); err != nil {
		t.Fatal(err)
	}
	if r := <-rt.sent; r.URL.String() != "https://api.openai.com/v1/chat/completions" {
		t.Errorf("url = %s", r.URL)
	}
	golden(t, "hosted_chat_request.golden.json", <-rt.data)
}
