package openai

import (
	"context"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
)

func llamaBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "llamacpp", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// llama-server answers /v1/completions logprobs in the per-token list
// format; they must reach the response exactly as the legacy arrays do.
func TestCompletionResponseLlamaCppLogprobs(t *testing.T) {
	tests := []struct {
		file     string
		text     string
		tokens   []string
		logprobs []float64
		top      int // alternatives per position
		format   string
	}{
		{file: "completion_logprobs_scale0.json", text: " th", tokens: []string{" ", "t", "h"},
			logprobs: []float64{-0.5662246942520142, -2.464731454849243, -1.5061155557632446}, top: 2, format: LogprobsPerToken},
		{file: "completion_logprobs_scale1.json", text: " at", tokens: []string{" ", "a", "t"},
			logprobs: []float64{-0.021561501547694206, -0.3939412832260132, -0.43371400237083435}, top: 2, format: LogprobsPerToken},
		{file: "completion_echo_ignored.json", text: " ", tokens: []string{" "}, logprobs: []float64{-1.0108388662338257}, top: 1, format: LogprobsPerToken},
		{file: "completion_no_logprobs.json", text: " at"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := llamaBody(t, tt.file)
			r, err := CompletionResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tt.text {
				t.Errorf("text %q, want %q", r.Text, tt.text)
			}
			if got := LogprobFormat(body); got != tt.format {
				t.Errorf("format %q, want %q", got, tt.format)
			}
			if len(r.Logprobs) != len(tt.tokens) {
				t.Fatalf("%d logprobs, want %d: %+v", len(r.Logprobs), len(tt.tokens), r.Logprobs)
			}
			for i, lp := range r.Logprobs {
				if lp.Token != tt.tokens[i] || math.Abs(lp.Logprob-tt.logprobs[i]) > 1e-12 {
					t.Errorf("token %d = %q %v, want %q %v", i, lp.Token, lp.Logprob, tt.tokens[i], tt.logprobs[i])
				}
				if len(lp.Top) != tt.top || lp.Top[0].Logprob < lp.Top[len(lp.Top)-1].Logprob {
					t.Errorf("token %d top = %+v", i, lp.Top)
				}
			}
		})
	}
}

func TestChatResponseLlamaCppLogprobs(t *testing.T) {
	r, err := ChatResponse(llamaBody(t, "chat_logprobs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, lp := range r.Logprobs {
		text.WriteString(lp.Token)
		if len(lp.Top) != 2 {
			t.Errorf("top %+v", lp.Top)
		}
	}
	if len(r.Logprobs) != 3 || text.String() != r.Text {
		t.Errorf("logprobs %+v do not spell %q", r.Logprobs, r.Text)
	}
}

// Logprobs in a shape neither reader knows, or legacy arrays that do not
// line up, are an error: a judge asking for them must not get none quietly.
func TestCompletionResponseLogprobShapes(t *testing.T) {
	const pre = `{"model":"m","choices":[{"index":0,"text":"ab","finish_reason":"length","logprobs":`
	const post = `}]}`
	tests := []struct {
		name     string
		logprobs string
		n        int
		err      string
	}{
		{"legacy", `{"tokens":["a","b"],"token_logprobs":[-1,-2],"top_logprobs":[{"a":-1,"c":-3},{"b":-2}],"text_offset":[0,1]}`, 2, ""},
		{"per-token list", `{"content":[{"token":"a","logprob":-1,"top_logprobs":[]},{"token":"b","logprob":-2,"top_logprobs":[{"token":"b","logprob":-2},{"token":"z","logprob":null}]}]}`, 2, ""},
		{"null", `null`, 0, ""},
		{"empty object", `{}`, 0, ""},
		{"empty content", `{"content":[]}`, 0, ""},
		{"unknown shape", `{"values":[-1,-2]}`, 0, "cannot read (keys: values)"},
		{"legacy lengths differ", `{"tokens":["a","b"],"token_logprobs":[-1]}`, 0, "differ in length"},
		{"null chosen logprob", `{"content":[{"token":"a","logprob":null}]}`, 0, "null logprob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := CompletionResponse([]byte(pre + tt.logprobs + post))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Logprobs) != tt.n {
				t.Fatalf("%d logprobs, want %d", len(r.Logprobs), tt.n)
			}
			if tt.n > 0 && (r.Logprobs[1].Token != "b" || r.Logprobs[1].Logprob != -2 || r.Logprobs[1].Top[0].Token != "b") {
				t.Errorf("logprobs %+v", r.Logprobs)
			}
		})
	}
	// The chat path reads the same shapes.
	if _, err := ChatResponse([]byte(`{"choices":[{"message":{"content":"a"},"logprobs":{"values":[1]}}]}`)); err == nil {
		t.Error("chat: unknown logprobs shape accepted")
	}
}

