package curves

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
)

// writeBigEventFile writes an event file of n train-loss scalars
// (simple_value) plus an eval-loss tensor every 100 steps.
func writeBigEventFile(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "events.out.tfevents.1700000000.bench")
	buf := appendRecord(nil, fileVersionEvent(1.7e9))
	for step := int64(1); step <= int64(n); step++ {
		x := float64(step)
		buf = appendRecord(buf, encodeEvent(1.7e9+x, step, scalar{"train/loss", 2*math.Exp(-x/2e5) + 0.3 + 0.01*math.Sin(x), simpleValue}))
		if step%100 == 0 {
			buf = appendRecord(buf, encodeEvent(1.7e9+x, step, scalar{"eval/loss", 2*math.Exp(-x/3e5) + 0.4, tensorFloat32}))
		}
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkTensorBoard1M reads and analyses an event file of 1,000,000
// train-loss points and 10,000 eval points (target: under 1 s).
func BenchmarkTensorBoard1M(b *testing.B) {
	path := writeBigEventFile(b, 1_000_000)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	opts := DefaultOptions()
	start, n := cpuclock.Process(), 0
	defer func() { reportCPU(b, start, n) }()
	for b.Loop() {
		n++
		as, err := Analyze([]string{path}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(as[0].Train) != 1_000_000 {
			b.Fatalf("%d train points", len(as[0].Train))
		}
	}
}

// writeCheckpointDir writes a Trainer output directory of n checkpoints, one
// every 100 steps, logging every 5 steps and evaluating every 100, each
// checkpoint holding the history up to its step (as the Trainer saves it).
func writeCheckpointDir(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	var hist []map[string]any
	step := 0
	for c := 1; c <= n; c++ {
		for ; step < c*100; step += 5 {
			s := float64(step + 5)
			hist = append(hist, map[string]any{"epoch": s / 1000, "grad_norm": 1.5, "learning_rate": 2e-5, "loss": 2*math.Exp(-s/3000) + 0.5, "step": step + 5})
		}
		hist = append(hist, map[string]any{"epoch": float64(c) / 10, "eval_loss": 2*math.Exp(-float64(c)/40) + 0.6, "eval_runtime": 10.5, "eval_samples_per_second": 100.0, "eval_steps_per_second": 12.5, "step": c * 100})
		state := map[string]any{"best_metric": nil, "best_model_checkpoint": nil, "epoch": float64(c) / 10, "global_step": c * 100,
			"log_history": hist, "max_steps": n * 100, "logging_steps": 5, "save_steps": 100}
		data, err := json.MarshalIndent(state, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		cd := filepath.Join(dir, fmt.Sprintf("checkpoint-%d", c*100))
		if err := os.MkdirAll(cd, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cd, "trainer_state.json"), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// BenchmarkCheckpoints100 reads a directory of 100 checkpoints as one run
// and analyses it (target: under 1 s).
func BenchmarkCheckpoints100(b *testing.B) {
	dir := writeCheckpointDir(b, 100)
	opts := DefaultOptions()
	start, n := cpuclock.Process(), 0
	defer func() { reportCPU(b, start, n) }()
	for b.Loop() {
		n++
		as, err := Analyze([]string{dir}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(as[0].Eval) != 100 || as[0].BestEval.Checkpoint == "" {
			b.Fatalf("%d evals, best checkpoint %q", len(as[0].Eval), as[0].BestEval.Checkpoint)
		}
	}
}

// BenchmarkCheckpoints100DamagedLatest is the slow path: the newest
// checkpoint's state is cut short, so all 100 are read and merged.
func BenchmarkCheckpoints100DamagedLatest(b *testing.B) {
	dir := writeCheckpointDir(b, 100)
	latest := filepath.Join(dir, "checkpoint-10000", "trainer_state.json")
	data, err := os.ReadFile(latest)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(latest, data[:len(data)/2], 0o644); err != nil {
		b.Fatal(err)
	}
	opts := DefaultOptions()
	start, n := cpuclock.Process(), 0
	defer func() { reportCPU(b, start, n) }()
	for b.Loop() {
		n++
		as, err := Analyze([]string{dir}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(as[0].Eval) != 99 || len(as[0].Damage) != 1 { // the eval at 10000 was only in the cut file
			b.Fatalf("%d evals, damage %q", len(as[0].Eval), as[0].Damage)
		}
	}
}

// BenchmarkLlamaFactory1M reads and analyses a LLaMA-Factory
// trainer_log.jsonl of 1,000,000 train lines and 10,000 eval lines.
func BenchmarkLlamaFactory1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "trainer_log.jsonl")
	var buf []byte
	for s := 1; s <= 1_000_000; s++ {
		x := float64(s)
		buf = fmt.Appendf(buf, `{"current_steps": %d, "total_steps": 1000000, "loss": %.4f, "lr": 2e-05, "epoch": %.4f, "percentage": %.2f, "elapsed_time": "1:00:00", "remaining_time": "1:00:00"}`+"\n",
			s, 2*math.Exp(-x/2e5)+0.3+0.01*math.Sin(x), x/1e5, x/1e4)
		if s%100 == 0 {
			buf = fmt.Appendf(buf, `{"current_steps": %d, "total_steps": 1000000, "eval_loss": %.6f, "epoch": %.4f, "percentage": %.2f, "elapsed_time": "1:00:00", "remaining_time": "1:00:00"}`+"\n",
				s, 2*math.Exp(-x/3e5)+0.4, x/1e5, x/1e4)
		}
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	opts := DefaultOptions()
	start, n := cpuclock.Process(), 0
	defer func() { reportCPU(b, start, n) }()
	for b.Loop() {
		n++
		as, err := Analyze([]string{path}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(as[0].Train) != 1_000_000 || len(as[0].Eval) != 10_000 {
			b.Fatalf("%d train, %d eval points", len(as[0].Train), len(as[0].Eval))
		}
	}
}

// BenchmarkRealLogs analyses the three real logs of shared/data/curves.
func BenchmarkRealLogs(b *testing.B) {
	paths := []string{}
	for _, f := range []string{overfitLog, healthyLog, noisyLog} {
		paths = append(paths, sharedPath(b, f))
	}
	opts := DefaultOptions()
	start, n := cpuclock.Process(), 0
	defer func() { reportCPU(b, start, n) }()
	for b.Loop() {
		n++
		if _, err := Analyze(paths, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU adds the process CPU time per operation to the benchmark line.
func reportCPU(b *testing.B, start time.Duration, n int) {
	if n > 0 {
		b.ReportMetric(float64(cpuclock.Process()-start)/float64(n), "cpu-ns/op")
	}
}
