package curves

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestLightningPicksNewestVersion: lightning_logs/ with several version_N
// directories reads the highest N, numerically (version_10 after version_9).
func TestLightningPicksNewestVersion(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"version_9", "version_10", "version_2"} {
		d := filepath.Join(dir, "lightning_logs", v)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "epoch,step,train_loss,val_loss\n0,9,1.0,\n0,9,,1.1\n"
		if v == "version_10" {
			body = "epoch,step,train_loss,val_loss\n0,9,0.5,\n0,9,,0.6\n"
		}
		if err := os.WriteFile(filepath.Join(d, "metrics.csv"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run, err := Read(filepath.Join(dir, "lightning_logs"), "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != FormatLightningCSV || len(run.Series["train_loss"]) != 1 || run.Series["train_loss"][0].Value != 0.5 {
		t.Errorf("format %q, train_loss %v; want version_10's 0.5", run.Format, run.Series["train_loss"])
	}
}

// TestCSVNonFinite reads pandas' and Python's spellings of NaN and infinity.
func TestCSVNonFinite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log.csv")
	if err := os.WriteFile(p, []byte("step,loss,val_loss\n1,nan,inf\n2,-inf,Infinity\n3,1.5,-Infinity\n4,NaN,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := Read(p, "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	loss, val := run.Series["loss"], run.Series["val_loss"]
	if len(loss) != 4 || !math.IsNaN(loss[0].Value) || !math.IsInf(loss[1].Value, -1) || loss[2].Value != 1.5 || !math.IsNaN(loss[3].Value) {
		t.Errorf("loss %v", loss)
	}
	if len(val) != 3 || !math.IsInf(val[0].Value, 1) || !math.IsInf(val[1].Value, 1) || !math.IsInf(val[2].Value, -1) {
		t.Errorf("val_loss %v (the cell \"x\" is not a number and is skipped)", val)
	}
}

// TestJSONLUnusualLines: escaped keys take the encoding/json path and give
// the same values as the scanner would.
func TestJSONLUnusualLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log.jsonl")
	body := `{"step": 1, "loss": 2.0, "eval_loss": NaN}
{"step": 2, "lo\u0073s": 1.5, "note": "x"}
{"step": 3, "loss": 1.25} trailing
`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := Read(p, "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	loss := run.Series["loss"]
	if len(loss) != 2 || loss[0].Value != 2 || loss[1].Value != 1.5 {
		t.Errorf("loss %v, want 2 at step 1 and 1.5 at step 2 (the escaped key)", loss)
	}
	if len(run.Damage) != 1 || !strings.Contains(run.Damage[0], "log.jsonl:3:") {
		t.Errorf("damage %q, want line 3 named", run.Damage)
	}
	if ev := run.Series["eval_loss"]; len(ev) != 1 || !math.IsNaN(ev[0].Value) {
		t.Errorf("eval_loss %v, want NaN", ev)
	}
}

// TestTensorBoardTagRestart: one tag going back (a resumed writer) replaces
// that tag's later history and is reported, without touching other tags.
func TestTensorBoardTagRestart(t *testing.T) {
	var data []byte
	for _, s := range []int64{10, 20, 30, 40} {
		data = appendRecord(data, encodeEvent(1, s, scalar{"loss", float64(s), simpleValue}))
	}
	data = appendRecord(data, encodeEvent(1, 100, scalar{"epoch_metric", 1, simpleValue}))
	for _, s := range []int64{30, 40, 50} {
		data = appendRecord(data, encodeEvent(1, s, scalar{"loss", float64(s) + 0.5, simpleValue}))
	}
	b := newSeriesBuilder()
	if d := parseEvents("x", data, b, ""); len(d) > 0 {
		t.Fatal(d)
	}
	loss := b.series["loss"]
	want := []Point{{10, 10}, {20, 20}, {30, 30.5}, {40, 40.5}, {50, 50.5}}
	if len(loss) != len(want) {
		t.Fatalf("loss %v, want %v", loss, want)
	}
	for i := range want {
		if loss[i] != want[i] {
			t.Errorf("loss[%d] = %v, want %v", i, loss[i], want[i])
		}
	}
	if len(b.restarts) != 1 || b.restarts[0] != 30 || len(b.series["epoch_metric"]) != 1 {
		t.Errorf("restarts %v, epoch_metric %v", b.restarts, b.series["epoch_metric"])
	}
}

// TestTensorBoardNonScalarTensor: a tensor with a dimension (a histogram or
// a vector) is not a scalar and is skipped.
func TestTensorBoardNonScalarTensor(t *testing.T) {
	var dim []byte
	dim = protowire.AppendTag(dim, 1, protowire.VarintType) // Dim.size
	dim = protowire.AppendVarint(dim, 2)
	var shape []byte
	shape = protowire.AppendTag(shape, shapeDim, protowire.BytesType)
	shape = protowire.AppendBytes(shape, dim)
	var tensor []byte
	tensor = protowire.AppendTag(tensor, tensorDtype, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, dtFloat)
	tensor = protowire.AppendTag(tensor, tensorShape, protowire.BytesType)
	tensor = protowire.AppendBytes(tensor, shape)
	var packed []byte
	packed = protowire.AppendFixed32(packed, math.Float32bits(1))
	packed = protowire.AppendFixed32(packed, math.Float32bits(2))
	tensor = protowire.AppendTag(tensor, tensorFloat, protowire.BytesType)
	tensor = protowire.AppendBytes(tensor, packed)
	if _, ok, err := scalarTensor(tensor); ok || err != nil {
		t.Errorf("a [2] tensor read as a scalar (ok %t, err %v)", ok, err)
	}
	// The same values without a shape, one int64 and one half, are scalars.
	var i64 []byte
	i64 = protowire.AppendTag(i64, tensorDtype, protowire.VarintType)
	i64 = protowire.AppendVarint(i64, dtInt64)
	i64 = protowire.AppendTag(i64, tensorInt64, protowire.VarintType)
	i64 = protowire.AppendVarint(i64, uint64(7))
	if v, ok, err := scalarTensor(i64); !ok || err != nil || v != 7 {
		t.Errorf("int64 scalar: %v %t %v", v, ok, err)
	}
	var half []byte
	half = protowire.AppendTag(half, tensorDtype, protowire.VarintType)
	half = protowire.AppendVarint(half, dtHalf)
	half = protowire.AppendTag(half, tensorHalf, protowire.VarintType)
	half = protowire.AppendVarint(half, 0x3800) // 0.5
	if v, ok, err := scalarTensor(half); !ok || err != nil || v != 0.5 {
		t.Errorf("half scalar: %v %t %v", v, ok, err)
	}
}

// TestKerasHistoryAndBareLogHistory: json.dump(history.history) (on one line
// or indented) and json.dump(trainer.state.log_history) are read too.
func TestKerasHistoryAndBareLogHistory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"history.json":          `{"loss": [1.0, 0.8, 0.6, 0.5, 0.4, 0.35], "val_loss": [1.1, 0.9, 0.8, 0.85, 0.9, 0.95], "val_accuracy": [0.5, 0.6, 0.7, 0.69, 0.68, 0.67]}`,
		"history_indented.json": "{\n  \"loss\": [1.0, 0.8, 0.6, 0.5, 0.4, 0.35],\n  \"val_loss\": [1.1, 0.9, 0.8, 0.85, 0.9, NaN]\n}\n",
		"log_history.json":      `[{"loss": 2.0, "step": 10}, {"eval_loss": 1.9, "step": 10}, {"loss": 1.5, "step": 20}, {"eval_loss": 1.6, "step": 20}]`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	as, err := Analyze([]string{filepath.Join(dir, "history.json"), filepath.Join(dir, "history_indented.json"), filepath.Join(dir, "log_history.json")}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a := as[0]; a.Format != FormatKerasHistory || a.StepUnit != "epoch" || a.Verdict != VerdictOverfitting || a.Since != 2 || len(a.Train) != 6 {
		t.Errorf("history.json: %s %s %q since %d, %d points (%s)", a.Format, a.StepUnit, a.Verdict, a.Since, len(a.Train), a.Reason)
	}
	if a := as[1]; a.Format != FormatKerasHistory || len(a.Eval) != 6 || !math.IsNaN(a.Eval[5].Value) {
		t.Errorf("history_indented.json: %s, eval %v", a.Format, a.Eval)
	}
	if a := as[2]; a.Format != FormatHFTrainerState || len(a.Train) != 2 || len(a.Eval) != 2 {
		t.Errorf("log_history.json: %s, %d/%d points", a.Format, len(a.Train), len(a.Eval))
	}
}

// TestTensorBoardSeveralRuns: a directory of several HF runs is read with
// each run's tags under its directory; the first run is analysed and the
// others are named, not silently dropped.
func TestTensorBoardSeveralRuns(t *testing.T) {
	dir := t.TempDir()
	for _, r := range []string{"Nov01_a", "Nov02_b"} {
		d := filepath.Join(dir, r)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "events.out.tfevents.1.host"), hfEventFile(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	as, err := Analyze([]string{dir}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	a := as[0]
	if a.TrainKey != "Nov01_a/train/loss" || a.EvalKey != "Nov01_a/eval/loss" || a.Verdict != VerdictOverfitting {
		t.Errorf("keys %q %q verdict %q", a.TrainKey, a.EvalKey, a.Verdict)
	}
	if len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "Nov02_b/train/loss, Nov02_b/eval/loss") {
		t.Errorf("notes %q, want the second run's series named", a.Notes)
	}
}

// TestSeveralEvalSets: a Trainer with two eval datasets logs
// eval_<name>_loss for each; one is analysed and the other named.
func TestSeveralEvalSets(t *testing.T) {
	b := newSeriesBuilder()
	for s := int64(10); s <= 400; s += 10 {
		b.row(s, map[string]float64{"loss": 2 - float64(s)/400})
		if s%50 == 0 {
			b.row(s, map[string]float64{"eval_test_loss": 1.9 - float64(s)/500, "eval_validation_loss": 1.8 - float64(s)/500})
		}
	}
	a, err := AnalyzeRun(&Run{Name: "two-evals", Series: b.series, Checkpoints: map[int64]string{}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.EvalKey != "eval_test_loss" || len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "eval_validation_loss") {
		t.Errorf("eval key %q, notes %q", a.EvalKey, a.Notes)
	}
}

func TestTrainSeconds(t *testing.T) {
	for in, want := range map[string]float64{"1:39:39": 5979, "0:00:32": 32, "2 days, 3:04:05": 2*86400 + 3*3600 + 4*60 + 5, "1 day, 0:00:00": 86400, "soon": 0, "": 0} {
		if got := parseElapsed(in); got != want {
			t.Errorf("parseElapsed(%q) = %v, want %v", in, got, want)
		}
	}
	run, err := Read(filepath.Join("testdata", "logs", "hf_nan"), "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if run.TrainSeconds != 100 {
		t.Errorf("train_runtime read as %v, want 100", run.TrainSeconds)
	}
	a := analyzeShared(t, overfitLog, DefaultOptions())
	if a.TrainSeconds != 6*3600+48*60+6 { // last line: "elapsed_time": "6:48:06"
		t.Errorf("LLaMA-Factory elapsed_time read as %v s", a.TrainSeconds)
	}
	if r := a.EarlyStopping.HF; r.SavedSeconds <= 0 || math.Abs(r.SavedSeconds-r.SavedFraction*a.TrainSeconds) > 1e-9 {
		t.Errorf("saved seconds %v", r.SavedSeconds)
	}
	for sec, want := range map[float64]string{52: "52s", 61: "1m", 3600*6 + 48*60 + 3: "6h48m"} {
		if got := duration(sec); got != want {
			t.Errorf("duration(%v) = %q, want %q", sec, got, want)
		}
	}
}

// TestCheckpointsWithFinalState: output/trainer_state.json from
// trainer.save_state() runs past the last checkpoint and is preferred.
func TestCheckpointsWithFinalState(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "checkpoint-200")
	if err := os.MkdirAll(ck, 0o755); err != nil {
		t.Fatal(err)
	}
	state := func(last int) string {
		h := ""
		for s := 10; s <= last; s += 10 {
			if h != "" {
				h += ","
			}
			h += `{"loss": 1.0, "step": ` + strconv.Itoa(s) + `}`
		}
		return `{"log_history": [` + h + `], "global_step": ` + strconv.Itoa(last) + `}`
	}
	if err := os.WriteFile(filepath.Join(ck, "trainer_state.json"), []byte(state(200)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trainer_state.json"), []byte(state(250)), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := Read(dir, "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != FormatHFCheckpoints || len(run.Series["loss"]) != 25 || run.Checkpoints[200] != ck {
		t.Errorf("format %s, %d loss points, checkpoints %v; want 25 points from the final state", run.Format, len(run.Series["loss"]), run.Checkpoints)
	}
}

// TestLightningVersions: reading lightning_logs/ with several versions says
// which one was read and offers --join; joined, a resumed run is one curve
// with its restart where version_1 goes back.
func TestLightningVersions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lightning_logs")
	bodies := map[string]string{
		"version_0": "epoch,step,train_loss,val_loss\n0,9,2.0,\n0,9,,2.1\n0,19,1.8,\n0,19,,1.9\n0,29,1.7,\n",
		"version_1": "epoch,step,train_loss,val_loss\n1,19,1.75,\n1,19,,1.85\n1,29,1.6,\n1,39,1.5,\n1,39,,1.7\n",
	}
	for v, body := range bodies {
		if err := os.MkdirAll(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, v, "metrics.csv"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run, err := Read(dir, "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Series["train_loss"]) != 3 || len(run.Notes) != 1 || !strings.Contains(run.Notes[0], "only the newest, version_1, was read: pass --join") {
		t.Errorf("newest only: train_loss %v, notes %q", run.Series["train_loss"], run.Notes)
	}
	run, err = ReadJoined(dir, "", Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{9, 2.0}, {19, 1.75}, {29, 1.6}, {39, 1.5}}
	if got := run.Series["train_loss"]; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[3] != want[3] {
		t.Errorf("joined train_loss %v, want %v", got, want)
	}
	if len(run.Restarts) != 1 || run.Restarts[0] != 19 || len(run.Series["val_loss"]) != 3 {
		t.Errorf("restarts %v, val_loss %v", run.Restarts, run.Series["val_loss"])
	}
	if n := run.Notes[len(run.Notes)-1]; !strings.Contains(n, "joined 2 logger versions in order (version_0, version_1)") {
		t.Errorf("notes %q", run.Notes)
	}
	as, err := Analyze([]string{dir}, Options{Smooth: 0.6, Patience: 3, Join: true})
	if err != nil || len(as[0].Train) != 4 {
		t.Errorf("Analyze with Join: %v, %d train points", err, len(as))
	}
}
