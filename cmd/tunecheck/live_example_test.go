package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/livetest"
)

// examples/live-tiny/tunecheck.yaml, as run.sh runs it, against a real
// llama-server (on a free port instead of 8089): the fine-tune passes its
// gates; and the same plan with the candidate's adapter at scale 0 — a
// candidate no better than its base — fails them (exit 1), so the example's
// PASS is earned, not built into its gates.
func TestLiveExamplePlan(t *testing.T) {
	root := livetest.RepoRoot(t)
	srv := livetest.Start(t, livetest.Options{Parallel: 4, Ctx: 4096,
		Lora: []string{filepath.Join(livetest.Models(t), "ticket.lora.gguf")}})
	raw, err := os.ReadFile(filepath.Join(root, "examples", "live-tiny", "tunecheck.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plan := string(raw)
	for old, repl := range map[string]string{
		"http://127.0.0.1:8089/v1": srv.BaseURL(),
		"path: data/":              "path: " + filepath.Join(root, "examples", "live-tiny", "data") + "/",
	} {
		if !strings.Contains(plan, old) {
			t.Fatalf("the example plan no longer has %q", old)
		}
		plan = strings.ReplaceAll(plan, old, repl)
	}
	const tuned = "lora: [{id: 0, scale: 1.0}]"
	if strings.Count(plan, tuned) != 1 {
		t.Fatalf("the example plan's candidate no longer selects the adapter with %q", tuned)
	}
	for _, tc := range []struct {
		name    string
		plan    string
		exit    int
		verdict string
	}{
		{"fine-tune", plan, 0, "verdict: PASS"},
		{"no better than the base", strings.Replace(plan, tuned, "lora: [{id: 0, scale: 0.0}]", 1), 1, "verdict: FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "tunecheck.yaml"), tc.plan)
			out, err := liveTunecheck(t, dir, "run", "tunecheck.yaml").CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.exit || !strings.Contains(string(out), tc.verdict) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.exit, tc.verdict, out)
			}
			if !strings.Contains(string(out), "0 failed") {
				t.Errorf("requests failed:\n%s", out)
			}
		})
	}
}
