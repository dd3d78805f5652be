package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/store"
)

// shardServer is an OpenAI chat-completions endpoint whose answers depend
// only on the model and the prompt (so any process, shard or replica gets the
// same one), right for some items and partly right for others, differently
// per model. It counts the answers it wrote per model and prompt. While hold
// is set it answers nothing: requests wait until their client goes away.
type shardServer struct {
	mu       sync.Mutex
	answered map[string]int // model + "\x00" + prompt
	total    int
	holdAt   int // when total reaches it, hold (0: never)
	held     chan struct{}
	holding  bool
	inFlight int
}

func newShardServer() *shardServer {
	return &shardServer{answered: map[string]int{}, held: make(chan struct{}, 1)}
}

func (s *shardServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	s.mu.Lock()
	s.inFlight++
	hold := s.holding
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	if hold {
		<-r.Context().Done() // never answered: the client was killed
		return
	}
	prompt := req.Messages[len(req.Messages)-1].Content
	num := strings.TrimPrefix(prompt, "Q: question ")
	h := fnv.New32a()
	h.Write([]byte(req.Model + "|" + prompt))
	right := 5
	if req.Model == "tuned-model" {
		right = 7
	}
	var text string
	switch v := h.Sum32() % 10; {
	case int(v) < right:
		text = "answer " + num
	case v%2 == 0:
		text = "the answer is " + num + " or so"
	default:
		text = "no idea"
	}
	body := fmt.Sprintf(`{"id":"c","object":"chat.completion","created":1700000000,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":6,"completion_tokens":%d}}`,
		req.Model, text, len(strings.Fields(text)))
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write([]byte(body)); err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answered[req.Model+"\x00"+prompt]++
	s.total++
	if s.holdAt > 0 && s.total == s.holdAt {
		s.holding = true
		s.held <- struct{}{}
	}
}

// release ends holding and waits until no held request is left.
func (s *shardServer) release(t *testing.T) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		busy := s.inFlight
		if busy == 0 {
			s.holding, s.holdAt = false, 0
		}
		s.mu.Unlock()
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("held requests of a killed shard still open after 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shardPlan writes a plan of two generate tasks (260 items, per-item and
// corpus metrics, a slice, gates) for two models on srvURL.
func shardPlan(t *testing.T, dir, srvURL string) {
	t.Helper()
	var qa, sum strings.Builder
	for i := range 200 {
		fmt.Fprintf(&qa, "{\"id\": \"q%03d\", \"q\": \"question %d\", \"a\": \"answer %d\", \"kind\": \"k%d\"}\n", i, i, i, i%3)
	}
	for i := range 60 {
		fmt.Fprintf(&sum, "{\"id\": \"s%02d\", \"q\": \"question %d\", \"a\": \"the answer is %d\"}\n", i, 1000+i, 1000+i)
	}
	writeFile(t, filepath.Join(dir, "qa.jsonl"), qa.String())
	writeFile(t, filepath.Join(dir, "sum.jsonl"), sum.String())
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: sharded
seed: 7
bootstrap: {resamples: 2000}
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base-model, concurrency: 4, max_retries: 0}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned-model, concurrency: 4, max_retries: 0}
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: exact_match}, {name: token_f1}]
    slices: [{field: kind}]
  - name: sum
    dataset: {path: sum.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: token_f1}, {name: bleu}, {name: chrf}]
compare: {baseline: base, candidate: tuned}
gates:
  - qa.exact_match.delta.ci_low >= 0
  - sum.bleu.delta >= 0
