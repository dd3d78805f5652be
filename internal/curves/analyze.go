package curves

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// Options configure reading and analysis. The zero value is not useful; start
// from DefaultOptions.
type Options struct {
	// Format forces a reader ("" detects it per path).
	Format string
	// Map names the step, train-loss and eval-loss fields of a generic log.
	Map Mapping
	// Smooth is the EMA weight for train loss, as TensorBoard's slider.
	Smooth float64
	// Patience and Threshold drive both early-stopping replays:
	// early_stopping_patience/early_stopping_threshold for Hugging Face,
	// patience/min_delta for Keras.
	Patience  int
	Threshold float64
	// Metric is metric_for_best_model ("" or "loss" means the eval loss).
	Metric string
	// GreaterIsBetter overrides the direction inferred from Metric's name.
	GreaterIsBetter *bool
	// RestoreBestWeights and StartFromEpoch are the Keras replay's options.
	RestoreBestWeights bool
	StartFromEpoch     int
	// Join reads a Lightning directory of several version_N as one run.
	Join bool
}

// DefaultOptions are the command's defaults.
func DefaultOptions() Options {
	return Options{Smooth: 0.6, Patience: 3}
}

// Verdicts, one per run.
const (
	VerdictHealthy     = "healthy"
	VerdictOverfitting = "overfitting"
	VerdictDiverged    = "diverged"
	VerdictNoisy       = "noisy"
	VerdictTooShort    = "too short to tell"
	VerdictNoEvalLoss  = "no eval loss"
)

// Analysis is everything tunecheck concludes about one run.
type Analysis struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Format string `json:"format"`

	// StepUnit is what the steps count: "step" (optimiser steps) or "epoch"
	// for logs that record once per epoch (Keras).
	StepUnit string `json:"step_unit"`

	Verdict string `json:"verdict"`
	// Since is the step the verdict dates from (overfitting onset, the
	// train-loss minimum before divergence); it is set for those two
	// verdicts only (and may be 0 for a log that counts epochs from 0).
	Since int64 `json:"since"`
	// Reason says in one or two sentences why, with the numbers.
	Reason string `json:"reason"`

	TrainKey string `json:"train_key,omitempty"`
	EvalKey  string `json:"eval_key,omitempty"`
	// FirstStep and LastStep bound the steps the log covers; MaxSteps is the
	// planned length when the log records it.
	FirstStep int64 `json:"first_step"`
	LastStep  int64 `json:"last_step"`
	MaxSteps  int64 `json:"max_steps,omitempty"`
	// TrainSeconds is the training wall time the log states, 0 if none.
	TrainSeconds float64 `json:"train_seconds,omitempty"`

	Train         []Point `json:"train"`
	TrainSmoothed []Point `json:"train_smoothed"`
	Eval          []Point `json:"eval"`

	// BestEval is the eval-loss minimum, the checkpoint to keep.
	BestEval *Best `json:"best_eval,omitempty"`
	// EvalNoise is the estimated point-to-point σ of the eval loss.
	EvalNoise float64 `json:"eval_noise"`
	// Overfit describes the sustained eval-loss rise, when there is one.
	Overfit *Onset `json:"overfit,omitempty"`
	// Gap is eval minus smoothed train loss at every evaluation.
	Gap []GapPoint `json:"gap,omitempty"`

	Instability Instability `json:"instability"`
	// Metrics are the best values of the other evaluation metrics.
	Metrics []MetricBest `json:"metrics,omitempty"`
	// EarlyStopping replays the Hugging Face and Keras rules on the
	// Options.Metric series (the eval loss by default).
	EarlyStopping *EarlyStopping `json:"early_stopping,omitempty"`

	Restarts []int64 `json:"restarts,omitempty"`
	// Writers and RepeatedSteps are Run's: processes logging the same
	// steps at once, and the lines that repeated a step (not restarts).
	Writers       int      `json:"writers,omitempty"`
	RepeatedSteps int      `json:"repeated_steps,omitempty"`
	Damage        []string `json:"damage,omitempty"`
	Notes         []string `json:"notes,omitempty"`

	// trainSigma is the robust σ of raw train loss around its smoothed trend.
	trainSigma float64
	// trainFinite is the train-loss trend the verdict is decided on, without
	// non-finite points. It does not follow --smooth (a display choice): an
	// unsmoothed curve would turn every low outlier into a "minimum".
	trainFinite []Point
	// rlObjective: the log has RL series (rewards, KL, policy), so a train
	// loss that does not fall is the objective's nature, not divergence.
	rlObjective bool
}

