package curves

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// synth builds a run from functions of the step: train loss every 10 steps,
// eval loss every evalEvery steps, up to last.
func synth(last, evalEvery int64, train, eval func(s float64) float64) *Run {
	b := newSeriesBuilder()
	for s := int64(10); s <= last; s += 10 {
		vals := map[string]float64{"loss": train(float64(s))}
		b.row(s, vals)
		if eval != nil && s%evalEvery == 0 {
			b.row(s, map[string]float64{"eval_loss": eval(float64(s))})
		}
	}
	return &Run{Name: "synth", Series: b.series, Checkpoints: map[int64]string{}, Restarts: b.restarts}
}

func TestVerdictShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(sd float64) float64 { return rng.NormFloat64() * sd }
	falling := func(s float64) float64 { return 2*math.Exp(-s/800) + 0.5 + noise(0.02) }
	tests := []struct {
		name    string
		run     *Run
		verdict string
		since   int64
		tol     int64 // how far Since may be from since (smoothing lag, plateau noise)
	}{
		{"healthy, flattening", synth(3000, 200, falling, func(s float64) float64 { return 2*math.Exp(-s/900) + 0.7 + noise(0.002) }), VerdictHealthy, 0, 0},
		{"overfitting from step 1200", synth(3000, 200, falling, func(s float64) float64 {
			return 0.9 + 1e-7*(s-1200)*(s-1200) + noise(0.001)
		}), VerdictOverfitting, 1200, 0},
		{"overfitting, train flat", synth(3000, 200, func(s float64) float64 { return 0.6 + noise(0.01) }, func(s float64) float64 {
			return 0.9 + math.Max(0, s-1800)*2e-4 + noise(0.001)
		}), VerdictOverfitting, 1800, 200},
		{"diverged: train climbs back", synth(3000, 200, func(s float64) float64 {
			if s < 1500 {
				return 2 - s/1000 + noise(0.01)
			}
			return 0.5 + (s-1500)/1000 + noise(0.01)
		}, func(s float64) float64 { return 1.0 + noise(0.001) }), VerdictDiverged, 1500, 50},
		{"diverged: NaN at the end", synth(1000, 100, func(s float64) float64 {
			if s >= 800 {
				return math.NaN()
			}
			return 2 - s/1000
		}, func(s float64) float64 { return 2 - s/900 }), VerdictDiverged, 800, 0},
		{"NaN mid-run, recovered", synth(1000, 100, func(s float64) float64 {
			if s == 300 {
				return math.Inf(1)
			}
			return 2 - s/1000
		}, func(s float64) float64 { return 2 - s/900 }), VerdictHealthy, 0, 0},
		{"no eval", synth(1000, 100, falling, nil), VerdictNoEvalLoss, 0, 0},
		{"too short", synth(300, 100, falling, func(s float64) float64 { return 1 - s/1000 }), VerdictTooShort, 0, 0},
		{"noisy", synth(3000, 100, falling, func(s float64) float64 { return 1.5 - s/6000 + noise(0.05) }), VerdictNoisy, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := AnalyzeRun(tt.run, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if a.Verdict != tt.verdict || a.Since < tt.since-tt.tol || a.Since > tt.since+tt.tol {
				t.Errorf("verdict %q since %d (%s), want %q since %d±%d", a.Verdict, a.Since, a.Reason, tt.verdict, tt.since, tt.tol)
			}
		})
	}
}

