package curves

import (
	"encoding/base64"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatFixtures reads one fixture per format (testdata/gen_fixtures.py
// writes them, following each framework's documented layout) and checks the
// detected reader, the loss series it picked and the verdict of the shape
// the fixture was built with.
func TestFormatFixtures(t *testing.T) {
	tests := []struct {
		path             string
		m                Mapping
		format           string
		trainKey, evalKy string
		train, eval      int
		verdict          string
		since            int64
		best             int64
	}{
		{"keras_training.log.csv", Mapping{}, FormatKerasCSV, "loss", "val_loss", 20, 20, VerdictOverfitting, 7, 7},
		{"keras_short.csv", Mapping{}, FormatKerasCSV, "loss", "val_loss", 3, 3, VerdictTooShort, 0, 2},
		{"lightning", Mapping{}, FormatLightningCSV, "train_loss_step", "val_loss", 40, 8, VerdictHealthy, 0, 1999},
		{"openai_step_metrics.csv", Mapping{}, FormatOpenAICSV, "train_loss", "valid_loss", 300, 30, VerdictNoisy, 0, 300},
		{"wandb_history.csv", Mapping{}, FormatWandbCSV, "train/loss", "eval/loss", 50, 10, VerdictDiverged, 440, 400},
		{"wandb_chart_export.csv", Mapping{}, FormatWandbCSV, "train/loss", "", 50, 0, VerdictNoEvalLoss, 0, 0},
		{"wandb_history.jsonl", Mapping{}, FormatWandbJSONL, "train/loss", "eval/loss", 40, 10, VerdictDiverged, 700, 600},
		{"generic.jsonl", Mapping{Step: "it", Train: "tr", Eval: "va"}, FormatJSONL, "tr", "va", 60, 10, VerdictHealthy, 0, 60},
		{"hf_nan", Mapping{}, FormatHFTrainerState, "loss", "eval_loss", 40, 8, VerdictHealthy, 0, 400},
		{"hf_checkpoints", Mapping{}, FormatHFCheckpoints, "loss", "eval_loss", 80, 8, VerdictOverfitting, 300, 300},
		{"hf_checkpoints/checkpoint-800/trainer_state.json", Mapping{}, FormatHFTrainerState, "loss", "eval_loss", 80, 8, VerdictOverfitting, 300, 300},
		{"llamafactory_resumed", Mapping{}, FormatLlamaFactory, "loss", "eval_loss", 50, 5, VerdictHealthy, 0, 500},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Map = tt.m
			as, err := Analyze([]string{filepath.Join("testdata", "logs", tt.path)}, opts)
			if err != nil {
				t.Fatal(err)
			}
			a := as[0]
			if a.Format != tt.format || a.TrainKey != tt.trainKey || a.EvalKey != tt.evalKy {
				t.Errorf("format %q keys %q/%q, want %q %q/%q", a.Format, a.TrainKey, a.EvalKey, tt.format, tt.trainKey, tt.evalKy)
			}
			if len(a.Train) != tt.train || len(a.Eval) != tt.eval {
				t.Errorf("points %d/%d, want %d/%d", len(a.Train), len(a.Eval), tt.train, tt.eval)
			}
			if a.Verdict != tt.verdict || a.Since != tt.since {
				t.Errorf("verdict %q since %d (%s), want %q since %d", a.Verdict, a.Since, a.Reason, tt.verdict, tt.since)
			}
			if tt.best > 0 && (a.BestEval == nil || a.BestEval.Step != tt.best) {
				t.Errorf("best eval %+v, want step %d", a.BestEval, tt.best)
			}
		})
	}
}

