package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/openai"
	"github.com/tunecheck/tunecheck/internal/store"
)

// chatCompletion is what a vLLM server answers to /v1/chat/completions.
const chatCompletion = `{"id":"chatcmpl-b1","object":"chat.completion","created":1763870000,"model":"bench",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},"logprobs":null,"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":24,"completion_tokens":8,"total_tokens":32}}`

// BenchmarkRunOpenAI measures the whole path at concurrency 256: request
// encoding, the real openai provider over loopback HTTP to a server that answers
// at once, cache lookup and write, results batched into SQLite. Each iteration
// is a fresh run of 20,000 new requests (all cache misses).
func BenchmarkRunOpenAI(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatCompletion)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}
	cfg := provider.Config{Kind: provider.KindOpenAI, BaseURL: srv.URL + "/v1", Model: "bench"}
	p, err := openai.New(cfg, client)
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	eps := map[string]Endpoint{"bench": {Name: "bench", Provider: p, CacheNamespace: provider.CacheNamespace(cfg), Concurrency: 256, MaxRetries: 3, Timeout: 30 * time.Second}}
	const perRun = 20000
	total, iter := 0, 0
	var elapsed, cpu time.Duration
	for b.Loop() {
		iter++
		runID := fmt.Sprintf("bench-%d", iter)
		if err := s.CreateRun(context.Background(), store.Run{ID: runID, Name: "bench", PlanHash: "h"}); err != nil {
			b.Fatal(err)
		}
		jobs := make([]Job, perRun)
		for i := range jobs {
			jobs[i] = Job{Model: "bench", Task: "qa", Request: provider.Request{
				Type: provider.Generate, ItemID: fmt.Sprintf("item-%06d", i),
				Messages: []provider.Message{{Role: "user", Content: fmt.Sprintf("Run %d, question %d: what is the capital of France?", iter, i)}},
				Params:   provider.Params{MaxTokens: 16},
			}}
		}
		t0, c0 := time.Now(), cpuclock.Process()
		sum, err := Run(context.Background(), eps, runID, jobs, Options{Store: s})
		elapsed += time.Since(t0)
		cpu += cpuclock.Process() - c0
		if err != nil {
			b.Fatal(err)
		}
		if m := sum.Models[0]; m.Sent != perRun || m.Failed != 0 {
			b.Fatalf("summary %+v", m)
		}
		total += perRun
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "req/s")
	// CPU seconds the whole process spent per request (client, server, store):
	// on a shared, loaded machine req/s measures the neighbours, this does not.
	b.ReportMetric(float64(total)/cpu.Seconds(), "req/cpu-s")
}

// BenchmarkRunInProcess is BenchmarkRunOpenAI without HTTP: a provider that
// answers in-process, so it measures what the runner and the store cost per
// request (encoding, hashing, cache lookup and write, result batching).
func BenchmarkRunInProcess(b *testing.B) {
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := newFake(func(context.Context, provider.Request, int) (provider.Response, error) {
		return provider.Response{Text: "The capital of France is Paris.", FinishReason: "stop", Usage: provider.Usage{PromptTokens: 24, CompletionTokens: 8}, Model: "bench"}, nil
	})
	eps := map[string]Endpoint{"bench": {Name: "bench", Provider: p, CacheNamespace: "openai|http://127.0.0.1/v1|bench|chat", Concurrency: 256, MaxRetries: 3, Timeout: 30 * time.Second}}
	const perRun = 20000
	total, iter := 0, 0
	var elapsed, cpu time.Duration
	for b.Loop() {
		iter++
		runID := fmt.Sprintf("bench-%d", iter)
		if err := s.CreateRun(context.Background(), store.Run{ID: runID, Name: "bench", PlanHash: "h"}); err != nil {
			b.Fatal(err)
		}
		jobs := make([]Job, perRun)
		for i := range jobs {
			jobs[i] = Job{Model: "bench", Task: "qa", Request: provider.Request{
				Type: provider.Generate, ItemID: fmt.Sprintf("item-%06d", i),
				Messages: []provider.Message{{Role: "user", Content: fmt.Sprintf("Run %d, question %d: what is the capital of France?", iter, i)}},
				Params:   provider.Params{MaxTokens: 16},
			}}
		}
		t0, c0 := time.Now(), cpuclock.Process()
		if _, err := Run(context.Background(), eps, runID, jobs, Options{Store: s}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(t0)
		cpu += cpuclock.Process() - c0
		total += perRun
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(total)/cpu.Seconds(), "req/cpu-s")
}

// BenchmarkResume100k measures finding the place in a 100,000-item run whose
// results are all stored: reading the done keys and skipping every job.
func BenchmarkResume100k(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "resume.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateRun(ctx, store.Run{ID: "big", Name: "bench", PlanHash: "h"}); err != nil {
		b.Fatal(err)
	}
	const n = 100000
	jobs := make([]Job, n)
	batch := make([]store.Result, 0, 5000)
	for i := range jobs {
		task := fmt.Sprintf("task%d", i%4)
		id := fmt.Sprintf("item-%06d", i)
		jobs[i] = Job{Model: "m", Task: task, Request: provider.Request{Type: provider.Generate, ItemID: id, Prompt: "q"}}
		batch = append(batch, store.Result{RunID: "big", Model: "m", Task: task, ItemID: id, RequestHash: "h",
			Request: []byte(`{"type":"generate"}`), Response: []byte(`{"text":"an answer of a typical length, a sentence or two"}`), Attempts: 1})
		if len(batch) == cap(batch) {
			if err := s.PutResults(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	never := newFake(func(context.Context, provider.Request, int) (provider.Response, error) {
		b.Fatal("a done item was sent")
		return provider.Response{}, nil
	})
	eps := map[string]Endpoint{"m": {Provider: never, Concurrency: 256}}
	var cpu time.Duration
	for b.Loop() {
		c0 := cpuclock.Process()
		sum, err := Run(ctx, eps, "big", jobs, Options{Store: s})
		cpu += cpuclock.Process() - c0
		if err != nil {
			b.Fatal(err)
		}
		if sum.Models[0].Resumed != n {
			b.Fatalf("resumed %d; want %d", sum.Models[0].Resumed, n)
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
