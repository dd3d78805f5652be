package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tunecheck/tunecheck/internal/ckptselect"
	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// ChoiceOptions configure the checkpoint choice a watch prints and writes.
type ChoiceOptions struct {
	// Metric is TASK.METRIC, the metric that picks the checkpoint; "" is the
	// first task's primary metric (its first metric).
	Metric string
	// Patience and MinDelta drive the early-stopping replay (ckptselect).
	Patience int
	MinDelta float64
}

// Choice files a watch writes into its output directory.
const (
	ChoiceMarkdown = "checkpoints.md"
	ChoiceJSON     = "checkpoints.json"
	ChoiceSVG      = "checkpoints.svg"
)

// CheckpointChoice reads the stored runs of one watch (plan × directory)
// and the trainer log in dir, and chooses a checkpoint by the metric that
// matters: the per-step table with intervals beside the losses, the best
// step by the metric against the one the eval loss picks, and the paired
// difference between them (ckptselect.Analyze). It reads only the store and
// the directory; it sends nothing.
func CheckpointChoice(ctx context.Context, st *store.Store, planPath, dir string, o ChoiceOptions) (ckptselect.Report, error) {
	runs, err := WatchRuns(ctx, st, planPath, dir)
	if err != nil {
		return ckptselect.Report{}, err
	}
	var evals []ckptselect.Eval
	var opt ckptselect.Options
	opt.Patience, opt.MinDelta = o.Patience, o.MinDelta
	for _, wr := range runs {
		if wr.Report == nil || wr.Report.Verdict == gate.Error {
			continue // unfinished, or its endpoint failed: evaluated again by the next watch
		}
		ev, info, err := evalOf(wr, o.Metric)
		if err != nil {
			return ckptselect.Report{}, err
		}
		if len(evals) == 0 {
			opt.Test = info.Test
			opt.Confidence = wr.Report.Bootstrap.Confidence
			opt.Resamples = wr.Report.Bootstrap.Resamples
			opt.Seed = wr.Report.Seed
		}
		evals = append(evals, ev)
	}
	if len(evals) == 0 {
		return ckptselect.Report{}, exitcode.WithCode(fmt.Errorf("no finished checkpoint run of plan %s over %s in the store", planPath, dir), exitcode.BadInput)
	}
	log, err := curves.Read(dir, "", curves.Mapping{})
	if err != nil {
		log = nil // no trainer log: Analyze warns that eval loss cannot pick
	}
	return ckptselect.Analyze(evals, log, opt)
}

// evalOf is one watched run's per-item scores of the choosing metric for
// the candidate (the checkpoint). Items without a score are counted as
// failed, never as 0.
func evalOf(wr WatchedRun, metric string) (ckptselect.Eval, report.Metric, error) {
	rep := wr.Report
	t, name, err := choiceMetric(rep, metric)
	if err != nil {
		return ckptselect.Eval{}, report.Metric{}, err
	}
	info := t.MetricInfo[name]
	if info.Corpus {
		return ckptselect.Eval{}, info, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("%s.%s is a corpus metric: it has no per-item scores to compare checkpoints item by item", t.Name, name), exitcode.BadInput),
			"choose a per-item metric with --metric TASK.METRIC")
	}
	if info.Direction != "higher" && info.Direction != "lower" {
		return ckptselect.Eval{}, info, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("%s.%s has no better direction (%s), so it cannot pick a checkpoint", t.Name, name, info.Direction), exitcode.BadInput),
			"choose a metric where higher or lower is better with --metric TASK.METRIC")
	}
	cand := ""
	if rep.Compare != nil {
		cand = rep.Compare.Candidate
	}
	ev := ckptselect.Eval{Step: int64(wr.Step), RunID: wr.Run.ID, Metric: t.Name + "." + name, HigherIsBetter: info.Direction == "higher",
		Scores: map[string]float64{}, Checkpoint: wr.Checkpoint}
	for _, r := range t.Records {
		oc, ok := r.Outcomes[cand]
		v, has := oc.Scores[name]
		if !ok || !oc.Scored() || !has {
			ev.Failed++
			continue
		}
		ev.Scores[r.ID] = v
	}
	return ev, info, nil
}

// choiceMetric finds TASK.METRIC in rep, or the first task's primary.
func choiceMetric(rep *report.Report, metric string) (*report.Task, string, error) {
	if metric == "" {
		for i := range rep.Tasks {
			if t := &rep.Tasks[i]; t.Primary != "" {
				return t, t.Primary, nil
			}
		}
		return nil, "", exitcode.WithCode(fmt.Errorf("the plan's tasks have no metric to choose a checkpoint by"), exitcode.BadInput)
	}
	tn, mn, ok := strings.Cut(metric, ".")
	if !ok {
		return nil, "", exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--metric %q is not TASK.METRIC", metric), exitcode.BadInput), "e.g. --metric qa.exact_match")
	}
	var names []string
	for i := range rep.Tasks {
		t := &rep.Tasks[i]
		for _, m := range t.Metrics {
			names = append(names, t.Name+"."+m)
			if t.Name == tn && m == mn {
				return t, m, nil
			}
		}
	}
	return nil, "", exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--metric %s: no such task metric in the runs", metric), exitcode.BadInput),
		"one of: "+strings.Join(names, ", "))
}

// writeChoice writes the choice as Markdown, JSON and SVG into dir and
// returns the paths.
func writeChoice(dir string, rep ckptselect.Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, w := range []struct {
		name  string
		write func(*os.File) error
	}{
		{ChoiceMarkdown, func(f *os.File) error { return ckptselect.Markdown(f, rep) }},
		{ChoiceJSON, func(f *os.File) error { return ckptselect.JSON(f, rep) }},
		{ChoiceSVG, func(f *os.File) error { return ckptselect.SVG(f, rep) }},
	} {
		p := filepath.Join(dir, w.name)
		f, err := os.Create(p)
		if err != nil {
			return files, err
		}
		err = w.write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return files, fmt.Errorf("writing %s: %w", p, err)
		}
		files = append(files, p)
	}
	return files, nil
}
