package app

import (
	"math"
	"runtime"
	"sort"

	"golang.org/x/sync/errgroup"

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
		if o.JudgeError != "" && o.Scored() {
			ms.JudgeFailed++
		}
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
	// Each metric's bootstrap is independent of the others' (its own seed),
	// so they run on up to GOMAXPROCS goroutines: most of a large run's
	// evaluation time, on two cores rather than one. The corpus metrics call
	// their scorer, so they run one after another on one goroutine: a scorer
	// is never called concurrently.
	sums := make([]stats.Summary, len(defs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	g.Go(func() error {
		for i, d := range defs {
			if d.agg == nil {
				continue
			}
			sel := withStats(outs, d.Name)
			if len(sel) == 0 {
				continue
			}
			rows := corpusRows(d, outs, sel)
			point := corpusValue(d, rows, identity(len(sel)))
			cfg := a.config(taskName, model, d.Name)
			reps := stats.BootstrapWeighted(len(sel), cfg, func(w []float64) float64 { return corpusWeighted(d, rows, w) })
			sums[i] = stats.Summary{N: len(sel), Mean: point, CI: stats.PercentileInterval(reps, cfg.Confidence)}
		}
		return nil
	})
	for i, d := range defs {
		if d.agg != nil {
			continue
		}
		var vals []float64
		for _, o := range outs {
			if v, ok := o.Scores[d.Name]; ok && o.Scored() {
				vals = append(vals, v)
			}
		}
		cfg := a.config(taskName, model, d.Name)
		g.Go(func() error { sums[i] = stats.DescribeFast(vals, cfg); return nil })
	}
	g.Wait()
	for i, d := range defs {
		ms.Metrics[d.Name] = sums[i]
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

// corpusStats holds a metric's statistics of the selected outcomes, row j
// for outs[sel[j]], gathered once rather than looked up in a map per item and
// resample. Rows of one width (every corpus scorer's) are also held as
// columns, cols[k][j] = rows[j][k]: summing component k over a resample then
// reads one cached array rather than a row scattered in the heap per item.
// Map lookups and cache misses were most of the evaluation time of a large
// run (docs/benchmarks/app.md); the sums are added in the same order either
// way, so they are the same numbers.
type corpusStats struct {
	rows [][]float64
	cols [][]float64
	even bool
}

// corpusRows gathers the metric's statistics of outs[sel[j]].
func corpusRows(d metricDef, outs []report.Outcome, sel []int) corpusStats {
	c := corpusStats{rows: make([][]float64, len(sel)), even: len(sel) > 0}
	for j, i := range sel {
		c.rows[j] = outs[i].Stats[d.Name]
		c.even = c.even && len(c.rows[j]) == len(c.rows[0])
	}
	if c.even {
		c.cols = make([][]float64, len(c.rows[0]))
		for k := range c.cols {
			col := make([]float64, len(c.rows))
			for j, r := range c.rows {
				col[j] = r[k]
			}
			c.cols[k] = col
		}
	}
	return c
}

// corpusValue aggregates the statistics rows[j] for j in idx.
func corpusValue(d metricDef, c corpusStats, idx []int) float64 {
	rows := c.rows
	if d.aggItems != nil {
		items := make([][]float64, len(idx))
		for k, j := range idx {
			items[k] = rows[j]
		}
		return d.aggItems(items)
	}
	if c.even && len(idx) > 0 {
		sum := make([]float64, len(c.cols))
		for k, col := range c.cols {
			var x float64
			for _, j := range idx {
				x += col[j]
			}
			sum[k] = x
		}
		return d.agg(sum)
	}
	var sum []float64
	for _, j := range idx {
		st := rows[j]
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

// corpusWeighted aggregates the statistics with row j counted w[j] times
// (a bootstrap resample's weights, whole numbers): the same value
// corpusValue gives for the index list that repeats each j w[j] times.
func corpusWeighted(d metricDef, c corpusStats, w []float64) float64 {
	if d.aggItems != nil {
		var items [][]float64
		for j, k := range w {
			for range int(k) {
				items = append(items, c.rows[j])
			}
		}
		return d.aggItems(items)
	}
	if c.even {
		sum := make([]float64, len(c.cols))
		for k, col := range c.cols {
			var x float64
			for j, wj := range w {
				x += wj * col[j]
			}
			sum[k] = x
		}
		return d.agg(sum)
	}
	var sum []float64
	for j, wj := range w {
		if wj == 0 {
			continue
		}
		st := c.rows[j]
		if sum == nil {
			sum = make([]float64, len(st))
		}
		for k, v := range st {
			if k < len(sum) {
				sum[k] += wj * v
			}
		}
	}
	if sum == nil {
		return math.NaN()
	}
	return d.agg(sum)
}

// corpusTotal is the column sums of every row (nil when the rows differ in
// width or the metric aggregates items itself): the jackknife leaves one
// row out of it.
func corpusTotal(d metricDef, c corpusStats) []float64 {
	if d.aggItems != nil || !c.even {
		return nil
	}
	sum := make([]float64, len(c.cols))
	for k, col := range c.cols {
		for _, v := range col {
			sum[k] += v
		}
	}
	return sum
}

// leaveOut is the metric on the total without row j.
func leaveOut(d metricDef, c corpusStats, total []float64, j int, buf []float64) float64 {
	for k := range total {
		buf[k] = total[k] - c.rows[j][k]
	}
	return d.agg(buf)
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
	// As in modelScore: the per-item metrics' tests run on up to GOMAXPROCS
	// goroutines while the corpus metrics, which call their scorer, run one
	// after another on this one.
	prs := make([]stats.Paired, len(defs))
	skip := make([]bool, len(defs))
	var corpus []func()
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for k, d := range defs {
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
		if d.agg == nil {
			g.Go(func() error { prs[k] = stats.ComparePairedTest(bv, cv, d.Test, cfg); return nil })
			continue
		}
		if len(sel) == 0 {
			prs[k], skip[k] = stats.Paired{PValue: 1, PAdjusted: 1}, true
			continue
		}
		corpus = append(corpus, func() {
			all := identity(len(sel))
			br, cr := corpusRows(d, base, sel), corpusRows(d, cand, sel)
			pb, pc := corpusValue(d, br, all), corpusValue(d, cr, all)
			var jack func(j int) float64
			if tb, tc := corpusTotal(d, br), corpusTotal(d, cr); tb != nil && tc != nil {
				bufB, bufC := make([]float64, len(tb)), make([]float64, len(tc))
				jack = func(j int) float64 { return leaveOut(d, cr, tc, j, bufC) - leaveOut(d, br, tb, j, bufB) }
			}
			ci, bca, p := stats.ComparePairedStat(len(sel), pc-pb, func(w []float64) float64 {
				return corpusWeighted(d, cr, w) - corpusWeighted(d, br, w)
			}, jack, cfg)
			pr := stats.Paired{N: len(sel), BaselineMean: pb, CandidateMean: pc, Delta: pc - pb, CI: ci, CIBCa: bca,
				Test: stats.TestBootstrap, PValue: p, PAdjusted: p, MDE: stats.MDEFromInterval(ci, cfg.Confidence)}
			// wins, ties and losses come from the per-item values of the same metric
			pr.Wins, pr.Ties, pr.Losses = stats.WinsTiesLosses(bv, cv)
			prs[k] = pr
		})
	}
	for _, f := range corpus {
		f()
	}
	g.Wait()
	for k, d := range defs {
		pr := prs[k]
		if skip[k] {
			c.Metrics[d.Name] = pr
			continue
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

// groupSpec names a group and its member tasks, in report order.
type groupSpec struct {
	Name  string
	Tasks []string
}

// groupSpecs reads the plan's groups from the tasks' `group`, in order.
func groupSpecs(tasks []report.Task) []groupSpec {
	var out []groupSpec
	at := map[string]int{}
	for _, t := range tasks {
		if t.Group == "" {
			continue
		}
		i, ok := at[t.Group]
		if !ok {
			i = len(out)
			at[t.Group] = i
			out = append(out, groupSpec{Name: t.Group})
		}
		out[i].Tasks = append(out[i].Tasks, t.Name)
	}
	return out
}

// groups aggregates the tasks of each group over their pooled items (ids
// "task/item"), on the metrics every member reports. run and compare both
// call it on the tasks' records, so a group's numbers agree between them.
func (a aggregator) groups(tasks []report.Task, specs []groupSpec, defsOf map[string][]metricDef, models []string, baseline, candidate string) []report.Task {
	var out []report.Task
	for _, g := range specs {
		var defs []metricDef
		var recs []report.Record
		gt := report.Task{Name: g.Name, Type: "group", Tasks: g.Tasks, Benchmark: groupBenchmark(tasks, g.Name, g.Tasks)}
		for k, name := range g.Tasks {
			if k == 0 {
				defs = defsOf[name]
			} else {
				defs = commonDefs(defs, defsOf[name])
			}
			for _, t := range tasks {
				if t.Name != name {
					continue
				}
				for _, rec := range t.Records {
					recs = append(recs, report.Record{ID: name + "/" + rec.ID, Outcomes: rec.Outcomes})
				}
			}
		}
		gt.MetricInfo, gt.Metrics, gt.Items = metricInfo(defs), names(defs), len(recs)
		if len(gt.Metrics) > 0 {
			gt.Primary = gt.Metrics[0]
		}
		for _, m := range models {
			gt.PerModel = append(gt.PerModel, a.modelScore("group:"+g.Name, m, defs, recs))
		}
		if baseline != "" && candidate != "" {
			gt.Comparison = a.compare("group:"+g.Name, baseline, candidate, defs, column(recs, baseline), column(recs, candidate))
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
