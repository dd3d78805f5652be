package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/openai"
)

// The loop must send exactly what tunecheck's openai provider sends for a
// completions generate request, or the comparison is not like for like.
func TestCompletionBodiesMatchProvider(t *testing.T) {
	prompts := []string{"A plan is a YAML file", `quotes " and <tags> & "unicode" é`, ""}
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			t.Errorf("provider posted to %s, want /v1/completions", r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		got = append(got, b)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"text":"x","index":0,"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer srv.Close()
	p, err := openai.New(provider.Config{Kind: provider.KindOpenAI, BaseURL: srv.URL + "/v1", Model: "base", Endpoint: provider.EndpointCompletions}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range prompts {
		temp := 0.0
		req := provider.Request{Type: provider.Generate, ItemID: "i", Prompt: pr, Params: provider.Params{MaxTokens: 64, Temperature: &temp}}
		if _, err := p.Do(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	want, err := completionBodies("base", prompts, 64, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("provider sent %d bodies, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("body %d:\nprovider %s\nloop     %s", i, got[i], want[i])
		}
	}
}

func TestSlogLine(t *testing.T) {
	for _, tc := range []struct {
		line         string
		match        bool
		done, failed string
	}{
		{"time=2026-12-07T02:10:28.812Z level=INFO msg=finished model=base done=8 total=8 resumed=0 failed=1 per_second=290.3 eta=0s", true, "8", "1"},
		{"time=2026-12-07T02:10:28.785Z level=INFO msg=started model=base done=0 total=8 resumed=0 failed=0 per_second=0.0 eta=0s", true, "0", "0"},
		{"time=2026-12-07T02:10:28.785Z level=INFO msg=progress model=base done=4 total=8 resumed=0 failed=0 per_second=9.0 eta=1s", false, "", ""},
	} {
		m := slogLine.FindStringSubmatch(tc.line)
		if (m != nil) != tc.match {
			t.Fatalf("%q: matched %v, want %v", tc.line, m != nil, tc.match)
		}
		if m != nil && (m[3] != tc.done || m[4] != tc.failed) {
			t.Errorf("%q: done=%s failed=%s, want %s %s", tc.line, m[3], m[4], tc.done, tc.failed)
		}
	}
}
