package ckptselect

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// Schema names the JSON document's version; it changes only when a field
// changes meaning or goes away.
const Schema = "tunecheck.ckptselect/v1"

// Eval is one checkpoint's evaluation on the plan's primary metric.
type Eval struct {
	// Step is the optimiser step of checkpoint-Step.
	Step int64
	// RunID is the stored run that evaluated it.
	RunID string
	// Metric names the primary metric (TASK.METRIC); every Eval must name the
	// same one with the same direction.
	Metric         string
	HigherIsBetter bool
	// Scores maps an item id to its score of the primary metric.
	Scores map[string]float64
	// Failed counts items without a score (a request that failed, an answer
	// the scorer could not read): shown, never counted as 0.
	Failed int
	// Checkpoint is the checkpoint directory evaluated, when the caller
	// knows it; else the log's record of the step's checkpoint is used.
	Checkpoint string
}

// Options configure Analyze.
type Options struct {
	// Confidence is the intervals' level (0.95 when 0); Resamples the
	// bootstrap's size (1000 when 0); Seed its seed.
	Confidence float64
	Resamples  int
	Seed       uint64
	// Patience is the early-stopping replay's patience in evaluations (3
	// when 0, `tunecheck curves`' default); MinDelta its threshold: a gain
	// of at most MinDelta does not reset the counter.
	Patience int
	MinDelta float64
	// Test is the paired test the metric declares (stats.DeclPermutation
	// when ""), as a plan's metric declares it.
	Test string
}

// Report is Analyze's result. Field names are the JSON schema's.
type Report struct {
	Schema         string  `json:"schema"`
	Metric         string  `json:"metric"`
	HigherIsBetter bool    `json:"higher_is_better"`
	Confidence     float64 `json:"confidence"`
	// Log describes the trainer log the losses come from; nil without one.
	Log  *LogInfo `json:"log"`
	Rows []Row    `json:"rows"`
	// BestByMetric and BestByEvalLoss are the two picks; BestByEvalLoss is
	// nil when no evaluated step has an eval loss.
	BestByMetric   Pick  `json:"best_by_metric"`
	BestByEvalLoss *Pick `json:"best_by_eval_loss"`
	// SamePick says both picks are one checkpoint (Difference is then nil).
	SamePick bool `json:"same_pick"`
	// Difference is best-by-metric minus best-by-eval-loss, paired.
	Difference *Difference `json:"difference"`
	EarlyStop  EarlyStop   `json:"early_stop"`
	Warnings   []string    `json:"warnings"`

	// trainCurve and evalCurve are the log's whole loss series, for the plot.
	trainCurve, evalCurve []curves.Point
}

// LogInfo names the log and the series read from it.
type LogInfo struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// TrainKey and EvalKey are the series used ("" when absent).
	TrainKey string `json:"train_key"`
	EvalKey  string `json:"eval_key"`
	// Match is how a loss is matched to a step: always "at-or-before".
	Match string `json:"match"`
}

// LossAt is a logged loss matched to an evaluated step: the value logged at
// that step, or else at the nearest logged step before it (Step says which).
type LossAt struct {
	Step  int64   `json:"step"`
	Value float64 `json:"value"`
}

// Row is one evaluated step.
type Row struct {
	Step  int64  `json:"step"`
	RunID string `json:"run_id"`
	// N is the items with a score; Mean and CI their mean and its interval.
	N      int            `json:"n"`
	Failed int            `json:"failed"`
	Mean   float64        `json:"mean"`
	CI     stats.Interval `json:"ci"`
	// TrainLoss and EvalLoss are nil when the log has none at or before Step.
	TrainLoss *LossAt `json:"train_loss"`
	EvalLoss  *LossAt `json:"eval_loss"`

	checkpoint string // Eval.Checkpoint
}