// Best is the best evaluation of a series.
type Best struct {
	Step  int64   `json:"step"`
	Value float64 `json:"value"`
	// Checkpoint is the directory saved at Step, when one exists on disk.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// Onset is a sustained rise of eval loss while train loss does not rise.
type Onset struct {
	Step int64 `json:"step"`
	// EvalAtOnset is the minimum; EvalLast the last eval; Rise is the
	// median eval after the onset minus the minimum.
	EvalAtOnset float64 `json:"eval_at_onset"`
	EvalLast    float64 `json:"eval_last"`
	Rise        float64 `json:"rise"`
	// TrainAtOnset and TrainLast are smoothed train loss at those steps.
	TrainAtOnset float64 `json:"train_at_onset"`
	TrainLast    float64 `json:"train_last"`
	EvalsAfter   int     `json:"evals_after"`
}

// GapPoint is the generalisation gap at one evaluation.
type GapPoint struct {
	Step  int64   `json:"step"`
	Eval  float64 `json:"eval"`
	Train float64 `json:"train"`
	Gap   float64 `json:"gap"`
}

// Instability collects signs of unstable training.
type Instability struct {
	// NonFinite counts NaN/Inf losses; FirstNonFinite is the first one's step.
	NonFinite      int   `json:"non_finite"`
	FirstNonFinite int64 `json:"first_non_finite,omitempty"`
	// Spikes are steps where train loss jumped far above its smoothed trend.
	Spikes []int64 `json:"spikes,omitempty"`
	// BothRising is true when eval and train loss rose together (after a
	// restart, a bad learning rate): instability, not overfitting.
	BothRising bool `json:"both_rising,omitempty"`
}

// MetricBest is the best value of a non-loss evaluation metric.
type MetricBest struct {
	Name            string  `json:"name"`
	GreaterIsBetter bool    `json:"greater_is_better"`
	Step            int64   `json:"step"`
	Value           float64 `json:"value"`
	Last            float64 `json:"last"`
}

// EarlyStopping holds both replays and what they ran on.
type EarlyStopping struct {
	Metric          string  `json:"metric"`
	GreaterIsBetter bool    `json:"greater_is_better"`
	Patience        int     `json:"patience"`
	Threshold       float64 `json:"threshold"`
	// RestoreBestWeights and StartFromEpoch are the Keras replay's options.
	RestoreBestWeights bool   `json:"restore_best_weights"`
	StartFromEpoch     int    `json:"start_from_epoch,omitempty"`
	HF                 Replay `json:"hf"`
	Keras              Replay `json:"keras"`
}

// ErrNoLoss is returned (wrapped, with the file) for a log with no loss.
var ErrNoLoss = errors.New("no train or eval loss in this log")

// Analyze reads every path and analyses each as one run. A path that cannot
// be read at all fails the call with an error that names it (exit code 2);
// damage inside a readable file is reported in Analysis.Damage instead.
func Analyze(paths []string, opts Options) ([]Analysis, error) {
	out := make([]Analysis, 0, len(paths))
	for _, p := range paths {
		run, err := read(p, opts.Format, opts.Map, opts.Join)
		if err != nil {
			return nil, exitcode.WithCode(err, exitcode.BadInput)
		}
		a, err := AnalyzeRun(run, opts)
		if err != nil {
			return nil, exitcode.WithCode(err, exitcode.BadInput)
		}
		out = append(out, a)
	}
	return out, nil
}

// AnalyzeRun analyses one run already read.
func AnalyzeRun(run *Run, opts Options) (Analysis, error) {
	a := Analysis{Name: run.Name, Path: run.Path, Format: run.Format, MaxSteps: run.MaxSteps, TrainSeconds: run.TrainSeconds,
		Restarts: run.Restarts, Writers: run.Writers, RepeatedSteps: run.RepeatedSteps, Damage: run.Damage, Notes: slices.Clone(run.Notes)}
	var others []string
	a.TrainKey, a.EvalKey, others = pickLossKeys(run, opts.Map)
	if len(others) > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("other loss series in this log were not analysed: %s; pick them with --map train=NAME,eval=NAME (or pass each run's directory on its own)", strings.Join(others, ", ")))
	}
	for _, want := range []struct{ role, name, got string }{{"train", opts.Map.Train, a.TrainKey}, {"eval", opts.Map.Eval, a.EvalKey}} {
		if want.name != "" && want.got == "" {
			return a, exitcode.WithHint(fmt.Errorf("%s: --map %s=%s: no such series (series found: %s)", run.Path, want.role, want.name, strings.Join(run.names(), ", ")),
				"use one of the names found, as written in the log")
		}
	}
	a.StepUnit = stepUnit(run.Format, a.TrainKey, a.EvalKey)
	if a.TrainKey == "" && a.EvalKey == "" {
		msg := fmt.Errorf("%s: %w (series found: %s)", run.Path, ErrNoLoss, strings.Join(run.names(), ", "))
		if len(run.Damage) > 0 {
			msg = fmt.Errorf("%w; the file is damaged: %s", msg, strings.Join(run.Damage, "; "))
		}
		return a, exitcode.WithHint(msg, "name the loss columns with --map step=COL,train=COL,eval=COL, or force a reader with --format")
	}
	a.rlObjective = isRLLog(run, a.TrainKey)
	a.Train = run.Series[a.TrainKey]
	a.Eval = run.Series[a.EvalKey]
	a.TrainSmoothed = Smooth(a.Train, opts.Smooth)
	trend := a.TrainSmoothed
	if w := trendWeight(len(a.Train)); w != opts.Smooth {
		trend = Smooth(a.Train, w)
	}
	a.trainFinite = finitePoints(trend)
	a.FirstStep, a.LastStep = stepBounds(a.Train, a.Eval)

	a.trainSigma = trainNoise(a.Train, trend)
	a.Instability = instability(a.Train, a.Eval, trend, a.trainSigma)
	evals := finitePoints(a.Eval)
	if len(evals) > 0 {
		b := bestPoint(evals, false)
		b.Checkpoint = run.Checkpoints[b.Step]
		if b.Checkpoint == "" && filepath.Base(run.BestCheckpoint) == fmt.Sprintf("checkpoint-%d", b.Step) {
			// Not on this disk, but the trainer recorded where it saved it.
			b.Checkpoint = run.BestCheckpoint
		}
		a.BestEval = &b
		vs := values(evals)
		// An exactly smooth curve leaves float rounding as its "noise".
		if a.EvalNoise = evalNoise(vs); a.EvalNoise < 1e-12*math.Abs(b.Value) {
			a.EvalNoise = 0
		}
		ts := a.trainFinite
		for _, p := range evals {
			if t, ok := valueAt(ts, p.Step); ok {
				a.Gap = append(a.Gap, GapPoint{Step: p.Step, Eval: p.Value, Train: t, Gap: p.Value - t})
			}
		}
	}
	a.Metrics = metricBests(run, a.EvalKey)
	a.EarlyStopping = replays(run, &a, opts)
	verdict(&a, evals)
	if a.Verdict == VerdictOverfitting && a.BestEval != nil {
		for _, m := range a.Metrics {
			if !strings.Contains(strings.ToLower(m.Name), "loss") && m.Step > a.BestEval.Step {
				a.Notes = append(a.Notes, fmt.Sprintf("%s kept improving after the eval-loss minimum (best %s at %s): the loss rise may be over-confidence rather than worse outputs; choose the checkpoint by the metric you ship on (--metric %s)",
					m.Name, num(m.Value), a.at(m.Step), m.Name))
			}
		}
	}
	if run.BestCheckpoint != "" && a.BestEval != nil {
		if m := checkpointDir.FindStringSubmatch(filepath.Base(run.BestCheckpoint)); m != nil && m[1] != fmt.Sprint(a.BestEval.Step) {
			a.Notes = append(a.Notes, fmt.Sprintf("the trainer's best_model_checkpoint is %s, not the eval-loss minimum at step %d (it follows metric_for_best_model)", run.BestCheckpoint, a.BestEval.Step))
		}
	}
	return a, nil
}

