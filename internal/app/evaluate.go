package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/runner"
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
	Group   string
	Kind    task.Type
	Spec    task.Spec
	Stages  []string
	Dataset report.Dataset
	Items   []task.Item
	Scorers []scorer.Scorer
	// Slices are the plan's slices of the task; Labels[i] the groups of
	// Items[i] in them, by slice name.
	Slices []sliceDef
	Labels []map[string]string
	// Judge grades the task's answers in a stage after its own (nil: none).
	Judge *judgeTask
	// Classify scores the task's answers with safety classifiers in a stage
	// after the judge's (nil: none).
	Classify *classifyTask
	// MC is a multiple_choice task's protocol, decided before any request
	// (protocol.go; nil for other types).
	MC *mcSetting
	// Execute runs a code task's samples in the sandbox in a stage right
	// after its own (nil: not a code task; execute.go).
	Execute *executeTask
	// Benchmark is set on a built-in benchmark's tasks (benchtasks.go).
	Benchmark *report.BenchmarkInfo
}

// postStage is a stage the run adds after a task's own: the judge's, its
// repair, the classifiers'. Its requests are built from every model's
// stored answers at once, so it builds the whole stage's jobs.
type postStage struct {
	name string
	jobs func(p *plan.Plan, bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) ([]runner.Job, error)
}

// postStages lists the stages that follow the task's own, in order.
func (bt *builtTask) postStages() []postStage {
	var out []postStage
	if bt.Execute != nil {
		out = append(out, postStage{executeStage, func(p *plan.Plan, bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) ([]runner.Job, error) {
			return executeJobs(p, bt, prior), nil
		}})
	}
	if bt.Judge != nil {
		out = append(out, postStage{judgeStage, judgeJobs})
		if bt.Judge.spec.Repair {
			out = append(out, postStage{repairStage, func(_ *plan.Plan, bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) ([]runner.Job, error) {
				return repairJobs(bt, prior), nil
			}})
		}
	}
	if bt.Classify != nil {
		out = append(out, postStage{classifyStage, func(p *plan.Plan, bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) ([]runner.Job, error) {
			return classifyJobs(p, bt, prior), nil
		}})
	}
	return out
}

// depth is the number of stages the task runs: its own and the added ones.
func (bt *builtTask) depth() int { return len(bt.Stages) + len(bt.postStages()) }

// defs lists the task's metrics: its scorers', then its judge's.
func (bt *builtTask) defs() []metricDef {
	d := metricDefs(bt.Scorers)
	if bt.Execute != nil {
		d = append(d, bt.Execute.metrics()...)
	}
	if bt.Judge != nil {
		d = append(d, bt.Judge.metrics()...)
	}
	if bt.Classify != nil {
		d = append(d, bt.Classify.metrics()...)
	}
	return d
}

// metricDef is one metric of a task with the means to aggregate it: a
// corpus metric's value is agg of the summed per-item statistics, any other
// metric's the mean of its per-item values.
type metricDef struct {
	scorer.Metric
	agg func(sum []float64) float64
	// aggItems, when set, aggregates the items' statistics themselves
	// (rank correlations need more than their sum).
	aggItems func(items [][]float64) float64
}

// metricDefs lists the metrics of scorers in display order.
func metricDefs(scorers []scorer.Scorer) []metricDef {
	var out []metricDef
	for _, s := range scorers {
		cs, _ := s.(scorer.CorpusScorer)
		for _, m := range s.Metrics() {
			d := metricDef{Metric: m}
			if m.Corpus && cs != nil {
				name := m.Name
				d.agg = func(sum []float64) float64 { return cs.Aggregate(sum)[name] }
				if ia, ok := s.(scorer.ItemAggregator); ok {
					d.aggItems = func(items [][]float64) float64 { return ia.AggregateItems(items)[name] }
				}
			} else {
				d.Corpus = false
			}
			out = append(out, d)
		}
	}
	return out
}

func metricInfo(defs []metricDef) map[string]report.Metric {
	out := make(map[string]report.Metric, len(defs))
	for _, d := range defs {
		out[d.Name] = report.Metric{Direction: string(d.Direction), Corpus: d.Corpus, Test: d.Test, Binary: d.Binary}
	}
	return out
}

// scored is one item × model after scoring, with the text reports show.
type scored struct {
	report.Outcome
	Output string
}

