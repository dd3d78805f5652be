package ckptselect

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// binary returns n items "i000".. of which the first k score 1, the rest 0.
func binary(n, k int) map[string]float64 {
	m := make(map[string]float64, n)
	for i := range n {
		v := 0.0
		if i < k {
			v = 1
		}
		m[fmt.Sprintf("i%03d", i)] = v
	}
	return m
}

func ev(step int64, scores map[string]float64) Eval {
	return Eval{Step: step, RunID: fmt.Sprintf("run-%d", step), Metric: "qa.exact_match", HigherIsBetter: true, Scores: scores}
}

// issueEvals is the case the issue names: the eval loss is lowest at step
// 200 (1.10) while exact match is best at step 300 (30/40 against 22/40 at
// step 200, the 8 extra items all gained, none lost).
func issueEvals() []Eval {
	return []Eval{ev(400, binary(40, 28)), ev(100, binary(40, 16)), ev(300, binary(40, 30)), ev(200, binary(40, 22))}
}

// logRun is a trainer log built in memory: train loss every 50 steps, eval
// loss at the given steps.
func logRun(evalLoss map[int64]float64, evalSteps []int64) *curves.Run {
	r := &curves.Run{Name: "out", Path: "out/trainer_state.json", Format: curves.FormatHFTrainerState, Series: map[string][]curves.Point{}, Checkpoints: map[int64]string{}}
	for s := int64(50); s <= 400; s += 50 {
		r.Series["loss"] = append(r.Series["loss"], curves.Point{Step: s, Value: 2 - float64(s)*0.0035})
	}
	for _, s := range evalSteps {
		r.Series["eval_loss"] = append(r.Series["eval_loss"], curves.Point{Step: s, Value: evalLoss[s]})
	}
	return r
}

var issueLoss = map[int64]float64{100: 1.30, 200: 1.10, 300: 1.15, 400: 1.25}

