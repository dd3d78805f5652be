package openai

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// llamaServerAnswer is llama.cpp's llama-server answering /v1/completions
// with echo=true and logprobs=1: echo ignored, the generated token's logprob
// in the per-token list format.
const llamaServerAnswer = `{"choices":[{"text":" Paris","index":0,"logprobs":{"content":[{"id":12366,"token":" Paris","bytes":[32,80,97,114,105,115],"logprob":-0.41,"top_logprobs":[{"id":12366,"token":" Paris","bytes":[32,80,97,114,105,115],"logprob":-0.41}]}]},"finish_reason":"length"}],"created":1733500000,"model":"m","object":"text_completion","usage":{"completion_tokens":1,"prompt_tokens":6,"total_tokens":7},"id":"chatcmpl-x"}`

func TestCheckEcho(t *testing.T) {
	for _, c := range []struct {
		name      string
		status    int
		body      string
		supported bool
		behaviour string
		detail    string
		err       string
	}{
		{name: "vLLM", status: 200, body: "vllm", supported: true},
		{name: "llama-server ignores echo", status: 200, body: llamaServerAnswer, behaviour: provider.EchoIgnored, detail: "per-token list format"},
		{name: "only the generated token", status: 200, body: `{"model":"m","choices":[{"index":0,"text":".","logprobs":{"text_offset":[30],"token_logprobs":[-1.6],"tokens":["."],"top_logprobs":[{".":-1.6}]},"finish_reason":"length"}],"usage":{"prompt_tokens":6,"completion_tokens":1}}`,
			behaviour: provider.EchoIgnored, detail: "echo=true was ignored"},
		{name: "refused", status: 400, body: `{"error":{"code":400,"message":"Only no echo is supported","type":"invalid_request_error"}}`, behaviour: provider.EchoRefused, detail: "Only no echo is supported"},
		{name: "server error", status: 500, body: `{"error":{"message":"boom"}}`, err: "HTTP 500"},
		{name: "unknown model", status: 404, body: `{"error":{"message":"The model m does not exist."}}`, err: "HTTP 404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			if c.body == "vllm" {
				body = fixture(t, "vllm_echo_response.json")
			}
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				w.Write(body)
			})
			got, err := newProvider(t, s.URL, "").CheckEcho(context.Background())
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Supported != c.supported || got.Behaviour != c.behaviour || !strings.Contains(got.Detail, c.detail) {
				t.Fatalf("%+v", got)
			}
			if s.hits.Load() != 1 {
				t.Fatalf("%d requests, want one", s.hits.Load())
			}
			var sent map[string]any
			json.Unmarshal(<-s.bodies, &sent)
			if sent["echo"] != true || sent["prompt"] != "The capital of France is Paris" {
				t.Fatalf("sent %v", sent)
			}
		})
	}
}

// Two choices of one item in one request: each is scored as it would be alone.
func TestLoglikelihoodBatch(t *testing.T) {
	var one map[string]any
	if err := json.Unmarshal(fixture(t, "vllm_echo_response.json"), &one); err != nil {
		t.Fatal(err)
	}
	paris := one["choices"].([]any)[0].(map[string]any)
	rome := map[string]any{}
	data, _ := json.Marshal(paris)
	json.Unmarshal(data, &rome)
	lp := rome["logprobs"].(map[string]any)
	lp["tokens"].([]any)[6] = " Rome"
	lp["token_logprobs"].([]any)[6] = -5.0
	lp["top_logprobs"].([]any)[6] = map[string]any{" Paris": -1.2, " Rome": -5.0}
	lp["text_offset"].([]any)[7] = 46.0
	rome["index"] = 1
	batch := map[string]any{"model": "m", "choices": []any{rome, paris}, "usage": map[string]int{"prompt_tokens": 14, "completion_tokens": 2}}
	paris["index"] = 0
	body, _ := json.Marshal(batch)
	s := newServer(t, serveJSON(body))
	p := newProvider(t, s.URL, "")
	reqs := []provider.Request{
		{Type: provider.Loglikelihood, ItemID: "q#0", Prompt: "The capital of France is", Continuation: " Paris"},
		{Type: provider.Loglikelihood, ItemID: "q#1", Prompt: "The capital of France is", Continuation: " Rome"},
	}
	got, err := p.LoglikelihoodBatch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	// The answer lists index 1 first: the scores follow the indexes.
	if len(got) != 2 || math.Abs(got[0].LogLikelihood-(-1.2637)) > 1e-12 || !got[0].IsGreedy || got[1].LogLikelihood != -5 || got[1].IsGreedy || got[1].Tokens != 1 {
		t.Fatalf("%+v", got)
	}
	var sent struct {
		Prompt    []string `json:"prompt"`
		Echo      bool     `json:"echo"`
		Logprobs  int      `json:"logprobs"`
		MaxTokens int      `json:"max_tokens"`
	}
	if err := json.Unmarshal(<-s.bodies, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent.Prompt) != 2 || sent.Prompt[1] != "The capital of France is Rome" || !sent.Echo || sent.Logprobs != 1 || sent.MaxTokens != 1 {
		t.Fatalf("sent %+v", sent)
	}

	// A server answering fewer choices than prompts is not trusted.
	short, _ := json.Marshal(map[string]any{"model": "m", "choices": []any{paris}})
	s2 := newServer(t, serveJSON(short))
	if _, err := newProvider(t, s2.URL, "").LoglikelihoodBatch(context.Background(), reqs); err == nil || !strings.Contains(err.Error(), "1 choices for 2 prompts") {
		t.Fatalf("err %v", err)
	}
	// An echo-ignoring server fails the batch as it fails a single request.
	s3 := newServer(t, serveJSON([]byte(llamaServerAnswer)))
	if _, err := newProvider(t, s3.URL, "").LoglikelihoodBatch(context.Background(), reqs[:1]); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Fatalf("err %v", err)
	}
}