// stageRequests returns the requests of stage s of an item for one model,
// rebuilding later stages from the model's earlier responses (pure, so it
// gives the ids the run sent).
func stageRequests(bt *builtTask, it *task.Item, s int, prior [][]provider.Response) ([]provider.Request, error) {
	if s == 0 {
		return it.Requests, nil
	}
	return bt.Kind.Next(bt.Spec, s, it, prior)
}

// responses gathers an item's stored responses, stage by stage, for one
// model. A missing or failed result ends the item as failed.
// An earlier stage's empty answer (the type's Next says ErrEmptyOutput)
// ends the item as empty: it is not sent further.
func responses(bt *builtTask, it *task.Item, byKey map[stageKey]*store.Result) ([][]provider.Response, string) {
	var resps [][]provider.Response
	for s, stage := range bt.Stages {
		reqs, err := stageRequests(bt, it, s, resps)
		if errors.Is(err, task.ErrEmptyOutput) {
			return resps, report.StatusEmpty
		}
		if err != nil {
			return nil, fmt.Sprintf("%s: %v", stage, err)
		}
		if len(reqs) == 0 {
			break
		}
		rs := make([]provider.Response, len(reqs))
		for i, req := range reqs {
			r, ok := byKey[stageKey{stageName(bt, s), req.ItemID}]
			if !ok {
				return nil, "no result stored (the run did not reach this item)"
			}
			if r.Error != "" {
				if len(bt.Stages) > 1 {
					return nil, stage + ": " + r.Error
				}
				return nil, r.Error
			}
			if err := json.Unmarshal(r.Response, &rs[i]); err != nil {
				return nil, fmt.Sprintf("stored response does not decode: %v", err)
			}
		}
		resps = append(resps, rs)
	}
	return resps, ""
}

type stageKey struct{ stage, id string }

// stageName is the stored stage of stage s.
func stageName(bt *builtTask, s int) string { return bt.Stages[s] }

// prepared is an item's scorer input for one model, before the other
// models' outputs are known.
type prepared struct {
	in     scorer.Input
	output string
	status string
	err    string
}

func prepare(bt *builtTask, it *task.Item, model string, byKey map[stageKey]*store.Result) prepared {
	resps, msg := responses(bt, it, byKey)
	switch msg {
	case "":
	case report.StatusEmpty:
		return prepared{output: resps[len(resps)-1][0].Text, status: report.StatusEmpty}
	default:
		return prepared{status: report.StatusFailed, err: msg}
	}
	in, out, err := bt.Kind.Input(bt.Spec, it, resps)
	in.Model = model
	switch {
	case errors.Is(err, task.ErrEmptyOutput):
		return prepared{in: in, output: out, status: report.StatusEmpty}
	case err != nil:
		return prepared{output: out, status: report.StatusFailed, err: "scoring: " + err.Error()}
	}
	return prepared{in: in, output: out, status: report.StatusOK}
}