// isRLLog reports whether a log is of an RL objective (PPO, GRPO, DPO and
// their kin log rewards, KL and policy terms beside the loss), whose loss is
// not a language-modelling loss and need not fall.
func isRLLog(run *Run, trainKey string) bool {
	for _, n := range append(run.names(), trainKey) {
		l := strings.ToLower(n)
		for _, w := range []string{"reward", "kl", "policy", "objective/", "advantage", "logps", "ppo/", "grpo", "dpo"} {
			if strings.Contains(l, w) {
				return true
			}
		}
	}
	return false
}

// lossNames lists the names frameworks log train and eval loss under, in
// order of preference (compared case-insensitively).
var (
	trainLossNames = []string{"loss", "train_loss", "train/loss", "training_loss", "train/train_loss",
		"train_loss_step", "train_loss_epoch", "train/epoch_loss", "epoch_loss", "loss/train", "trainer/loss", "train/loss_step"}
	evalLossNames = []string{"eval_loss", "eval/loss", "val_loss", "validation_loss", "valid_loss", "val/loss",
		"validation/loss", "validation/epoch_loss", "loss/val", "loss/validation", "loss/eval", "eval/val_loss",
		"val_loss_epoch", "test_loss", "full_valid_loss"}
)

// pickLossKeys chooses the train and eval loss series: the mapping first,
// then the known names (also as the last part of a prefixed name, as in a
// TensorBoard directory of several runs: "run1/train/loss"), then any name
// with "loss" in it, split by whether it mentions evaluation. others lists
// the series that would have fitted as well, so the user can be told.
func pickLossKeys(run *Run, m Mapping) (train, eval string, others []string) {
	names := make([]string, 0, len(run.Series))
	lower := map[string]string{}
	for _, n := range run.names() {
		if len(run.Series[n]) > 0 {
			names = append(names, n)
			lower[strings.ToLower(n)] = n
		}
	}
	find := func(want string, known []string) string {
		if want != "" {
			return lower[strings.ToLower(want)]
		}
		for _, k := range known {
			if n, ok := lower[k]; ok {
				return n
			}
		}
		for _, k := range known {
			if !strings.Contains(k, "/") {
				// A bare "loss" would also match ".../eval/loss".
				continue
			}
			var hits []string
			for _, n := range names {
				if strings.HasSuffix(strings.ToLower(n), "/"+k) {
					hits = append(hits, n)
				}
			}
			if len(hits) > 0 {
				others = append(others, hits[1:]...)
				return hits[0]
			}
		}
		return ""
	}
	train = find(m.Train, trainLossNames)
	eval = find(m.Eval, evalLossNames)
	// Fuzzy picks take the first name in sorted order; the other names that
	// fitted as well (eval_test_loss beside eval_validation_loss) are named.
	fuzzyTrain, fuzzyEval := train == "" && m.Train == "", eval == "" && m.Eval == ""
	for _, n := range names {
		l := strings.ToLower(n)
		if !strings.Contains(l, "loss") || strings.Contains(l, "aux") || n == train || n == eval {
			continue
		}
		isEval := strings.Contains(l, "eval") || strings.Contains(l, "val") || strings.Contains(l, "test")
		switch {
		case isEval && fuzzyEval && eval == "":
			eval = n
		case !isEval && fuzzyTrain && train == "":
			train = n
		case isEval && fuzzyEval, !isEval && fuzzyTrain:
			others = append(others, n)
		}
	}
	return train, eval, others
}

