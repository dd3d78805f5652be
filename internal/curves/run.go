package curves

import (
	"math"
	"sort"
)

// Point is one logged scalar value at a training step.
type Point struct {
	Step  int64   `json:"step"`
	Value float64 `json:"value"`
}

// Run is one training run as read from disk: every scalar series by the name
// its framework logged it under, plus what the log says about checkpoints.
type Run struct {
	// Name labels the run in summaries and plots (the file or directory name).
	Name string `json:"name"`
	// Path is the file or directory the run was read from.
	Path string `json:"path"`
	// Format is the detected (or forced) reader, e.g. "hf-trainer-state".
	Format string `json:"format"`
	// Series maps a logged name ("loss", "eval_loss", "train/loss") to its
	// points in step order, one value per step.
	Series map[string][]Point `json:"-"`
	// Checkpoints maps a step to the checkpoint directory saved at that step.
	Checkpoints map[int64]string `json:"-"`
	// MaxSteps is the planned length of training when the log records it.
	MaxSteps int64 `json:"max_steps,omitempty"`
	// BestCheckpoint is the trainer's own best_model_checkpoint, if logged.
	BestCheckpoint string `json:"best_checkpoint,omitempty"`
	// Restarts lists the steps at which the log went back (a resumed run).
	Restarts []int64 `json:"restarts,omitempty"`
	// Writers is the most processes found appending the same steps to the
	// log at once (0 or 1: one); RepeatedSteps counts the lines that logged
	// a value again at a step that already had it. Neither is a restart.
	Writers       int `json:"writers,omitempty"`
	RepeatedSteps int `json:"repeated_steps,omitempty"`
	// Damage lists what could not be read (file, offset or line, reason).
	Damage []string `json:"damage,omitempty"`
	// Notes are harmless oddities of the file worth telling the user.
	Notes []string `json:"notes,omitempty"`
	// TrainSeconds is the training wall time the log states (the Trainer's
	// train_runtime, LLaMA-Factory's last elapsed_time); 0 when unknown.
	TrainSeconds float64 `json:"train_seconds,omitempty"`
}

// names returns the series names in sorted order (deterministic output).
func (r *Run) names() []string {
	ns := make([]string, 0, len(r.Series))
	for n := range r.Series {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// seriesBuilder collects (step, name, value) observations in file order and
// resolves duplicates and restarts: a repeated step keeps the last value, and
// a step that goes back truncates what was logged after it, because a resumed
// trainer overwrites that stretch of history.
type seriesBuilder struct {
	// runtime is the training wall time in seconds, when the log states it.
	runtime  float64
	series   map[string][]Point
	lastStep int64
	seen     bool
	restarts []int64
}

func newSeriesBuilder() *seriesBuilder {
	return &seriesBuilder{series: make(map[string][]Point)}
}

// row adds the values logged together at one step.
func (b *seriesBuilder) row(step int64, vals map[string]float64) {
	b.at(step)
	for name, v := range vals {
		b.add(name, step, v)
	}
}

// at records that the log has reached step, detecting restarts.
func (b *seriesBuilder) at(step int64) {
	if b.seen && step < b.lastStep {
		b.restart(step)
	}
	b.seen = true
	b.lastStep = step
}

func (b *seriesBuilder) restart(step int64) {
	b.restarts = append(b.restarts, step)
	for name, ps := range b.series {
		i := sort.Search(len(ps), func(i int) bool { return ps[i].Step >= step })
		b.series[name] = ps[:i]
	}
}

func (b *seriesBuilder) add(name string, step int64, v float64) {
	ps := b.series[name]
	if n := len(ps); n > 0 && ps[n-1].Step >= step {
		if ps[n-1].Step == step {
			ps[n-1].Value = v
			return
		}
		// This series went back on its own (a TensorBoard writer resumed
		// from a checkpoint): its later history replaces the old one.
		i := sort.Search(n, func(i int) bool { return ps[i].Step >= step })
		ps = ps[:i]
		if k := len(b.restarts); k == 0 || b.restarts[k-1] != step {
			b.restarts = append(b.restarts, step)
		}
	}
	b.series[name] = append(ps, Point{Step: step, Value: v})
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