// Pick is a chosen checkpoint.
type Pick struct {
	Step  int64  `json:"step"`
	RunID string `json:"run_id"`
	// Mean and CI are the metric at that step.
	Mean float64        `json:"mean"`
	CI   stats.Interval `json:"ci"`
	// EvalLoss is the eval loss the pick was made on (by-loss pick), or the
	// eval loss at the step (by-metric pick); nil when there is none.
	EvalLoss *LossAt `json:"eval_loss"`
	// Checkpoint is the step's checkpoint directory when the log names one.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// Difference is the paired comparison of the two picks on their common items.
type Difference struct {
	// From is the by-metric step, Against the by-eval-loss step.
	From    int64 `json:"from_step"`
	Against int64 `json:"against_step"`
	// Paired holds n (common items), delta = From − Against, its
	// percentile and BCa intervals, the test and p-value, and the MDE.
	Paired stats.Paired `json:"paired"`
	// Better says whether From is better than Against in the metric's
	// direction with the interval excluding zero: "better", "worse" or
	// "unclear".
	Better string `json:"better"`
	// InsideMDE is |delta| below the minimum detectable effect.
	InsideMDE bool `json:"inside_mde"`
}

// EarlyStop is the early-stopping replay.
type EarlyStop struct {
	Patience int     `json:"patience"`
	MinDelta float64 `json:"min_delta"`
	// Metric is the rule replayed on the metric's means: where training
	// would have stopped, and the best step seen by then.
	Metric curves.Replay `json:"metric"`
	// EvalLoss is the same rule on the log's eval loss (nil without one).
	EvalLoss *curves.Replay `json:"eval_loss"`
}

// Analyze compares the checkpoints of one training run by their task metric
// and by the log's eval loss. log may be nil (no trainer log found). Bad
// evaluations (none, mixed metrics or directions, a step twice, a
// non-finite score, a step with no scored item) are errors that say which.
func Analyze(evals []Eval, log *curves.Run, opt Options) (Report, error) {
	if opt.Confidence <= 0 || opt.Confidence >= 1 {
		opt.Confidence = 0.95
	}
	if opt.Patience <= 0 {
		opt.Patience = 3
	}
	if opt.MinDelta < 0 || math.IsNaN(opt.MinDelta) {
		return Report{}, badInput(fmt.Errorf("min delta %v: must be 0 or more", opt.MinDelta), "pass a non-negative --min-delta")
	}
	evals, err := checkEvals(evals)
	if err != nil {
		return Report{}, err
	}
	cfg := stats.Config{Resamples: opt.Resamples, Confidence: opt.Confidence, Seed: opt.Seed}
	rep := Report{Schema: Schema, Metric: evals[0].Metric, HigherIsBetter: evals[0].HigherIsBetter, Confidence: opt.Confidence}
	ls := readLosses(log, &rep)
	rep.trainCurve, rep.evalCurve = ls.train, ls.eval
	for _, e := range evals {
		xs := scoresOf(e)
		s := stats.DescribeFast(xs, cfg)
		row := Row{Step: e.Step, RunID: e.RunID, N: s.N, Failed: e.Failed, Mean: s.Mean, CI: s.CI,
			TrainLoss: atOrBefore(ls.train, e.Step), EvalLoss: atOrBefore(ls.eval, e.Step), checkpoint: e.Checkpoint}
		rep.Rows = append(rep.Rows, row)
	}
	better := func(a, b float64) bool {
		if rep.HigherIsBetter {
			return a > b
		}
		return a < b
	}
	bm := 0
	for i, r := range rep.Rows {
		if better(r.Mean, rep.Rows[bm].Mean) {
			bm = i
		}
	}
	rep.BestByMetric = pickOf(rep.Rows[bm], log)
	bl := -1
	for i, r := range rep.Rows {
		if r.EvalLoss != nil && finite(r.EvalLoss.Value) && (bl < 0 || r.EvalLoss.Value < rep.Rows[bl].EvalLoss.Value) {
			bl = i
		}
	}
	if bl >= 0 {
		p := pickOf(rep.Rows[bl], log)
		rep.BestByEvalLoss = &p
		if bl == bm {
			rep.SamePick = true
		} else {
			rep.Difference = difference(evals[bm], evals[bl], rep.HigherIsBetter, opt.Test, cfg)
		}
	}
	rep.EarlyStop = replay(rep, ls, opt)
	rep.Warnings = append(rep.Warnings, warnings(rep, evals, ls, bm, bl)...)
	return rep, nil
}

func badInput(err error, hint string) error {
	return exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput), hint)
}

