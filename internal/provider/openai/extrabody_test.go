package openai

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// extra_body reaches every model call (chat, completions, echo scoring)
// beside the fields tunecheck sets, and never the tokenize route.
func TestExtraBodyMerged(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "chat/completions") {
			serveJSON(llamaBody(t, "chat_logprobs.json"))(w, r)
			return
		}
		serveJSON(llamaBody(t, "completion_logprobs_scale1.json"))(w, r)
	})
	extra, err := provider.ExtraBodyJSON(map[string]any{"lora": []any{map[string]any{"id": 0, "scale": 1.0}}, "cache_prompt": false})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: s.URL + "/v1", Model: "tuned", APIKey: testKey, Endpoint: "completions", ExtraBody: extra}, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	if _, err := p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "1", Prompt: "Ticket: my printer is broken. Route:", Params: provider.Params{MaxTokens: 3, Temperature: &zero, Logprobs: 2}}); err != nil {
		t.Fatal(err)
	}
	golden(t, "llamacpp_extra_body_request.golden.json", <-s.bodies)
	if _, err := p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "2", Messages: []provider.Message{{Role: "user", Content: "Say OK."}}}); err != nil {
		t.Fatal(err)
	}
	if b := string(<-s.bodies); !strings.Contains(b, `"messages":`) || !strings.Contains(b, `"cache_prompt":false,"lora":[{"id":0,"scale":1}]}`) {
		t.Errorf("chat body without the extra_body: %s", b)
	}
}

func TestExtraBodyReserved(t *testing.T) {
	for _, k := range []string{"model", "prompt", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "logprobs", "top_logprobs", "echo", "n", "stream", "stop", "seed"} {
		if !slices.Contains(ReservedBodyKeys(), k) {
			t.Errorf("%s is not reserved", k)
		}
	}
	_, err := New(provider.Config{Kind: provider.KindOpenAI, BaseURL: "http://x/v1", Model: "m", ExtraBody: `{"temperature":1,"echo":true,"lora":[]}`}, nil)
	if err == nil || !strings.Contains(err.Error(), "echo, temperature") {
		t.Fatalf("err = %v, want both reserved keys named", err)
	}
}

func TestWithExtra(t *testing.T) {
	tests := []struct{ body, extra, want string }{
		{`{"model":"m"}`, `"a":1`, `{"model":"m","a":1}`},
		{`{}`, `"a":1`, `{"a":1}`},
		{`{"model":"m"}` + "\n", `"a":1`, `{"model":"m","a":1}`},
		{`{"model":"m"}`, ``, `{"model":"m"}`},
	}
	for _, tt := range tests {
		if got := string(withExtra([]byte(tt.body), []byte(tt.extra))); got != tt.want {
			t.Errorf("withExtra(%s, %s) = %s, want %s", tt.body, tt.extra, got, tt.want)
		}
	}
}