func TestIssueCaseMetricBeatsEvalLoss(t *testing.T) {
	evals := issueEvals()
	evals[2].Checkpoint = "out/checkpoint-300"
	rep, err := Analyze(evals, logRun(issueLoss, []int64{100, 200, 300, 400}), Options{Seed: 7, Patience: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BestByMetric.Checkpoint != "out/checkpoint-300" {
		t.Errorf("the metric's pick names checkpoint %q, want the evaluated one", rep.BestByMetric.Checkpoint)
	}
	wantMeans := map[int64]float64{100: 0.4, 200: 0.55, 300: 0.75, 400: 0.7}
	if len(rep.Rows) != 4 {
		t.Fatalf("rows %d, want 4", len(rep.Rows))
	}
	for i, row := range rep.Rows {
		if want := []int64{100, 200, 300, 400}[i]; row.Step != want {
			t.Fatalf("row %d is step %d, want %d (sorted by step)", i, row.Step, want)
		}
		if math.Abs(row.Mean-wantMeans[row.Step]) > 1e-12 || row.N != 40 {
			t.Errorf("step %d: mean %v n %d, want %v and 40", row.Step, row.Mean, row.N, wantMeans[row.Step])
		}
		if !(row.CI.Low <= row.Mean && row.Mean <= row.CI.High) || row.CI.Low == row.CI.High {
			t.Errorf("step %d: interval %+v does not surround the mean %v", row.Step, row.CI, row.Mean)
		}
		if row.EvalLoss == nil || row.EvalLoss.Step != row.Step || row.EvalLoss.Value != issueLoss[row.Step] {
			t.Errorf("step %d: eval loss %+v, want %v logged at the step", row.Step, row.EvalLoss, issueLoss[row.Step])
		}
		if wantTrain := 2 - float64(row.Step)*0.0035; row.TrainLoss == nil || row.TrainLoss.Value != wantTrain {
			t.Errorf("step %d: train loss %+v, want %v", row.Step, row.TrainLoss, wantTrain)
		}
	}
	if rep.BestByMetric.Step != 300 || rep.BestByEvalLoss == nil || rep.BestByEvalLoss.Step != 200 {
		t.Fatalf("picks: metric %d, eval loss %+v; want 300 and 200", rep.BestByMetric.Step, rep.BestByEvalLoss)
	}
	d := rep.Difference
	if d == nil || d.From != 300 || d.Against != 200 {
		t.Fatalf("difference %+v, want 300 − 200", d)
	}
	p := d.Paired
	// 8 items gained, none lost, 40 pairs: Δ = 8/40; the exact sign-flip
	// test over 8 non-zero differences all positive gives p = 2/2^8.
	if p.N != 40 || math.Abs(p.Delta-0.2) > 1e-12 || p.Wins != 8 || p.Losses != 0 || math.Abs(p.PValue-2.0/256) > 1e-12 || p.Test != "permutation-exact" {
		t.Fatalf("paired %+v; want n 40, Δ 0.2, 8 wins, 0 losses, p 2/256 permutation-exact", p)
	}
	if p.CI.Low <= 0 || p.CI.High < 0.2 || d.Better != "better" {
		t.Fatalf("interval %+v (%s): want it above 0 and around 0.2, the metric's pick better", p.CI, d.Better)
	}
	// Patience 1: the metric stops at 400 (worse than 300) keeping 300; the
	// eval loss stops at 300 (worse than 200) keeping 200.
	es := rep.EarlyStop
	if !es.Metric.Stopped || es.Metric.StopStep != 400 || es.Metric.BestStep != 300 {
		t.Errorf("metric replay %+v, want stop at 400, best 300", es.Metric)
	}
	if es.EvalLoss == nil || !es.EvalLoss.Stopped || es.EvalLoss.StopStep != 300 || es.EvalLoss.BestStep != 200 {
		t.Errorf("eval-loss replay %+v, want stop at 300, best 200", es.EvalLoss)
	}
	for _, w := range rep.Warnings {
		t.Errorf("unexpected warning: %s", w)
	}
}

// The eval-loss replay here is the very replay `tunecheck curves` makes on
// the same log: one rule, one answer.
func TestEvalLossReplayMatchesCurves(t *testing.T) {
	log, err := curves.Read(filepath.Join("testdata", "trainer_state.json"), "", curves.Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	for _, patience := range []int{1, 2, 3} {
		rep, err := Analyze(issueEvals(), log, Options{Seed: 7, Patience: patience})
		if err != nil {
			t.Fatal(err)
		}
		o := curves.DefaultOptions()
		o.Patience = patience
		a, err := curves.AnalyzeRun(log, o)
		if err != nil {
			t.Fatal(err)
		}
		got, want := *rep.EarlyStop.EvalLoss, a.EarlyStopping.HF
		if got.Stopped != want.Stopped || got.StopStep != want.StopStep || got.BestStep != want.BestStep || got.SavedSteps != want.SavedSteps {
			t.Errorf("patience %d: ours %+v, curves %+v", patience, got, want)
		}
	}
}

func TestPatienceReplayOnMetric(t *testing.T) {
	// means by step: 0.5, 0.6, 0.55, 0.58, 0.62, 0.5
	ks := map[int64]int{100: 50, 200: 60, 300: 55, 400: 58, 500: 62, 600: 50}
	var evals []Eval
	for s, k := range ks {
		evals = append(evals, ev(s, binary(100, k)))
	}
	for _, tc := range []struct {
		patience       int
		minDelta       float64
		stopped        bool
		stop, best     int64
		wantBestAtStop float64
	}{
		{patience: 1, stopped: true, stop: 300, best: 200, wantBestAtStop: 0.6},
		{patience: 2, stopped: true, stop: 400, best: 200, wantBestAtStop: 0.6},
		// 500 beats 200 and resets the counter; 600 alone is not enough.
		{patience: 3, stopped: false, best: 500, wantBestAtStop: 0.62},
		// 0.62 beats 0.6 by no more than 0.05: the counter keeps growing
		// (stop at 500), though the best moves there, as the Trainer does.
		{patience: 3, minDelta: 0.05, stopped: true, stop: 500, best: 500, wantBestAtStop: 0.62},
	} {
		t.Run(fmt.Sprintf("patience=%d,min_delta=%v", tc.patience, tc.minDelta), func(t *testing.T) {
			rep, err := Analyze(evals, nil, Options{Seed: 1, Patience: tc.patience, MinDelta: tc.minDelta})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.EarlyStop.Metric
			if r.Stopped != tc.stopped || r.StopStep != tc.stop || r.BestStep != tc.best || math.Abs(float64(r.BestValue)-tc.wantBestAtStop) > 1e-12 {
				t.Fatalf("replay %+v; want stopped %v at %d, best %d (%v)", r, tc.stopped, tc.stop, tc.best, tc.wantBestAtStop)
			}
			if rep.EarlyStop.EvalLoss != nil {
				t.Fatal("an eval-loss replay without a log")
			}
		})
	}
}

func TestTiesPickTheEarliest(t *testing.T) {
	evals := []Eval{ev(300, binary(20, 12)), ev(100, binary(20, 12)), ev(200, binary(20, 8))}
	rep, err := Analyze(evals, logRun(map[int64]float64{100: 1.2, 200: 1.0, 300: 1.0}, []int64{100, 200, 300}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// metric: 100 and 300 tie at 0.6 → 100; eval loss: 200 and 300 tie at 1.0 → 200.
	if rep.BestByMetric.Step != 100 || rep.BestByEvalLoss.Step != 200 {
		t.Fatalf("picks %d and %d, want 100 and 200", rep.BestByMetric.Step, rep.BestByEvalLoss.Step)
	}
	if !hasWarning(rep, "step(s) 300 tie the best mean; the earliest, step 100, is picked") {
		t.Fatalf("no tie warning in %q", rep.Warnings)
	}
}

func TestFailedItemsAreCountedNotScored(t *testing.T) {
	// Step 200 scored 30 of 40 items, 24 of them right, 10 failed: its mean
	// is 24/30 = 0.8, not 24/40, and the pick is flagged.
	s200 := binary(30, 24)
	evals := []Eval{ev(100, binary(40, 28)), {Step: 200, RunID: "run-200", Metric: "qa.exact_match", HigherIsBetter: true, Scores: s200, Failed: 10}}
	rep, err := Analyze(evals, logRun(map[int64]float64{100: 1.2, 200: 1.0}, []int64{100, 200}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	row := rep.Rows[1]
	if row.N != 30 || row.Failed != 10 || math.Abs(row.Mean-0.8) > 1e-12 {
		t.Fatalf("step 200: n %d failed %d mean %v; want 30, 10, 0.8", row.N, row.Failed, row.Mean)
	}
	if rep.SamePick != true || rep.Difference != nil {
		t.Fatalf("both pick step 200: same %v, difference %+v", rep.SamePick, rep.Difference)
	}
	for _, w := range []string{"items failed at step(s) 200 (10 of 40)", "the metric's pick, step 200, has 10 failed item(s)"} {
		if !hasWarning(rep, w) {
			t.Errorf("no warning %q in %q", w, rep.Warnings)
		}
	}
}

func TestLowerIsBetterMetric(t *testing.T) {
	// word error rate per item: step 200 lower on every item than step 100.
	wer := func(step int64, base float64) Eval {
		s := map[string]float64{}
		for i := range 12 {
			s[fmt.Sprintf("u%02d", i)] = base + 0.01*float64(i)
		}
		return Eval{Step: step, RunID: fmt.Sprint(step), Metric: "asr.wer", Scores: s}
	}
	evals := []Eval{wer(100, 0.30), wer(200, 0.20), wer(300, 0.25)}
	rep, err := Analyze(evals, logRun(map[int64]float64{100: 1.0, 200: 1.1, 300: 1.2}, []int64{100, 200, 300}), Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.HigherIsBetter || rep.BestByMetric.Step != 200 || rep.BestByEvalLoss.Step != 100 {
		t.Fatalf("picks %d (metric) and %d (loss), want 200 and 100", rep.BestByMetric.Step, rep.BestByEvalLoss.Step)
	}
	d := rep.Difference
	// every item 0.10 lower: Δ = −0.1 exactly, no variance, a better pick.
	if math.Abs(d.Paired.Delta+0.1) > 1e-12 || d.Paired.CI.High >= 0 || d.Better != "better" {
		t.Fatalf("difference %+v (%s); want −0.1 with the interval below 0, better", d.Paired, d.Better)
	}
	// the early-stopping replay follows the direction: 300 is worse than 200.
	if r := rep.EarlyStop.Metric; r.BestStep != 200 {
		t.Fatalf("replay best %d, want 200", r.BestStep)
	}
}

func TestLossMatchedAtOrBefore(t *testing.T) {
	// eval loss logged at 100 and 300 only; checkpoint 200 gets step 100's.
	evals := []Eval{ev(100, binary(10, 5)), ev(200, binary(10, 6)), ev(300, binary(10, 7))}
	rep, err := Analyze(evals, logRun(map[int64]float64{100: 1.2, 300: 1.4}, []int64{100, 300}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l := rep.Rows[1].EvalLoss; l == nil || l.Step != 100 || l.Value != 1.2 {
		t.Fatalf("step 200's eval loss %+v, want 1.2 from step 100", l)
	}
	if !hasWarning(rep, "the nearest earlier value is shown for: 200 (from 100)") {
		t.Fatalf("no at-or-before warning in %q", rep.Warnings)
	}
	var b bytes.Buffer
	if err := Text(&b, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "1.2000 @100") {
		t.Fatalf("the table does not mark the borrowed value:\n%s", b.String())
	}
}

func TestWarningsAboutTheLog(t *testing.T) {
	evals := []Eval{ev(100, binary(10, 5)), ev(200, binary(10, 6))}
	for _, tc := range []struct {
		name string
		log  *curves.Run
		want string
	}{
		{"no log", nil, "no trainer log was found"},
		{"no eval loss", func() *curves.Run { r := logRun(nil, nil); delete(r.Series, "eval_loss"); return r }(), "the trainer log has no eval loss"},
		{"steps not evaluated", logRun(map[int64]float64{100: 1.2, 150: 0.9, 200: 1.0, 250: 1.1}, []int64{100, 150, 200, 250}), "2 step(s) with eval loss in the log were not evaluated on the metric: 150, 250"},
		{"checkpoints not evaluated", func() *curves.Run {
			r := logRun(map[int64]float64{100: 1.2, 200: 1.0}, []int64{100, 200})
			r.Checkpoints = map[int64]string{300: "out/checkpoint-300", 100: "out/checkpoint-100", 250: "out/checkpoint-250"}
			return r
		}(), "2 checkpoint(s) beside the log were not evaluated: step(s) 250, 300"},
		{"minimum not evaluated", logRun(map[int64]float64{100: 1.2, 150: 0.9, 200: 1.0}, []int64{100, 150, 200}), "the log's lowest eval loss (0.9000 at step 150) is at a step with no evaluated checkpoint; the eval-loss pick is the lowest among evaluated steps (step 200)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Analyze(evals, tc.log, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !hasWarning(rep, tc.want) {
				t.Fatalf("no warning %q in %q", tc.want, rep.Warnings)
			}
		})
	}
}

func TestDifferenceInsideMDE(t *testing.T) {
	// 1 item of 20 differs: far below what 20 items can detect.
	evals := []Eval{ev(100, binary(20, 10)), ev(200, binary(20, 11))}
	rep, err := Analyze(evals, logRun(map[int64]float64{100: 1.0, 200: 1.1}, []int64{100, 200}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.Difference; d == nil || !d.InsideMDE || d.Better != "unclear" {
		t.Fatalf("difference %+v, want inside the MDE and unclear", d)
	}
	if !hasWarning(rep, "is inside the minimum detectable effect") {
		t.Fatalf("no MDE warning in %q", rep.Warnings)
	}
}

func TestBadEvaluations(t *testing.T) {
	good := ev(100, binary(4, 2))
	for _, tc := range []struct {
		name  string
		evals []Eval
		want  string
	}{
		{"none", nil, "no evaluated checkpoint"},
		{"mixed metrics", []Eval{good, {Step: 200, RunID: "x", Metric: "qa.f1", HigherIsBetter: true, Scores: binary(4, 1)}}, "step 200 (run x) is scored on qa.f1"},
		{"mixed directions", []Eval{good, {Step: 200, RunID: "x", Metric: "qa.exact_match", Scores: binary(4, 1)}}, "(lower is better)"},
		{"step twice", []Eval{good, good}, "step 100 is evaluated twice"},
		{"NaN score", []Eval{{Step: 100, RunID: "x", Metric: "m", Scores: map[string]float64{"a": math.NaN()}}}, "item a: score NaN is not a number"},
		{"nothing scored", []Eval{{Step: 100, RunID: "x", Metric: "m", Failed: 3}}, "no item has a score (3 failed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(tc.evals, nil, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if exitcode.Of(err) != exitcode.BadInput || exitcode.Hint(err) == "" {
				t.Fatalf("error %v: code %d hint %q, want bad input with a hint", err, exitcode.Of(err), exitcode.Hint(err))
			}
		})
	}
}

// The same evaluations render byte for byte the same, whatever the order
// of the items' maps.
func TestDeterministic(t *testing.T) {
	var first []byte
	for range 5 {
		rep, err := Analyze(issueEvals(), logRun(issueLoss, []int64{100, 200, 300, 400}), Options{Seed: 11})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := JSON(&b, rep); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b.Bytes()
		} else if !bytes.Equal(first, b.Bytes()) {
			t.Fatal("two analyses of the same evaluations differ")
		}
	}
}

func TestGolden(t *testing.T) {
	log, err := curves.Read(filepath.Join("testdata", "trainer_state.json"), "", curves.Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Analyze(issueEvals(), log, Options{Seed: 42, Patience: 1})
	if err != nil {
		t.Fatal(err)
	}
	// not on this disk: the trainer's best_model_checkpoint names step 200's
	if rep.BestByEvalLoss.Checkpoint != "out/checkpoint-200" || rep.BestByMetric.Checkpoint != "" {
		t.Errorf("checkpoints %q and %q", rep.BestByEvalLoss.Checkpoint, rep.BestByMetric.Checkpoint)
	}
	for _, w := range []struct {
		file  string
		write func(*bytes.Buffer, Report) error
	}{
		{"issue.txt", func(b *bytes.Buffer, r Report) error { return Text(b, r) }},
		{"issue.md", func(b *bytes.Buffer, r Report) error { return Markdown(b, r) }},
		{"issue.json", func(b *bytes.Buffer, r Report) error { return JSON(b, r) }},
		{"issue.svg", func(b *bytes.Buffer, r Report) error { return SVG(b, r) }},
	} {
		var b bytes.Buffer
		if err := w.write(&b, rep); err != nil {
			t.Fatal(err)
		}
		golden(t, w.file, b.Bytes())
	}
}

// Data in ids reaches no writer as markup or escape sequences.
func TestHostileNames(t *testing.T) {
	evals := []Eval{
		{Step: 100, RunID: "<script>alert(1)</script>", Metric: "qa.|x\x1b[31m*", HigherIsBetter: true, Scores: binary(4, 1)},
		{Step: 200, RunID: "r|2\n# h", Metric: "qa.|x\x1b[31m*", HigherIsBetter: true, Scores: binary(4, 3)},
	}
	rep, err := Analyze(evals, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var txt, mdb, svg bytes.Buffer
	if err := Text(&txt, rep); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&mdb, rep); err != nil {
		t.Fatal(err)
	}
	if err := SVG(&svg, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(txt.String(), "\x1b") {
		t.Error("an escape sequence reached the terminal text")
	}
	if strings.Contains(mdb.String(), "<script>") || strings.Contains(mdb.String(), "r|2") || strings.Contains(mdb.String(), "\n# h") {
		t.Errorf("markup reached the Markdown:\n%s", mdb.String())
	}
	if strings.Contains(svg.String(), "<script>") || strings.Contains(svg.String(), "\x1b") {
		t.Error("markup reached the SVG")
	}
}

func hasWarning(r Report, part string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is missing: run go test ./internal/ckptselect -update", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (refresh with -update if the change is meant):\n%s", name, got)
	}
}
