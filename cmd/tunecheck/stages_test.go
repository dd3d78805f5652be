package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// e2eCommand runs this test binary as tunecheck (TestMain) in dir.
func e2eCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	cmd.Dir = dir
	return cmd
}

// e2eRun runs tunecheck to completion and returns its stdout, stderr and
// exit code; a run that does not exit within a minute fails the test.
func e2eRun(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e2eCommand(ctx, dir, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		code = exit.ExitCode()
	default:
		t.Fatalf("tunecheck %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String(), code
}

// chatBody is an OpenAI chat completion answering content.
func chatBody(model, content string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "logprobs": nil, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
	})
	return b
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
}

// convAnswer is what the conversation server answers to a conversation: a
// function of the model and every message, so that an answer names exactly
// the conversation it continues.
func convAnswer(model string, msgs []chatMessage) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", model)
	for _, m := range msgs {
		fmt.Fprintf(h, "%s\x00%s\x00", m.Role, m.Content)
	}
	return model + " says " + hex.EncodeToString(h.Sum(nil))[:16]
}

// convKey names one answered request: model, stage (by the number of user
// turns in the conversation) and item (from the user turn's text).
type convKey struct {
	model, stage, item string
}

// convServer is an OpenAI chat endpoint that answers deterministically from
// the conversation (convAnswer), records every request it receives in order,
// and counts the answers it wrote per (model, stage, item). Armed with kill,
// it calls kill once the answers to a stage reach killAfter, and from then on
// answers nothing (requests hang until the killed client goes away): what the
// killed run loses is at most the answers already on their way to it.
type convServer struct {
	mu        sync.Mutex
	received  []convKey
	bodies    []chatRequest
	answered  map[convKey]int
	perStage  map[string]int
	killStage string
	killAfter int
	kill      func()
	killed    bool
}

func newConvServer() *convServer {
	return &convServer{answered: map[convKey]int{}, perStage: map[string]int{}}
}

// itemOf reads the item id from a user turn "item ID turn N: …".
func itemOf(turn string) string {
	f := strings.Fields(turn)
	if len(f) < 2 || f[0] != "item" {
		return "?"
	}
	return f[1]
}

