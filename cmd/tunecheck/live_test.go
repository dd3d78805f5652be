package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/livetest"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/registry"
	"github.com/tunecheck/tunecheck/internal/store"
)

// The live tests run the tunecheck binary (this test binary re-executed, see
// TestMain) against a real llama.cpp llama-server serving the tiny models of
// examples/live-tiny (internal/livetest), often through a counting proxy.

// liveTunecheck is a tunecheck process in dir, killed when the test ends
// if it still runs then (a test that failed half-way).
func liveTunecheck(t *testing.T, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	cmd.Dir = dir
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// liveTickets writes n ticket rows and a generation plan over them through
// completions at temperature 0 to baseURL, and returns the plan's path and the prompts.
func liveTickets(t *testing.T, dir, baseURL string, n, concurrency int) (string, []string) {
	t.Helper()
	subjects := []string{"my password", "the invoice", "a refund", "the login page", "my account", "the export", "a crash", "the API key"}
	var data strings.Builder
	prompts := make([]string, n)
	for i := range n {
		text := fmt.Sprintf("Hi, I have a problem with %s (order %d).", subjects[i%len(subjects)], 1000+i)
		prompts[i] = "Ticket: " + text + "\nLabel:"
		fmt.Fprintf(&data, "{\"id\": \"t%03d\", \"text\": %q, \"label\": \"account\"}\n", i, text)
	}
	writeFile(t, filepath.Join(dir, "tickets.jsonl"), data.String())
	plan := filepath.Join(dir, "plan.yaml")
	writeFile(t, plan, fmt.Sprintf(`name: live
models:
  - name: tiny
    provider: openai
    base_url: %s
    model: tiny
    endpoint: completions
    params: {temperature: 0, max_tokens: 16}
    concurrency: %d
    max_retries: 8   # a server restart on a loaded machine can outlast the default 5 (jittered, from 0.5 s)
tasks:
  - name: tickets
    dataset: {path: tickets.jsonl, id_field: id}
    prompt: {template: "Ticket: {{ text }}\nLabel:", chat: false}
    reference: label
    scorers: [{name: exact_match}]
`, baseURL, concurrency))
	return plan, prompts
}

// oneRun reads the one run in db and its results.
func oneRun(t *testing.T, db string) (store.Run, []store.Result) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.ListRuns(ctx, "", 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one run in %s: %+v %v", db, runs, err)
	}
	res, err := st.Results(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return runs[0], res
}

// liveOutputs reads the one run in db: each item's generated text, and its errors.
func liveOutputs(t *testing.T, db string) (map[string]string, store.Run) {
	t.Helper()
	run, res := oneRun(t, db)
	out := map[string]string{}
	for _, r := range res {
		if r.Error != "" {
			t.Errorf("item %s failed: %s", r.ItemID, r.Error)
			continue
		}
		var resp provider.Response
		if err := json.Unmarshal(r.Response, &resp); err != nil {
			t.Fatalf("item %s: %v", r.ItemID, err)
		}
		if _, dup := out[r.ItemID]; dup {
			t.Errorf("item %s stored twice", r.ItemID)
		}
		out[r.ItemID] = resp.Text
	}
	return out, run
}

func sameOutputs(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d items answered, want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("item %s: %q, the uninterrupted run answered %q", id, got[id], w)
		}
	}
}

// waitFor polls cond every 2ms for up to 60s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60s for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// `tunecheck probe` finds what llama-server does: chat and completions
// work, echo is ignored (no prompt logprobs, so echo_logprobs is false; the
// logprobs come in the per-token list format), and llama.cpp's /tokenize
// route answers.
func TestLiveProbe(t *testing.T) {
	srv := livetest.Start(t, livetest.Options{Parallel: 1})
	out, err := liveTunecheck(t, t.TempDir(), "probe", "--provider", "openai", "--base-url", srv.BaseURL(), "--model", "tiny", "-f", "json").Output()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	var res []registry.ProbeResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 {
		t.Fatalf("probe -f json: %v\n%s", err, out)
	}
	c := res[0].Capabilities
	if res[0].Error != "" || !c.Chat || !c.Completions || c.EchoLogprobs || !c.Tokenize {
		t.Fatalf("want chat, completions and tokenize and no echo logprobs:\n%s", out)
	}
	notes := strings.ToLower(strings.Join(c.Notes, "\n"))
	// Loose: the facts, not the wording. The logprob format is llama-server's
	// per-token list (logprobs.content).
	for _, want := range []string{"echo", "logprobs.content", "llama.cpp /tokenize"} {
		if !strings.Contains(notes, want) {
			t.Errorf("probe notes do not mention %q:\n%s", want, out)
		}
	}
	// The server lists its --alias as the model id, so the model is found.
	if strings.Contains(notes, "not among the served models") {
		t.Errorf("probe did not find model tiny, which the server lists:\n%s", out)
	}
	// The text table says the same.
	text, err := liveTunecheck(t, t.TempDir(), "probe", "--provider", "openai", "--base-url", srv.BaseURL(), "--model", "tiny").Output()
	if err != nil || !strings.Contains(strings.ToLower(string(text)), "tokenize") {
		t.Errorf("probe (text): %v\n%s", err, text)
	}
}

