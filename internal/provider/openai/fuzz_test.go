package openai

import (
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
