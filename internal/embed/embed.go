// Package embed owns tunecheck's embeddings clients: any OpenAI-compatible
// server (POST {base}/v1/embeddings, as documented in OpenAI's API
// reference: {"model", "input": [...], "encoding_format": "float"} →
// {"data": [{"index", "embedding"}]}) and Ollama's native API (POST
// {base}/api/embed: {"model", "input": [...]} → {"embeddings": [[...]]}).
// Cached wraps a client with a cache keyed by sha256 of (provider kind,
// endpoint, model, input) — never the API key — so the store's response
// cache holds embeddings like any other response.
package embed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kinds of embeddings endpoints.
const (
	KindOpenAI = "openai"
	KindOllama = "ollama"
)

// Client calls one embeddings endpoint.
type Client struct {
	Kind    string // openai or ollama
	BaseURL string // e.g. https://api.openai.com/v1, http://localhost:11434
	Model   string
	APIKey  string // sent as a bearer token; never part of a cache key
	// Dimensions asks OpenAI text-embedding-3 models for shorter vectors (0 = model default).
	Dimensions int
	HTTP       *http.Client
	// Retries is how many times a 429 or 5xx answer is retried (default 3),
	// waiting Retry-After or 1s, 2s, 4s … This is the only retry layer.
	Retries int
	// Sleep waits between retries; tests replace it.
	Sleep func(context.Context, time.Duration) error
}