func (s *convServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	var req chatRequest
	err := json.NewDecoder(r.Body).Decode(&req)
	// Read the body to its end, so that the server notices a killed client
	// hanging up and cancels r.Context() (see the hang below).
	io.Copy(io.Discard, r.Body)
	if err != nil || len(req.Messages) == 0 {
		http.Error(w, fmt.Sprintf("bad request: %v", err), http.StatusBadRequest)
		return
	}
	users := 0
	for _, m := range req.Messages {
		if m.Role == "user" {
			users++
		}
	}
	k := convKey{model: req.Model, stage: fmt.Sprintf("turn%d", users), item: itemOf(req.Messages[0].Content)}
	s.mu.Lock()
	s.received = append(s.received, k)
	s.bodies = append(s.bodies, req)
	killed := s.killed
	s.mu.Unlock()
	if killed {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(chatBody(req.Model, convAnswer(req.Model, req.Messages))); err != nil {
		return
	}
	w.(http.Flusher).Flush()
	s.mu.Lock()
	s.answered[k]++
	s.perStage[k.stage]++
	var kill func()
	if s.kill != nil && !s.killed && k.stage == s.killStage && s.perStage[k.stage] >= s.killAfter {
		s.killed, kill = true, s.kill
	}
	s.mu.Unlock()
	if kill != nil {
		kill()
	}
}

// arm makes the server call kill once it has answered `after` requests of
// stage (counted over the server's life); disarm resets it.
func (s *convServer) arm(stage string, after int, kill func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killStage, s.killAfter, s.kill, s.killed = stage, after, kill, false
}

func (s *convServer) disarm() { s.arm("", 0, nil) }

// turnsData writes n items with two user turns each. The reference of an
// even item is the tuned model's own turn-2 answer (so it scores 1 there and
// 0 for the base model, and only when turn 2 saw tuned's own turn 1); odd
// items' references match nobody.
func turnsData(n int) string {
	var b strings.Builder
	for i := range n {
		id := fmt.Sprintf("q%03d", i)
		t1 := fmt.Sprintf("item %s turn 1: what is %d plus one?", id, i)
		t2 := fmt.Sprintf("item %s turn 2: and twice that?", id)
		ref := "nobody says this"
		if i%2 == 0 {
			conv := []chatMessage{{"user", t1}}
			conv = append(conv, chatMessage{"assistant", convAnswer("tuned-model", conv)}, chatMessage{"user", t2})
			ref = convAnswer("tuned-model", conv)
		}
		row, _ := json.Marshal(map[string]any{"id": id, "turns": []string{t1, t2}, "ref": ref})
		b.Write(row)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestTwoStageRunKilledInEachStage runs a two-turn task (turns: turns) for
// two models through the binary, kills it with SIGKILL in stage 1 and again
// in stage 2, and resumes it to the end. It checks that every turn-2 request
// carries the model's own turn-1 answer, that a kill costs at most the
// requests in flight, that no turn-1 request goes out once turn 2 started,
// and that the report scores every item on the last turn.
func TestTwoStageRunKilledInEachStage(t *testing.T) {
	for name, dsn := range e2eStores(t) {
		t.Run(name, func(t *testing.T) {
			if dsn == "off" {
				t.Skip("SKIP: PostgreSQL not tested (TUNECHECK_TEST_POSTGRES=off)")
			}
			twoStageKilled(t, dsn)
		})
	}
}

// e2eStores names a fresh store per backend for one test: SQLite always,
// PostgreSQL (a schema of its own) when TUNECHECK_TEST_POSTGRES is set, which
// CI requires; "off" (refused in CI) makes the PostgreSQL case SKIP. A "" DSN
// means a SQLite file in the test's directory.
func e2eStores(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{"sqlite": ""}
	dsn := os.Getenv("TUNECHECK_TEST_POSTGRES")
	switch {
	case dsn == "off" && os.Getenv("CI") == "true":
		t.Fatal("TUNECHECK_TEST_POSTGRES=off is refused in CI: CI tests the PostgreSQL store")
	case dsn == "off":
		out["postgres"] = "off"
	case dsn != "":
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		schema := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
		if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			t.Fatalf("creating a schema: %v (is the server from scripts/pg-test.sh running?)", err)
		}
		t.Cleanup(func() {
			if admin, err := sql.Open("pgx", dsn); err == nil {
				admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
				admin.Close()
			}
		})
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		out["postgres"] = dsn + sep + "search_path=" + schema
	case os.Getenv("CI") == "true":
		t.Fatal("TUNECHECK_TEST_POSTGRES is unset in CI: run the tests with ./scripts/test.sh")
	default:
		t.Log("PostgreSQL not tested: run ./scripts/test.sh, or set TUNECHECK_TEST_POSTGRES")
	}
	return out
}

func twoStageKilled(t *testing.T, db string) {
	const (
		items       = 200
		concurrency = 4
		kill1       = 150 // turn-1 answers before the first kill (of 400)
		kill2       = 150 // turn-2 answers before the second kill (of 400)
	)
	srv := newConvServer()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mt.jsonl"), turnsData(items))
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: stages
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base-model, concurrency: %[2]d}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned-model, concurrency: %[2]d}
tasks:
  - name: mt
    dataset: {path: mt.jsonl, id_field: id}
    turns: turns
    reference: ref
    scorers: [{name: exact_match}]
compare: {baseline: base, candidate: tuned}
`, ts.URL, concurrency))
	if db == "" {
		db = filepath.Join(dir, "tc.db")
	}
	args := []string{"run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out")}

	// killedRun starts tunecheck, lets the server kill it with SIGKILL after
	// `after` answers to stage, and waits for it to die.
	killedRun := func(stage string, after int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := e2eCommand(ctx, dir, args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		started := make(chan struct{})
		srv.arm(stage, after, func() {
			<-started
			cmd.Process.Kill()
		})
		defer srv.disarm()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		close(started)
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("tunecheck was to be killed after %d %s answers, but it ended with %v:\n%s", after, stage, err, out.String())
		}
	}

	killedRun("turn1", kill1)
	srv.mu.Lock()
	if srv.perStage["turn2"] != 0 {
		t.Fatalf("turn-2 requests were answered before turn 1 was done: %v", srv.perStage)
	}
	srv.mu.Unlock()
	runID := onlyRun(t, db, store.StatusRunning)

	killedRun("turn2", kill2)
	if id := onlyRun(t, db, store.StatusRunning); id != runID {
		t.Fatalf("the second run made run %s; want it to resume %s", id, runID)
	}

	stdout, stderr, code := e2eRun(t, dir, args...)
	if code != 0 {
		t.Fatalf("the final run exited %d:\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "resumed run "+runID) {
		t.Fatalf("the final run did not resume %s:\n%s", runID, stdout)
	}
	if id := onlyRun(t, db, store.StatusFinished); id != runID {
		t.Fatalf("finished run %s, want %s", id, runID)
	}

	srv.mu.Lock()
	defer srv.mu.Unlock()

	// (a) Every turn-2 request is the model's own conversation so far.
	turn2 := map[string]map[string]string{"base-model": {}, "tuned-model": {}} // model → item → assistant turn
	var bad []string
	for _, req := range srv.bodies {
		if len(req.Messages) == 1 {
			continue
		}
		if len(req.Messages) != 3 {
			t.Fatalf("a request has %d messages, want 1 (turn 1) or 3 (turn 2): %+v", len(req.Messages), req)
		}
		first := []chatMessage{req.Messages[0]}
		want := []chatMessage{req.Messages[0], {"assistant", convAnswer(req.Model, first)}, req.Messages[2]}
		if !slices.Equal(req.Messages, want) {
			bad = append(bad, fmt.Sprintf("turn-2 request of %s does not carry its own turn-1 answer:\n got %+v\nwant %+v", req.Model, req.Messages, want))
		}
		id := itemOf(req.Messages[0].Content)
		if !strings.HasPrefix(req.Messages[2].Content, "item "+id+" turn 2:") || !strings.HasPrefix(req.Messages[0].Content, "item "+id+" turn 1:") {
			bad = append(bad, fmt.Sprintf("turn-2 request mixes items: %+v", req.Messages))
		}
		turn2[req.Model][id] = req.Messages[1].Content
	}
	for i := range items {
		id := fmt.Sprintf("q%03d", i)
		b, tu := turn2["base-model"][id], turn2["tuned-model"][id]
		if b == "" || tu == "" || b == tu {
			bad = append(bad, fmt.Sprintf("item %s: turn-2 assistant turns of base %q and tuned %q must both exist and differ", id, b, tu))
		}
	}
	reportFirst(t, bad)

	// (b) Each kill re-sent at most what was in flight per model, and turn 1
	// was never asked again once turn 2 had started.
	firstTurn2 := slices.IndexFunc(srv.received, func(k convKey) bool { return k.stage == "turn2" })
	if firstTurn2 < 0 {
		t.Fatal("no turn-2 request was ever sent")
	}
	bad = nil
	for i, k := range srv.received[firstTurn2:] {
		if k.stage == "turn1" {
			bad = append(bad, fmt.Sprintf("turn-1 request %s/%s sent after turn 2 had started (request %d, turn 2 began at %d)", k.model, k.item, firstTurn2+i, firstTurn2))
		}
	}
	reportFirst(t, bad)
	for _, model := range []string{"base-model", "tuned-model"} {
		for _, stage := range []string{"turn1", "turn2"} {
			resent, never := 0, 0
			for i := range items {
				n := srv.answered[convKey{model, stage, fmt.Sprintf("q%03d", i)}]
				if n == 0 {
					never++
				}
				resent += max(n-1, 0)
			}
			if never > 0 {
				t.Errorf("%s %s: %d items were never answered", model, stage, never)
			}
			// One kill per stage: at most one answer per worker was not yet stored.
			if resent > concurrency {
				t.Errorf("%s %s: %d answers were asked again after the kill, more than the %d in flight", model, stage, resent, concurrency)
			}
			t.Logf("%s %s: %d re-sent after the kill", model, stage, resent)
		}
	}
	if len(srv.answered) != 4*items {
		t.Errorf("the server answered %d distinct (model, stage, item), want %d: %v", len(srv.answered), 4*items, srv.perStage)
	}

	// (c) The report scores every item of both models, on the last turn.
	data, err := os.ReadFile(filepath.Join(dir, "out", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tasks) != 1 {
		t.Fatalf("report has %d tasks, want 1", len(rep.Tasks))
	}
	task := rep.Tasks[0]
	if !slices.Equal(task.Stages, []string{"turn1", "turn2"}) {
		t.Errorf("task stages %v, want [turn1 turn2]", task.Stages)
	}
	if task.Items != items || len(task.Records) != items {
		t.Errorf("task has %d items and %d records, want %d", task.Items, len(task.Records), items)
	}
	for _, ms := range task.PerModel {
		if ms.Items != items || ms.Scored != items || ms.Failed != 0 {
			t.Errorf("model %s: %d items, %d scored, %d failed; want all %d scored", ms.Model, ms.Items, ms.Scored, ms.Failed, items)
		}
	}
	bad = nil
	for i, rec := range task.Records {
		wantTuned := 0.0
		if i%2 == 0 {
			wantTuned = 1
		}
		b, tu := rec.Outcomes["base"], rec.Outcomes["tuned"]
		if b.Status != report.StatusOK || tu.Status != report.StatusOK {
			bad = append(bad, fmt.Sprintf("item %s: statuses base %q tuned %q, want ok", rec.ID, b.Status, tu.Status))
			continue
		}
		if b.Scores["exact_match"] != 0 || tu.Scores["exact_match"] != wantTuned {
			bad = append(bad, fmt.Sprintf("item %s: exact_match base %v tuned %v, want 0 and %v (the last turn's answer scored)", rec.ID, b.Scores["exact_match"], tu.Scores["exact_match"], wantTuned))
		}
	}
	reportFirst(t, bad)
	if c := task.Comparison; c == nil || c.Pairs != items || c.Metrics["exact_match"].Delta != 0.5 {
		t.Errorf("comparison %+v, want %d pairs and exact_match delta 0.5", c, items)
	}
}

// reportFirst fails the test with the first few of problems and their count.
func reportFirst(t *testing.T, problems []string) {
	t.Helper()
	for i, p := range problems {
		if i == 3 {
			t.Errorf("… %d problems in all", len(problems))
			break
		}
		t.Error(p)
	}
}

// onlyRun returns the id of the store's only run, which must have status.
func onlyRun(t *testing.T, dsn, status string) string {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.ListRuns(context.Background(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != status {
		t.Fatalf("the store holds runs %s, want one with status %s", runList(runs), status)
	}
	return runs[0].ID
}

// runList describes runs by id, status and verdict.
func runList(runs []store.Run) string {
	var out []string
	for _, r := range runs {
		out = append(out, fmt.Sprintf("%s (%s, verdict %q)", r.ID, r.Status, r.Verdict))
	}
	return "[" + strings.Join(out, ", ") + "]"
}
