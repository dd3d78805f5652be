package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/livetest"
)

// `watch --serve cmd` with the real llama-server (issue 16's last proof, on
// issue 14's server): the fine-tune's checkpoints, as train.py saved them
// (checkpoint-N/adapter.lora.gguf), are each served by a llama-server that
// watch starts with the base model and that checkpoint's adapter, evaluated
// on held-out tickets against the base model, and stopped; the choice of
// checkpoint follows the task metric, and no server outlives the watch.
func TestLiveWatchServeCmd(t *testing.T) {
	bin := livetest.Binary(t)
	models := livetest.Models(t)
	base := livetest.Start(t, livetest.Options{})

	dir := t.TempDir()
	train := filepath.Join(dir, "train")
	steps := []string{}
	srcs, _ := filepath.Glob(filepath.Join(models, "checkpoints", "checkpoint-*"))
	for _, src := range srcs {
		dst := filepath.Join(train, filepath.Base(src))
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"adapter.lora.gguf", "trainer_state.json"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dst, f), b, 0o644)
		}
		steps = append(steps, strings.TrimPrefix(filepath.Base(src), "checkpoint-"))
	}
	if len(steps) < 3 {
		t.Fatalf("want the fine-tune's checkpoints in %s, found %v", models, steps)
	}
	data, err := os.ReadFile(filepath.Join(livetest.RepoRoot(t), "examples", "live-tiny", "data", "tickets-heldout.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(filepath.Join(dir, "tickets.jsonl"), []byte(strings.Join(lines[:40], "")), 0o644)
	os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(fmt.Sprintf(`version: 1
name: live-watch
models:
  - {name: base, provider: openai, base_url: %s, model: tiny, endpoint: completions, params: {temperature: 0}, concurrency: 2}
  - {name: tuned, provider: openai, base_url: http://127.0.0.1:1/v1, model: tiny, endpoint: completions, params: {temperature: 0}, concurrency: 2}
tasks:
  - name: tickets
    dataset: {path: tickets.jsonl, id_field: id}
    prompt: {template: "{{ input }}", chat: false}
    reference: reference
    params: {max_tokens: 8, stop: ["\n"]}
    scorers: [{name: accuracy, options: {labels: [account, billing, bug, feature]}}]
compare: {baseline: base, candidate: tuned}
`, base.BaseURL())), 0o644)

	outDir := filepath.Join(dir, "out")
	tmpl := "exec " + bin + " -m {base} --lora {checkpoint}/adapter.lora.gguf --host 127.0.0.1 --port {port} -c 1024 -np 2 -t 1 -tb 1"
	cmd := exec.Command(os.Args[0], "watch", train, "--plan", filepath.Join(dir, "plan.yaml"), "--store", filepath.Join(dir, "tc.db"), "-o", outDir,
		"--once", "--settle", "20ms", "--serve", "cmd", "--base", filepath.Join(models, "base.gguf"), "--serve-cmd", tmpl, "--ready-timeout", "60s",
		"--metric", "tickets.accuracy")
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("watch --serve cmd with llama-server: %v\n%s", err, out)
	}
	// Every checkpoint was served and evaluated; the last one learned the task.
	for _, s := range steps {
		if !regexp.MustCompile(`step ` + s + ` checkpoint-` + s + `: verdict \w+ · tickets.accuracy [0-9.]+ \(baseline [0-9.]+\)`).Match(out) {
			t.Errorf("no evaluation of step %s in:\n%s", s, out)
		}
		log, err := os.ReadFile(filepath.Join(outDir, "serve-step"+s+".log"))
		if err != nil || !strings.Contains(string(log), "adapter.lora.gguf") {
			t.Errorf("server log of step %s does not show the adapter loaded: %v\n%s", s, err, log)
		}
	}
	var choice struct {
		Metric string `json:"metric"`
		Rows   []struct {
			Step   int     `json:"step"`
			N      int     `json:"n"`
			Failed int     `json:"failed"`
			Mean   float64 `json:"mean"`
		} `json:"rows"`
		Best struct {
			Step int     `json:"step"`
			Mean float64 `json:"mean"`
		} `json:"best_by_metric"`
	}
	raw, err := os.ReadFile(filepath.Join(outDir, "checkpoints.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &choice); err != nil {
		t.Fatalf("checkpoints.json: %v\n%s", err, raw)
	}
	t.Logf("checkpoint choice:\n%s", raw)
	if len(choice.Rows) != len(steps) {
		t.Fatalf("checkpoints.json has %d rows, want one per checkpoint (%v)", len(choice.Rows), steps)
	}
	best := choice.Rows[0]
	for _, r := range choice.Rows {
		if r.N != 40 || r.Failed != 0 {
			t.Errorf("step %d: n %d, failed %d; want 40 items scored, none failed", r.Step, r.N, r.Failed)
		}
		if r.Mean > best.Mean {
			best = r
		}
	}
	// The pick is the most accurate checkpoint, and the fine-tune learned
	// its task: the best checkpoint routes most held-out tickets right.
	if choice.Best.Mean != best.Mean || best.Mean < 0.8 {
		t.Errorf("best by metric: step %d at %.3f; the most accurate is step %d at %.3f (want >= 0.8)", choice.Best.Step, choice.Best.Mean, best.Step, best.Mean)
	}
	if !strings.Contains(string(out), "checkpoint choice by tickets.accuracy") {
		t.Errorf("no checkpoint choice by the task metric in:\n%s", out)
	}
	// No llama-server outlives the watch (the base server is this test's own).
	if ps, _ := exec.Command("pgrep", "-f", regexp.QuoteMeta(bin)+" -m .*--lora "+regexp.QuoteMeta(train)).Output(); len(ps) > 0 {
		t.Fatalf("a checkpoint server still runs: %s", ps)
	}
}
