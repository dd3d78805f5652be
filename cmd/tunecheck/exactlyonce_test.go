package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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

// servedAnswer is one response a killServer finished writing.
type servedAnswer struct {
	arrived, done time.Time
}

// killServer is an OpenAI chat-completions endpoint that answers at once
// and records, per prompt, every answer it finished writing. When the current
// client process has been answered killAfter times it signals kill.
type killServer struct {
	mu        sync.Mutex
	answers   map[string][]servedAnswer
	inFlight  int
	answered  int // by the current client process
	killAfter int // 0: never signal
	kill      chan struct{}
}

func (s *killServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	s.mu.Lock()
	s.inFlight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	prompt := req.Messages[len(req.Messages)-1].Content
	body := fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`,
		req.Model, "answer to "+prompt)
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write([]byte(body)); err != nil {
		return
	}
	w.(http.Flusher).Flush() // on the wire: the client may have it now
	done := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[prompt] = append(s.answers[prompt], servedAnswer{arrived: arrived, done: done})
	s.answered++
	if s.killAfter > 0 && s.answered == s.killAfter {
		select {
		case s.kill <- struct{}{}:
		default: // one signal per client process; never block the handler
		}
	}
}

// next resets the per-process count for a new client process.
func (s *killServer) next(killAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answered, s.killAfter = 0, killAfter
}

// quiesce waits until no request has been in flight for a while, so that
// nothing a killed client sent is still being answered when the next starts.
func (s *killServer) quiesce(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for idle := 0; idle < 5; {
		if time.Now().After(deadline) {
			t.Fatal("the server still answers a killed client after 30s")
		}
		time.Sleep(20 * time.Millisecond)
		s.mu.Lock()
		busy := s.inFlight > 0
		s.mu.Unlock()
		if busy {
			idle = 0
		} else {
			idle++
		}
	}
}

// A run killed with SIGKILL several times, at moments the server picks, sends
// each request again only when its answer arrived within the last second
// before a kill and was not yet stored, and never more such requests per kill
// than it has in flight (its concurrency): a result is durable before its job
// counts as done and the worker takes the next one.
func TestExactlyOnceAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real run three times")
	}
	const (
		items       = 2400
		concurrency = 64
		kills       = 3
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	srv := &killServer{answers: map[string][]servedAnswer{}, kill: make(chan struct{}, 1)}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	dir := t.TempDir()
	var data strings.Builder
	for i := range items {
		fmt.Fprintf(&data, "{\"id\": \"q%04d\", \"q\": \"question %d\", \"a\": \"answer to Q: question %d\"}\n", i, i, i)
	}
	writeFile(t, filepath.Join(dir, "qa.jsonl"), data.String())
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: exactly-once
models:
  - name: tuned
    provider: openai
    base_url: %s/v1
    model: tuned-model
    concurrency: %d
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: exact_match}]
`, ts.URL, concurrency))
	db := filepath.Join(dir, "tc.db")
	tunecheck := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out"))
		cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
		cmd.Dir = dir
		return cmd
	}

	// starts[i] is when client process i started, killed[i] when it was killed.
	var starts, killed []time.Time
	for k := range kills {
		killAfter := 200 + rng.IntN(400)
		srv.next(killAfter)
		cmd := tunecheck()
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		starts = append(starts, time.Now())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-srv.kill:
		case err := <-exited:
			t.Fatalf("run %d ended (%v) before the server answered %d requests:\n%s", k, err, killAfter, out.String())
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("run %d: the server did not answer %d requests in 2 minutes:\n%s", k, killAfter, out.String())
		}
		killed = append(killed, time.Now())
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-exited
		srv.quiesce(t)
	}

	srv.next(0)
	starts = append(starts, time.Now())
	out, err := tunecheck().CombinedOutput()
	if err != nil {
		t.Fatalf("the run after %d kills failed: %v\n%s", kills, err, out)
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.ListRuns(context.Background(), "", 10)
	if err != nil || len(runs) != 1 || runs[0].Status != store.StatusFinished {
		t.Fatalf("want one finished run, resumed %d times: %+v %v", kills, runs, err)
	}
	res, err := st.Results(context.Background(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, r := range res {
		if r.Error != "" {
			t.Errorf("item %s failed: %s", r.ItemID, r.Error)
		}
		stored[r.ItemID] = true
	}
	if len(res) != items || len(stored) != items {
		t.Fatalf("%d results for %d distinct items; want %d, one each", len(res), len(stored), items)
	}

	// process returns the client process that sent a request arriving at t.
	process := func(t0 time.Time) int {
		p := 0
		for i, s := range starts {
			if !t0.Before(s) {
				p = i
			}
		}
		return p
	}
	resent := make([]int, kills)           // requests sent again after kill i
	oldest := make([]time.Duration, kills) // the oldest of their lost answers
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i := range items {
		prompt := fmt.Sprintf("Q: question %d", i)
		as := srv.answers[prompt]
		if len(as) == 0 {
			t.Errorf("%q was never answered", prompt)
			continue
		}
		for j := range len(as) - 1 {
			lost, again := as[j], as[j+1]
			p, q := process(lost.arrived), process(again.arrived)
			if p >= q || p >= kills {
				t.Errorf("%q was sent twice by run %d (answered at +%v and +%v)", prompt, q, lost.done.Sub(starts[0]), again.done.Sub(starts[0]))
				continue
			}
			resent[p]++
			age := killed[p].Sub(lost.done)
			oldest[p] = max(oldest[p], age)
			if age > time.Second {
				t.Errorf("%q was answered %v before kill %d and sent again: its result was not stored in time", prompt, age, p)
			}
		}
	}
	total := 0
	for k, n := range resent {
		total += n
		if n > concurrency {
			t.Errorf("kill %d: %d requests sent again; want at most %d (the requests in flight)", k, n, concurrency)
		}
	}
	t.Logf("%d items, concurrency %d: requests sent again after each of %d kills: %v (%d in all), answered at most %v before the kill",
		items, concurrency, kills, resent, total, oldest)
}