func stepBounds(sets ...[]Point) (first, last int64) {
	seen := false
	for _, ps := range sets {
		if len(ps) == 0 {
			continue
		}
		if !seen || ps[0].Step < first {
			first = ps[0].Step
		}
		if !seen || ps[len(ps)-1].Step > last {
			last = ps[len(ps)-1].Step
		}
		seen = true
	}
	return first, last
}

// finitePoints returns ps without NaN/Inf values (ps itself when all are
// finite, the common case, to spare a copy of a long series).
func finitePoints(ps []Point) []Point {
	i := 0
	for i < len(ps) && finite(ps[i].Value) {
		i++
	}
	if i == len(ps) {
		return ps
	}
	out := make([]Point, 0, len(ps))
	for _, p := range ps {
		if finite(p.Value) {
			out = append(out, p)
		}
	}
	return out
}

func values(ps []Point) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.Value
	}
	return out
}

// bestPoint is the first minimum (or maximum) of finite points.
func bestPoint(ps []Point, greater bool) Best {
	b := Best{Step: ps[0].Step, Value: ps[0].Value}
	for _, p := range ps[1:] {
		if (greater && p.Value > b.Value) || (!greater && p.Value < b.Value) {
			b = Best{Step: p.Step, Value: p.Value}
		}
	}
	return b
}