// score runs the task's scorers on one prepared item. A scorer that cannot
// score an item lacking a reference leaves that item without a reference
// (its other metrics stand); any other scorer error fails the item.
func score(bt *builtTask, p prepared) scored {
	out := scored{Outcome: report.Outcome{Status: p.status, Error: p.err}, Output: p.output}
	if p.status != report.StatusOK {
		return out
	}
	out.Scores = map[string]float64{}
	noRef := false
	for _, s := range bt.Scorers {
		m, err := s.Score(p.in)
		if err == nil {
			if cs, ok := s.(scorer.CorpusScorer); ok {
				var st []float64
				if st, err = cs.Stats(p.in); err == nil {
					for _, mt := range s.Metrics() {
						if mt.Corpus {
							if out.Stats == nil {
								out.Stats = map[string][]float64{}
							}
							out.Stats[mt.Name] = st
						}
					}
				}
			}
		}
		if err != nil {
			if len(p.in.References) == 0 && len(p.in.Choices) == 0 {
				noRef = true
				continue
			}
			return scored{Outcome: report.Outcome{Status: report.StatusFailed, Error: "scoring: " + err.Error()}, Output: p.output}
		}
		for k, v := range m {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			out.Scores[k] = v
		}
	}
	if noRef {
		out.Status = report.StatusNoReference
		out.Error = "the item has no reference"
	}
	if len(out.Scores) == 0 {
		out.Scores = nil
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
	// Examples is how many worst and flipped items per metric to keep.
	Examples int
}

type modelInfo struct {
	Name, Provider, Model string
	// Role is "" for a graded model, report.RoleJudge for a judge.
	Role        string
	InputPrice  float64
	OutputPrice float64
}

// Evaluate scores stored results and builds the report (gates excluded). It
// needs no model: report, compare and re-scoring all go through here.
func Evaluate(ev evaluation) *report.Report {
	r := &report.Report{Schema: report.Schema, Seed: ev.Seed, Bootstrap: report.BootstrapInfo{Resamples: ev.Resamples, Confidence: ev.Conf}}
	if ev.Baseline != "" && ev.Candidate != "" {
		r.Compare = &report.CompareInfo{Baseline: ev.Baseline, Candidate: ev.Candidate}
	}
	idx := indexResults(ev.Results)
	for _, m := range ev.Models {
		r.Models = append(r.Models, modelBill(m, ev.Results))
	}
	// Judges are billed above; only the graded models are scored.
	var graded []modelInfo
	for _, m := range ev.Models {
		if m.Role == "" {
			graded = append(graded, m)
		}
	}
	agg := aggregator{seed: ev.Seed, cfg: stats.Config{Resamples: ev.Resamples, Confidence: ev.Conf}}
	for _, bt := range ev.Tasks {
		defs := bt.defs()
		tr := report.Task{Name: bt.Name, Type: bt.Type, Group: bt.Group, Stages: bt.Stages, Dataset: bt.Dataset, Items: len(bt.Items), Benchmark: bt.Benchmark,
			Metrics: names(defs), MetricInfo: metricInfo(defs)}
		if len(tr.Metrics) > 0 {
			tr.Primary = tr.Metrics[0]
		}
		preps := map[string][]prepared{}
		for _, m := range graded {
			ps := make([]prepared, len(bt.Items))
			for i := range bt.Items {
				ps[i] = prepare(bt, &bt.Items[i], m.Name, idx[m.Name][bt.Name])
			}
			preps[m.Name] = ps
		}
		outcomes := map[string][]scored{}
		for _, m := range graded {
			outs := make([]scored, len(bt.Items))
			for i := range bt.Items {
				p := preps[m.Name][i]
				for _, o := range graded {
					if q := preps[o.Name][i]; o.Name != m.Name && q.status == report.StatusOK {
						if p.in.Others == nil {
							p.in.Others = map[string]string{}
						}
						p.in.Others[o.Name] = q.in.Prediction
					}
				}
				outs[i] = score(bt, p)
			}
			outcomes[m.Name] = outs
		}
		if bt.Execute != nil {
			var names []string
			for _, m := range graded {
				names = append(names, m.Name)
			}
			r.Sections = append(r.Sections, executeSection(bt, executeOutcomes(bt, idx, outcomes, names), names))
		}
		if bt.Judge != nil {
			var names []string
			for _, m := range graded {
				names = append(names, m.Name)
			}
			js := judgeOutcomes(bt, idx, outcomes, names)
			r.Sections = append(r.Sections, judgeSection(bt, js, outcomes, names))
		}
		if bt.Classify != nil {
			var names []string
			for _, m := range graded {
				names = append(names, m.Name)
			}
			cs := classifyOutcomes(bt, idx, outcomes, names)
			r.Sections = append(r.Sections, classifySection(bt, cs, names))
		}
		tr.Records = make([]report.Record, len(bt.Items))
		for i, it := range bt.Items {
			rec := report.Record{ID: it.ID, Outcomes: map[string]report.Outcome{}, References: it.References}
			if bt.Labels != nil {
				rec.Slices = bt.Labels[i]
			}
			for _, m := range graded {
				rec.Outcomes[m.Name] = outcomes[m.Name][i].Outcome
			}
			tr.Records[i] = rec
		}
		for _, m := range graded {
			tr.PerModel = append(tr.PerModel, agg.modelScore(bt.Name, m.Name, defs, tr.Records))
		}
		base, cand := "", ""
		if r.Compare != nil {
			if _, ok := outcomes[ev.Baseline]; ok {
				if _, ok := outcomes[ev.Candidate]; ok {
					base, cand = ev.Baseline, ev.Candidate
					tr.Comparison = agg.compare(bt.Name, ev.Baseline, ev.Candidate, defs, column(tr.Records, ev.Baseline), column(tr.Records, ev.Candidate))
					tr.Worst, tr.Flipped = itemExamples(bt, defs, outcomes[ev.Baseline], outcomes[ev.Candidate], ev.Examples)
				}
			}
		}
		var models []string
		for _, m := range graded {
			models = append(models, m.Name)
		}
		tr.Slices = agg.slices(bt.Name, defs, bt.Slices, tr.Records, models, base, cand)
		r.Tasks = append(r.Tasks, tr)
	}
	defsOf := map[string][]metricDef{}
	for _, bt := range ev.Tasks {
		defsOf[bt.Name] = bt.defs()
	}
	var models []string
	for _, m := range graded {
		models = append(models, m.Name)
	}
	base, cand := "", ""
	if r.Compare != nil {
		base, cand = ev.Baseline, ev.Candidate
	}
	r.Groups = agg.groups(r.Tasks, groupSpecs(r.Tasks), defsOf, models, base, cand)
	applyHolm(r.Tasks, r.Groups)
	return r
}

func names(defs []metricDef) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.Name
	}
	return out
}

