package openai

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
)

func lps(v ...any) []*float64 {
	out := make([]*float64, len(v))
	for i, x := range v {
		if f, ok := x.(float64); ok {
			out[i] = &f
		}
	}
	return out
}

func TestScoreEcho(t *testing.T) {
	cases := []struct {
		name         string
		lp           EchoLogprobs
		prompt, cont string
		gen          int
		rolling      bool
		wantLL       float64
		wantTokens   int
		wantGreedy   bool
		wantErr      error
	}{
		{
			name: "multi-token continuation, greedy",
			lp: EchoLogprobs{
				Tokens:        []string{"The", " capital", " of", " France", " is", " Par", "is", "."},
				TextOffset:    []int{0, 3, 11, 14, 21, 24, 28, 30},
				TokenLogprobs: lps(nil, -9.0, -2.0, -0.1, -0.6, -1.5, -0.01, -1.6),
				TopLogprobs:   []map[string]float64{nil, {" capital": -9.0}, {" capital": -2.0}, {" of": -0.1}, {" France": -0.6}, {" Par": -1.5, " a": -2.5}, {"is": -0.01}, {".": -1.6}},
			},
			prompt: "The capital of France is Paris", cont: " Paris", gen: 1,
			wantLL: -1.51, wantTokens: 2, wantGreedy: true,
		},
		{
			name: "not greedy when an alternative beats a continuation token",
			lp: EchoLogprobs{
				Tokens:        []string{"The", " sky", " is", " green", "."},
				TextOffset:    []int{0, 3, 7, 10, 16},
				TokenLogprobs: lps(nil, -8.0, -0.5, -6.2, -1.0),
				TopLogprobs:   []map[string]float64{nil, {" sky": -8.0}, {" is": -0.5}, {" green": -6.2, " blue": -0.3}, {".": -1.0}},
			},
			prompt: "The sky is green", cont: " green", gen: 1,
			wantLL: -6.2, wantTokens: 1, wantGreedy: false,
		},
		{
			name: "token straddling the boundary counts as continuation",
			lp: EchoLogprobs{
				Tokens:        []string{"Answer", ":", " B", "\n"},
				TextOffset:    []int{0, 6, 7, 9},
				TokenLogprobs: lps(nil, -3.0, -0.7, -0.2),
				TopLogprobs:   []map[string]float64{nil, {":": -3.0}, {" B": -0.7}, {"\n": -0.2}},
			},
			prompt: "Answer: B", cont: "B", gen: 1,
			wantLL: -0.7, wantTokens: 1, wantGreedy: true,
		},
		{
			name: "server counting bytes",
			lp: EchoLogprobs{
				Tokens:        []string{"é", "é", "é", " x", "!"},
				TextOffset:    []int{0, 2, 4, 6, 8},
				TokenLogprobs: lps(nil, -1.0, -2.0, -4.0, -0.5),
				TopLogprobs:   []map[string]float64{nil, {"é": -1.0}, {"é": -2.0}, {" x": -4.0}, {"!": -0.5}},
			},
			prompt: "ééé x", cont: "éé x", gen: 1,
			wantLL: -7.0, wantTokens: 3, wantGreedy: true,
		},
		{
			name: "no generated token (max_tokens 0 server)",
			lp: EchoLogprobs{
				Tokens:        []string{"1", " +", " 1", " =", " 2"},
				TextOffset:    []int{0, 1, 3, 5, 7},
				TokenLogprobs: lps(nil, -4.0, -1.0, -0.2, -0.05),
				TopLogprobs:   []map[string]float64{nil, {" +": -4.0}, {" 1": -1.0}, {" =": -0.2}, {" 2": -0.05}},
			},
			prompt: "1 + 1 = 2", cont: " 2", gen: 0,
			wantLL: -0.05, wantTokens: 1, wantGreedy: true,
		},
		{
			name: "rolling skips the first token",
			lp: EchoLogprobs{
				Tokens:        []string{"Hello", " world", "!"},
				TextOffset:    []int{0, 5, 11},
				TokenLogprobs: lps(nil, -5.5, -2.0),
				TopLogprobs:   []map[string]float64{nil, {" world": -5.5, ",": -1.0}, {"!": -2.0}},
			},
			prompt: "Hello world", cont: "Hello world", gen: 1, rolling: true,
			wantLL: -5.5, wantTokens: 1, wantGreedy: false,
		},
		{
			name: "missing top_logprobs is not greedy",
			lp: EchoLogprobs{
				Tokens:        []string{"a", " b", " c"},
				TextOffset:    []int{0, 1, 3},
				TokenLogprobs: lps(nil, -1.0, -1.0),
			},
			prompt: "a b", cont: " b", gen: 1,
			wantLL: -1.0, wantTokens: 1, wantGreedy: false,
		},
		{
			name:   "arrays of different lengths",
			lp:     EchoLogprobs{Tokens: []string{"a", " b"}, TextOffset: []int{0}, TokenLogprobs: lps(nil, -1.0)},
			prompt: "a b", cont: " b", gen: 1,
			wantErr: errMalformed,
		},
		{
			name:   "no logprobs at all",
			lp:     EchoLogprobs{},
			prompt: "a b", cont: " b", gen: 1,
			wantErr: provider.ErrUnsupported,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ScoreEcho(tc.lp, tc.prompt, tc.cont, tc.gen, tc.rolling)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("got %+v, want an error", s)
				}
				if tc.wantErr == errMalformed {
					if !err.Retryable {
						t.Errorf("malformed answers are retryable: %v", err)
					}
				} else if !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(s.LogLikelihood-tc.wantLL) > 1e-9 || s.Tokens != tc.wantTokens || s.IsGreedy != tc.wantGreedy {
				t.Errorf("got ll=%v tokens=%d greedy=%v, want %v %d %v", s.LogLikelihood, s.Tokens, s.IsGreedy, tc.wantLL, tc.wantTokens, tc.wantGreedy)
			}
		})
	}
}