// checkEvals validates the evaluations and returns them sorted by step.
func checkEvals(in []Eval) ([]Eval, error) {
	if len(in) == 0 {
		return nil, badInput(errors.New("no evaluated checkpoint to choose from"), "evaluate at least one checkpoint-N first (tunecheck watch DIR --plan PLAN)")
	}
	evals := slices.Clone(in)
	sort.SliceStable(evals, func(i, j int) bool { return evals[i].Step < evals[j].Step })
	first := evals[0]
	for i, e := range evals {
		if e.Metric != first.Metric || e.HigherIsBetter != first.HigherIsBetter {
			return nil, badInput(fmt.Errorf("step %d (run %s) is scored on %s (%s is better), step %d (run %s) on %s (%s is better)",
				e.Step, e.RunID, e.Metric, dirWord(e.HigherIsBetter), first.Step, first.RunID, first.Metric, dirWord(first.HigherIsBetter)),
				"choose checkpoints by one metric: evaluate every checkpoint with the same plan")
		}
		if i > 0 && e.Step == evals[i-1].Step {
			return nil, badInput(fmt.Errorf("step %d is evaluated twice (runs %s and %s)", e.Step, evals[i-1].RunID, e.RunID),
				"keep one run per checkpoint (the newest), or pass the runs of one training run only")
		}
		if e.Failed < 0 {
			return nil, badInput(fmt.Errorf("step %d (run %s): failed items %d is negative", e.Step, e.RunID, e.Failed), "count the items without a score")
		}
		for _, id := range sortedIDs(e.Scores) {
			if !finite(e.Scores[id]) {
				return nil, badInput(fmt.Errorf("step %d (run %s), item %s: score %v is not a number", e.Step, e.RunID, id, e.Scores[id]),
					"an item the scorer could not score is a failed item, not a score")
			}
		}
		if len(e.Scores) == 0 {
			return nil, badInput(fmt.Errorf("step %d (run %s): no item has a score (%d failed)", e.Step, e.RunID, e.Failed),
				"look at the run's failures (tunecheck show RUN); a checkpoint whose every item failed cannot be ranked")
		}
	}
	return evals, nil
}

func dirWord(higher bool) string {
	if higher {
		return "higher"
	}
	return "lower"
}

func sortedIDs(m map[string]float64) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// scoresOf lists an evaluation's scores in item-id order, so that the
// bootstrap sees the same sample whatever the map's order.
func scoresOf(e Eval) []float64 {
	ids := sortedIDs(e.Scores)
	xs := make([]float64, len(ids))
	for i, id := range ids {
		xs[i] = e.Scores[id]
	}
	return xs
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// losses are the log's finite train and eval loss points.
type losses struct {
	train, eval []curves.Point
	// lastStep is the last step the log covers (0 without a log).
	lastStep int64
	// checkpoints are the steps of the checkpoint directories the log's
	// reader found beside it, in order.
	checkpoints []int64
	// notes are the log's own damage and notes, passed on as warnings.
	notes []string
}

// readLosses picks the train and eval loss series the way `tunecheck
// curves` does (curves.AnalyzeRun's key choice), so the two commands read
// the same numbers from one log.
func readLosses(log *curves.Run, rep *Report) losses {
	var ls losses
	if log == nil {
		rep.Warnings = append(rep.Warnings, "no trainer log was found beside the checkpoints: no losses to show and no eval-loss pick to compare with")
		return ls
	}
	rep.Log = &LogInfo{Path: log.Path, Format: log.Format, Match: "at-or-before"}
	a, err := curves.AnalyzeRun(log, curves.DefaultOptions())
	if err != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the trainer log has no usable loss (%v): no eval-loss pick to compare with", err))
		return ls
	}
	rep.Log.TrainKey, rep.Log.EvalKey = a.TrainKey, a.EvalKey
	ls.train, ls.eval = finitePoints(a.Train), finitePoints(a.Eval)
	ls.lastStep = a.LastStep
	for s := range log.Checkpoints {
		ls.checkpoints = append(ls.checkpoints, s)
	}
	slices.Sort(ls.checkpoints)
	for _, d := range a.Damage {
		ls.notes = append(ls.notes, "trainer log: "+d)
	}
	return ls
}

func finitePoints(ps []curves.Point) []curves.Point {
	var out []curves.Point
	for _, p := range ps {
		if finite(p.Value) {
			out = append(out, p)
		}
	}
	return out
}