// instability counts non-finite losses and train-loss spikes. A spike is a
// point far above the smoothed trend before it: more than six robust σ of
// the train loss's own jitter and more than a quarter of the trend's level.
func instability(train, eval, smoothed []Point, sigma float64) Instability {
	var in Instability
	for _, ps := range [][]Point{train, eval} {
		for _, p := range ps {
			if !finite(p.Value) {
				in.NonFinite++
				if in.FirstNonFinite == 0 || p.Step < in.FirstNonFinite {
					in.FirstNonFinite = p.Step
				}
			}
		}
	}
	if len(train) < 10 {
		return in
	}
	prev := math.NaN()
	for i, p := range train {
		if finite(prev) && finite(p.Value) && p.Value-prev > max(6*sigma, 0.25*math.Abs(prev)) {
			in.Spikes = append(in.Spikes, p.Step)
		}
		if finite(smoothed[i].Value) {
			prev = smoothed[i].Value
		}
	}
	return in
}

// lowerIsBetter guesses a metric's direction from its name, as users name
// error-like metrics (loss, WER, perplexity) and score-like ones (accuracy).
func lowerIsBetter(name string) bool {
	l := strings.ToLower(name)
	for _, w := range []string{"loss", "wer", "cer", "perplexity", "ppl", "error", "err", "mse", "mae", "rmse", "ter", "distance"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// isEvalMetric reports whether a series is an evaluation metric worth
// reporting (not the loss itself, not timings or counters).
func isEvalMetric(name string) bool {
	l := strings.ToLower(name)
	evalish := false
	for _, p := range []string{"eval_", "eval/", "val_", "val/", "valid_", "validation_", "validation/", "test_"} {
		if strings.HasPrefix(l, p) {
			evalish = true
		}
	}
	if !evalish {
		return false
	}
	for _, w := range []string{"runtime", "per_second", "num_tokens", "samples", "epoch", "step", "_time"} {
		if strings.Contains(l, w) {
			return false
		}
	}
	return true
}

func metricBests(run *Run, evalKey string) []MetricBest {
	var out []MetricBest
	for _, n := range run.names() {
		if n == evalKey || !isEvalMetric(n) {
			continue
		}
		ps := finitePoints(run.Series[n])
		if len(ps) == 0 {
			continue
		}
		greater := !lowerIsBetter(n)
		b := bestPoint(ps, greater)
		out = append(out, MetricBest{Name: n, GreaterIsBetter: greater, Step: b.Step, Value: b.Value, Last: ps[len(ps)-1].Value})
	}
	return out
}

// metricKey resolves metric_for_best_model as the Trainer does (it prefixes
// "eval_"), also trying the other frameworks' prefixes.
func metricKey(run *Run, metric, evalKey string) string {
	if metric == "" || metric == "loss" || metric == "eval_loss" && evalKey != "" {
		return evalKey
	}
	// The evaluation series first: "accuracy" means eval_accuracy even when
	// a train-side "accuracy" is logged too.
	for _, k := range []string{"eval_" + metric, "eval/" + metric, "val_" + metric, "validation/" + metric, "valid_" + metric, metric} {
		if len(run.Series[k]) > 0 {
			return k
		}
	}
	return ""
}

func replays(run *Run, a *Analysis, opts Options) *EarlyStopping {
	key := metricKey(run, opts.Metric, a.EvalKey)
	if key == "" {
		if opts.Metric != "" {
			a.Notes = append(a.Notes, fmt.Sprintf("metric_for_best_model %q is not in this log; no early-stopping replay", opts.Metric))
		}
		return nil
	}
	evals := run.Series[key]
	if len(evals) == 0 {
		return nil
	}
	greater := !lowerIsBetter(key)
	if opts.GreaterIsBetter != nil {
		greater = *opts.GreaterIsBetter
	}
	last := a.LastStep
	es := &EarlyStopping{Metric: key, GreaterIsBetter: greater, Patience: opts.Patience, Threshold: opts.Threshold,
		RestoreBestWeights: opts.RestoreBestWeights, StartFromEpoch: opts.StartFromEpoch}
	es.HF = ReplayHF(evals, HFEarlyStopping{Patience: opts.Patience, Threshold: opts.Threshold, GreaterIsBetter: greater}, last)
	es.Keras = ReplayKeras(evals, KerasEarlyStopping{Patience: opts.Patience, MinDelta: opts.Threshold, GreaterIsBetter: greater,
		RestoreBestWeights: opts.RestoreBestWeights, StartFromEpoch: opts.StartFromEpoch}, last)
	if a.StepUnit == "epoch" && a.FirstStep == 0 {
		// Keras counts epochs from 0: epochs 0..N-1 are N epochs trained.
		for _, r := range []*Replay{&es.HF, &es.Keras} {
			r.SavedFraction = float64(r.SavedSteps) / float64(last+1)
		}
	}
	for _, r := range []*Replay{&es.HF, &es.Keras} {
		r.SavedSeconds = r.SavedFraction * a.TrainSeconds
		if !r.Stopped || a.BestEval == nil {
			continue
		}
		byStop := math.Inf(1)
		for _, p := range finitePoints(a.Eval) {
			if p.Step <= r.StopStep {
				byStop = min(byStop, p.Value)
			}
			if p.Step == r.KeptStep {
				r.KeptEvalLoss = Float(p.Value)
			}
		}
		if finite(byStop) {
			r.EvalLossByStop = Float(byStop)
			r.EvalLossCost = byStop - a.BestEval.Value
		}
	}
	es.HF.KeptCheckpoint = run.Checkpoints[es.HF.KeptStep]
	es.Keras.KeptCheckpoint = run.Checkpoints[es.Keras.KeptStep]
	return es
}

// trainNoise is the robust σ of raw train loss around its smoothed trend.
func trainNoise(train, smoothed []Point) float64 {
	resid := make([]float64, 0, len(train))
	for i, p := range train {
		if finite(p.Value) && finite(smoothed[i].Value) {
			resid = append(resid, p.Value-smoothed[i].Value)
		}
	}
	return mad(resid)
}

// stepUnit says whether a run's steps are epochs: Keras' CSVLogger keys rows
// by epoch, and its TensorBoard callback logs epoch_* tags by epoch.
func stepUnit(format, trainKey, evalKey string) string {
	if format == FormatKerasCSV || format == FormatKerasHistory {
		return "epoch"
	}
	if format == FormatTensorBoard && (strings.HasSuffix(trainKey, "epoch_loss") || strings.HasSuffix(evalKey, "epoch_loss")) {
		return "epoch"
	}
	return "step"
}

// at names a step in the run's unit: "step 4500", "epoch 7".
func (a *Analysis) at(step int64) string {
	unit := a.StepUnit
	if unit == "" {
		unit = "step"
	}
	return unit + " " + strconv.FormatInt(step, 10)
}

// trendWeight is the EMA weight of the train-loss trend used for decisions:
// a span of about 2% of the points (at least 5, the 0.6 TensorBoard default
// for short logs), so a long noisy log is judged on its trend, not on single
// batches.
func trendWeight(n int) float64 {
	span := max(4.0, float64(n)/50)
	return max(0.6, 1-2/(span+1))
}