`, srvURL))
}

// pgSchema returns a DSN for a fresh schema of the test PostgreSQL. The test
// fails in CI without one (sharding needs PostgreSQL) and skips elsewhere.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("TUNECHECK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TUNECHECK_TEST_POSTGRES is unset in CI: run the tests with ./scripts/test.sh")
		}
		t.Skip("sharding needs PostgreSQL: run ./scripts/test.sh, or set TUNECHECK_TEST_POSTGRES")
	}
	stores := e2eStores(t)
	return stores["postgres"]
}

// tc runs the tunecheck binary (this test binary, re-executed) in dir.
func tc(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	cmd.Dir = dir
	return cmd
}

func exitOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// comparable reads a results.json with what differs between two runs of the
// same plan by nature removed: run ids, times and latencies (and the cached
// and resumed counts, which depend on the store's history).
func comparable(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(any) any
	strip = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k := range x {
				if k == "run_id" || k == "id" && isRunID(x[k]) || strings.Contains(k, "latency") || strings.HasSuffix(k, "_at") || k == "elapsed" || k == "created" || k == "tool_version" {
					delete(x, k)
					continue
				}
				x[k] = strip(x[k])
			}
		case []any:
			for i := range x {
				x[i] = strip(x[i])
			}
		}
		return x
	}
	return strip(v)
}

func isRunID(v any) bool {
	s, _ := v.(string)
	return strings.HasPrefix(s, "sharded-") || len(s) == 25 && s[8] == 'T'
}

// diffJSON names the first path where a and b differ.
func diffJSON(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path + ": type differs"
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			if d := diffJSON(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: list lengths %d vs %v", path, len(x), len(y))
		}
		for i := range x {
			if d := diffJSON(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s: %v vs %v", path, a, b)
	}
	return ""
}

// TestShardedRunMatchesUnsharded runs one plan unsharded (SQLite) and as 4
// concurrent shard processes against one PostgreSQL store, then merges: the
// two results.json agree on every score, aggregate, interval, p-value and
// the verdict. Then, against a fresh store, one shard is killed with SIGKILL
// mid-way (the server holds the requests after that point, so nothing it
// answered was lost in flight), merge refuses to finish and lists the
// shards, the shards run again concurrently, the last to finish merges, the
// result is again identical, and the server answered no request twice.
func TestShardedRunMatchesUnsharded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tunecheck as 10 processes")
	}
	pgB := pgSchema(t)
	pgC := e2eStores(t)["postgres"]
	srv := newShardServer()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	shardPlan(t, dir, ts.URL)

	// A: one unsharded run.
	outA, err := tc(dir, "run", "plan.yaml", "--store", filepath.Join(dir, "a.db"), "-o", "outA").CombinedOutput()
	codeA := exitOf(err)
	if codeA != 0 && codeA != 1 {
		t.Fatalf("unsharded run: exit %d\n%s", codeA, outA)
	}
	want := comparable(t, filepath.Join(dir, "outA", "results.json"))
	if srv.total != 2*260 {
		t.Fatalf("unsharded run sent %d requests, want %d", srv.total, 2*260)
	}

	// B: 4 shards at once, merged by tunecheck merge.
	runShards := func(dsn, group string, shards []int, extra ...string) []string {
		outs := make([]string, len(shards))
		var wg sync.WaitGroup
		for k, i := range shards {
			wg.Go(func() {
				args := append([]string{"run", "plan.yaml", "--store", dsn, "-o", "out-" + group, "--shard", fmt.Sprintf("%d/4", i), "--run-group", group}, extra...)
				out, err := tc(dir, args...).CombinedOutput()
				outs[k] = fmt.Sprintf("exit %d\n%s", exitOf(err), out)
				if c := exitOf(err); c != 0 && c != codeA {
					t.Errorf("shard %d: %s", i, outs[k])
				}
			})
		}
		wg.Wait()
		return outs
	}
	outs := runShards(pgB, "b", []int{0, 1, 2, 3}, "--finish-last=false")
	for i, o := range outs {
		if !strings.Contains(o, fmt.Sprintf("shard %d/4 of run sharded-b-", i)) {
			t.Errorf("shard %d printed:\n%s", i, o)
		}
	}
	merged, err := tc(dir, "merge", "b", "--plan", "plan.yaml", "--store", pgB, "-o", "outB").CombinedOutput()
	if c := exitOf(err); c != codeA {
		t.Fatalf("merge: exit %d, the unsharded run %d\n%s", c, codeA, merged)
	}
	if d := diffJSON("results", want, comparable(t, filepath.Join(dir, "outB", "results.json"))); d != "" {
		t.Errorf("the merged run differs from the unsharded one at %s", d)
	}
	if srv.total != 4*260 {
		t.Errorf("the sharded run sent %d requests, want %d (each item once per model)", srv.total-2*260, 2*260)
	}
	// Merging again is refused: the run is finished and immutable.
	if again, err := tc(dir, "merge", "b", "--plan", "plan.yaml", "--store", pgB, "-o", "outB").CombinedOutput(); exitOf(err) != 2 || !strings.Contains(string(again), "finished already") {
		t.Errorf("a second merge: exit %d\n%s", exitOf(err), again)
	}

	// C: a fresh store; shard 1 is killed after 40 answers.
	srv.mu.Lock()
	srv.answered, srv.total, srv.holdAt = map[string]int{}, 0, 40
	srv.mu.Unlock()
	cmd := tc(dir, "run", "plan.yaml", "--store", pgC, "-o", "out-c", "--shard", "1/4", "--run-group", "c")
	var killedOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &killedOut, &killedOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.held:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("shard 1 did not reach 40 answers:\n%s", killedOut.String())
	}
	// Each answer is committed before its worker takes the next job: wait
	// until the 40 are in the store, then SIGKILL the shard.
	st, err := store.Open(context.Background(), pgC)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var runs []store.Run
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		runs, err = st.ListRuns(context.Background(), "", 5)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v, %v; want the one the shard started", runs, err)
		}
		res, err := st.Results(context.Background(), runs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shard stored %d of the 40 answers in a minute", len(res))
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	srv.release(t)
	if runs, err = st.ListRuns(context.Background(), "", 5); err != nil || runs[0].Status != store.StatusRunning {
		t.Fatalf("after the kill: runs %+v, %v; want one unfinished", runs, err)
	}
	notDone, err := tc(dir, "merge", "c", "--plan", "plan.yaml", "--store", pgC, "-o", "out-c").CombinedOutput()
	if exitOf(err) != 2 || !strings.Contains(string(notDone), "shard 1 of 4 started but not done") || !strings.Contains(string(notDone), "shard 0, 2, 3 of 4 never started") {
		t.Errorf("merge with shards missing: exit %d\n%s", exitOf(err), notDone)
	}

	outs = runShards(pgC, "c", []int{0, 1, 2, 3})
	mergedBy := 0
	for _, o := range outs {
		if strings.Contains(o, "wrote ") {
			mergedBy++
		}
	}
	if mergedBy != 1 {
		t.Errorf("%d shards merged the run, want exactly 1:\n%s", mergedBy, strings.Join(outs, "\n---\n"))
	}
	if d := diffJSON("results", want, comparable(t, filepath.Join(dir, "out-c", "results.json"))); d != "" {
		t.Errorf("the run with a killed shard differs from the unsharded one at %s", d)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.total != 2*260 {
		t.Errorf("the server answered %d requests for %d items × 2 models", srv.total, 260)
	}
	for k, n := range srv.answered {
		if n != 1 {
			model, prompt, _ := strings.Cut(k, "\x00")
			t.Errorf("%s was answered %d times for %q", model, n, prompt)
		}
	}
	if runs, _ := st.ListRuns(context.Background(), "", 5); len(runs) != 1 || runs[0].Status != store.StatusFinished {
		t.Errorf("after the shards: runs %+v; want one finished", runs)
	}
}
