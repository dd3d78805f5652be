package embed

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/store"
)

// openAIServer answers POST /v1/embeddings as OpenAI's API reference shows,
// listing the data in reverse order to check that the client sorts by index.
func openAIServer(t *testing.T, calls *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
			http.Error(w, "not found", 404)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
			return
		}
		var req struct {
			Model          string   `json:"model"`
			Input          []string `json:"input"`
			EncodingFormat string   `json:"encoding_format"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.EncodingFormat != "float" {
			w.WriteHeader(400)
			return
		}
		type datum struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []datum
		for i := len(req.Input) - 1; i >= 0; i-- {
			data = append(data, datum{"embedding", i, []float32{float32(len(req.Input[i])), 0.5, -1}})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]int{"prompt_tokens": 8, "total_tokens": 8}})
	}))
}

func TestOpenAI(t *testing.T) {
	var calls atomic.Int32
	srv := openAIServer(t, &calls)
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/v1", srv.URL + "/v1/"} {
		c, err := New("openai", base, "text-embedding-3-small", "sk-test", srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Embed(context.Background(), []string{"a", "bbb"})
		if err != nil {
			t.Fatal(err)
		}
		want := [][]float32{{1, 0.5, -1}, {3, 0.5, -1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("base %s: got %v", base, got)
		}
	}
	c, _ := New("openai", srv.URL, "m", "wrong", srv.Client())
	_, err := c.Embed(context.Background(), []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401: Incorrect API key provided") {
		t.Fatalf("error %v", err)
	}
}

func TestOllama(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/embed" {
			http.Error(w, "404 page not found", 404)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if req.Model != "all-minilm" {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":"model \"`+req.Model+`\" not found, try pulling it first"}`)
			return
		}
		var embs [][]float32
		for _, in := range req.Input {
			embs = append(embs, []float32{float32(len(in)), 1})
		}
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": embs,
			"total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": 8})
	}))
	defer srv.Close()
	c, _ := New("ollama", srv.URL, "all-minilm", "", srv.Client())
	got, err := c.Embed(context.Background(), []string{"hello", "hi"})
	if err != nil || !reflect.DeepEqual(got, [][]float32{{5, 1}, {2, 1}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	c.Model = "nope"
	_, err = c.Embed(context.Background(), []string{"x"})
	if err == nil || !strings.Contains(err.Error(), `model "nope" not found`) {
		t.Fatalf("error %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests"}}`)
			return
		}
		io.WriteString(w, `{"embeddings":[[1,2]]}`)
	}))
	defer srv.Close()
	c, _ := New("ollama", srv.URL, "m", "", srv.Client())
	var waits []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	if _, err := c.Embed(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(waits, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("waits %v", waits)
	}
	c.Retries = 0
	n.Store(0)
	if _, err := c.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "429: Rate limit reached") {
		t.Errorf("error %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct{ kind, url, model, want string }{
		{"cohere", "http://x", "m", "unknown embeddings kind"},
		{"openai", "", "m", "--embed-url"},
		{"ollama", "http://x", "", "--embed-model"},
	} {
		if _, err := New(tc.kind, tc.url, tc.model, "", nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}

func TestKey(t *testing.T) {
	k := Key("openai", "http://h/v1/embeddings", "m", "text")
	if k != Key("openai", "http://h/v1/embeddings", "m", "text") || !strings.HasPrefix(k, "embed:") || len(k) != 6+64 {
		t.Fatalf("key %s", k)
	}
	for _, other := range []string{
		Key("ollama", "http://h/v1/embeddings", "m", "text"),
		Key("openai", "http://h2/v1/embeddings", "m", "text"),
		Key("openai", "http://h/v1/embeddings", "m2", "text"),
		Key("openai", "http://h/v1/embeddings", "m", "text "),
		Key("openai", "http://h/v1/embeddings", "mt", "ext"), // length prefixes keep these apart
	} {
		if other == k {
			t.Errorf("collision with %s", other)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	v := []float32{1.5, -2, 0, 3.25e-8}
	got, err := Decode(Encode(v))
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := Decode([]byte{1, 2, 3}); err == nil {
		t.Fatal("want error")
	}
}

// TestCachedWithStore runs the cache against the real SQLite store: the
// second request for the same inputs never reaches the server, and the API
// key does not enter the key.
func TestCachedWithStore(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var calls atomic.Int32
	srv := openAIServer(t, &calls)
	defer srv.Close()
	c, _ := New("openai", srv.URL, "m", "sk-test", srv.Client())
	cache := Funcs{GetFunc: st.CacheGet, PutFunc: st.CachePut}
	ce := NewCached(c, cache)
	first, err := ce.Embed(ctx, []string{"a", "bbb"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := ce.Embed(ctx, []string{"bbb", "cc", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || ce.Hits != 2 || ce.Misses != 3 {
		t.Errorf("calls %d hits %d misses %d", calls.Load(), ce.Hits, ce.Misses)
	}
	if !reflect.DeepEqual(second, [][]float32{first[1], {2, 0.5, -1}, first[0]}) {
		t.Errorf("second %v", second)
	}
	// Another key, same endpoint and model: still a hit.
	c2, _ := New("openai", srv.URL, "m", "sk-other", srv.Client())
	ce2 := NewCached(c2, cache)
	if _, err := ce2.Embed(ctx, []string{"a"}); err != nil || ce2.Hits != 1 {
		t.Errorf("hits %d, %v", ce2.Hits, err)
	}
}