func TestCheckpointMapping(t *testing.T) {
	for _, p := range []string{"hf_checkpoints", "hf_checkpoints/checkpoint-800/trainer_state.json"} {
		as, err := Analyze([]string{filepath.Join("testdata", "logs", p)}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		a := as[0]
		want := filepath.Join("testdata", "logs", "hf_checkpoints", "checkpoint-300")
		if a.BestEval.Checkpoint != want {
			t.Errorf("%s: best checkpoint %q, want %q", p, a.BestEval.Checkpoint, want)
		}
		es := a.EarlyStopping
		if !es.HF.Stopped || es.HF.StopStep != 600 || es.HF.KeptCheckpoint != want || es.HF.SavedSteps != 200 || math.Abs(es.HF.SavedFraction-0.25) > 1e-12 {
			t.Errorf("%s: HF replay %+v, want stop 600 keeping %s, saving 200 steps (25%%)", p, es.HF, want)
		}
	}
}

func TestRestartsAndDuplicates(t *testing.T) {
	run, err := Read(filepath.Join("testdata", "logs", "llamafactory_resumed"), "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Restarts) != 1 || run.Restarts[0] != 210 {
		t.Errorf("restarts %v, want [210]", run.Restarts)
	}
	if len(run.Notes) != 1 || run.Notes[0] != "2 duplicated lines ignored" {
		t.Errorf("notes %q", run.Notes)
	}
	// After the restart the resumed values replace the first attempt's.
	ps := run.Series["loss"]
	v, _ := valueAt(ps, 250)
	if math.Abs(v-1.45) > 1e-9 {
		t.Errorf("loss at 250 = %v, want the resumed run's 1.45", v)
	}
	if run.MaxSteps != 500 {
		t.Errorf("max steps %d, want 500", run.MaxSteps)
	}
}

func TestSanitizeJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": NaN, "b": Infinity, "c": -Infinity}`, `{"a": "N", "b": "+Inf~~", "c": "-Inf~~~"}`},
		{`{"s": "NaN Infinity -Infinity", "t": "\"NaN"}`, `{"s": "NaN Infinity -Infinity", "t": "\"NaN"}`},
		{`[NaN,-1,-Infinity]`, `["N",-1,"-Inf~~~"]`},
	}
	for _, tt := range tests {
		b := []byte(tt.in)
		sanitizeJSON(b)
		if string(b) != tt.want {
			t.Errorf("sanitize(%s) = %s, want %s", tt.in, b, tt.want)
		}
	}
	run, err := Read(filepath.Join("testdata", "logs", "hf_nan"), "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := valueAt(run.Series["grad_norm"], 120); !math.IsNaN(v) {
		t.Errorf("grad_norm at 120 = %v, want NaN", v)
	}
	if v, _ := valueAt(run.Series["loss"], 130); !math.IsInf(v, 1) {
		t.Errorf("loss at 130 = %v, want +Inf", v)
	}
	if _, ok := run.Series["train_loss"]; ok {
		t.Error("the closing train_runtime summary entry was read as a curve point")
	}
}

