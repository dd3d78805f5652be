package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/anthropic"
	"github.com/tunecheck/tunecheck/internal/provider/file"
	"github.com/tunecheck/tunecheck/internal/provider/ollama"
	"github.com/tunecheck/tunecheck/internal/provider/openai"
)

func TestNew(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o.jsonl")
	os.WriteFile(out, []byte(`{"id":"1","output":"x"}`+"\n"), 0o644)
	cases := []struct {
		cfg  provider.Config
		want any
	}{
		{provider.Config{Kind: provider.KindOpenAI, BaseURL: "http://localhost:8000/v1", Model: "m"}, &openai.Provider{}},
		{provider.Config{Kind: provider.KindAnthropic, Model: "claude-sonnet-4-5", APIKey: "k"}, &anthropic.Provider{}},
		{provider.Config{Kind: provider.KindOllama, Model: "llama3.2"}, &ollama.Provider{}},
		{provider.Config{Kind: provider.KindFile, Path: out}, &file.Provider{}},
	}
	for _, tc := range cases {
		p, err := New(tc.cfg, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.cfg.Kind, err)
		}
		if _, ok := p.(provider.Prober); !ok {
			t.Errorf("%s does not implement Prober", tc.cfg.Kind)
		}
		if got, want := fmt.Sprintf("%T", p), fmt.Sprintf("%T", tc.want); got != want {
			t.Errorf("%s built %s, want %s", tc.cfg.Kind, got, want)
		}
	}
	if _, err := New(provider.Config{Kind: "bedrock"}, nil); err == nil || !strings.Contains(err.Error(), "anthropic, file, ollama, openai") {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestFromPlan(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": "sk-1"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		name    string
		m       plan.Model
		want    provider.Config
		wantErr string
	}{
		{"vllm without key", plan.Model{Name: "base", Provider: "openai", BaseURL: "http://localhost:8000/v1", Model: "llama", Timeout: "30s"},
			provider.Config{Kind: "openai", BaseURL: "http://localhost:8000/v1", Model: "llama", Timeout: 30 * time.Second}, ""},
		{"hosted with key", plan.Model{Name: "gpt", Provider: "OpenAI", Model: "gpt-4.1", APIKeyEnv: "OPENAI_API_KEY", Endpoint: "chat"},
			provider.Config{Kind: "openai", Model: "gpt-4.1", APIKey: "sk-1", Endpoint: "chat", Timeout: DefaultTimeout}, ""},
		{"file relative to plan", plan.Model{Name: "ft", Provider: "file", Path: "out/ft.jsonl"},
			provider.Config{Kind: "file", Path: filepath.Join("/plans", "out/ft.jsonl"), Timeout: DefaultTimeout}, ""},
		{"empty key var", plan.Model{Name: "c", Provider: "anthropic", Model: "claude", APIKeyEnv: "ANTHROPIC_API_KEY"}, provider.Config{}, "ANTHROPIC_API_KEY (api_key_env) is empty"},
		{"hosted without key", plan.Model{Name: "c", Provider: "anthropic", Model: "claude"}, provider.Config{}, "needs an API key"},
		{"bad timeout", plan.Model{Name: "b", Provider: "ollama", Model: "x", Timeout: "soon"}, provider.Config{}, `timeout "soon"`},
		{"bad kind", plan.Model{Name: "b", Provider: "bedrock"}, provider.Config{}, `unknown provider "bedrock"`},
		{"llama-server lora", plan.Model{Name: "tuned", Provider: "openai", BaseURL: "http://127.0.0.1:8080/v1", Model: "m", ExtraBody: map[string]any{"lora": []any{map[string]any{"id": 0, "scale": 1.0}}, "cache_prompt": false}},
			provider.Config{Kind: "openai", BaseURL: "http://127.0.0.1:8080/v1", Model: "m", Timeout: DefaultTimeout, ExtraBody: `{"cache_prompt":false,"lora":[{"id":0,"scale":1}]}`}, ""},
		{"extra_body on ollama", plan.Model{Name: "o", Provider: "ollama", Model: "x", ExtraBody: map[string]any{"keep_alive": "5m"}}, provider.Config{}, "only by the openai provider"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromPlan(tc.m, getenv, "/plans")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "model "+tc.m.Name) {
					t.Errorf("err = %v, want %q naming the model", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
			if got.APIKey != "" && strings.Contains(got.String(), got.APIKey) {
				t.Error("String leaks the key")
			}
		})
	}
}

// The plan refuses in extra_body exactly the keys the openai provider sets.
func TestExtraBodyReservedKeysAgree(t *testing.T) {
	if got, want := plan.ExtraBodyReserved, openai.ReservedBodyKeys(); !slices.Equal(got, want) {
		t.Errorf("plan.ExtraBodyReserved = %v\nopenai.ReservedBodyKeys() = %v", got, want)
	}
}

func TestProbe(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o.jsonl")
	os.WriteFile(out, []byte(`{"question_id":81,"choices":[{"turns":["a","b"]}]}`+"\n"), 0o644)
	r := Probe(context.Background(), "ft", provider.Config{Kind: provider.KindFile, Path: out}, nil)
	if r.Error != "" || r.BaseURL != out || !r.Capabilities.Chat || !strings.Contains(r.Capabilities.Notes[0], "1 outputs, up to 2 turns each") {
		t.Errorf("file probe: %+v", r)
	}
	r = Probe(context.Background(), "x", provider.Config{Kind: provider.KindFile, Path: out + ".missing"}, nil)
	if r.Error == "" || r.Unreachable {
		t.Errorf("missing file: %+v", r)
	}
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(401)
		w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`))
	}))
	defer deny.Close()
	r = Probe(context.Background(), "denied", provider.Config{Kind: provider.KindOpenAI, BaseURL: deny.URL + "/v1", Model: "m", APIKey: "bad"}, nil)
	if r.Unreachable || !strings.Contains(r.Error, "neither chat nor completions") || !strings.Contains(strings.Join(r.Capabilities.Notes, "\n"), "HTTP 401") {
		t.Errorf("denied: %+v", r)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	for _, kind := range []provider.Kind{provider.KindOpenAI, provider.KindOllama, provider.KindAnthropic} {
		r = Probe(context.Background(), "down", provider.Config{Kind: kind, BaseURL: "http://" + addr, Model: "m", APIKey: "k", Timeout: 5 * time.Second}, nil)
		if !r.Unreachable || r.Error == "" {
			t.Errorf("%s on a closed port: %+v", kind, r)
		}
	}
}
