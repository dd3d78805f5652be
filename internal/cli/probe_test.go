package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

var updateProbe = flag.Bool("update-probe", false, "rewrite internal/cli/testdata/probe golden files")

// vllmLike answers like a vLLM OpenAI server: chat, completions, echo with
// prompt logprobs and /tokenize.
func vllmLike(t *testing.T, echo bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk-probe-secret" {
			w.WriteHeader(401)
			w.Write([]byte(`{"error":{"message":"bad key","type":"invalid_request_error"}}`))
			return
		}
		w.Write([]byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"OK"},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`))
	})
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		if body["echo"] == true && echo {
			w.Write([]byte(`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"The capital of France is Paris.","logprobs":{"text_offset":[0,3,11,14,21,24,30],"token_logprobs":[null,-9.1,-2.3,-0.07,-0.6,-1.3,-1.6],"tokens":["The"," capital"," of"," France"," is"," Paris","."],"top_logprobs":[null,{" capital":-9.1},{" of":-2.3},{" France":-0.07},{" is":-0.6},{" Paris":-1.3},{".":-1.6}]},"finish_reason":"length"}],"usage":{"prompt_tokens":6,"completion_tokens":1,"total_tokens":7}}`))
			return
		}
		w.Write([]byte(`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" Paris","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`))
	})
	if echo {
		mux.HandleFunc("/tokenize", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"count":2,"max_model_len":4096,"tokens":[9906,1917],"token_strs":null}`))
		})
	}
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func runProbeCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"probe"}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string {
			if k == "PROBE_KEY" {
				return "sk-probe-secret"
			}
			return ""
		},
	})
	return code, out.String(), errOut.String()
}

var (
	latencyRE = regexp.MustCompile(`\b[0-9.]+(ns|µs|ms|s)\b`)
	spacesRE  = regexp.MustCompile(` {2,}`)
)

func probeGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "probe", name)
	if *updateProbe {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run Probe -update-probe to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestProbeCommand(t *testing.T) {
	full := vllmLike(t, true)
	noEcho := vllmLike(t, false)
	norm := func(s string) string {
		s = strings.ReplaceAll(s, full.URL, "http://VLLM")
		s = strings.ReplaceAll(s, noEcho.URL, "http://HOSTED")
		s = latencyRE.ReplaceAllString(s, "LAT")
		// Column widths follow the random port's URL; compare the cells, not the padding.
		return spacesRE.ReplaceAllString(s, "  ")
	}

	code, out, errOut := runProbeCLI(t, "--base-url", full.URL+"/v1", "--model", "m", "--api-key-env", "PROBE_KEY")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	probeGolden(t, "vllm.txt", norm(out))
	// The old --format table is -f text, with a warning.
	code, old, errOut := runProbeCLI(t, "--base-url", full.URL+"/v1", "--model", "m", "--api-key-env", "PROBE_KEY", "--format", "table")
	if code != 0 || norm(old) != norm(out) || !strings.Contains(errOut, "warning: --format table is deprecated, use --format text") {
		t.Fatalf("--format table: exit %d, stderr %q\n%s", code, errOut, old)
	}

	code, out, _ = runProbeCLI(t, "--base-url", noEcho.URL+"/v1", "--model", "m", "--api-key-env", "PROBE_KEY")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	probeGolden(t, "no-echo.txt", norm(out))

	code, out, _ = runProbeCLI(t, "--base-url", full.URL+"/v1", "--model", "m", "--api-key-env", "PROBE_KEY", "--format", "json")
	var res []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 1 {
		t.Fatalf("json: exit %d, %s", code, out)
	}
	caps := res[0]["capabilities"].(map[string]any)
	if caps["echo_logprobs"] != true || caps["tokenize"] != true {
		t.Errorf("json capabilities: %v", caps)
	}
	if strings.Contains(out, "sk-probe-secret") {
		t.Error("output leaks the key")
	}
}

func TestProbeErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/v1"
	l.Close()
	cases := []struct {
		name string
		args []string
		code exitcode.Code
		msg  string
	}{
		{"unreachable", []string{"--base-url", closed, "--model", "m", "--timeout", "2s"}, exitcode.Unreachable, "cannot reach m"},
		{"empty key variable", []string{"--base-url", closed, "--model", "m", "--api-key-env", "NOPE"}, exitcode.BadInput, "NOPE (api_key_env) is empty"},
		{"unknown provider", []string{"--provider", "bedrock", "--model", "m"}, exitcode.BadInput, `unknown provider "bedrock"`},
		{"names without plan", []string{"base"}, exitcode.BadInput, "need --plan"},
		{"bad format", []string{"--format", "xml"}, exitcode.BadInput, "--format"},
		{"missing plan", []string{"--plan", "/nonexistent/tunecheck.yaml"}, exitcode.BadInput, "cannot read the plan"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runProbeCLI(t, tc.args...)
			if exitcode.Code(code) != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.msg)
			}
		})
	}
}

func TestProbePlan(t *testing.T) {
	s := vllmLike(t, true)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "eval.jsonl"), []byte(`{"id":"1","question":"q","answer":"a"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ft.jsonl"), []byte(`{"id":"1","output":"a"}`+"\n"), 0o644)
	planYAML := `version: 1
name: probe-test
models:
  - name: base
    provider: openai
    base_url: ` + s.URL + `/v1
    model: m
    api_key_env: PROBE_KEY
  - name: tuned
    provider: file
    path: ft.jsonl
compare:
  baseline: base
  candidate: tuned
tasks:
  - name: qa
    dataset:
      path: eval.jsonl
      id_field: id
    prompt:
      template: "{{ question }}"
    reference: answer
    scorers:
      - name: exact_match
`
	planPath := filepath.Join(dir, "tunecheck.yaml")
	os.WriteFile(planPath, []byte(planYAML), 0o644)
	code, out, errOut := runProbeCLI(t, "--plan", planPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "base ") || !strings.Contains(out, "tuned ") || !strings.Contains(out, "ft.jsonl: 1 outputs") {
		t.Errorf("plan probe output:\n%s", out)
	}
	code, out, _ = runProbeCLI(t, "--plan", planPath, "tuned")
	if code != 0 || strings.Contains(out, "\nbase ") {
		t.Errorf("only tuned should be probed:\n%s", out)
	}
	code, _, errOut = runProbeCLI(t, "--plan", planPath, "nope")
	if exitcode.Code(code) != exitcode.BadInput || !strings.Contains(errOut, `no model "nope"; its models are base, tuned`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runProbeCLI(t, "--plan", planPath, "--model", "x")
	if exitcode.Code(code) != exitcode.BadInput || !strings.Contains(errOut, "--model cannot be combined with --plan") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// llamaCppLike replays a real llama-server's answers (captured bodies in
// internal/provider/openai/testdata/llamacpp): echo ignored, logprobs in
// the per-token list, /tokenize with {"content"}, /props, /apply-template
// and /lora-adapters. The two completions after the echo check are a real
// first answer and its repeat from the prompt cache, whose logprobs differ.
func llamaCppLike(t *testing.T) *httptest.Server {
	t.Helper()
	body := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "provider", "openai", "testdata", "llamacpp", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	serve := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.Write(body(name)) }
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", serve("models.json"))
	mux.HandleFunc("GET /props", serve("props.json"))
	mux.HandleFunc("GET /lora-adapters", serve("lora_adapters.json"))
	mux.HandleFunc("POST /apply-template", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"prompt":"user: Say OK.\nassistant:"}`)) // as curl showed it
	})
	mux.HandleFunc("POST /v1/chat/completions", serve("chat_logprobs.json"))
	completions := 0
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		if req["echo"] == true {
			w.Write(body("completion_echo_ignored.json"))
			return
		}
		completions++
		if completions == 1 {
			w.Write(body("completion_cache_differ_first.json"))
			return
		}
		w.Write(body("completion_cache_differ_repeat.json"))
	})
	mux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		if _, ok := req["content"]; ok {
			w.Write(body("tokenize.json"))
			return
		}
		w.Write(body("tokenize_vllm_body.json"))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestProbeLlamaCpp(t *testing.T) {
	s := llamaCppLike(t)
	norm := func(out string) string {
		out = strings.ReplaceAll(out, s.URL, "http://LLAMA")
		out = latencyRE.ReplaceAllString(out, "LAT")
		return spacesRE.ReplaceAllString(out, "  ")
	}
	code, out, errOut := runProbeCLI(t, "--base-url", s.URL+"/v1", "--model", "base")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	probeGolden(t, "llamacpp.txt", norm(out))

	// A fresh server: its first completion is again the uncached one.
	code, out, _ = runProbeCLI(t, "--base-url", llamaCppLike(t).URL+"/v1", "--model", "/tmp/tinyquick/base.gguf", "--format", "json")
	var res []struct {
		Capabilities struct {
			EchoLogprobs  bool   `json:"echo_logprobs"`
			Echo          string `json:"echo"`
			LogprobFormat string `json:"logprob_format"`
			TokenizeRoute string `json:"tokenize_route"`
			Server        struct {
				Software            string `json:"software"`
				NCtx                int    `json:"n_ctx"`
				Slots               int    `json:"total_slots"`
				ChatTemplateApplied bool   `json:"chat_template_applied"`
				PromptCache         string `json:"prompt_cache"`
				Adapters            []struct {
					Name         string  `json:"name"`
					DefaultScale float64 `json:"default_scale"`
				} `json:"lora_adapters"`
			} `json:"server"`
		} `json:"capabilities"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 1 {
		t.Fatalf("json: exit %d, %s", code, out)
	}
	c := res[0].Capabilities
	if c.EchoLogprobs || c.Echo != "ignored" || c.LogprobFormat != "per-token list" || c.TokenizeRoute != "llama.cpp /tokenize" {
		t.Errorf("capabilities %+v", c)
	}
	sv := c.Server
	if sv.Software != "llama.cpp" || sv.NCtx != 1024 || sv.Slots != 4 || !sv.ChatTemplateApplied || len(sv.Adapters) != 1 || sv.Adapters[0].Name != "ticket.lora.gguf" || sv.Adapters[0].DefaultScale != 1 ||
		!strings.Contains(sv.PromptCache, "differed") || !strings.Contains(sv.PromptCache, "cache_prompt: false") {
		t.Errorf("server %+v", sv)
	}
}