func TestDamagedText(t *testing.T) {
	state, err := os.ReadFile(filepath.Join("testdata", "logs", "hf_nan", "trainer_state.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cut := len(state) / 2
	tests := []struct {
		name      string
		path      string
		wantErr   string
		wantDmg   []string
		minPoints int
	}{
		{"truncated trainer_state", write("trainer_state.json", string(state[:cut])), "", []string{"trainer_state.json:", "truncated"}, 10},
		{"jsonl with a broken line", write("log.jsonl", "{\"step\":1,\"loss\":2.0}\n{\"step\":2,\"loss\":1.9\n{\"step\":3,\"loss\":1.8}\n"), "", []string{"log.jsonl:2:", "not a JSON object"}, 2},
		{"csv with no loss", write("m.csv", "step,lr\n1,0.1\n"), "no train or eval loss", nil, 0},
		{"json that is not a trainer state", write("x.json", "{\n \"a\": 1\n}\n"), "not a known log", nil, 0},
		{"not a log at all", write("notes.txt", "hello\n"), "not a known training log", nil, 0},
		{"empty checkpoint dir", func() string { p := filepath.Join(dir, "empty"); os.Mkdir(p, 0o755); return p }(), "no training log found", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, err := Analyze([]string{tt.path}, DefaultOptions())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.path) {
					t.Fatalf("error %v, want one naming %s and %q", err, tt.path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := as[0]
			joined := strings.Join(a.Damage, "\n")
			for _, w := range tt.wantDmg {
				if !strings.Contains(joined, w) {
					t.Errorf("damage %q lacks %q", a.Damage, w)
				}
			}
			if len(a.Train) < tt.minPoints {
				t.Errorf("%d train points kept, want at least %d", len(a.Train), tt.minPoints)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, body, want string }{
		{"a.csv", "epoch,loss,val_loss\n0,1,1\n", FormatKerasCSV},
		{"metrics.csv", "epoch,step,train_loss,val_loss\n0,1,1,\n", FormatLightningCSV},
		{"b.csv", "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,1,0.5,,\n", FormatOpenAICSV},
		{"c.csv", "_step,train/loss\n0,1\n", FormatWandbCSV},
		{"d.csv", "\"Step\",\"r - eval/loss\",\"r - eval/loss__MIN\"\n", FormatWandbCSV},
		{"e.csv", "iteration,l\n1,2\n", FormatCSV},
		{"f.tsv", "step\tloss\n1\t2\n", FormatCSV},
		{"trainer_log.jsonl", `{"current_steps": 1, "loss": 2}` + "\n", FormatLlamaFactory},
		{"g.jsonl", `{"_step": 0, "train/loss": 2}` + "\n", FormatWandbJSONL},
		{"h.jsonl", `{"step": 0, "loss": 2}` + "\n", FormatJSONL},
		{"state.json", "{\n  \"log_history\": []\n}\n", FormatHFTrainerState},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Detect(p)
		if err != nil || got != tt.want {
			t.Errorf("Detect(%s) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if got, _ := Detect(hfEventsPath); got != FormatTensorBoard {
		t.Errorf("event file detected as %q", got)
	}
	// An event file renamed still has TFRecord framing.
	data, _ := os.ReadFile(hfEventsPath)
	p := filepath.Join(dir, "renamed.bin")
	os.WriteFile(p, data, 0o644)
	if got, _ := Detect(p); got != FormatTensorBoard {
		t.Errorf("renamed event file detected as %q", got)
	}
}

// TestCheckpointsDamagedLatest: when the newest checkpoint's state is cut
// short, the earlier checkpoints fill in the history and the damage is named.
func TestCheckpointsDamagedLatest(t *testing.T) {
	src := filepath.Join("testdata", "logs", "hf_checkpoints")
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name(), "trainer_state.json"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "checkpoint-800" {
			data = data[:len(data)/3]
		}
		os.MkdirAll(filepath.Join(dir, e.Name()), 0o755)
		if err := os.WriteFile(filepath.Join(dir, e.Name(), "trainer_state.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	as, err := Analyze([]string{dir}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	a := as[0]
	if len(a.Damage) != 1 || !strings.Contains(a.Damage[0], filepath.Join(dir, "checkpoint-800", "trainer_state.json")) {
		t.Errorf("damage %q, want one note naming checkpoint-800's state", a.Damage)
	}
	// Steps up to 700 come from checkpoint-700; 710..800 only the cut file had.
	if len(a.Train) < 70 || len(a.Eval) < 7 || a.Verdict != VerdictOverfitting || a.Since != 300 {
		t.Errorf("train %d eval %d verdict %q since %d; want >=70, >=7, overfitting since 300", len(a.Train), len(a.Eval), a.Verdict, a.Since)
	}
}

// TestFastTrainerStateMatchesDecoder: the hand-written log_history scanner
// gives exactly what encoding/json gives, on real and awkward files.
func TestFastTrainerStateMatchesDecoder(t *testing.T) {
	awkward := `{"log_history": [
  {"epoch": 0.1, "loss": 2.5, "step": 10, "note": "a \"quoted\" string", "flag": true, "none": null},
  {"eval_loss": NaN, "nested": {"a": [1, {"b": "]}"}]}, "step": 20, "grad_norm": -Infinity},
  {"loss": 1e-3, "step": 30.0, "lr": -2.5E-5},
  {"no_step": 1},
  {"step": 30, "train_runtime": 5.0, "train_loss": 9.9}
], "max_steps": 30, "best_model_checkpoint": "out/checkpoint-20"}`
	files := map[string][]byte{"awkward": []byte(awkward)}
	for _, p := range []string{
		sharedPath(t, healthyLog), sharedPath(t, noisyLog),
		filepath.Join("testdata", "logs", "hf_nan", "trainer_state.json"),
		filepath.Join("testdata", "logs", "hf_checkpoints", "checkpoint-800", "trainer_state.json"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = data
	}
	for name, data := range files {
		sanitizeJSON(data)
		fast := &Run{}
		if err := fastTrainerState(fast, append([]byte(nil), data...)); err != nil {
			t.Errorf("%s: fast path refused: %v", name, err)
			continue
		}
		slow, err := decodeTrainerState(name, data)
		if err != nil || len(slow.Damage) > 0 {
			t.Fatalf("%s: decoder: %v %v", name, err, slow.Damage)
		}
		if fast.MaxSteps != slow.MaxSteps || fast.BestCheckpoint != slow.BestCheckpoint || len(fast.Series) != len(slow.Series) {
			t.Errorf("%s: fast %d %q %d series, decoder %d %q %d", name, fast.MaxSteps, fast.BestCheckpoint, len(fast.Series), slow.MaxSteps, slow.BestCheckpoint, len(slow.Series))
		}
		for k, want := range slow.Series {
			got := fast.Series[k]
			if len(got) != len(want) {
				t.Errorf("%s %s: %d points, decoder %d", name, k, len(got), len(want))
				continue
			}
			for i := range want {
				same := got[i].Step == want[i].Step && (got[i].Value == want[i].Value || math.IsNaN(got[i].Value) && math.IsNaN(want[i].Value))
				if !same {
					t.Errorf("%s %s[%d]: %v, decoder %v", name, k, i, got[i], want[i])
					break
				}
			}
		}
	}
}

func FuzzParseTrainerState(f *testing.F) {
	f.Add([]byte(`{"log_history": [{"loss": NaN, "step": 1}, {"x": {"y": "\"]"}, "step": 2}], "max_steps": 3}`))
	f.Add([]byte(`{"log_history": [{"loss": 1, "step": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseTrainerState("fuzz.json", data)
	})
}

func TestMappingToMissingSeries(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.jsonl")
	if err := os.WriteFile(p, []byte("{\"it\": 1, \"tr\": 2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Map = Mapping{Step: "it", Train: "loss"}
	_, err := Analyze([]string{p}, opts)
	if err == nil || !strings.Contains(err.Error(), p+": --map train=loss: no such series (series found: tr)") {
		t.Errorf("error %v, want one naming the file, the mapping and the series found", err)
	}
}

// TestOpenAIBase64: the results file as client.files.content returns it is
// base64 of the CSV; saved as is, it still reads.
func TestOpenAIBase64(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join("testdata", "logs", "openai_step_metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "result.csv")
	if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(plain)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	as, err := Analyze([]string{p}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a := as[0]; a.Format != FormatOpenAICSV || len(a.Train) != 300 || len(a.Eval) != 30 {
		t.Errorf("format %q, %d train / %d eval points; want openai-csv 300/30", a.Format, len(a.Train), len(a.Eval))
	}
}

// TestTwoWritersOneResume: a LLaMA-Factory log written by two processes at
// once (the same steps, interleaved with a lag) and resumed once at step 210
// has one restart, not one per interleaved line, and says it had two writers.
// The fixture was written by a short script: writers a and b log steps
// 10..250, b two lines behind a, then both resume at 210 and log to 400.
func TestTwoWritersOneResume(t *testing.T) {
	run, err := Read(filepath.Join("testdata", "logs", "llamafactory_two_writers"), "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Restarts) != 1 || run.Restarts[0] != 210 {
		t.Errorf("restarts %v, want [210]", run.Restarts)
	}
	if run.Writers != 2 || run.RepeatedSteps != 49 {
		t.Errorf("writers %d, repeated %d; want 2 and 49", run.Writers, run.RepeatedSteps)
	}
	if len(run.Notes) != 1 || !strings.Contains(run.Notes[0], "2 writers logged the same steps") {
		t.Errorf("notes %q", run.Notes)
	}
	// One point per step, the resumed values from 210 on.
	loss := run.Series["loss"]
	if len(loss) != 40 {
		t.Errorf("%d loss points, want 40 (steps 10..400)", len(loss))
	}
	if v, _ := valueAt(loss, 250); math.Abs(v-(1.9-0.25)) > 1e-9 {
		t.Errorf("loss at 250 = %v, want the resumed 1.65", v)
	}
	a, err := AnalyzeRun(run, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := WriteText(&text, []Analysis{a}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "the log goes back to step 210 (") {
		t.Errorf("summary:\n%s", text.String())
	}
}