// New checks the configuration and returns a client.
func New(kind, baseURL, model, apiKey string, hc *http.Client) (*Client, error) {
	kind = strings.ToLower(kind)
	if kind != KindOpenAI && kind != KindOllama {
		return nil, fmt.Errorf("unknown embeddings kind %q (use openai or ollama)", kind)
	}
	if baseURL == "" {
		return nil, fmt.Errorf("no embeddings URL (set --embed-url, e.g. http://localhost:11434 for Ollama)")
	}
	if model == "" {
		return nil, fmt.Errorf("no embeddings model (set --embed-model)")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	return &Client{Kind: kind, BaseURL: strings.TrimRight(baseURL, "/"), Model: model, APIKey: apiKey, HTTP: hc, Retries: 3}, nil
}

// Endpoint is the URL requests go to.
func (c *Client) Endpoint() string {
	if c.Kind == KindOllama {
		return c.BaseURL + "/api/embed"
	}
	if strings.HasSuffix(c.BaseURL, "/v1") {
		return c.BaseURL + "/embeddings"
	}
	return c.BaseURL + "/v1/embeddings"
}

type openAIRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

type openAIResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Error *struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"error"`
}

type ollamaRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type ollamaResponse struct {
	Embeddings [][]float32 `json:"embeddings"`
	Error      string      `json:"error"`
}

// Embed returns one vector per text, in order.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	var body any = ollamaRequest{Model: c.Model, Input: texts}
	if c.Kind == KindOpenAI {
		body = openAIRequest{Model: c.Model, Input: texts, EncodingFormat: "float", Dimensions: c.Dimensions}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	raw, err := c.post(ctx, payload)
	if err != nil {
		return nil, err
	}
	var out [][]float32
	if c.Kind == KindOpenAI {
		var r openAIResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%s: reading the answer: %w", c.Endpoint(), err)
		}
		sort.SliceStable(r.Data, func(i, j int) bool { return r.Data[i].Index < r.Data[j].Index })
		for i, d := range r.Data {
			if d.Index != i {
				return nil, fmt.Errorf("%s: answer has embedding index %d where %d was expected", c.Endpoint(), d.Index, i)
			}
			out = append(out, d.Embedding)
		}
	} else {
		var r ollamaResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%s: reading the answer: %w", c.Endpoint(), err)
		}
		out = r.Embeddings
	}
	if len(out) != len(texts) {
		return nil, fmt.Errorf("%s: asked for %d embeddings, got %d", c.Endpoint(), len(texts), len(out))
	}
	for i, v := range out {
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: embedding %d is empty", c.Endpoint(), i)
		}
	}
	return out, nil
}

// StatusError is a non-2xx answer.
type StatusError struct {
	URL     string
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.URL, e.Status, e.Message)
}

func (c *Client) post(ctx context.Context, payload []byte) ([]byte, error) {
	sleep := c.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint(), bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if c.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+c.APIKey)
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return nil, fmt.Errorf("calling %s: %w", c.Endpoint(), err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", c.Endpoint(), err)
		}
		if resp.StatusCode/100 == 2 {
			return raw, nil
		}
		se := &StatusError{URL: c.Endpoint(), Status: resp.StatusCode, Message: errorMessage(raw)}
		retryable := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if !retryable || attempt >= c.Retries {
			return nil, se
		}
		wait := time.Duration(1<<attempt) * time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// errorMessage reads {"error": {"message": …}} (OpenAI) or {"error": "…"}
// (Ollama), else the start of the body.
func errorMessage(raw []byte) string {
	var oa struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &oa) == nil && len(oa.Error) > 0 {
		var s string
		if json.Unmarshal(oa.Error, &s) == nil {
			return s
		}
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(oa.Error, &m) == nil && m.Message != "" {
			return m.Message
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Cache stores embeddings by key; the store's response cache satisfies it
// through Funcs.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, val []byte) error
}

// Funcs adapts a pair of functions (such as store.CacheGet and CachePut) to Cache.
type Funcs struct {
	GetFunc func(ctx context.Context, key string) ([]byte, bool, error)
	PutFunc func(ctx context.Context, key string, val []byte) error
}

// Get implements Cache.
func (f Funcs) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return f.GetFunc(ctx, key)
}

// Put implements Cache.
func (f Funcs) Put(ctx context.Context, key string, val []byte) error {
	return f.PutFunc(ctx, key, val)
}

// Key is the cache key of one input: sha256 over the provider kind, the
// endpoint, the model and the input, each length-prefixed so that no two
// different tuples share a key.
func Key(kind, endpoint, model, input string) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{"embed/v1", kind, endpoint, model, input} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return "embed:" + hex.EncodeToString(h.Sum(nil))
}

// Encode stores a vector as little-endian float32s.
func Encode(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// Decode reverses Encode.
func Decode(b []byte) ([]float32, error) {
	if len(b)%4 != 0 || len(b) == 0 {
		return nil, errors.New("cached embedding has a length that is not a positive multiple of 4 bytes")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Embedder is what Cached wraps.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Cached serves embeddings from Cache and asks Inner only for the misses.
type Cached struct {
	Inner    Embedder
	Cache    Cache
	Kind     string
	Endpoint string
	Model    string
	// Hits and Misses count inputs, for the report.
	Hits, Misses int
}

// NewCached wraps a client with a cache.
func NewCached(c *Client, cache Cache) *Cached {
	return &Cached{Inner: c, Cache: cache, Kind: c.Kind, Endpoint: c.Endpoint(), Model: c.Model}
}

// Embed implements Embedder.
func (c *Cached) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var missIdx []int
	var missTexts []string
	for i, t := range texts {
		b, ok, err := c.Cache.Get(ctx, Key(c.Kind, c.Endpoint, c.Model, t))
		if err != nil {
			return nil, err
		}
		if ok {
			if v, err := Decode(b); err == nil {
				out[i] = v
				c.Hits++
				continue
			}
		}
		missIdx = append(missIdx, i)
		missTexts = append(missTexts, t)
	}
	if len(missTexts) == 0 {
		return out, nil
	}
	c.Misses += len(missTexts)
	vs, err := c.Inner.Embed(ctx, missTexts)
	if err != nil {
		return nil, err
	}
	if len(vs) != len(missTexts) {
		return nil, fmt.Errorf("asked for %d embeddings, got %d", len(missTexts), len(vs))
	}
	for k, i := range missIdx {
		out[i] = vs[k]
		if err := c.Cache.Put(ctx, Key(c.Kind, c.Endpoint, c.Model, texts[i]), Encode(vs[k])); err != nil {
			return nil, err
		}
	}
	return out, nil
}
