package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/leakage"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
)

// LoadReport reads a finished run's report from the store; id "" or "latest"
// means the most recent finished run.
func LoadReport(ctx context.Context, st *store.Store, id string) (store.Run, *report.Report, error) {
	var run store.Run
	var err error
	if id == "" || id == "latest" {
		runs, lerr := st.ListRuns(ctx, "", 100)
		if lerr != nil {
			return run, nil, lerr
		}
		found := false
		for _, r := range runs {
			if r.Status == store.StatusFinished {
				run, found = r, true
				break
			}
		}
		if !found {
			return run, nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("no finished run in the store"), exitcode.BadInput), "run `tunecheck run` first, or pass --store")
		}
	} else if run, err = st.GetRun(ctx, id); err != nil {
		// The store's message already says how to list the runs.
		return run, nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	if run.Status != store.StatusFinished || len(run.Summary) == 0 {
		return run, nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s has not finished", run.ID), exitcode.BadInput), "run its plan again to resume and finish it")
	}
	rep, err := report.Decode(run.Summary)
	return run, rep, err
}

// Side names one model in one report.
type Side struct {
	Label  string
	Report *report.Report
	Model  string
}

// CompareSides pairs two models — of one run or of two runs — item by item
// on every task and metric they share, using the per-item scores stored in
// results.json. Items are matched by id; items scored on only one side are
// counted, not paired.
func CompareSides(a, b Side, cfg stats.Config) (*report.Report, error) {
	out := &report.Report{Schema: report.Schema, Seed: cfg.Seed, Bootstrap: report.BootstrapInfo{Resamples: cfg.Resamples, Confidence: cfg.Confidence},
		Compare: &report.CompareInfo{Baseline: a.Label, Candidate: b.Label}, ToolVersion: a.Report.ToolVersion, Plan: a.Report.Plan}
	if out.Bootstrap.Resamples == 0 {
		out.Bootstrap.Resamples = a.Report.Bootstrap.Resamples
	}
	if out.Bootstrap.Confidence == 0 {
		out.Bootstrap.Confidence = a.Report.Bootstrap.Confidence
	}
	cfg.Resamples, cfg.Confidence = out.Bootstrap.Resamples, out.Bootstrap.Confidence
	for _, ta := range a.Report.Tasks {
		var tb *report.Task
		for i := range b.Report.Tasks {
			if b.Report.Tasks[i].Name == ta.Name {
				tb = &b.Report.Tasks[i]
			}
		}
		if tb == nil {
			continue
		}
		sa, okA := ta.ItemScores[a.Model]
		sb, okB := tb.ItemScores[b.Model]
		if !okA || !okB {
			return nil, exitcode.WithCode(fmt.Errorf("task %s: model %q or %q has no per-item scores (models in these runs: %v)", ta.Name, a.Model, b.Model, modelNames(ta)), exitcode.BadInput)
		}
		t := report.Task{Name: ta.Name, Type: ta.Type, Dataset: ta.Dataset, Metrics: ta.Metrics, Primary: ta.Primary}
		if ta.Dataset.Fingerprint != tb.Dataset.Fingerprint {
			t.Dataset.Selection = fmt.Sprintf("%s; WARNING: the other side read a different dataset (%s)", t.Dataset.Selection, tb.Dataset.Fingerprint)
		}
		ids := make([]string, 0, len(sa))
		for id := range sa {
			if _, ok := sb[id]; ok {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		t.Items = len(ids)
		c := &report.Comparison{Baseline: a.Label, Candidate: b.Label, Pairs: len(ids), Excluded: len(sa) + len(sb) - 2*len(ids), Metrics: map[string]stats.Paired{}}
		t.PerModel = []report.ModelScore{{Model: a.Label, Scored: len(ids), Metrics: map[string]stats.Summary{}}, {Model: b.Label, Scored: len(ids), Metrics: map[string]stats.Summary{}}}
		for _, m := range ta.Metrics {
			var xa, xb []float64
			for _, id := range ids {
				va, okA := sa[id][m]
				vb, okB := sb[id][m]
				if okA && okB && !math.IsNaN(va) && !math.IsNaN(vb) {
					xa = append(xa, va)
					xb = append(xb, vb)
				}
			}
			if len(xa) == 0 {
				continue
			}
			mc := cfg
			mc.Seed = seedFor(cfg.Seed, ta.Name, "compare", m)
			c.Metrics[m] = stats.ComparePaired(xa, xb, mc)
			t.PerModel[0].Metrics[m] = stats.Describe(xa, mc)
			t.PerModel[1].Metrics[m] = stats.Describe(xb, mc)
		}
		t.Comparison = c
		out.Tasks = append(out.Tasks, t)
	}
	applyHolm(out.Tasks)
	if len(out.Tasks) == 0 {
		return nil, exitcode.WithCode(fmt.Errorf("the two sides share no task"), exitcode.BadInput)
	}
	out.Verdict = "pass"
	return out, nil
}

func modelNames(t report.Task) []string {
	var out []string
	for m := range t.ItemScores {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// TrendPoint is one run's value of a metric.
type TrendPoint struct {
	Run     store.Run
	Model   string
	Summary stats.Summary
	Delta   *stats.Paired
}

// Trend returns TASK.METRIC for every finished run of a plan name, oldest first.
func Trend(ctx context.Context, st *store.Store, name, taskName, metric string, limit int) ([]TrendPoint, error) {
	runs, err := st.ListRuns(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	var out []TrendPoint
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Status != store.StatusFinished {
			continue
		}
		rep, err := report.Decode(r.Summary)
		if err != nil {
			continue
		}
		for _, t := range rep.Tasks {
			if t.Name != taskName {
				continue
			}
			model := ""
			if rep.Compare != nil {
				model = rep.Compare.Candidate
			}
			for _, ms := range t.PerModel {
				if (model == "" || ms.Model == model) && ms.Metrics[metric].N > 0 {
					p := TrendPoint{Run: r, Model: ms.Model, Summary: ms.Metrics[metric]}
					if t.Comparison != nil {
						if d, ok := t.Comparison.Metrics[metric]; ok {
							p.Delta = &d
						}
					}
					out = append(out, p)
				}
			}
		}
	}
	return out, nil
}

// RunOutputs returns the generated texts of one model in a finished run
// (ids "task/item"), for checks such as memorisation. model "" means the
// run's candidate.
func RunOutputs(ctx context.Context, st *store.Store, id, model string) ([]leakage.Output, error) {
	run, rep, err := LoadReport(ctx, st, id)
	if err != nil {
		return nil, err
	}
	if model == "" && rep.Compare != nil {
		model = rep.Compare.Candidate
	}
	if model == "" && len(rep.Models) > 0 {
		model = rep.Models[len(rep.Models)-1].Name
	}
	results, err := st.Results(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	var out []leakage.Output
	known := false
	for _, r := range results {
		if r.Model != model {
			continue
		}
		known = true
		var req provider.Request
		var resp provider.Response
		if r.Error != "" || json.Unmarshal(r.Request, &req) != nil || req.Type != provider.Generate || json.Unmarshal(r.Response, &resp) != nil {
			continue
		}
		out = append(out, leakage.Output{ID: r.Task + "/" + r.ItemID, Text: resp.Text})
	}
	if !known {
		return nil, exitcode.WithCode(fmt.Errorf("run %s has no results for model %q", run.ID, model), exitcode.BadInput)
	}
	return out, nil
}