// atOrBefore is the point at step, else the nearest one before it; nil when
// every point is after step.
func atOrBefore(ps []curves.Point, step int64) *LossAt {
	i := sort.Search(len(ps), func(i int) bool { return ps[i].Step > step })
	if i == 0 {
		return nil
	}
	return &LossAt{Step: ps[i-1].Step, Value: ps[i-1].Value}
}

func pickOf(r Row, log *curves.Run) Pick {
	p := Pick{Step: r.Step, RunID: r.RunID, Mean: r.Mean, CI: r.CI, EvalLoss: r.EvalLoss, Checkpoint: r.checkpoint}
	if p.Checkpoint == "" && log != nil {
		p.Checkpoint = log.Checkpoints[r.Step]
		if p.Checkpoint == "" && log.BestCheckpoint != "" && filepath.Base(log.BestCheckpoint) == fmt.Sprintf("checkpoint-%d", r.Step) {
			// Not on this disk, but the trainer recorded where it saved it.
			p.Checkpoint = log.BestCheckpoint
		}
	}
	return p
}

// difference pairs the two picks on the items both scored.
func difference(from, against Eval, higher bool, test string, cfg stats.Config) *Difference {
	var base, cand []float64
	for _, id := range sortedIDs(from.Scores) {
		if b, ok := against.Scores[id]; ok {
			base = append(base, b)
			cand = append(cand, from.Scores[id])
		}
	}
	p := stats.ComparePairedTest(base, cand, test, cfg)
	d := &Difference{From: from.Step, Against: against.Step, Paired: p, Better: "unclear"}
	if p.N > 0 {
		d.InsideMDE = p.MDE > 0 && math.Abs(p.Delta) < p.MDE
		up, down := p.CI.Low > 0, p.CI.High < 0
		if !higher {
			up, down = down, up
		}
		switch {
		case up:
			d.Better = "better"
		case down:
			d.Better = "worse"
		}
	}
	return d
}

// replay runs curves.ReplayHF on the metric's means and on the log's eval
// loss, with the same patience and threshold.
func replay(rep Report, ls losses, opt Options) EarlyStop {
	es := EarlyStop{Patience: opt.Patience, MinDelta: opt.MinDelta}
	pts := make([]curves.Point, len(rep.Rows))
	for i, r := range rep.Rows {
		pts[i] = curves.Point{Step: r.Step, Value: r.Mean}
	}
	last := max(rep.Rows[len(rep.Rows)-1].Step, ls.lastStep)
	es.Metric = curves.ReplayHF(pts, curves.HFEarlyStopping{Patience: opt.Patience, Threshold: opt.MinDelta, GreaterIsBetter: rep.HigherIsBetter}, last)
	if len(ls.eval) > 0 {
		r := curves.ReplayHF(ls.eval, curves.HFEarlyStopping{Patience: opt.Patience, Threshold: opt.MinDelta}, last)
		es.EvalLoss = &r
	}
	return es
}

// maxListed bounds the steps a warning names.
const maxListed = 8

