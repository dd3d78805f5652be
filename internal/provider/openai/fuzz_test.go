package openai

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// FuzzEchoResponse feeds arbitrary bodies to the echo scorer: it must never
// panic, and whatever it accepts must have scored at least one token.
func FuzzEchoResponse(f *testing.F) {
	f.Add([]byte(`{"choices":[{"index":0,"text":"a b.","logprobs":{"text_offset":[0,1,3],"token_logprobs":[null,-1,-2],"tokens":["a"," b","."],"top_logprobs":[null,{" b":-1},{".":-2}]}}],"usage":{"prompt_tokens":2,"completion_tokens":1}}`), "a", " b")
	f.Add([]byte(`{"choices":[{"logprobs":{"text_offset":[5,-3,9],"token_logprobs":[1,null,-2],"tokens":["x"]}}]}`), "", "")
	f.Add([]byte(`{"choices":[{"logprobs":{"text_offset":[0,2,4,6,8],"token_logprobs":[null,-1,-2,-4,-0.5],"tokens":["é","é","é"," x","!"]}}],"usage":{"completion_tokens":9}}`), "é", "é é x")
	f.Fuzz(func(t *testing.T, body []byte, ctx, cont string) {
		for _, typ := range []provider.RequestType{provider.Loglikelihood, provider.LoglikelihoodRolling} {
			r, err := EchoResponse(body, provider.Request{Type: typ, Prompt: ctx, Continuation: cont})
			if err == nil && r.Tokens < 1 {
				t.Fatalf("accepted with %d tokens", r.Tokens)
			}
		}
	})
}

// FuzzCompletionResponse feeds arbitrary bodies to both answer readers
// (either logprob shape): they must never panic nor accept a NaN logprob.
func FuzzCompletionResponse(f *testing.F) {
	for _, name := range []string{"completion_logprobs_scale1.json", "completion_echo_ignored.json", "chat_logprobs.json", "completion_no_logprobs.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "llamacpp", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"choices":[{"text":"ab","logprobs":{"tokens":["a","b"],"token_logprobs":[null,-2],"top_logprobs":[null,{"b":-2}],"text_offset":[0,1]}}]}`))
	f.Add([]byte(`{"choices":[{"message":{"content":"a"},"logprobs":{"content":[{"token":"a","logprob":null}]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, read := range []func([]byte) (provider.Response, *provider.Error){CompletionResponse, ChatResponse} {
			r, err := read(body)
			if err != nil {
				continue
			}
			for _, lp := range r.Logprobs {
				if math.IsNaN(lp.Logprob) {
					t.Fatalf("NaN logprob accepted: %+v", lp)
				}
			}
		}
	})
}
