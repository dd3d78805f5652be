package app

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/checkpoint/serve"
	"github.com/tunecheck/tunecheck/internal/checkpoint/serve/vllmfake"
	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/store"
)

const watchItems = 20

// watchPlan writes a plan comparing vLLM's base model with a candidate whose
// endpoint watch replaces, and its dataset: "Capital of land i?" → City<i>.
func watchPlan(t *testing.T, dir, vllmURL, baseModel, dsn string) string {
	var data bytes.Buffer
	for i := range watchItems {
		fmt.Fprintf(&data, `{"id": "q%02d", "question": "Capital of land %d?", "answer": "City%d"}`+"\n", i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "qa.jsonl"), data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	planText := fmt.Sprintf(`version: 1
name: watch-proof
models:
  - name: base
    provider: openai
    base_url: %[1]s/v1
    model: %[3]s
    params: {temperature: 0}
  - name: tuned
    provider: openai
    base_url: %[1]s/v1
    model: replaced-by-watch
    params: {temperature: 0}
tasks:
  - name: capitals
    dataset: {path: qa.jsonl}
    prompt: {template: "{{ question }}"}
    reference: answer
    scorers:
      - name: exact_match
compare: {baseline: base, candidate: tuned}
gates:
  - capitals.exact_match.delta >= 0
store: %[2]s
`, vllmURL, dsn, baseModel)
	path := filepath.Join(dir, "tunecheck.yaml")
	if err := os.WriteFile(path, []byte(planText), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// weightsLen is the size of every adapter the fake trainer writes.
const weightsLen = 4096

// writeCheckpoint writes checkpoint-<step> as the Trainer does, slowly: the
// adapter config, the weights in four chunks with pauses (a half-written
// checkpoint exists meanwhile), then trainer_state.json last, whose
// log_history carries the eval losses up to this step.
func writeCheckpoint(t *testing.T, dir string, step int, evalLoss map[int]float64, pause time.Duration) {
	ck := filepath.Join(dir, "checkpoint-"+strconv.Itoa(step))
	must := func(err error) {
		if err != nil {
			t.Error(err)
		}
	}
	must(os.MkdirAll(ck, 0o755))
	must(os.WriteFile(filepath.Join(ck, "adapter_config.json"), []byte(`{"peft_type": "LORA", "r": 8, "base_model_name_or_path": "base-model"}`), 0o644))
	must(os.WriteFile(filepath.Join(ck, "training_args.bin"), []byte("args"), 0o644))
	// Each checkpoint's weights are its step/100 repeated: the fake vLLM
	// answers by the weights it loaded.
	weights := bytes.Repeat([]byte{byte(step / 100)}, weightsLen)
	f, err := os.Create(filepath.Join(ck, "adapter_model.safetensors"))
	must(err)
	for i := 0; i < weightsLen; i += weightsLen / 4 {
		_, err := f.Write(weights[i : i+weightsLen/4])
		must(err)
		time.Sleep(pause)
	}
	must(f.Close())
	var hist []string
	var steps []int
	for s := range evalLoss {
		if s <= step {
			steps = append(steps, s)
		}
	}
	slices.Sort(steps)
	for _, s := range steps {
		hist = append(hist, fmt.Sprintf(`{"step": %d, "epoch": %g, "loss": %g}`, s, float64(s)/300, 2.0-float64(s)/300),
			fmt.Sprintf(`{"step": %d, "epoch": %g, "eval_loss": %g}`, s, float64(s)/300, evalLoss[s]))
	}
	state := fmt.Sprintf(`{"global_step": %d, "best_model_checkpoint": null, "log_history": [%s]}`, step, strings.Join(hist, ", "))
	must(os.WriteFile(filepath.Join(ck, "trainer_state.json"), []byte(state), 0o644))
}

// correctUpTo is how many items (of the first) a model answers right: the
// base model 4, the adapter of checkpoint-N (weights byte N/100) 4·(N/100+1)
// with a cap, so the task metric rises with the step: 0.4, 0.6, 0.9, 0.5.
func correctUpTo(model, baseModel string, weights []byte) int {
	if model == baseModel {
		return 4
	}
	if len(weights) != weightsLen {
		return -1 // a half-written adapter: every answer wrong
	}
	switch weights[0] {
	case 1:
		return 8
	case 2:
		return 12
	case 3:
		return 18
	}
	return 10
}

// The end-to-end proof of `watch`: a training directory grows checkpoints
// while watch runs against a vLLM with runtime LoRA loading; every
// checkpoint is evaluated once, whole, tagged with its step; the baseline is
// asked each item once in all; the eval loss is lowest at step 200 while the
// task metric is best at 300; a second watch skips what is done, and a run cut
// off by Ctrl-C resumes.
func TestWatchEndToEnd(t *testing.T) {
	for name, dsn := range stores(t) {
		t.Run(name, func(t *testing.T) {
			testWatchEndToEnd(t, dsn)
		})
	}
}

func testWatchEndToEnd(t *testing.T, dsn string) {
	var onAnswer atomic.Pointer[func(model string)]
	// A name of its own: a PostgreSQL store's response cache outlives the
	// test, and the baseline must be asked here, once.
	baseModel := fmt.Sprintf("base-model-%d", time.Now().UnixNano())
	fake := vllmfake.New(baseModel, func(model string, weights []byte, prompt string) string {
		if f := onAnswer.Load(); f != nil {
			(*f)(model)
		}
		var i int
		if _, err := fmt.Sscanf(prompt, "Capital of land %d?", &i); err != nil {
			return "I do not know."
		}
		if i < correctUpTo(model, baseModel, weights) {
			return fmt.Sprintf("City%d", i)
		}
		return fmt.Sprintf("Town%d", i)
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dir := t.TempDir()
	train := filepath.Join(dir, "train")
	if err := os.MkdirAll(train, 0o755); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dsn, "postgres") {
		dsn = filepath.Join(dir, "tc.db")
	}
	planPath := watchPlan(t, dir, srv.URL, baseModel, dsn)
	evalLoss := map[int]float64{100: 1.20, 200: 0.85, 300: 0.97}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var progress syncBuffer
	var seen []int
	opts := WatchOptions{
		Run:    Options{PlanPath: planPath, OutputDir: filepath.Join(dir, "out"), ToolVersion: "dev"},
		Dir:    train,
		Settle: 150 * time.Millisecond, Poll: time.Hour, // fsnotify drives it
		Out: &progress,
		OnRun: func(wr WatchedRun) {
			seen = append(seen, wr.Step)
			if len(seen) == 3 {
				cancel()
			}
		},
	}
	trainerDone := make(chan struct{})
	go func() {
		defer close(trainerDone)
		for _, step := range []int{100, 200, 300} {
			writeCheckpoint(t, train, step, evalLoss, 40*time.Millisecond)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	out, err := Watch(ctx, opts)
	<-trainerDone
	if exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("watch ended with %v (code %d), want interrupted after the third checkpoint\n%s", err, exitcode.Of(err), progress.String())
	}
	if !slices.Equal(seen, []int{100, 200, 300}) || out.Mode != "fsnotify" || len(out.Failed) != 0 {
		t.Fatalf("evaluated %v by %s, failed %v\n%s", seen, out.Mode, out.Failed, progress.String())
	}

	// Every adapter was loaded whole, once, and unloaded after its run.
	loads := fake.Loads()
	if len(loads) != 3 {
		t.Fatalf("loads %+v", loads)
	}
	for i, l := range loads {
		if l.Weights != weightsLen || l.Path != filepath.Join(train, fmt.Sprintf("checkpoint-%d", (i+1)*100)) {
			t.Errorf("load %d: %+v (weights %d bytes, want %d)", i, l, l.Weights, weightsLen)
		}
	}
	if len(fake.Loaded()) != 0 || len(fake.Unloads()) != 3 {
		t.Fatalf("left loaded %v, unloaded %v", fake.Loaded(), fake.Unloads())
	}
	// The baseline's answers are the same for every checkpoint: asked once each.
	base := fake.Requests(baseModel)
	if len(base) != watchItems {
		t.Fatalf("baseline asked %d distinct prompts, want %d", len(base), watchItems)
	}
	for p, n := range base {
		if n != 1 {
			t.Errorf("baseline asked %q %d times across the checkpoints, want once", p, n)
		}
	}

	// The stored runs, one per step, tagged, with their records.
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := WatchRuns(context.Background(), st, planPath, train)
	if err != nil {
		t.Fatal(err)
	}
	wantMean := map[int]float64{100: 0.4, 200: 0.6, 300: 0.9}
	hashes := map[string]bool{}
	means := map[int]float64{}
	for _, wr := range runs {
		r := wr.Run
		want := map[string]string{TagStep: strconv.Itoa(wr.Step), TagCheckpoint: fmt.Sprintf("checkpoint-%d", wr.Step),
			TagWatchDir: train, TagServe: "vllm-lora"}
		for k, v := range want {
			if r.Tags[k] != v {
				t.Errorf("run %s tag %s = %q, want %q", r.ID, k, r.Tags[k], v)
			}
		}
		if len(r.Tags[TagFingerprint]) != 16 || r.Status != store.StatusFinished {
			t.Errorf("run %s: %+v", r.ID, r)
		}
		hashes[r.PlanHash] = true
		// The primary metric's mean, from the per-item records.
		recs := wr.Report.Tasks[0].Records
		if len(recs) != watchItems || wr.Report.Tasks[0].Primary != "exact_match" {
			t.Fatalf("step %d: %d records, primary %q", wr.Step, len(recs), wr.Report.Tasks[0].Primary)
		}
		sum := 0.0
		for _, rec := range recs {
			o := rec.Outcomes["tuned"]
			if o.Status != "ok" {
				t.Fatalf("step %d item %s: %+v", wr.Step, rec.ID, o)
			}
			sum += o.Scores["exact_match"]
		}
		means[wr.Step] = sum / watchItems
		var fromSummary float64
		for _, m := range wr.Report.Tasks[0].PerModel {
			if m.Model == "tuned" {
				fromSummary = m.Metrics["exact_match"].Mean
			}
		}
		if math.Abs(means[wr.Step]-wantMean[wr.Step]) > 1e-9 || math.Abs(fromSummary-means[wr.Step]) > 1e-9 {
			t.Errorf("step %d: exact_match mean %g (records) %g (summary), want %g", wr.Step, means[wr.Step], fromSummary, wantMean[wr.Step])
		}
	}
	if len(runs) != 3 || runs[0].Step != 100 || runs[2].Step != 300 || len(hashes) != 3 {
		t.Fatalf("watch runs %d, steps %v, %d plan hashes", len(runs), stepsOf(runs), len(hashes))
	}
	// The checkpoint eval loss picks is not the one the task metric picks.
	log, err := curves.Read(train, "", curves.Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	byLoss := log.Series["eval_loss"][0]
	for _, p := range log.Series["eval_loss"] {
		if p.Value < byLoss.Value {
			byLoss = p
		}
	}
	byMetric := runs[0]
	for _, wr := range runs {
		if means[wr.Step] > means[byMetric.Step] {
			byMetric = wr
		}
	}
	if byLoss.Step != 200 || byMetric.Step != 300 {
		t.Fatalf("lowest eval loss at step %d, best exact_match at step %d; want 200 and 300", byLoss.Step, byMetric.Step)
	}
	for _, s := range []string{"step 100 checkpoint-100: verdict pass · capitals.exact_match 0.4 (baseline 0.2)", "step 300 checkpoint-300: verdict pass · capitals.exact_match 0.9 (baseline 0.2)"} {
		if !strings.Contains(progress.String(), s) {
			t.Errorf("progress lacks %q:\n%s", s, progress.String())
		}
	}

	// Watching again skips what is done, loading nothing.
	opts.Once, opts.OnRun = true, nil
	progress.Reset()
	out, err = Watch(context.Background(), opts)
	if err != nil || len(out.Evaluated) != 0 || !slices.Equal(out.Skipped, []int{100, 200, 300}) || len(fake.Loads()) != 3 {
		t.Fatalf("second watch: %v, %+v, loads %d\n%s", err, out, len(fake.Loads()), progress.String())
	}
	if !strings.Contains(progress.String(), "step 200 checkpoint-200: already evaluated (run ") {
		t.Fatalf("progress:\n%s", progress.String())
	}
	// The checkpoint choice over the stored runs: the metric picks 300, the
	// eval loss 200, and the paired difference between them is measured.
	ch := out.Choice
	if ch == nil || len(ch.Rows) != 3 {
		t.Fatalf("second watch printed no choice over three steps: %+v\n%s", ch, progress.String())
	}
	if ch.BestByMetric.Step != 300 || ch.BestByEvalLoss == nil || ch.BestByEvalLoss.Step != 200 {
		t.Fatalf("picks: by metric %+v, by eval loss %+v; want 300 and 200", ch.BestByMetric, ch.BestByEvalLoss)
	}
	if d := ch.Difference; d == nil || math.Abs(d.Paired.Delta-0.3) > 1e-9 || d.Paired.N != watchItems || d.Better != "better" {
		t.Fatalf("difference best-by-metric minus best-by-loss: %+v, want +0.3 over %d items", d, watchItems)
	}
	for i, want := range []float64{0.4, 0.6, 0.9} {
		if r := ch.Rows[i]; math.Abs(r.Mean-want) > 1e-9 || r.N != watchItems {
			t.Errorf("row %d: %+v, want mean %g over %d", i, r, want, watchItems)
		}
	}
	if len(out.ChoiceFiles) != 3 || !strings.Contains(progress.String(), "checkpoints.md") {
		t.Fatalf("choice files %v\n%s", out.ChoiceFiles, progress.String())
	}

	// Ctrl-C inside a checkpoint's run: the run stays unfinished, and the
	// next watch resumes that run instead of starting over.
	writeCheckpoint(t, train, 400, evalLoss, 0)
	ctx, cancel = context.WithCancel(context.Background())
	var answered atomic.Int32
	stop := func(model string) {
		if strings.HasPrefix(model, "tunecheck-step400-") && answered.Add(1) == 5 {
			cancel()
		}
	}
	onAnswer.Store(&stop)
	progress.Reset()
	if _, err := Watch(ctx, opts); exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("interrupted watch: %v (answered %d)\n%s", err, answered.Load(), progress.String())
	}
	onAnswer.Store(nil)
	cancel()
	cut, err := st.RunsTagged(context.Background(), map[string]string{TagWatchDir: train, TagStep: "400"})
	if err != nil || len(cut) != 1 || cut[0].Status != store.StatusRunning {
		t.Fatalf("after Ctrl-C: %+v, %v", cut, err)
	}
	if len(fake.Loaded()) != 0 {
		t.Fatalf("an interrupted run left %v loaded", fake.Loaded())
	}
	if _, err := Watch(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	runs, err = WatchRuns(context.Background(), st, planPath, train)
	if err != nil || len(runs) != 4 || runs[3].Run.ID != cut[0].ID {
		t.Fatalf("after resuming: %v runs %v, %v; want step 400 finished in run %s", len(runs), stepsOf(runs), err, cut[0].ID)
	}
	for p, n := range fake.Requests(baseModel) {
		if n != 1 {
			t.Errorf("baseline asked %q %d times, want once", p, n)
		}
	}
}

func stepsOf(runs []WatchedRun) []int {
	var out []int
	for _, r := range runs {
		out = append(out, r.Step)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe to write from the watch and read here.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// A checkpoint whose every request failed (the server was down, the name
// wrong) is stored with the verdict "error", reported (exit 3), and evaluated
// again by the next watch; WatchRuns then gives the run with answers.
func TestWatchRetriesBrokenCheckpoint(t *testing.T) {
	fake := vllmfake.New("base-model", func(model string, _ []byte, prompt string) string { return "City0" })
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := t.TempDir()
	train := filepath.Join(dir, "train")
	writeCheckpoint(t, train, 100, map[int]float64{100: 1}, 0)
	planPath := watchPlan(t, dir, srv.URL, "base-model", filepath.Join(dir, "tc.db"))
	opts := WatchOptions{Run: Options{PlanPath: planPath, OutputDir: filepath.Join(dir, "out")}, Dir: train, Once: true, Settle: time.Millisecond,
		Server: serve.Names{ByStep: map[int]string{100: "no-such-model"}}}
	out, err := Watch(context.Background(), opts)
	if exitcode.Of(err) != exitcode.Unreachable || len(out.Failed) != 1 || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("broken checkpoint: %v, %+v", err, out)
	}
	opts.Server = serve.Names{ByStep: map[int]string{100: "base-model"}}
	out, err = Watch(context.Background(), opts)
	if err != nil || len(out.Evaluated) != 1 || len(out.Skipped) != 0 {
		t.Fatalf("retry: %v, %+v", err, out)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "tc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := WatchRuns(context.Background(), st, planPath, train)
	if err != nil || len(runs) != 1 || runs[0].Run.Verdict == "error" || runs[0].Run.ID != out.Evaluated[0].Run.ID {
		t.Fatalf("WatchRuns = %+v, %v", runs, err)
	}
	all, _ := st.RunsTagged(context.Background(), map[string]string{TagWatchDir: train})
	if len(all) != 2 {
		t.Fatalf("%d runs stored, want the error run and the retry", len(all))
	}
}