// TestBothRisingAfterRestart: a run resumed with a broken optimiser state;
// eval and train loss both rise. That is instability, not overfitting.
func TestBothRisingAfterRestart(t *testing.T) {
	b := newSeriesBuilder()
	for s := int64(10); s <= 1000; s += 10 {
		b.row(s, map[string]float64{"loss": 2 - float64(s)/1000})
		if s%100 == 0 {
			b.row(s, map[string]float64{"eval_loss": 1.9 - float64(s)/1100})
		}
	}
	for s := int64(810); s <= 1600; s += 10 {
		b.row(s, map[string]float64{"loss": 1.2 + float64(s-800)/5000})
		if s%100 == 0 {
			b.row(s, map[string]float64{"eval_loss": 1.2 + float64(s-800)/3000})
		}
	}
	run := &Run{Name: "resumed", Series: b.series, Restarts: b.restarts, Checkpoints: map[int64]string{}}
	a, err := AnalyzeRun(run, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != VerdictDiverged || !a.Instability.BothRising || a.Since != 800 {
		t.Errorf("verdict %q since %d both-rising %t (%s); want diverged since 800, both rising", a.Verdict, a.Since, a.Instability.BothRising, a.Reason)
	}
	if len(a.Restarts) != 1 || a.Restarts[0] != 810 {
		t.Errorf("restarts %v, want [810]", a.Restarts)
	}
}

// TestDetectorGeneralises draws many random runs of known shape, with noise
// levels and lengths the three real logs do not have, and bounds how often
// the verdict is wrong.
func TestDetectorGeneralises(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const trials = 300
	falseOverfit, missed := 0, 0
	for i := 0; i < trials; i++ {
		evals := int64(8 + rng.IntN(40))
		every := int64(50 + 10*rng.IntN(20))
		last := evals * every
		sd := 0.001 + 0.01*rng.Float64()
		scale := 0.5 + 3*rng.Float64()
		floor := 0.2 + rng.Float64()
		tau := float64(last) / (1 + 4*rng.Float64())
		train := func(s float64) float64 { return scale*math.Exp(-s/tau) + floor - 0.1 + rng.NormFloat64()*0.03 }
		healthy := synth(last, every, train, func(s float64) float64 {
			return scale*math.Exp(-s/tau) + floor + rng.NormFloat64()*sd
		})
		a, err := AnalyzeRun(healthy, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if a.Verdict == VerdictOverfitting || a.Verdict == VerdictDiverged {
			falseOverfit++
		}
		onset := float64(last) * (0.3 + 0.4*rng.Float64())
		slope := (10 + 20*rng.Float64()) * sd / float64(last)
		over := synth(last, every, train, func(s float64) float64 {
			return scale*math.Exp(-onset/tau) + floor + math.Max(0, s-onset)*slope + rng.NormFloat64()*sd
		})
		a, err = AnalyzeRun(over, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if a.Verdict != VerdictOverfitting {
			missed++
		}
	}
	// Flat eval loss with noise, train loss falling: the eval minimum is a
	// low outlier and everything after it seems to "rise" from it.
	flatOverfit := 0
	for i := 0; i < trials; i++ {
		n := int64(10 + rng.IntN(40))
		sd := 0.005 + 0.03*rng.Float64()
		flat := synth(n*100, 100, func(s float64) float64 { return 2 - s/float64(n*200) + rng.NormFloat64()*0.05 },
			func(s float64) float64 { return 1.5 + rng.NormFloat64()*sd })
		a, err := AnalyzeRun(flat, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if a.Verdict == VerdictOverfitting {
			flatOverfit++
		}
	}
	if flatOverfit > trials/10 {
		t.Errorf("%d of %d flat noisy eval curves called overfitting (allowed %d)", flatOverfit, trials, trials/10)
	}
	t.Logf("flat noisy eval curves called overfitting: %d/%d", flatOverfit, trials)
	if falseOverfit > trials/50 {
		t.Errorf("%d of %d healthy runs called overfitting or diverged (allowed %d)", falseOverfit, trials, trials/50)
	}
	if missed > trials/10 {
		t.Errorf("%d of %d overfitting runs missed (allowed %d)", missed, trials, trials/10)
	}
	t.Logf("healthy runs misjudged: %d/%d; overfitting runs missed: %d/%d", falseOverfit, trials, missed, trials)
}

func TestReplayHFSemantics(t *testing.T) {
	pts := func(vs ...float64) []Point {
		ps := make([]Point, len(vs))
		for i, v := range vs {
			ps[i] = Point{Step: int64(100 * (i + 1)), Value: v}
		}
		return ps
	}
	tests := []struct {
		name             string
		evals            []Point
		args             HFEarlyStopping
		stopped          bool
		stop, best, save int64
	}{
		{"patience counts evaluations", pts(1, 0.9, 0.95, 0.96, 0.97, 0.5), HFEarlyStopping{Patience: 3}, true, 500, 200, 100},
		{"equal is no improvement", pts(1, 1, 1), HFEarlyStopping{Patience: 2}, true, 300, 100, 300},
		{"small gain resets nothing but moves best", pts(1, 0.995, 0.99, 0.985), HFEarlyStopping{Patience: 3, Threshold: 0.01}, true, 400, 400, 200},
		{"greater is better", pts(0.5, 0.6, 0.55, 0.7), HFEarlyStopping{Patience: 2, GreaterIsBetter: true}, false, 0, 400, 0},
		{"NaN never improves", pts(1, math.NaN(), math.NaN()), HFEarlyStopping{Patience: 2}, true, 300, 100, 300},
	}
	for _, tt := range tests {
		r := ReplayHF(tt.evals, tt.args, 600)
		if r.Stopped != tt.stopped || r.StopStep != tt.stop || r.BestStep != tt.best || r.SavedSteps != tt.save {
			t.Errorf("%s: got stopped %t stop %d best %d saved %d, want %t %d %d %d", tt.name, r.Stopped, r.StopStep, r.BestStep, r.SavedSteps, tt.stopped, tt.stop, tt.best, tt.save)
		}
	}
}

func TestReplayKerasSemantics(t *testing.T) {
	pts := func(vs ...float64) []Point {
		ps := make([]Point, len(vs))
		for i, v := range vs {
			ps[i] = Point{Step: int64(i), Value: v}
		}
		return ps
	}
	tests := []struct {
		name             string
		evals            []Point
		args             KerasEarlyStopping
		stopped          bool
		stop, best, kept int64
	}{
		{"min_delta gates the best", pts(1, 0.995, 0.993, 0.992), KerasEarlyStopping{Patience: 3, MinDelta: 0.01}, true, 3, 0, 3},
		{"restore_best_weights keeps the best", pts(1, 0.995, 0.993, 0.992), KerasEarlyStopping{Patience: 3, MinDelta: 0.01, RestoreBestWeights: true}, true, 3, 0, 0},
		{"start_from_epoch ignores warm-up", pts(0.5, 2, 1.9, 1.95, 1.96, 1.97), KerasEarlyStopping{Patience: 2, StartFromEpoch: 1}, true, 4, 2, 4},
		{"patience 0 stops at the first non-improvement", pts(1, 1.1), KerasEarlyStopping{Patience: 0}, true, 1, 0, 1},
		{"mode max", pts(0.1, 0.2, 0.3), KerasEarlyStopping{Patience: 1, GreaterIsBetter: true}, false, 0, 2, 2},
	}
	for _, tt := range tests {
		r := ReplayKeras(tt.evals, tt.args, 2)
		if r.Stopped != tt.stopped || r.StopStep != tt.stop || r.BestStep != tt.best || r.KeptStep != tt.kept {
			t.Errorf("%s: got stopped %t stop %d best %d kept %d, want %t %d %d %d", tt.name, r.Stopped, r.StopStep, r.BestStep, r.KeptStep, tt.stopped, tt.stop, tt.best, tt.kept)
		}
	}
}

func TestSmoothMatchesTensorBoard(t *testing.T) {
	// TensorBoard's algorithm by hand for w=0.6 on 1, 2, NaN, 4:
	// last=0.4 -> 0.4/0.4=1; last=0.4*0.6+0.8=1.04 -> 1.04/0.64=1.625;
	// NaN passes through; last=1.04*0.6+1.6=2.224 -> 2.224/0.784.
	in := []Point{{1, 1}, {2, 2}, {3, math.NaN()}, {4, 4}}
	got := Smooth(in, 0.6)
	want := []float64{1, 1.625, math.NaN(), 2.224 / 0.784}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i].Value) || (!math.IsNaN(want[i]) && math.Abs(got[i].Value-want[i]) > 1e-12) {
			t.Errorf("point %d: %v, want %v", i, got[i].Value, want[i])
		}
	}
	if c := Smooth([]Point{{1, 3}, {2, 3}}, 0.9); c[0].Value != 3 || c[1].Value != 3 {
		t.Errorf("constant series changed: %v", c)
	}
}

// TestMetricForBestModel replays on a non-loss metric, as
// metric_for_best_model="mean_token_accuracy" with greater_is_better would.
func TestMetricForBestModel(t *testing.T) {
	opts := DefaultOptions()
	opts.Metric = "mean_token_accuracy"
	a := analyzeShared(t, healthyLog, opts)
	es := a.EarlyStopping
	if es == nil || es.Metric != "eval_mean_token_accuracy" || !es.GreaterIsBetter {
		t.Fatalf("replay %+v, want eval_mean_token_accuracy, greater is better", es)
	}
	if es.HF.Stopped || es.HF.BestStep != 2600 {
		t.Errorf("HF replay %+v, want no stop, best at 2600 (accuracy 0.75094)", es.HF)
	}
	off := false
	opts.GreaterIsBetter = &off
	a = analyzeShared(t, healthyLog, opts)
	if a.EarlyStopping.GreaterIsBetter || a.EarlyStopping.HF.BestStep != 200 {
		t.Errorf("with greater_is_better=false the best should be the lowest accuracy, at 200: %+v", a.EarlyStopping.HF)
	}
	opts.Metric = "bleu"
	a = analyzeShared(t, healthyLog, opts)
	if a.EarlyStopping != nil || len(a.Notes) == 0 {
		t.Errorf("unknown metric: replay %+v notes %q, want none and a note", a.EarlyStopping, a.Notes)
	}
}

// TestShortRuns: with five evaluations the noise cannot be estimated from
// the curve; a V is still overfitting, a jittery plateau is not.
func TestShortRuns(t *testing.T) {
	tests := []struct {
		name    string
		evals   []float64
		verdict string
	}{
		{"V over five epochs", []float64{2.0, 1.5, 1.4, 1.45, 1.5}, VerdictOverfitting},
		{"plateau with jitter", []float64{2.0, 1.5, 1.4, 1.41, 1.405}, VerdictHealthy},
		{"still falling", []float64{2.0, 1.5, 1.4, 1.35, 1.33}, VerdictHealthy},
	}
	for _, tt := range tests {
		b := newSeriesBuilder()
		for i, v := range tt.evals {
			b.row(int64(i), map[string]float64{"loss": 2.0 - 0.3*float64(i), "val_loss": v})
		}
		a, err := AnalyzeRun(&Run{Name: tt.name, Series: b.series, Checkpoints: map[int64]string{}}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if a.Verdict != tt.verdict {
			t.Errorf("%s: %q (%s), want %q", tt.name, a.Verdict, a.Reason, tt.verdict)
		}
	}
}

// TestLossAndMetricDisagree: a speech fine-tune whose eval loss rises from
// the first evaluation while its WER keeps improving (a common Whisper
// shape) is overfitting by loss, with a note pointing at the metric.
func TestLossAndMetricDisagree(t *testing.T) {
	b := newSeriesBuilder()
	evals := []struct{ loss, wer float64 }{{0.31, 34.6}, {0.36, 33.1}, {0.42, 32.6}, {0.45, 32.0}, {0.47, 32.1}}
	for s := int64(25); s <= 5000; s += 25 {
		b.row(s, map[string]float64{"loss": 0.5 * math.Exp(-float64(s)/800)})
		if s%1000 == 0 {
			e := evals[s/1000-1]
			b.row(s, map[string]float64{"eval_loss": e.loss, "eval_wer": e.wer})
		}
	}
	a, err := AnalyzeRun(&Run{Name: "whisper", Series: b.series, Checkpoints: map[int64]string{}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != VerdictOverfitting || a.Since != 1000 {
		t.Errorf("verdict %q since %d, want overfitting since 1000", a.Verdict, a.Since)
	}
	if len(a.Metrics) != 1 || a.Metrics[0].GreaterIsBetter || a.Metrics[0].Step != 4000 {
		t.Errorf("metrics %+v, want eval_wer lower-is-better, best at 4000", a.Metrics)
	}
	if len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "eval_wer kept improving after the eval-loss minimum (best 32 at step 4000)") {
		t.Errorf("notes %q", a.Notes)
	}
}

// TestPlateauIsNotNoise: a run that converged early and then jitters around
// its minimum for half of its evaluations is healthy and says it is flat.
func TestPlateauIsNotNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	run := synth(5000, 100, func(s float64) float64 { return 1.5*math.Exp(-s/500) + 0.5 + rng.NormFloat64()*0.01 },
		func(s float64) float64 { return 1.5*math.Exp(-s/400) + 0.8 + rng.NormFloat64()*0.0005 })
	a, err := AnalyzeRun(run, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != VerdictHealthy || !strings.Contains(a.Reason, "has been flat") {
		t.Errorf("verdict %q (%s), want healthy and flat", a.Verdict, a.Reason)
	}
}

// TestRisingRLLoss: a GRPO-style loss that starts near zero and grows with
// the KL term is not "diverged"; without eval loss the verdict says so, and
// a note explains the rising loss.
func TestRisingRLLoss(t *testing.T) {
	run := synth(2000, 100, func(s float64) float64 { return 0.0001 + s*2e-5 }, nil)
	a, err := AnalyzeRun(run, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != VerdictNoEvalLoss || len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "never fell") {
		t.Errorf("verdict %q notes %q", a.Verdict, a.Notes)
	}
}

// TestVerdictRegressions covers runs that were misjudged: a diverging
// language-modelling loss without eval loss, a GRPO loss that rises by its
// nature, and eval loss rising at every evaluation (with and without the
// train loss rising too).
func TestVerdictRegressions(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		name      string
		run       *Run
		verdict   string
		reason    []string
		notReason []string
		noteHas   string
	}{
		{
			name:    "diverging QLoRA train-only loss",
			run:     synth(2000, 100, func(s float64) float64 { return 1.0 + 29*math.Pow(s/2000, 2) + rng.NormFloat64()*0.01 }, nil),
			verdict: VerdictDiverged,
			reason:  []string{"never fell", "last logged value", "diverged"},
		},
		{
			name:    "GRPO loss grows from zero",
			run:     synth(2000, 100, func(s float64) float64 { return 0.0001 + s*2e-5 }, nil),
			verdict: VerdictNoEvalLoss,
			noteHas: "last logged value is 0.0401",
		},
		{
			name: "RL log with rewards: rising loss is not divergence",
			run: func() *Run {
				r := synth(2000, 100, func(s float64) float64 { return 1 + s*0.01 }, nil)
				r.Series["rewards/chosen"] = []Point{{Step: 10, Value: 0.1}}
				return r
			}(),
			verdict: VerdictNoEvalLoss,
			noteHas: "never fell",
		},
		{
			name: "resumed run: train and eval rise at every eval",
			run: withEvals(synth(2000, 400, func(s float64) float64 { return 1.0 + s*1e-4 + rng.NormFloat64()*0.002 }, nil),
				3.6, 3.605, 3.612, 3.625, 3.641),
			verdict:   VerdictDiverged,
			reason:    []string{"rose at every one of the 4 evaluations", "first evaluation", "instability"},
			notReason: []string{"flat"},
		},
		{
			name: "eval rises at every eval, train falls",
			run: withEvals(synth(2000, 400, func(s float64) float64 { return 2 * math.Exp(-s/1000) }, nil),
				3.6, 3.605, 3.612, 3.625, 3.641),
			verdict: VerdictOverfitting,
			reason:  []string{"rose at every one of the 4 evaluations"},
		},
		{
			name: "minimum at the first eval, flat after",
			run: withEvals(synth(2000, 200, func(s float64) float64 { return 2 * math.Exp(-s/1000) }, nil),
				1.2, 1.203, 1.201, 1.204, 1.202, 1.203),
			verdict:   VerdictHealthy,
			notReason: []string{"fell from"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := AnalyzeRun(tt.run, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if a.Verdict != tt.verdict {
				t.Fatalf("verdict %q (%s; notes %q), want %q", a.Verdict, a.Reason, a.Notes, tt.verdict)
			}
			for _, w := range tt.reason {
				if !strings.Contains(a.Reason, w) {
					t.Errorf("reason %q lacks %q", a.Reason, w)
				}
			}
			for _, w := range tt.notReason {
				if strings.Contains(a.Reason, w) {
					t.Errorf("reason %q says %q", a.Reason, w)
				}
			}
			if tt.noteHas != "" && !strings.Contains(strings.Join(a.Notes, "\n"), tt.noteHas) {
				t.Errorf("notes %q lack %q", a.Notes, tt.noteHas)
			}
		})
	}
}

// withEvals adds eval losses at evenly spread steps over the run's train steps.
func withEvals(r *Run, vs ...float64) *Run {
	train := r.Series["loss"]
	last := train[len(train)-1].Step
	for i, v := range vs {
		r.Series["eval_loss"] = append(r.Series["eval_loss"], Point{Step: last * int64(i+1) / int64(len(vs)), Value: v})
	}
	return r
}
