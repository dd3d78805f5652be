package app

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// builtTask is a task ready to run and score.
type builtTask struct {
	Name    string
	Type    string
	Dataset report.Dataset
	Items   []task.Item
	Scorers []scorer.Scorer
}

// itemOutcome is one item × model after scoring.
type itemOutcome struct {
	Scores map[string]float64
	// Stats holds each corpus scorer's sufficient statistics (nil for others).
	Stats  [][]float64
	Output string
	Err    string
}

// scoreItem gathers an item's responses and scores them. Missing or failed
// responses, and outputs a scorer cannot score, make the item failed.
func scoreItem(bt *builtTask, it *task.Item, byReq map[string]*store.Result) itemOutcome {
	resps := make([]provider.Response, len(it.Requests))
	for i, req := range it.Requests {
		r, ok := byReq[req.ItemID]
		if !ok {
			return itemOutcome{Err: "no result stored (the run did not reach this item)"}
		}
		if r.Error != "" {
			return itemOutcome{Err: r.Error}
		}
		if err := json.Unmarshal(r.Response, &resps[i]); err != nil {
			return itemOutcome{Err: fmt.Sprintf("stored response does not decode: %v", err)}
		}
	}
	if bt.Type == task.MultipleChoice {
		lls := make([]float64, len(resps))
		best := 0
		for i, r := range resps {
			lls[i] = r.LogLikelihood
			if lls[i] > lls[best] {
				best = i
			}
		}
		return itemOutcome{Scores: scorer.MultipleChoice(lls, it.Choices, it.Gold), Output: it.Choices[best]}
	}
	out := itemOutcome{Output: resps[0].Text, Scores: map[string]float64{}, Stats: make([][]float64, len(bt.Scorers))}
	in := scorer.Input{Prediction: resps[0].Text, References: it.References, Fields: it.Fields}
	if bt.Type == task.Perplexity {
		in.Prediction, in.LogLikelihood = it.Prompt, resps[0].LogLikelihood
		out.Output = fmt.Sprintf("log-likelihood %.4f over %d tokens", resps[0].LogLikelihood, resps[0].Tokens)
	}
	for si, s := range bt.Scorers {
		m, err := s.Score(in)
		if err != nil {
			return itemOutcome{Output: out.Output, Err: "scoring: " + err.Error()}
		}
		for k, v := range m {
			out.Scores[k] = v
		}
		if cs, ok := s.(scorer.CorpusScorer); ok {
			if out.Stats[si], err = cs.Stats(in); err != nil {
				return itemOutcome{Output: out.Output, Err: "scoring: " + err.Error()}
			}
		}
	}
	return out
}

// metricNamesFor names the metrics a task type reports on its own.
func (bt *builtTask) metricNamesFor() []string {
	if bt.Type == task.Perplexity {
		return scorer.PerplexityMetrics
	}
	return scorer.MultipleChoiceMetrics
}

func (bt *builtTask) metricNames() []string {
	if bt.Type == task.MultipleChoice {
		return scorer.MultipleChoiceMetrics
	}
	var names []string
	for _, s := range bt.Scorers {
		names = append(names, s.Metrics()...)
	}
	return names
}

// corpusOf returns the corpus scorer that computes metric, and its index.
func (bt *builtTask) corpusOf(metric string) (scorer.CorpusScorer, int) {
	for i, s := range bt.Scorers {
		cs, ok := s.(scorer.CorpusScorer)
		if !ok {
			continue
		}
		for _, m := range s.Metrics() {
			if m == metric {
				return cs, i
			}
		}
	}
	return nil, -1
}