// An echo request answered by llama-server is refused as unsupported
// (never scored from the one generated token), naming what happened.
func TestEchoResponseLlamaCpp(t *testing.T) {
	req := provider.Request{Type: provider.Loglikelihood, Prompt: "The capital of France", Continuation: " is"}
	_, err := EchoResponse(llamaBody(t, "completion_echo_ignored.json"), req)
	if err == nil || !errors.Is(err, provider.ErrUnsupported) || !strings.Contains(err.Error(), EchoIgnoredNote) || !strings.Contains(err.Error(), "vLLM") {
		t.Fatalf("err = %v", err)
	}
}

// llama-server's error bodies, replayed: the loading 503 is retryable and
// says why; the two 500s the same request would meet again are final and
// say what to do; its 4xx keep their message.
func TestLlamaCppErrors(t *testing.T) {
	tests := []struct {
		file      string
		status    int
		retryable bool
		msg       []string
	}{
		{"error_503_loading.json", 503, true, []string{"unavailable_error: Loading model", "still loading the model"}},
		{"error_500_chat_format.json", 500, false, []string{"does not match the expected peg-native format", "not valid UTF-8", "endpoint: completions"}},
		{"error_500_no_jinja_template.json", 500, false, []string{"this custom template is not supported", "restart it with --jinja"}},
		{"error_400_field_type.json", 400, false, []string{"invalid_request_error: Field 'max_tokens'"}},
		{"error_404.json", 404, false, []string{"not_found_error: File Not Found"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := llamaBody(t, tt.file)
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(tt.status)
				w.Write(body)
			})
			_, err := newProvider(t, s.URL, "").Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "1", Prompt: "Say OK."})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if pe.Status != tt.status || pe.Retryable != tt.retryable {
				t.Errorf("status %d retryable %v, want %d %v: %v", pe.Status, pe.Retryable, tt.status, tt.retryable, err)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
		})
	}
}

// The echo check waits for a server that is still loading its model
// (503 on every route) and then finds echo ignored; a server that never
// finishes loading fails the check after echoCheckPatience, not at once.
func TestCheckEchoWaitsForLoading(t *testing.T) {
	loading, ignored := llamaBody(t, "error_503_loading.json"), llamaBody(t, "completion_echo_ignored.json")
	for _, tt := range []struct {
		name     string
		loadings int
		wantErr  bool
	}{{"loads", 3, false}, {"never loads", 1 << 30, true}} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if int(n.Add(1)) <= tt.loadings {
					w.WriteHeader(503)
					w.Write(loading)
					return
				}
				w.Write(ignored)
			})
			p := newProvider(t, s.URL, "")
			var slept []time.Duration
			p.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
			chk, err := p.CheckEcho(context.Background())
			if tt.wantErr {
				var total time.Duration
				for _, d := range slept {
					total += d
				}
				if err == nil || !strings.Contains(err.Error(), "still loading") || total < echoCheckPatience {
					t.Fatalf("err = %v after %v of waits", err, total)
				}
				return
			}
			if err != nil || chk.Supported || chk.Behaviour != provider.EchoIgnored || !strings.HasPrefix(chk.Detail, EchoIgnoredNote) {
				t.Fatalf("check %+v, err %v", chk, err)
			}
			if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(slept, want) {
				t.Errorf("waits %v, want %v", slept, want)
			}
		})
	}
}
