package curves

import (
	"math"
	"strconv"
)

// HFEarlyStopping are the arguments of transformers' EarlyStoppingCallback
// and the TrainingArguments it reads.
type HFEarlyStopping struct {
	Patience        int     // early_stopping_patience, counted in evaluations
	Threshold       float64 // early_stopping_threshold
	GreaterIsBetter bool    // greater_is_better for metric_for_best_model
}

// KerasEarlyStopping are the arguments of keras.callbacks.EarlyStopping; an
// "epoch" is one evaluation of the replayed series.
type KerasEarlyStopping struct {
	Patience           int
	MinDelta           float64
	GreaterIsBetter    bool // mode="max"
	RestoreBestWeights bool
	StartFromEpoch     int
}

// Replay is what an early-stopping rule would have done on a recorded run.
type Replay struct {
	Rule string `json:"rule"`
	// Stopped is false when the rule never fires on this run.
	Stopped  bool  `json:"stopped"`
	StopStep int64 `json:"stop_step,omitempty"`
	// BestStep is the evaluation the rule holds as best when training ends.
	BestStep  int64 `json:"best_step"`
	BestValue Float `json:"best_value"`
	// KeptStep is the checkpoint whose weights the user ends up with.
	KeptStep int64 `json:"kept_step"`
	// KeptCheckpoint is KeptStep's checkpoint directory, when one exists.
	KeptCheckpoint string `json:"kept_checkpoint,omitempty"`
	// SavedSteps is how many optimiser steps after StopStep were run anyway;
	// SavedFraction is that share of the steps the run trained.
	SavedSteps    int64   `json:"saved_steps"`
	SavedFraction float64 `json:"saved_fraction"`
	// SavedSeconds is SavedFraction of the run's stated wall time, when the
	// log states it (steps are taken as equally long).
	SavedSeconds float64 `json:"saved_seconds,omitempty"`
	// EvalLossByStop is the best eval loss evaluated up to the stop, and
	// EvalLossCost how much worse it is than the whole run's best (0 when
	// the run's minimum came before the stop): what the saving costs.
	// Both are set when the run stopped and has eval loss.
	EvalLossByStop Float   `json:"eval_loss_by_stop,omitempty"`
	EvalLossCost   float64 `json:"eval_loss_cost,omitempty"`
	// KeptEvalLoss is the eval loss at KeptStep, when evaluated there.
	KeptEvalLoss Float `json:"kept_eval_loss,omitempty"`
}

// ReplayHF replays EarlyStoppingCallback: at each evaluation the counter
// resets when the metric beats the trainer's best_metric by more than the
// threshold, else it grows by one; training stops once it reaches patience.
// best_metric is updated by the trainer after the callback on any strict
// improvement, threshold or not, which is why a small gain still moves the
// best checkpoint (load_best_model_at_end keeps it) while counting as no gain.
// lastStep is the final step trained, for the saving.
func ReplayHF(evals []Point, a HFEarlyStopping, lastStep int64) Replay {
	r := Replay{Rule: "hf"}
	better := func(v, ref float64) bool {
		if a.GreaterIsBetter {
			return v > ref
		}
		return v < ref
	}
	haveBest := false
	best := 0.0
	counter := 0
	for _, p := range evals {
		if !haveBest || (better(p.Value, best) && math.Abs(p.Value-best) > a.Threshold) {
			counter = 0
		} else {
			counter++
		}
		if !haveBest || better(p.Value, best) {
			haveBest, best = true, p.Value
			r.BestStep, r.BestValue = p.Step, Float(p.Value)
		}
		if counter >= a.Patience {
			r.Stopped, r.StopStep = true, p.Step
			break
		}
	}
	r.KeptStep = r.BestStep
	r.finish(lastStep)
	return r
}

// ReplayKeras replays keras.callbacks.EarlyStopping (Keras 3): evaluations
// before start_from_epoch are ignored; an improvement must beat the best by
// more than min_delta, and only an improvement moves the best; training stops
// when the wait reaches patience (never on the first epoch). Without
// restore_best_weights the model keeps the weights of the last epoch run.
func ReplayKeras(evals []Point, a KerasEarlyStopping, lastStep int64) Replay {
	r := Replay{Rule: "keras"}
	improves := func(v float64, ref float64) bool {
		if a.GreaterIsBetter {
			return v-a.MinDelta > ref
		}
		return v+a.MinDelta < ref
	}
	haveBest := false
	best := 0.0
	wait := 0
	for epoch, p := range evals {
		if epoch < a.StartFromEpoch {
			continue
		}
		wait++
		if !haveBest || improves(p.Value, best) {
			haveBest, best = true, p.Value
			r.BestStep, r.BestValue = p.Step, Float(p.Value)
			wait = 0
			continue
		}
		if wait >= a.Patience && epoch > 0 {
			r.Stopped, r.StopStep = true, p.Step
			break
		}
	}
	switch {
	case a.RestoreBestWeights:
		r.KeptStep = r.BestStep
	case r.Stopped:
		r.KeptStep = r.StopStep
	default:
		r.KeptStep = lastStep
	}
	r.finish(lastStep)
	return r
}

func (r *Replay) finish(lastStep int64) {
	if !r.Stopped || lastStep <= 0 {
		return
	}
	r.SavedSteps = max(lastStep-r.StopStep, 0)
	r.SavedFraction = float64(r.SavedSteps) / float64(lastStep)
}

// Float is a float64 that encodes NaN and ±Inf as JSON null: a replay on a
// log with a NaN evaluation can hold one as its best, as the Trainer does.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	if !finite(float64(f)) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}
