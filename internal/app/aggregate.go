package app

import (
	"math"
	"sort"

	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// aggregator turns per-item outcomes into a model's aggregates and a paired
// comparison. `run` calls it on freshly scored items, `compare` and `show`
// on the outcomes stored in the run's records: one code path, so the same
// stored outcomes give the same numbers, intervals and p-values everywhere.
type aggregator struct {
	seed uint64
	cfg  stats.Config
}

func (a aggregator) config(parts ...string) stats.Config {
	c := a.cfg
	c.Seed = seedFor(a.seed, parts...)
	return c
}

// modelScore aggregates one model's outcomes on a task's records.
func (a aggregator) modelScore(taskName, model string, defs []metricDef, recs []report.Record) report.ModelScore {
	outs := column(recs, model)
	ms := report.ModelScore{Model: model, Items: len(outs), Metrics: map[string]stats.Summary{}}
	errs := map[string]*report.ErrorCount{}
	var order []string
	for i, o := range outs {
		switch o.Status {
		case report.StatusOK:
			ms.Scored++
			continue
		case report.StatusNoReference:
			ms.Scored++
			ms.NoReference++
			continue
		case report.StatusEmpty:
			ms.Empty++
		default:
			ms.Failed++
		}
		msg := o.Error
		if msg == "" {
			msg = o.Status
		}
		e := errs[msg]
		if e == nil {
			e = &report.ErrorCount{Message: msg}
			errs[msg] = e
			order = append(order, msg)
		}
		e.Count++
		if len(e.Items) < 10 {
			e.Items = append(e.Items, recs[i].ID)
		}
	}
	sort.SliceStable(order, func(x, y int) bool { return errs[order[x]].Count > errs[order[y]].Count })
	for i, msg := range order {
		if i == 5 {
			break
		}
		ms.Errors = append(ms.Errors, *errs[msg])
	}
	for _, d := range defs {
		cfg := a.config(taskName, model, d.Name)
		if d.agg != nil {
			sel := withStats(outs, d.Name)
			if len(sel) == 0 {
				ms.Metrics[d.Name] = stats.Summary{}
				continue
			}
			point := corpusValue(d, outs, sel, identity(len(sel)))
			ci := stats.Resample(len(sel), func(idx []int) float64 { return corpusValue(d, outs, sel, idx) }, cfg)
			ms.Metrics[d.Name] = stats.Summary{N: len(sel), Mean: point, CI: ci}
			continue
		}
		var vals []float64
		for _, o := range outs {
			if v, ok := o.Scores[d.Name]; ok && o.Scored() {
				vals = append(vals, v)
			}
		}
		ms.Metrics[d.Name] = stats.Describe(vals, cfg)
	}
	return ms
}

// withStats returns the indices of outcomes carrying the metric's statistics.
func withStats(outs []report.Outcome, metric string) []int {
	var sel []int
	for i, o := range outs {
		if _, ok := o.Stats[metric]; ok && o.Scored() {
			sel = append(sel, i)
		}
	}
	return sel
}

// corpusValue aggregates the statistics of outs[sel[j]] for j in idx.
func corpusValue(d metricDef, outs []report.Outcome, sel, idx []int) float64 {
	var sum []float64
	for _, j := range idx {
		st := outs[sel[j]].Stats[d.Name]
		if sum == nil {
			sum = make([]float64, len(st))
		}
		for k, v := range st {
			if k < len(sum) {
				sum[k] += v
			}
		}
	}
	if sum == nil {
		return math.NaN()
	}
	return d.agg(sum)
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// compare pairs the baseline's and the candidate's outcomes item by item
// (base[i] and cand[i] are the same item).
func (a aggregator) compare(taskName, baseline, candidate string, defs []metricDef, base, cand []report.Outcome) *report.Comparison {
	c := &report.Comparison{Baseline: baseline, Candidate: candidate, Metrics: map[string]stats.Paired{}}
	var both []int
	for i := range base {
		if base[i].Scored() && cand[i].Scored() {
			both = append(both, i)
		} else {
			c.Excluded++
		}
	}
	c.Pairs = len(both)
	for _, d := range defs {
		cfg := a.config(taskName, "paired", d.Name)
		var bv, cv []float64
		var sel []int
		for _, i := range both {
			b, okB := base[i].Scores[d.Name]
			x, okC := cand[i].Scores[d.Name]
			if okB && okC {
				bv = append(bv, b)
				cv = append(cv, x)
			}
			if d.agg != nil {
				_, sb := base[i].Stats[d.Name]
				_, sc := cand[i].Stats[d.Name]
				if sb && sc {
					sel = append(sel, i)
				}
			}
		}
		var pr stats.Paired
		if d.agg != nil {
			if len(sel) == 0 {
				c.Metrics[d.Name] = stats.Paired{PValue: 1, PAdjusted: 1}
				continue
			}
			all := identity(len(sel))
			pb, pc := corpusValue(d, base, sel, all), corpusValue(d, cand, sel, all)
			ci, p := stats.ResamplePaired(len(sel), func(idx []int) float64 {
				return corpusValue(d, cand, sel, idx) - corpusValue(d, base, sel, idx)
			}, cfg)
			pr = stats.Paired{N: len(sel), BaselineMean: pb, CandidateMean: pc, Delta: pc - pb, CI: ci, PValue: p, PAdjusted: p}
			// wins, ties and losses come from the per-item values of the same metric
			w := stats.ComparePaired(bv, cv, stats.Config{Resamples: 1})
			pr.Wins, pr.Ties, pr.Losses = w.Wins, w.Ties, w.Losses
		} else {
			pr = stats.ComparePaired(bv, cv, cfg)
		}
		switch d.Direction {
		case scorer.Lower:
			pr.Wins, pr.Losses = pr.Losses, pr.Wins
		case scorer.Neutral:
			// Longer is not better: count changes as ties of no side.
			pr.Wins, pr.Ties, pr.Losses = 0, pr.Wins+pr.Ties+pr.Losses, 0
		}
		c.Metrics[d.Name] = pr
	}
	return c
}

// groups aggregates the tasks of each plan group over their pooled items,
// on the metrics every member reports.
func (a aggregator) groups(r *report.Report, tasks []*builtTask, baseline, candidate string) []report.Task {
	var order []string
	members := map[string][]int{}
	for i, bt := range tasks {
		if bt.Group == "" {
			continue
		}
		if _, ok := members[bt.Group]; !ok {
			order = append(order, bt.Group)
		}
		members[bt.Group] = append(members[bt.Group], i)
	}
	var out []report.Task
	for _, g := range order {
		idx := members[g]
		defs := metricDefs(tasks[idx[0]].Scorers)
		for _, i := range idx[1:] {
			defs = commonDefs(defs, metricDefs(tasks[i].Scorers))
		}
		gt := report.Task{Name: g, Type: "group", MetricInfo: metricInfo(defs), Metrics: names(defs)}
		if len(gt.Metrics) > 0 {
			gt.Primary = gt.Metrics[0]
		}
		var recs []report.Record
		for _, i := range idx {
			gt.Tasks = append(gt.Tasks, tasks[i].Name)
			for _, rec := range r.Tasks[i].Records {
				recs = append(recs, report.Record{ID: tasks[i].Name + "/" + rec.ID, Outcomes: rec.Outcomes})
			}
		}
		gt.Items = len(recs)
		for _, m := range r.Models {
			gt.PerModel = append(gt.PerModel, a.modelScore("group:"+g, m.Name, defs, recs))
		}
		if r.Compare != nil {
			gt.Comparison = a.compare("group:"+g, baseline, candidate, defs, column(recs, baseline), column(recs, candidate))
		}
		out = append(out, gt)
	}
	return out
}

func commonDefs(a, b []metricDef) []metricDef {
	var out []metricDef
	for _, x := range a {
		for _, y := range b {
			if x.Name == y.Name {
				out = append(out, x)
			}
		}
	}
	return out
}