// Tasks that need prompt logprobs, which llama-server does not return (it
// ignores echo=true and answers with the generated token's logprob only):
// multiple_choice with protocol loglikelihood, and perplexity, are refused
// (exit code 2) after the one echo check per model endpoint, before any
// item's request reaches the server; multiple_choice with protocol auto
// falls back to generation for both models and sends no echo request for
// any item.
func TestLiveLoglikelihoodRefused(t *testing.T) {
	srv := livetest.Start(t, livetest.Options{Parallel: 1})
	const mc = `    type: multiple_choice
    dataset: {path: rows.jsonl, id_field: id}
    prompt: {template: "{{ q }}", chat: false}
    choices: choices
    answer: gold
`
	for _, tc := range []struct {
		name, task string
		refused    bool
	}{
		{"mc-loglikelihood", mc + "    options: {protocol: loglikelihood}\n", true},
		// The tiny models add no BOS token, and no prefix_token_id is set:
		// the echo refusal comes first, not a request for a prefix token
		// (it once asked for one before saying that nothing could work).
		{"perplexity", "    type: perplexity\n    dataset: {path: rows.jsonl, id_field: id}\n    prompt: {template: \"{{ q }}\", chat: false}\n", true},
		{"mc-auto", mc, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := livetest.NewProxy(t, srv.URL)
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "rows.jsonl"), `{"id": "1", "q": "Ticket: I forgot my password.\nLabel:", "choices": [" account", " billing"], "gold": 0}
{"id": "2", "q": "Ticket: I was charged twice.\nLabel:", "choices": [" account", " billing"], "gold": 1}
`)
			writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: live-ll
models:
  - {name: base, provider: openai, base_url: %[1]s, model: tiny, endpoint: completions}
  - {name: tuned, provider: openai, base_url: %[1]s, model: tiny-tuned, endpoint: completions}
tasks:
  - name: labels
%[2]s`, proxy.BaseURL(), tc.task))
			out, err := liveTunecheck(t, dir, "run", "plan.yaml", "--store", filepath.Join(dir, "tc.db"), "-o", filepath.Join(dir, "out")).CombinedOutput()
			var exit *exec.ExitError
			switch {
			case tc.refused && (!errors.As(err, &exit) || exit.ExitCode() != 2):
				t.Fatalf("want the run refused with exit code 2, got %v:\n%s", err, out)
			case !tc.refused && err != nil:
				t.Fatalf("the run failed: %v\n%s", err, out)
			}
			if !strings.Contains(strings.ToLower(string(out)), "echo") {
				t.Errorf("the output does not say that echo was ignored:\n%s", out)
			}
			checks, items := 0, 0
			for _, s := range proxy.Sent() {
				item := strings.Contains(s.Body, "Ticket:")
				switch {
				case s.Path == "/v1/completions" && s.Echo && !item:
					checks++
				case !item && s.Path != "/v1/completions" && s.Path != "/v1/chat/completions":
					// the token-window setup: /tokenize of a probe text, /props
				case !item:
					t.Errorf("an unexpected request: %+v", s)
				case tc.refused:
					t.Errorf("a request beyond the echo check reached the server: %+v", s)
				case s.Echo:
					t.Errorf("an item was sent with echo after the check found it ignored: %+v", s)
				default:
					items++
				}
			}
			if checks == 0 || checks > 2 {
				t.Errorf("%d echo checks reached the server; want one per model endpoint (1 or 2)", checks)
			}
			if !tc.refused && items != 4 {
				t.Errorf("%d generation requests; want 4 (2 items × 2 models)", items)
			}
			t.Logf("%d echo checks, %d item requests:\n%s", checks, items, out)
		})
	}
}

// A run killed with SIGKILL resumes; its server killed with SIGKILL in the
// middle of the resumed run and restarted on the same port costs retries,
// not items: the run completes, every item is answered exactly once, and the
// outputs equal an uninterrupted run's.
func TestLiveResumeAfterKills(t *testing.T) {
	const items = 60
	srv := livetest.Start(t, livetest.Options{Parallel: 4, Args: []string{"--no-cache-prompt"}})

	// The uninterrupted run, straight to the server.
	refDir := t.TempDir()
	plan, _ := liveTickets(t, refDir, srv.BaseURL(), items, 4)
	if out, err := liveTunecheck(t, refDir, "run", plan, "--store", filepath.Join(refDir, "tc.db"), "-o", filepath.Join(refDir, "out")).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	want, _ := liveOutputs(t, filepath.Join(refDir, "tc.db"))

	proxy := livetest.NewProxy(t, srv.URL)
	dir := t.TempDir()
	plan, prompts := liveTickets(t, dir, proxy.BaseURL(), items, 4)
	db := filepath.Join(dir, "tc.db")
	args := []string{"run", plan, "--store", db, "-o", filepath.Join(dir, "out")}

	// Phase 1: after 20 answers the proxy holds new requests; once the
	// batch writer has flushed what was answered, kill -9 tunecheck.
	proxy.HoldAfter(20)
	first := liveTunecheck(t, dir, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "20 answers", func() bool { return proxy.Held() > 0 })
	time.Sleep(1500 * time.Millisecond) // longer than the writer's flush interval
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	waitFor(t, "the held requests to go away with their client", func() bool { return proxy.Held() == 0 })
	n1 := proxy.Total()

	// Phase 2: resume; kill -9 llama-server after ten more answers and
	// start it again on the same port.
	proxy.Release()
	second := liveTunecheck(t, dir, args...)
	var out strings.Builder
	second.Stdout, second.Stderr = &out, &out
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ten more answers", func() bool { return proxy.Total() >= n1+10 })
	srv.Kill()
	atKill := proxy.Total()
	time.Sleep(200 * time.Millisecond) // requests meanwhile find the port closed
	srv.Restart()
	if err := second.Wait(); err != nil {
		t.Fatalf("resumed run failed: %v\n%s", err, out.String())
	}
	if atKill >= items {
		t.Fatalf("the run was done (%d answers) before llama-server was killed", atKill)
	}
	t.Logf("answers before kill -9 of tunecheck %d, before kill -9 of llama-server %d; statuses relayed %v", n1, atKill, proxy.Statuses())
	if !strings.Contains(out.String(), fmt.Sprintf("%d already done, 0 failed", n1)) {
		t.Errorf("the resumed run should count %d items already done and none failed:\n%s", n1, out.String())
	}
	if proxy.Statuses()[502] == 0 {
		t.Errorf("no request found llama-server down (no 502 from the proxy): the kill did not happen mid-run")
	}

	for _, p := range prompts {
		if n := proxy.Answered(p); n != 1 {
			t.Errorf("%q answered %d times, want exactly once", p, n)
		}
	}
	got, run := liveOutputs(t, db)
	if run.Status != store.StatusFinished {
		t.Errorf("run status %s, want finished", run.Status)
	}
	sameOutputs(t, got, want)
}

// llama-server with one slot and tunecheck with eight requests in flight:
// the server queues what it cannot start at once (every answer relayed is a
// 200), and tunecheck completes every item with the answer the server gives
// that prompt alone, also across a kill -9 and restart of the server (whose
// requests then meet a closed port or 503 "Loading model" and are retried).
func TestLiveSlotLimit(t *testing.T) {
	const items = 40
	srv := livetest.Start(t, livetest.Options{Parallel: 1, Args: []string{"--no-cache-prompt"}})
	proxy := livetest.NewProxy(t, srv.URL)
	dir := t.TempDir()
	plan, prompts := liveTickets(t, dir, proxy.BaseURL(), items, 8)
	db := filepath.Join(dir, "tc.db")
	run := liveTunecheck(t, dir, "run", plan, "--store", db, "-o", filepath.Join(dir, "out"))
	var out strings.Builder
	run.Stdout, run.Stderr = &out, &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ten answers", func() bool { return proxy.Total() >= 10 })
	before := proxy.Statuses()
	// kill -9 and start again on the same port. The proxy holds requests
	// until the new process listens and lets them through while it loads
	// the model, which it answers with 503 "Loading model".
	proxy.HoldAfter(1)
	srv.Kill()
	// The requests the kill cut off come back as retries and wait at the proxy.
	waitFor(t, "a retried request", func() bool { return proxy.Held() > 0 })
	for try := 1; ; try++ {
		done := srv.Launch()
		// The port opens before the model is loaded; /health says which.
		loading := false
		waitFor(t, "the restarted server to answer", func() bool {
			resp, err := http.Get(srv.URL + "/health")
			if err != nil {
				return false
			}
			resp.Body.Close()
			loading = resp.StatusCode == http.StatusServiceUnavailable
			return true
		})
		if loading {
			proxy.Release()
			if err := srv.WaitHealthy(done); err != nil {
				t.Fatal(err)
			}
			break
		}
		if try == 5 {
			t.Fatal("five restarts were healthy before /health could see one loading")
		}
		srv.Kill() // loaded too fast to be caught loading: again
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("run failed: %v\n%s", err, out.String())
	}
	t.Logf("statuses before the restart %v, in all %v; 503 body %s", before, proxy.Statuses(), proxy.ErrorBody(503))
	for code, n := range before {
		if code != 200 {
			t.Errorf("before the restart the server answered %d requests with %d; one slot should queue them", n, code)
		}
	}
	if !strings.Contains(proxy.ErrorBody(503), "Loading model") {
		t.Errorf("no request met the restarted server loading its model (503 \"Loading model\"); statuses %v", proxy.Statuses())
	}
	if !strings.Contains(out.String(), "0 failed") {
		t.Errorf("want no failed items:\n%s", out.String())
	}

	// The answers the server gives each prompt alone.
	want := map[string]string{}
	p, err := registry.New(provider.Config{Kind: provider.KindOpenAI, BaseURL: srv.BaseURL(), Model: "tiny", Endpoint: provider.EndpointCompletions}, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	for i, prompt := range prompts {
		resp, err := p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: "x", Prompt: prompt, Params: provider.Params{Temperature: &zero, MaxTokens: 16}})
		if err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("t%03d", i)] = resp.Text
	}
	got, _ := liveOutputs(t, db)
	sameOutputs(t, got, want)
}

// One llama-server serves the base model and its LoRA (loaded at scale 0),
// and the plan's two models pick the adapter per request through
// extra_body (llama-server's "lora" field, with the prompt cache off so that
// neither model reuses the other's KV cache): each model's outputs are
// PyTorch's greedy continuations of its own weights.
func TestLiveLoraPerRequestPlan(t *testing.T) {
	livetest.Binary(t)
	ref := livetest.LoadReference(t)
	srv := livetest.Start(t, livetest.Options{Parallel: 2, Lora: []string{filepath.Join(livetest.Models(t), "ticket.lora.gguf")}})
	dir := t.TempDir()
	var data strings.Builder
	for i, p := range ref.Prompts {
		row, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("p%d", i), "prompt": p.Prompt})
		data.Write(append(row, '\n'))
	}
	writeFile(t, filepath.Join(dir, "prompts.jsonl"), data.String())
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: live-lora
models:
  - name: base
    provider: openai
    base_url: %[1]s
    model: tiny
    endpoint: completions
    extra_body: {cache_prompt: false, lora: [{id: 0, scale: 0}]}
    params: {temperature: 0, max_tokens: 24}
    concurrency: 2
  - name: tuned
    provider: openai
    base_url: %[1]s
    model: tiny
    endpoint: completions
    extra_body: {cache_prompt: false, lora: [{id: 0, scale: 1.0}]}
    params: {temperature: 0, max_tokens: 24}
    concurrency: 2
tasks:
  - name: continue
    dataset: {path: prompts.jsonl, id_field: id}
    prompt: {template: "{{ prompt }}", chat: false}
    reference: prompt
    scorers: [{name: exact_match}]
`, srv.BaseURL()))
	db := filepath.Join(dir, "tc.db")
	out, err := liveTunecheck(t, dir, "run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out")).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	_, res := oneRun(t, db)
	if len(res) != 2*len(ref.Prompts) {
		t.Fatalf("%d results, want %d", len(res), 2*len(ref.Prompts))
	}
	for _, r := range res {
		var resp provider.Response
		if err := json.Unmarshal(r.Response, &resp); err != nil || r.Error != "" {
			t.Fatalf("%s %s: %v %s", r.Model, r.ItemID, err, r.Error)
		}
		var i int
		fmt.Sscanf(r.ItemID, "p%d", &i)
		want := ref.Prompts[i].Base
		if r.Model == "tuned" {
			want = ref.Prompts[i].Lora
		}
		if _, err := livetest.Agree(resp.Text, want); err != nil {
			t.Errorf("%s on %q: %v", r.Model, ref.Prompts[i].Prompt, err)
		}
	}
}
