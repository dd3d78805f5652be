package curves

import (
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// The three real logs in shared/data/curves and the figures SOURCES.md gives
// for them (eval-loss minimum, verdict category, early-stopping outcomes).
const (
	overfitLog = "llamafactory_qwen2.5-7b-medical.trainer_log.jsonl"
	healthyLog = "trl_sft_tinyllama_healthy.trainer_state.json"
	noisyLog   = "hf_mt5-az-summarization_noisy.trainer_state.json"
)

func analyzeShared(t *testing.T, name string, opts Options) Analysis {
	t.Helper()
	as, err := Analyze([]string{shareddata.Path(t, "curves", name)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return as[0]
}

func TestRealLogsVerdict(t *testing.T) {
	tests := []struct {
		file                string
		format              string
		train, eval         int
		verdict             string
		since               int64
		minStep             int64
		minValue            float64
		firstEval, lastEval float64
	}{
		{overfitLog, FormatLlamaFactory, 675, 13, VerdictOverfitting, 4500, 4500, 1.5518, 1.6411, 1.5776},
		{healthyLog, FormatHFTrainerState, 186, 14, VerdictHealthy, 0, 2800, 1.1219, 1.6223, 1.1219},
		{noisyLog, FormatHFTrainerState, 700, 70, VerdictNoisy, 0, 6900, 2.0532, 3.3984, 2.0653},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := analyzeShared(t, tt.file, DefaultOptions())
			if a.Format != tt.format {
				t.Errorf("format = %q, want %q", a.Format, tt.format)
			}
			if len(a.Train) != tt.train || len(a.Eval) != tt.eval {
				t.Errorf("points: train %d eval %d, want %d and %d", len(a.Train), len(a.Eval), tt.train, tt.eval)
			}
			if a.Verdict != tt.verdict || a.Since != tt.since {
				t.Errorf("verdict = %q since %d (%s), want %q since %d", a.Verdict, a.Since, a.Reason, tt.verdict, tt.since)
			}
			if a.BestEval == nil || a.BestEval.Step != tt.minStep || !near(a.BestEval.Value, tt.minValue, 5e-5) {
				t.Errorf("eval minimum = %+v, want %.4f at %d", a.BestEval, tt.minValue, tt.minStep)
			}
			if !near(a.Eval[0].Value, tt.firstEval, 5e-5) || !near(a.Eval[len(a.Eval)-1].Value, tt.lastEval, 5e-5) {
				t.Errorf("first/last eval = %.4f/%.4f, want %.4f/%.4f", a.Eval[0].Value, a.Eval[len(a.Eval)-1].Value, tt.firstEval, tt.lastEval)
			}
		})
	}
}

// TestRealLogsEarlyStopping checks the replays against the oracle lines of
// SOURCES.md. stop 0 means the rule never fires.
func TestRealLogsEarlyStopping(t *testing.T) {
	type outcome struct{ stop, best int64 }
	tests := []struct {
		file      string
		patience  int
		threshold float64
		hf        outcome
		keras     *outcome
	}{
		{overfitLog, 1, 0, outcome{2500, 2000}, nil},
		{overfitLog, 2, 0, outcome{5500, 4500}, nil},
		{overfitLog, 3, 0, outcome{6000, 4500}, nil},
		{overfitLog, 3, 0.01, outcome{3000, 3000}, &outcome{5500, 4000}},
		{healthyLog, 1, 0, outcome{0, 2800}, nil},
		{healthyLog, 2, 0, outcome{0, 2800}, nil},
		{healthyLog, 3, 0, outcome{0, 2800}, nil},
		{healthyLog, 3, 0.01, outcome{2400, 2400}, &outcome{2800, 2200}},
		{noisyLog, 1, 0, outcome{900, 800}, nil},
		{noisyLog, 2, 0, outcome{2300, 2100}, nil},
		{noisyLog, 3, 0, outcome{3200, 2900}, nil},
		{noisyLog, 3, 0.01, outcome{3200, 2900}, &outcome{3200, 2900}},
	}
	for _, tt := range tests {
		opts := DefaultOptions()
		opts.Patience, opts.Threshold = tt.patience, tt.threshold
		opts.RestoreBestWeights = true
		a := analyzeShared(t, tt.file, opts)
		es := a.EarlyStopping
		if es == nil {
			t.Fatalf("%s: no early-stopping replay", tt.file)
		}
		check := func(rule string, r Replay, want outcome) {
			stop := int64(0)
			if r.Stopped {
				stop = r.StopStep
			}
			if stop != want.stop || r.BestStep != want.best || r.KeptStep != want.best {
				t.Errorf("%s p=%d thr=%g %s: stop %d best %d kept %d, want stop %d best %d", tt.file, tt.patience, tt.threshold, rule, stop, r.BestStep, r.KeptStep, want.stop, want.best)
			}
		}
		check("hf", es.HF, tt.hf)
		if tt.keras != nil {
			check("keras", es.Keras, *tt.keras)
		}
	}
}

func near(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }

func sharedPath(tb testing.TB, name string) string {
	tb.Helper()
	return shareddata.Path(tb, "curves", name)
}

// TestVerdictIgnoresDisplaySmoothing: --smooth changes the plotted curve,
// never the verdict.
func TestVerdictIgnoresDisplaySmoothing(t *testing.T) {
	for _, f := range []string{overfitLog, healthyLog, noisyLog} {
		want := analyzeShared(t, f, DefaultOptions())
		for _, w := range []float64{0, 0.3, 0.9, 0.99} {
			opts := DefaultOptions()
			opts.Smooth = w
			a := analyzeShared(t, f, opts)
			if a.Verdict != want.Verdict || a.Since != want.Since || a.Reason != want.Reason {
				t.Errorf("%s --smooth %g: %q since %d (%s), want %q since %d", f, w, a.Verdict, a.Since, a.Reason, want.Verdict, want.Since)
			}
		}
	}
}

// TestEarlyStopCost: the replay says what stopping costs in eval loss: on the
// noisy mT5 log HF patience 3 stops at 3200 having seen 2.1714 at best, the
// run reached 2.0532; on the overfitting log the minimum came before the stop.
func TestEarlyStopCost(t *testing.T) {
	a := analyzeShared(t, noisyLog, DefaultOptions())
	hf := a.EarlyStopping.HF
	if !near(float64(hf.EvalLossByStop), 2.1714, 5e-5) || !near(hf.EvalLossCost, 2.1714-2.0532, 1e-4) {
		t.Errorf("noisy: by stop %v, cost %v", hf.EvalLossByStop, hf.EvalLossCost)
	}
	var b strings.Builder
	if err := WriteText(&b, []Analysis{a}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "saves 3800 steps (54.3%), costing +0.11818 eval loss (best 2.1714 by the stop vs the run's best 2.0532 at step 6900)") {
		t.Errorf("summary lacks the cost:\n%s", b.String())
	}
	a = analyzeShared(t, overfitLog, DefaultOptions())
	if hf := a.EarlyStopping.HF; hf.EvalLossCost != 0 || !near(float64(hf.EvalLossByStop), 1.5518, 5e-5) {
		t.Errorf("overfit: by stop %v, cost %v", hf.EvalLossByStop, hf.EvalLossCost)
	}
}
