package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// judge outputs judges the quickstart's recorded answers pairwise with a
// loopback judge that prefers the second answer shown: every pair is
// inconsistent, so every pair is a tie. It writes the plan it ran and the
// reports, and runs nothing twice on a rerun (the response cache).
func TestJudgeOutputs(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "c", "object": "chat.completion", "created": 1, "model": "judge-x",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "The second is better. [[B]]"}, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
	}))
	defer srv.Close()
	data, _ := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart", "data"))
	dir := t.TempDir()
	args := []string{"judge", "outputs", "--data", filepath.Join(data, "mtbench_ref30.jsonl"), "--id-field", "question_id",
		"--model", "llama=" + filepath.Join(data, "llama-13b.jsonl"), "--model", "vicuna=" + filepath.Join(data, "vicuna-13b-v1.3.jsonl"),
		"--judge-url", srv.URL + "/v1", "--judge-model", "judge-x", "--mode", "pairwise", "-o", filepath.Join(dir, "out"), "--store", filepath.Join(dir, "tc.db")}
	code, out, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if calls.Load() != 58 || !strings.Contains(out, "judge_win") || !strings.Contains(out, "Position consistency: 0 of 29 pairs") {
		t.Fatalf("%d judge calls; output:\n%s", calls.Load(), out)
	}
	plan, err := os.ReadFile(filepath.Join(dir, "out", "plan.yaml"))
	if err != nil || !strings.Contains(string(plan), "mode: \"pairwise\"") {
		t.Fatalf("plan.yaml: %v\n%s", err, plan)
	}
	if code, _, _ := runCLI(t, args...); code != 0 || calls.Load() != 58 {
		t.Errorf("rerun: exit %d, %d judge calls in all", code, calls.Load())
	}
	// compare and show recompute the judge metric from the stored records.
	for _, cmd := range [][]string{{"compare", "latest"}, {"show", "latest"}} {
		code, out, errOut := runCLI(t, append(cmd, "--store", filepath.Join(dir, "tc.db"))...)
		if code != 0 || !strings.Contains(out, "judge_win  0.5000 [0.5000, 0.5000]") {
			t.Errorf("%v: exit %d\n%s\n%s", cmd, code, out, errOut)
		}
	}
	// Bad flags are exit 2 with what to write.
	code, _, errOut = runCLI(t, "judge", "outputs", "--data", filepath.Join(data, "mtbench_ref30.jsonl"), "--model", "llama", "--judge-model", "m")
	if code != 2 || !strings.Contains(errOut, "write NAME=FILE") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