func warnings(rep Report, evals []Eval, ls losses, bm, bl int) []string {
	var w []string
	if rep.Log != nil && rep.Log.EvalKey == "" && rep.Log.TrainKey != "" {
		w = append(w, "the trainer log has no eval loss: only the metric can pick a checkpoint (log eval_loss with eval_strategy=steps to compare)")
	}
	if len(ls.eval) > 0 && rep.BestByEvalLoss == nil {
		w = append(w, fmt.Sprintf("the log's eval loss starts at step %d, after every evaluated checkpoint: no eval-loss pick", ls.eval[0].Step))
	}
	evaluated := map[int64]bool{}
	for _, r := range rep.Rows {
		evaluated[r.Step] = true
	}
	var missing []string
	for _, p := range ls.eval {
		if !evaluated[p.Step] {
			missing = append(missing, fmt.Sprint(p.Step))
		}
	}
	if len(missing) > 0 {
		w = append(w, fmt.Sprintf("%d step(s) with eval loss in the log were not evaluated on the metric: %s", len(missing), listed(missing)))
	}
	var unevaluated []string
	for _, s := range ls.checkpoints {
		if !evaluated[s] {
			unevaluated = append(unevaluated, fmt.Sprint(s))
		}
	}
	if len(unevaluated) > 0 {
		w = append(w, fmt.Sprintf("%d checkpoint(s) beside the log were not evaluated: step(s) %s", len(unevaluated), listed(unevaluated)))
	}
	if len(ls.eval) > 0 && rep.BestByEvalLoss != nil {
		min := ls.eval[0]
		for _, p := range ls.eval {
			if p.Value < min.Value {
				min = p
			}
		}
		if !evaluated[min.Step] {
			w = append(w, fmt.Sprintf("the log's lowest eval loss (%s at step %d) is at a step with no evaluated checkpoint; the eval-loss pick is the lowest among evaluated steps (step %d)",
				num(min.Value), min.Step, rep.BestByEvalLoss.Step))
		}
	}
	var stale []string
	for _, r := range rep.Rows {
		if r.EvalLoss != nil && r.EvalLoss.Step != r.Step {
			stale = append(stale, fmt.Sprintf("%d (from %d)", r.Step, r.EvalLoss.Step))
		}
	}
	if len(stale) > 0 {
		w = append(w, fmt.Sprintf("eval loss was not logged at every evaluated step; the nearest earlier value is shown for: %s", listed(stale)))
	}
	var failed []string
	for _, r := range rep.Rows {
		if r.Failed > 0 {
			failed = append(failed, fmt.Sprintf("%d (%d of %d)", r.Step, r.Failed, r.Failed+r.N))
		}
	}
	if len(failed) > 0 {
		w = append(w, fmt.Sprintf("items failed at step(s) %s: their means rest on the scored items only", listed(failed)))
	}
	if best := rep.Rows[bm]; best.Failed > 0 {
		w = append(w, fmt.Sprintf("the metric's pick, step %d, has %d failed item(s): a checkpoint that fails more items can look better on the rest", best.Step, best.Failed))
	}
	if d := rep.Difference; d != nil {
		a, b := evals[bm], evals[bl]
		if d.Paired.N < len(a.Scores) || d.Paired.N < len(b.Scores) {
			w = append(w, fmt.Sprintf("the difference rests on the %d items both picks scored (step %d scored %d, step %d scored %d)",
				d.Paired.N, a.Step, len(a.Scores), b.Step, len(b.Scores)))
		}
		switch {
		case d.Paired.N == 0:
			w = append(w, fmt.Sprintf("steps %d and %d share no scored item: their difference cannot be measured", a.Step, b.Step))
		case d.InsideMDE:
			w = append(w, fmt.Sprintf("the difference %s is inside the minimum detectable effect (%s on %d items): this eval set cannot tell the two picks apart",
				signed(d.Paired.Delta), num(d.Paired.MDE), d.Paired.N))
		case d.Better == "unclear":
			w = append(w, fmt.Sprintf("the difference's interval [%s, %s] includes 0: the metric's pick is not shown to be better than the eval loss's",
				signed(d.Paired.CI.Low), signed(d.Paired.CI.High)))
		}
	}
	if ties := tiedSteps(rep.Rows, bm); len(ties) > 0 {
		w = append(w, fmt.Sprintf("step(s) %s tie the best mean; the earliest, step %d, is picked", listed(ties), rep.Rows[bm].Step))
	}
	if ls.lastStep > 0 {
		var after []string
		for _, r := range rep.Rows {
			if r.Step > ls.lastStep {
				after = append(after, fmt.Sprint(r.Step))
			}
		}
		if len(after) > 0 {
			w = append(w, fmt.Sprintf("step(s) %s come after the log's last step %d: their losses are from earlier steps", listed(after), ls.lastStep))
		}
	}
	return append(w, ls.notes...)
}

func tiedSteps(rows []Row, bm int) []string {
	var out []string
	for i, r := range rows {
		if i != bm && r.Mean == rows[bm].Mean {
			out = append(out, fmt.Sprint(r.Step))
		}
	}
	return out
}

func listed(xs []string) string {
	if len(xs) > maxListed {
		return strings.Join(xs[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(xs)-maxListed)
	}
	return strings.Join(xs, ", ")
}

// num writes a value with four significant decimals.
func num(v float64) string { return fmt.Sprintf("%.4f", v) }

func signed(v float64) string { return fmt.Sprintf("%+.4f", v) }