// corpusValue aggregates the statistics of the items outs[sel[j]] for j in idx.
func corpusValue(cs scorer.CorpusScorer, si int, outs []itemOutcome, sel, idx []int, metric string) float64 {
	var sum []float64
	for _, j := range idx {
		st := outs[sel[j]].Stats[si]
		if sum == nil {
			sum = make([]float64, len(st))
		}
		for k, v := range st {
			sum[k] += v
		}
	}
	if sum == nil {
		return 0
	}
	return cs.Aggregate(sum)[metric]
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// seedFor derives an independent, reproducible bootstrap seed per statistic.
func seedFor(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return seed ^ h.Sum64()
}

// evaluation is the input of Evaluate.
type evaluation struct {
	Tasks     []*builtTask
	Models    []modelInfo
	Results   []store.Result
	Baseline  string
	Candidate string
	Seed      uint64
	Resamples int
	Conf      float64
}

type modelInfo struct {
	Name, Provider, Model string
	InputPrice            float64
	OutputPrice           float64
}

// Evaluate scores stored results and builds the report (gates excluded). It
// needs no model: report, compare and re-scoring all go through here.
func Evaluate(ev evaluation) *report.Report {
	r := &report.Report{Schema: report.Schema, Seed: ev.Seed, Bootstrap: report.BootstrapInfo{Resamples: ev.Resamples, Confidence: ev.Conf}}
	if ev.Baseline != "" && ev.Candidate != "" {
		r.Compare = &report.CompareInfo{Baseline: ev.Baseline, Candidate: ev.Candidate}
	}
	// index results: model → task → request id
	idx := map[string]map[string]map[string]*store.Result{}
	for i := range ev.Results {
		res := &ev.Results[i]
		if idx[res.Model] == nil {
			idx[res.Model] = map[string]map[string]*store.Result{}
		}
		if idx[res.Model][res.Task] == nil {
			idx[res.Model][res.Task] = map[string]*store.Result{}
		}
		idx[res.Model][res.Task][res.ItemID] = res
	}
	for _, m := range ev.Models {
		r.Models = append(r.Models, modelBill(m, ev.Results))
	}
	for _, bt := range ev.Tasks {
		tr := report.Task{Name: bt.Name, Type: bt.Type, Dataset: bt.Dataset, Items: len(bt.Items), Metrics: bt.metricNames(), ItemScores: map[string]map[string]map[string]float64{}}
		if len(tr.Metrics) > 0 {
			tr.Primary = tr.Metrics[0]
		}
		outcomes := map[string][]itemOutcome{}
		for _, m := range ev.Models {
			byReq := idx[m.Name][bt.Name]
			outs := make([]itemOutcome, len(bt.Items))
			for i := range bt.Items {
				outs[i] = scoreItem(bt, &bt.Items[i], byReq)
			}
			outcomes[m.Name] = outs
			tr.PerModel = append(tr.PerModel, modelScore(ev, bt, m.Name, outs, tr.Metrics))
			scores := map[string]map[string]float64{}
			for i, o := range outs {
				if o.Err == "" {
					scores[bt.Items[i].ID] = o.Scores
				}
			}
			tr.ItemScores[m.Name] = scores
		}
		if r.Compare != nil {
			base, okB := outcomes[ev.Baseline]
			cand, okC := outcomes[ev.Candidate]
			if okB && okC {
				tr.Comparison = compare(ev, bt, base, cand, tr.Metrics)
				tr.Worst = worst(bt, base, cand, tr.Primary)
			}
		}
		r.Tasks = append(r.Tasks, tr)
	}
	applyHolm(r.Tasks)
	return r
}

// applyHolm adjusts the p-values of every comparison in tasks together with
// Holm's step-down method (one family: the whole run), in place.
func applyHolm(tasks []report.Task) {
	type at struct {
		c      *report.Comparison
		metric string
	}
	var where []at
	var ps []float64
	for ti := range tasks {
		c := tasks[ti].Comparison
		if c == nil {
			continue
		}
		for _, m := range tasks[ti].Metrics {
			if p, ok := c.Metrics[m]; ok {
				where = append(where, at{c, m})
				ps = append(ps, p.PValue)
			}
		}
	}
	for k, adj := range stats.Holm(ps) {
		p := where[k].c.Metrics[where[k].metric]
		p.PAdjusted = adj
		where[k].c.Metrics[where[k].metric] = p
	}
}

func modelBill(m modelInfo, results []store.Result) report.Model {
	b := report.Model{Name: m.Name, Provider: m.Provider, Model: m.Model}
	var lat []float64
	for _, r := range results {
		if r.Model != m.Name {
			continue
		}
		b.Requests++
		if r.Error != "" {
			b.Failed++
			continue
		}
		b.PromptTokens += r.PromptTokens
		b.CompletionTokens += r.CompletionTokens
		lat = append(lat, r.LatencyMS)
	}
	sort.Float64s(lat)
	// Offline outputs were not timed; reading a file is not model latency.
	if len(lat) > 0 && m.Provider != string(provider.KindFile) {
		b.LatencyP50MS = stats.Quantile(lat, 0.5)
		b.LatencyP95MS = stats.Quantile(lat, 0.95)
	}
	if m.InputPrice > 0 || m.OutputPrice > 0 {
		c := (float64(b.PromptTokens)*m.InputPrice + float64(b.CompletionTokens)*m.OutputPrice) / 1e6
		b.Cost = &c
	}
	return b
}

func modelScore(ev evaluation, bt *builtTask, model string, outs []itemOutcome, metrics []string) report.ModelScore {
	ms := report.ModelScore{Model: model, Metrics: map[string]stats.Summary{}}
	errs := map[string]*report.ErrorCount{}
	var order []string
	var ok []int
	for i, o := range outs {
		if o.Err != "" {
			ms.Failed++
			e := errs[o.Err]
			if e == nil {
				e = &report.ErrorCount{Message: o.Err}
				errs[o.Err] = e
				order = append(order, o.Err)
			}
			e.Count++
			if len(e.Items) < 10 {
				e.Items = append(e.Items, bt.Items[i].ID)
			}
			continue
		}
		ok = append(ok, i)
	}
	ms.Scored = len(ok)
	sort.SliceStable(order, func(a, b int) bool { return errs[order[a]].Count > errs[order[b]].Count })
	for i, msg := range order {
		if i == 5 {
			break
		}
		ms.Errors = append(ms.Errors, *errs[msg])
	}
	cfg := func(metric string) stats.Config {
		return stats.Config{Resamples: ev.Resamples, Confidence: ev.Conf, Seed: seedFor(ev.Seed, bt.Name, model, metric)}
	}
	for _, name := range metrics {
		cs, si := bt.corpusOf(name)
		if cs == nil {
			continue
		}
		if len(ok) == 0 {
			ms.Metrics[name] = stats.Summary{}
			continue
		}
		point := corpusValue(cs, si, outs, ok, identity(len(ok)), name)
		ci := stats.Resample(len(ok), func(idx []int) float64 { return corpusValue(cs, si, outs, ok, idx, name) }, cfg(name))
		ms.Metrics[name] = stats.Summary{N: len(ok), Mean: point, CI: ci}
	}
	for _, name := range metrics {
		if cs, _ := bt.corpusOf(name); cs != nil {
			continue
		}
		vals := make([]float64, 0, len(ok))
		for _, i := range ok {
			if v, has := outs[i].Scores[name]; has && !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		ms.Metrics[name] = stats.Describe(vals, cfg(name))
	}
	return ms
}

func compare(ev evaluation, bt *builtTask, base, cand []itemOutcome, metrics []string) *report.Comparison {
	c := &report.Comparison{Baseline: ev.Baseline, Candidate: ev.Candidate, Metrics: map[string]stats.Paired{}}
	var both []int
	for i := range bt.Items {
		if base[i].Err == "" && cand[i].Err == "" {
			both = append(both, i)
		} else {
			c.Excluded++
		}
	}
	c.Pairs = len(both)
	cfg := func(metric string) stats.Config {
		return stats.Config{Resamples: ev.Resamples, Confidence: ev.Conf, Seed: seedFor(ev.Seed, bt.Name, "paired", metric)}
	}
	for _, name := range metrics {
		var bv, cv []float64
		for _, i := range both {
			b, okB := base[i].Scores[name]
			x, okC := cand[i].Scores[name]
			if okB && okC && !math.IsNaN(b) && !math.IsNaN(x) {
				bv = append(bv, b)
				cv = append(cv, x)
			}
		}
		var pr stats.Paired
		if cs, si := bt.corpusOf(name); cs != nil {
			all := identity(len(both))
			pb, pc := corpusValue(cs, si, base, both, all, name), corpusValue(cs, si, cand, both, all, name)
			ci, p := stats.ResamplePaired(len(both), func(idx []int) float64 {
				return corpusValue(cs, si, cand, both, idx, name) - corpusValue(cs, si, base, both, idx, name)
			}, cfg(name))
			pr = stats.Paired{N: len(both), BaselineMean: pb, CandidateMean: pc, Delta: pc - pb, CI: ci, PValue: p, PAdjusted: p}
			// wins, ties and losses come from the per-item values of the same metric
			w := stats.ComparePaired(bv, cv, stats.Config{Resamples: 1})
			pr.Wins, pr.Ties, pr.Losses = w.Wins, w.Ties, w.Losses
			if len(both) == 0 {
				pr = stats.Paired{PValue: 1, PAdjusted: 1}
			}
		} else {
			pr = stats.ComparePaired(bv, cv, cfg(name))
		}
		if scorer.LowerIsBetter[name] {
			pr.Wins, pr.Losses = pr.Losses, pr.Wins
		}
		c.Metrics[name] = pr
	}
	return c
}

// worst returns up to five items where the candidate lost most on the primary metric.
func worst(bt *builtTask, base, cand []itemOutcome, metric string) []report.Example {
	if metric == "" {
		return nil
	}
	type d struct {
		i     int
		delta float64
	}
	var ds []d
	for i := range bt.Items {
		if base[i].Err != "" || cand[i].Err != "" {
			continue
		}
		b, okB := base[i].Scores[metric]
		c, okC := cand[i].Scores[metric]
		gain := c - b
		if scorer.LowerIsBetter[metric] {
			gain = b - c
		}
		if okB && okC && gain < 0 {
			ds = append(ds, d{i, gain})
		}
	}
	sort.SliceStable(ds, func(a, b int) bool { return ds[a].delta < ds[b].delta })
	var out []report.Example
	for k, x := range ds {
		if k == 5 {
			break
		}
		it := bt.Items[x.i]
		out = append(out, report.Example{ID: it.ID, Prompt: it.Prompt, References: it.References, Baseline: base[x.i].Output, Candidate: cand[x.i].Output,
			Metric: metric, BaselineScore: base[x.i].Scores[metric], CandidateScore: cand[x.i].Scores[metric]})
	}
	return out
}
