package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// benchServer answers every request with a canned body and no checks, so the
// benchmarks measure the provider's own overhead plus loopback HTTP.
func benchServer(b *testing.B, name string) *httptest.Server {
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	b.Cleanup(s.Close)
	return s
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}
}

func BenchmarkDoChat(b *testing.B) {
	s := benchServer(b, "chat_response.json")
	p, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: s.URL + "/v1", Model: "m", APIKey: testKey}, benchClient())
	if err != nil {
		b.Fatal(err)
	}
	req := provider.Request{Type: provider.Generate, ItemID: "q", Messages: []provider.Message{{Role: "user", Content: "Capital of France?"}}, Params: provider.Params{MaxTokens: 16}}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Do(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkDoLoglikelihood(b *testing.B) {
	s := benchServer(b, "vllm_echo_response.json")
	p, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: s.URL + "/v1", Model: "m"}, benchClient())
	if err != nil {
		b.Fatal(err)
	}
	req := provider.Request{Type: provider.Loglikelihood, ItemID: "mc", Prompt: "The capital of France is", Continuation: " Paris"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChatParams(b *testing.B) {
	req := provider.Request{Type: provider.Generate, ItemID: "q", System: "Be brief.", Messages: []provider.Message{{Role: "user", Content: "Capital of France?"}}, Params: provider.Params{MaxTokens: 16, Stop: []string{"\n"}}}
	b.ReportAllocs()
	for b.Loop() {
		_ = ChatParams("m", req)
	}
}

// cannedTransport answers without a network, isolating the provider's own
// per-request cost (request encoding, HTTP plumbing, decoding).
type cannedTransport struct{ body []byte }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       r,
	}, nil
}

func BenchmarkDoChatNoNetwork(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "chat_response.json"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: "http://vllm.invalid/v1", Model: "m", APIKey: testKey}, &http.Client{Transport: cannedTransport{body}})
	if err != nil {
		b.Fatal(err)
	}
	req := provider.Request{Type: provider.Generate, ItemID: "q", Messages: []provider.Message{{Role: "user", Content: "Capital of France?"}}, Params: provider.Params{MaxTokens: 16}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