// column returns one model's outcomes across records (a zero Outcome, which
// is not scored, where the model has none).
func column(recs []report.Record, model string) []report.Outcome {
	out := make([]report.Outcome, len(recs))
	for i, r := range recs {
		o, ok := r.Outcomes[model]
		if !ok {
			o = report.Outcome{Status: report.StatusFailed, Error: "no outcome recorded for this model"}
		}
		out[i] = o
	}
	return out
}

// applyHolm adjusts the p-values of every comparison in tasks and groups
// together with Holm's step-down method (one family: the whole run), in place.
func applyHolm(taskLists ...[]report.Task) {
	var tasks []report.Task
	for _, l := range taskLists {
		tasks = append(tasks, l...)
	}
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
	b := report.Model{Name: m.Name, Provider: m.Provider, Model: m.Model, Role: m.Role}
	var lat []float64
	for _, r := range results {
		// A model's bill is its own answers; a judge's, the judgments it
		// made about any model's answers (the results it is the Endpoint of).
		if m.Role == report.RoleJudge || m.Role == report.RoleClassifier {
			if r.Endpoint != m.Name {
				continue
			}
		} else if r.Model != m.Name || r.Endpoint != "" {
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

// itemExamples returns, per metric with a direction, up to n items where the
// candidate lost most (worst first), and for each binary metric up to n
// items that went right→wrong (regressed) and n that went wrong→right
// (fixed), in dataset order.
func itemExamples(bt *builtTask, defs []metricDef, base, cand []scored, n int) (worst, flipped []report.Example) {
	if n <= 0 {
		n = DefaultExamples
	}
	example := func(i int, kind, metric string) report.Example {
		it := bt.Items[i]
		return report.Example{Kind: kind, ID: it.ID, Prompt: it.Prompt, References: it.References, Baseline: base[i].Output, Candidate: cand[i].Output,
			Metric: metric, BaselineScore: base[i].Scores[metric], CandidateScore: cand[i].Scores[metric]}
	}
	for _, def := range defs {
		if def.Direction == scorer.Neutral {
			continue
		}
		type loss struct {
			i    int
			gain float64
		}
		var ls []loss
		var regressed, fixed []int
		for i := range bt.Items {
			b, okB := base[i].Scores[def.Name]
			c, okC := cand[i].Scores[def.Name]
			if !okB || !okC || !base[i].Scored() || !cand[i].Scored() {
				continue
			}
			if g := def.Gain(b, c); g < 0 {
				ls = append(ls, loss{i, g})
			}
			if def.Binary && b != c {
				if def.Gain(b, c) < 0 {
					regressed = append(regressed, i)
				} else {
					fixed = append(fixed, i)
				}
			}
		}
		sort.SliceStable(ls, func(a, b int) bool { return ls[a].gain < ls[b].gain })
		for k, l := range ls {
			if k == n {
				break
			}
			worst = append(worst, example(l.i, "worst", def.Name))
		}
		for _, list := range []struct {
			kind string
			idx  []int
		}{{"regressed", regressed}, {"fixed", fixed}} {
			for k, i := range list.idx {
				if k == n {
					break
				}
				flipped = append(flipped, example(i, list.kind, def.Name))
			}
		}
	}
	return worst, flipped
}

// DefaultExamples is how many worst and flipped items per metric reports
// show when the plan does not say (report.examples).
const DefaultExamples = 20