var errMalformed = errors.New("malformed")

func TestChatParamsRoles(t *testing.T) {
	p := ChatParams("m", provider.Request{Messages: []provider.Message{{Role: "system", Content: "s"}, {Role: "developer", Content: "d"}, {Role: "human", Content: "h"}, {Role: "assistant", Content: "a"}}})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Messages []struct{ Role string } `json:"messages"`
	}
	json.Unmarshal(b, &body)
	want := []string{"system", "developer", "user", "assistant"}
	if len(body.Messages) != len(want) {
		t.Fatalf("%s", b)
	}
	for i, m := range body.Messages {
		if m.Role != want[i] {
			t.Errorf("message %d role = %s, want %s", i, m.Role, want[i])
		}
	}
}

// A chat completion's top_logprobs reach the response (a judge's soft
// preference needs the mass on every verdict token, not only the chosen one).
func TestChatResponseTopLogprobs(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","created":1,"model":"judge-1","choices":[{"index":0,"message":{"role":"assistant","content":"[[A]]"},"finish_reason":"stop",
"logprobs":{"content":[{"token":"[[","logprob":-0.01,"bytes":[91,91],"top_logprobs":[{"token":"[[","logprob":-0.01,"bytes":[91,91]}]},
{"token":"A","logprob":-0.4,"bytes":[65],"top_logprobs":[{"token":"A","logprob":-0.4,"bytes":[65]},{"token":"B","logprob":-1.2,"bytes":[66]},{"token":"C","logprob":-3.5,"bytes":[67]}]},
{"token":"]]","logprob":0,"bytes":[93,93],"top_logprobs":[]}],"refusal":null}}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`
	r, err := ChatResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Logprobs) != 3 || r.Model != "judge-1" {
		t.Fatalf("logprobs %+v", r.Logprobs)
	}
	top := r.Logprobs[1].Top
	if len(top) != 3 || top[1].Token != "B" || top[1].Logprob != -1.2 || len(r.Logprobs[2].Top) != 0 {
		t.Errorf("top logprobs at the verdict: %+v", top)
	}
}
