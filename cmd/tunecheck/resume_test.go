package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/store"
)

// chatServer is an OpenAI chat-completions endpoint that answers each prompt
// with its reversed text and counts, per prompt, the responses it finished
// writing. After hangAfter answers it stops answering (requests hang until the
// client goes away), so that a client can be killed with nothing in flight
// that the server completed.
type chatServer struct {
	mu        sync.Mutex
	answered  map[string]int
	total     int
	hangAfter int
	hanging   int // requests now held back by hangAfter
	release   chan struct{}
}

func (s *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	prompt := req.Messages[len(req.Messages)-1].Content
	s.mu.Lock()
	hang := s.hangAfter > 0 && s.total >= s.hangAfter
	if hang {
		s.hanging++
	}
	s.mu.Unlock()
	if hang {
		defer func() {
			s.mu.Lock()
			s.hanging--
			s.mu.Unlock()
		}()
		select {
		case <-r.Context().Done():
			return
		case <-s.release:
		}
	}
	body := fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`,
		req.Model, "answer to "+prompt)
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write([]byte(body)); err != nil {
		return
	}
	s.mu.Lock()
	s.answered[prompt]++
	s.total++
	s.mu.Unlock()
}

// held is how many requests are waiting on the server's release.
func (s *chatServer) held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hanging
}

func (s *chatServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

func TestResumeAfterKill(t *testing.T) {
	const items = 300
	srv := &chatServer{answered: map[string]int{}, hangAfter: 120, release: make(chan struct{})}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	dir := t.TempDir()
	var data strings.Builder
	for i := range items {
		fmt.Fprintf(&data, "{\"id\": \"q%03d\", \"q\": \"question %d\", \"a\": \"answer to Q: question %d\"}\n", i, i, i)
	}
	writeFile(t, filepath.Join(dir, "qa.jsonl"), data.String())
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: resume
models:
  - name: tuned
    provider: openai
    base_url: %s/v1
    model: tuned-model
    concurrency: 8
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: exact_match}]
`, ts.URL))
	db := filepath.Join(dir, "tc.db")
	tunecheck := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
		cmd.Dir = dir
		return cmd
	}

	// Phase 1: run until the server stops answering, let the batch writer
	// flush, then kill -9.
	first := tunecheck(context.Background(), "run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out"))
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for srv.count() < srv.hangAfter {
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatalf("server answered only %d requests in 60s", srv.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // longer than the writer's flush interval
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	n1 := srv.count()

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.ListRuns(context.Background(), "", 10)
	if err != nil || len(runs) != 1 || runs[0].Status != store.StatusRunning {
		t.Fatalf("after the kill the store should hold one unfinished run: %+v %v", runs, err)
	}
	stored, _ := st.Results(context.Background(), runs[0].ID)
	st.Close()
	if len(stored) != n1 {
		t.Fatalf("the killed run stored %d results, the server answered %d", len(stored), n1)
	}

	// Phase 2: the same plan resumes and finishes.
	close(srv.release)
	srv.mu.Lock()
	srv.hangAfter = 0
	srv.mu.Unlock()
	out, err := tunecheck(context.Background(), "run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out")).CombinedOutput()
	if err != nil {
		t.Fatalf("resumed run failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resumed run "+runs[0].ID) {
		t.Fatalf("the second run did not resume %s:\n%s", runs[0].ID, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("%d requests sent, 0 from cache, %d already done, 0 failed", items-n1, n1)) {
		t.Fatalf("unexpected counts:\n%s", out)
	}

	srv.mu.Lock()
	for i := range items {
		p := fmt.Sprintf("Q: question %d", i)
		if n := srv.answered[p]; n != 1 {
			t.Errorf("%q answered %d times, want exactly once", p, n)
		}
	}
	srv.mu.Unlock()

	st, err = store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Results(context.Background(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range res {
		seen[r.ItemID]++
		if r.Error != "" {
			t.Errorf("item %s failed: %s", r.ItemID, r.Error)
		}
	}
	if len(res) != items || len(seen) != items {
		t.Fatalf("store holds %d results for %d distinct items, want %d once each", len(res), len(seen), items)
	}
	r, err := st.GetRun(context.Background(), runs[0].ID)
	if err != nil || r.Status != store.StatusFinished || r.Verdict != "pass" {
		t.Fatalf("run after resume: %+v %v", r, err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A second identical run against a live endpoint sends no request and writes
// byte-identical reports (latencies included: cached responses keep theirs).
func TestSecondRunFromCacheIsIdentical(t *testing.T) {
	srv := &chatServer{answered: map[string]int{}, release: make(chan struct{})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	var data strings.Builder
	for i := range 40 {
		fmt.Fprintf(&data, "{\"id\": \"q%02d\", \"q\": \"question %d\", \"a\": \"answer to Q: question %d\"}\n", i, i, i%3)
	}
	writeFile(t, filepath.Join(dir, "qa.jsonl"), data.String())
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: cache
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base-model}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned-model}
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: exact_match}, {name: token_f1}]
`, ts.URL))
	run := func(out string) string {
		cmd := exec.Command(os.Args[0], "run", "plan.yaml", "--store", filepath.Join(dir, "tc.db"), "-o", filepath.Join(dir, out), "--format", "md,json,html,junit")
		cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run: %v\n%s", err, b)
		}
		return string(b)
	}
	first := run("out1")
	if srv.count() != 80 || !strings.Contains(first, "80 requests sent, 0 from cache") {
		t.Fatalf("first run: server answered %d\n%s", srv.count(), first)
	}
	second := run("out2")
	if srv.count() != 80 || !strings.Contains(second, "0 requests sent, 80 from cache") {
		t.Fatalf("second run sent requests: server answered %d\n%s", srv.count(), second)
	}
	for _, f := range []string{"report.md", "results.json", "report.html", "junit.xml"} {
		a, _ := os.ReadFile(filepath.Join(dir, "out1", f))
		b, _ := os.ReadFile(filepath.Join(dir, "out2", f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between the first run and the cached one", f)
		}
	}
}

// Ctrl-C stops the run cleanly: exit code 130, finished work stored, the run
// left unfinished so that the next run resumes it.
func TestInterruptKeepsFinishedWork(t *testing.T) {
	srv := &chatServer{answered: map[string]int{}, hangAfter: 50, release: make(chan struct{})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	var data strings.Builder
	for i := range 100 {
		fmt.Fprintf(&data, "{\"id\": \"q%03d\", \"q\": \"question %d\", \"a\": \"x\"}\n", i, i)
	}
	writeFile(t, filepath.Join(dir, "qa.jsonl"), data.String())
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: interrupt
models:
  - {name: tuned, provider: openai, base_url: %s/v1, model: m, concurrency: 4}
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: exact_match}]
`, ts.URL))
	db := filepath.Join(dir, "tc.db")
	cmd := exec.Command(os.Args[0], "run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The server counts an answer when it has written it, which is before
	// the client has read it. Wait until all four workers are held on a new
	// request: each has then read the answer to its previous one, so every
	// counted answer has reached tunecheck and must be stored.
	deadline := time.Now().Add(60 * time.Second)
	for srv.count() < 50 || srv.held() < 4 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("server never reached 50 answers with 4 requests held (answered %d, held %d)", srv.count(), srv.held())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("want exit code 130, got %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "run the same plan again to resume") {
		t.Fatalf("no resume hint:\n%s", stderr.String())
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _ := st.ListRuns(context.Background(), "", 5)
	if len(runs) != 1 || runs[0].Status != store.StatusRunning {
		t.Fatalf("runs after interrupt: %+v", runs)
	}
	res, _ := st.Results(context.Background(), runs[0].ID)
	if len(res) != srv.count() {
		t.Fatalf("stored %d results, the server answered %d", len(res), srv.count())
	}
}
