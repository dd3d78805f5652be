package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/task"

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
	if err != nil {
		return run, nil, err
	}
	raw, err := st.RunRecords(ctx, run.ID)
	if err != nil {
		return run, nil, err
	}
	if len(raw) > 0 {
		var recs map[string][]report.Record
		if err := json.Unmarshal(raw, &recs); err != nil {
			return run, nil, fmt.Errorf("run %s: its stored records do not decode: %w", run.ID, err)
		}
		rep.AttachRecords(recs)
	}
	return run, rep, nil
}

// Side names one model in one stored run.
type Side struct {
	Label  string
	Run    store.Run
	Report *report.Report
	Model  string
}

// CompareOptions configure Compare.
type CompareOptions struct {
	A, B Side
	// Seed overrides the bootstrap seed (default: run A's).
	Seed *uint64
	// Gates are checked against the comparison; nil means run A's plan gates.
	Gates []string
	// AllowDataChange pairs runs whose datasets differ (by fingerprint).
	AllowDataChange bool
	// Texts, when set, gives the stored prompts and outputs of a run's
	// model, by "task/item": compare of two different runs then shows the
	// worst and flipped items too (a same-run compare copies the run's own).
	Texts func(run store.Run, model string) (map[string]ItemText, error)
	// Examples is how many worst and flipped items per metric (default 20).
	Examples int
}

// ItemText is what a run stored of one item for one model: the prompt it
// was sent (its last user message) and the model's final answer.
type ItemText struct {
	Prompt, Output string
}

// Compare pairs two models — of one run or of two runs — item by item on
// every task they share, from the outcomes stored in each run's records: the
// same statuses, scores and corpus statistics `run` aggregated, through the
// same aggregation, so `compare RUN` prints exactly the numbers `run` and
// `show` print. Runs read from different datasets are refused with the
// differences unless AllowDataChange. The result carries its gates and verdict.
func Compare(o CompareOptions) (*report.Report, error) {
	a, b := o.A, o.B
	seed := a.Report.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	out := &report.Report{Schema: report.Schema, Seed: seed, Bootstrap: a.Report.Bootstrap,
		Compare: &report.CompareInfo{Baseline: a.Label, Candidate: b.Label}, ToolVersion: a.Report.ToolVersion, Plan: a.Report.Plan}
	agg := aggregator{seed: seed, cfg: stats.Config{Resamples: out.Bootstrap.Resamples, Confidence: out.Bootstrap.Confidence}}
	if diffs := dataDiffs(a, b); len(diffs) > 0 && !o.AllowDataChange {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("the two runs read different data, so their items do not pair:\n  %s", strings.Join(diffs, "\n  ")), exitcode.BadInput),
			"compare runs of the same eval set, or pass --allow-data-change to pair the items both runs share")
	}
	if err := protocolDiffs(a, b); err != nil {
		return nil, err
	}
	for _, side := range []Side{a, b} {
		if side.Report.Schema != report.Schema {
			return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s was stored by an earlier tunecheck (%s), without the per-item records compare pairs", side.Run.ID, side.Report.Schema), exitcode.BadInput),
				"run its plan again: the answers come from the response cache, and the new run carries the records")
		}
	}
	defsOf, err := storedMetricDefs(a.Run)
	if err != nil {
		return nil, err
	}
	for _, ta := range a.Report.Tasks {
		tb := findTask(b.Report, ta.Name)
		if tb == nil {
			continue
		}
		if !hasModel(ta, a.Model) || !hasModel(*tb, b.Model) {
			return nil, exitcode.WithCode(fmt.Errorf("task %s: model %q or %q has no outcomes (models in these runs: %v, %v)", ta.Name, a.Model, b.Model, modelNames(ta), modelNames(*tb)), exitcode.BadInput)
		}
		defs := defsOf[ta.Name]
		if defs == nil {
			return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("task %s is not in the plan stored with run %s, so how its metrics aggregate is unknown", ta.Name, a.Run.ID), exitcode.BadInput),
				"name as the first run one whose plan has the task, or run the plan again (answers come from the response cache)")
		}
		byID := make(map[string]report.Outcome, len(tb.Records))
		for _, r := range tb.Records {
			if oc, ok := r.Outcomes[b.Model]; ok {
				byID[r.ID] = oc
			}
		}
		keyA, keyB := a.Model, b.Model
		if keyA == keyB {
			keyA, keyB = a.Label, b.Label
		}
		var recs []report.Record
		for _, r := range ta.Records {
			ob, ok := byID[r.ID]
			if !ok {
				continue
			}
			recs = append(recs, report.Record{ID: r.ID, Outcomes: map[string]report.Outcome{keyA: r.Outcomes[a.Model], keyB: ob}, Slices: r.Slices, References: r.References})
		}
		t := report.Task{Name: ta.Name, Type: ta.Type, Group: ta.Group, Stages: ta.Stages, Protocol: ta.Protocol, ChatTemplate: ta.ChatTemplate, Dataset: ta.Dataset, Items: len(recs), Benchmark: ta.Benchmark,
			Metrics: ta.Metrics, MetricInfo: ta.MetricInfo, Primary: ta.Primary, Records: recs}
		for _, side := range []struct{ key, label string }{{keyA, a.Label}, {keyB, b.Label}} {
			ms := agg.modelScore(ta.Name, side.key, defs, recs)
			ms.Model = side.label
			t.PerModel = append(t.PerModel, ms)
		}
		t.Comparison = agg.compare(ta.Name, a.Label, b.Label, defs, column(recs, keyA), column(recs, keyB))
		if a.Run.ID == b.Run.ID && ta.Comparison != nil && ta.Comparison.Baseline == a.Model && ta.Comparison.Candidate == b.Model {
			t.Worst, t.Flipped = ta.Worst, ta.Flipped
		} else if o.Texts != nil {
			ta2, tb2, err := sideTexts(o, a, b)
			if err != nil {
				return nil, err
			}
			t.Worst, t.Flipped = recordExamples(ta.Name, defs, recs, keyA, keyB, ta2, tb2, o.Examples)
		}
		t.Slices = agg.slices(ta.Name, defs, storedSliceDefs(ta), recs, []string{keyA, keyB}, keyA, keyB)
		relabelSlices(t.Slices, map[string]string{keyA: a.Label, keyB: b.Label})
		for i := range recs {
			recs[i].Outcomes = map[string]report.Outcome{a.Label: recs[i].Outcomes[keyA], b.Label: recs[i].Outcomes[keyB]}
		}
		out.Tasks = append(out.Tasks, t)
	}
	if len(out.Tasks) == 0 {
		return nil, exitcode.WithCode(fmt.Errorf("the two sides share no task"), exitcode.BadInput)
	}
	var specs []groupSpec
	for _, g := range a.Report.Groups {
		spec := groupSpec{Name: g.Name}
		for _, name := range g.Tasks {
			if findTask(out, name) != nil {
				spec.Tasks = append(spec.Tasks, name)
			}
		}
		if len(spec.Tasks) > 0 {
			specs = append(specs, spec)
		}
	}
	out.Groups = agg.groups(out.Tasks, specs, defsOf, []string{a.Label, b.Label}, a.Label, b.Label)
	applyHolm(out.Tasks, out.Groups)
	exprs := o.Gates
	if exprs == nil {
		if p, err := storedPlan(a.Run); err == nil {
			exprs = p.Gates
		}
	}
	known := gate.Known{Tasks: map[string][]string{}, Compared: true, Slices: map[string][]string{}}
	for _, t := range append(append([]report.Task{}, out.Tasks...), out.Groups...) {
		if _, ok := known.Tasks[t.Name]; !ok {
			known.Tasks[t.Name] = t.Metrics
			for _, s := range t.Slices {
				known.Slices[t.Name] = append(known.Slices[t.Name], s.Name)
			}
		}
	}
	gates, err := checkGates(exprs, known, nil)
	if err != nil {
		return nil, err
	}
	for _, g := range gates {
		out.Gates = append(out.Gates, gate.Check(g, out.Lookup))
	}
	out.Verdict = gate.Verdict(out.Gates)
	out.Warnings = gateWarnings(out)
	if sec, ok := safetySection(out); ok {
		out.Sections = append(out.Sections, sec)
	}
	return out, nil
}

// dataDiffs lists how the two runs' datasets differ, task by task.
func dataDiffs(a, b Side) []string {
	var out []string
	for _, ta := range a.Report.Tasks {
		tb := findTask(b.Report, ta.Name)
		if tb == nil {
			out = append(out, fmt.Sprintf("task %s is only in run %s", ta.Name, a.Run.ID))
			continue
		}
		if ta.Dataset.Fingerprint == tb.Dataset.Fingerprint && ta.Dataset.Selection == tb.Dataset.Selection {
			continue
		}
		idsA, idsB := map[string]bool{}, map[string]bool{}
		for _, r := range ta.Records {
			idsA[r.ID] = true
		}
		for _, r := range tb.Records {
			idsB[r.ID] = true
		}
		onlyA, onlyB := onlyIn(idsA, idsB), onlyIn(idsB, idsA)
		out = append(out, fmt.Sprintf("task %s: %s (%d rows%s) vs %s (%d rows%s); %d items only in %s%s, %d only in %s%s",
			ta.Name, ta.Dataset.Fingerprint, ta.Dataset.Rows, sel(ta.Dataset.Selection), tb.Dataset.Fingerprint, tb.Dataset.Rows, sel(tb.Dataset.Selection),
			len(onlyA), a.Run.ID, examples(onlyA), len(onlyB), b.Run.ID, examples(onlyB)))
	}
	for _, tb := range b.Report.Tasks {
		if findTask(a.Report, tb.Name) == nil {
			out = append(out, fmt.Sprintf("task %s is only in run %s", tb.Name, b.Run.ID))
		}
	}
	return out
}

func sel(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

func onlyIn(a, b map[string]bool) []string {
	var out []string
	for id := range a {
		if !b[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func examples(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	if len(ids) > 3 {
		return " (" + strings.Join(ids[:3], ", ") + ", …)"
	}
	return " (" + strings.Join(ids, ", ") + ")"
}

func findTask(r *report.Report, name string) *report.Task {
	for i := range r.Tasks {
		if r.Tasks[i].Name == name {
			return &r.Tasks[i]
		}
	}
	return nil
}

func hasModel(t report.Task, model string) bool {
	for _, m := range t.PerModel {
		if m.Model == model {
			return true
		}
	}
	return false
}

func modelNames(t report.Task) []string {
	var out []string
	for _, m := range t.PerModel {
		out = append(out, m.Model)
	}
	return out
}

// storedPlan decodes the plan a run recorded.
func storedPlan(run store.Run) (*plan.Plan, error) {
	var p plan.Plan
	if err := json.Unmarshal(run.Plan, &p); err != nil {
		return nil, fmt.Errorf("run %s: its stored plan does not decode: %w", run.ID, err)
	}
	return &p, nil
}

// storedMetricDefs rebuilds each task's metric definitions (direction,
// corpus aggregation) from the plan the run recorded; no dataset is read.
func storedMetricDefs(run store.Run) (map[string][]metricDef, error) {
	p, err := storedPlan(run)
	if err != nil {
		return nil, err
	}
	out := map[string][]metricDef{}
	for ti, t := range p.Tasks {
		kind, ok := task.Types()[t.Type]
		if !ok {
			return nil, exitcode.WithCode(fmt.Errorf("run %s: task %s has type %q, which this tunecheck does not know", run.ID, t.Name, t.Type), exitcode.BadInput)
		}
		scorers, err := taskScorers(p, ti, kind, task.Spec{Name: t.Name, Type: t.Type})
		if err != nil {
			return nil, err
		}
		out[t.Name] = metricDefs(scorers)
		jt, err := buildJudge(p, ti)
		if err != nil {
			return nil, err
		}
		if jt != nil {
			out[t.Name] = append(out[t.Name], jt.metrics()...)
		}
		if ct := buildClassify(p, ti); ct != nil {
			out[t.Name] = append(out[t.Name], ct.metrics()...)
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

// sideTexts loads (once per Compare) the stored texts of both sides.
func sideTexts(o CompareOptions, a, b Side) (map[string]ItemText, map[string]ItemText, error) {
	ta, err := o.Texts(a.Run, a.Model)
	if err != nil {
		return nil, nil, err
	}
	tb, err := o.Texts(b.Run, b.Model)
	return ta, tb, err
}

// recordExamples picks the worst and flipped items of a comparison from
// stored records and texts, as a run picks them from its scored items.
func recordExamples(taskName string, defs []metricDef, recs []report.Record, keyA, keyB string, textA, textB map[string]ItemText, n int) (worst, flipped []report.Example) {
	bt := &builtTask{Name: taskName}
	var base, cand []scored
	for _, r := range recs {
		ta, tb := textA[taskName+"/"+r.ID], textB[taskName+"/"+r.ID]
		bt.Items = append(bt.Items, task.Item{ID: r.ID, Prompt: ta.Prompt, References: r.References})
		base = append(base, scored{Outcome: r.Outcomes[keyA], Output: ta.Output})
		cand = append(cand, scored{Outcome: r.Outcomes[keyB], Output: tb.Output})
	}
	return itemExamples(bt, defs, base, cand, n)
}

// StoredTexts reads a run's prompts and final answers for one model from
// the store: for each item, the last stage's answer and the user message of
// its first request. CompareOptions.Texts with st.
func StoredTexts(ctx context.Context, st *store.Store) func(store.Run, string) (map[string]ItemText, error) {
	return func(run store.Run, model string) (map[string]ItemText, error) {
		results, err := st.Results(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		out := map[string]ItemText{}
		order := map[string]int{} // the stage index of the text kept per item
		for _, r := range results {
			if r.Model != model || r.Endpoint != "" {
				continue
			}
			key := r.Task + "/" + baseItemID(r.ItemID)
			var req provider.Request
			var resp provider.Response
			_ = json.Unmarshal(r.Request, &req)
			_ = json.Unmarshal(r.Response, &resp)
			t := out[key]
			if t.Prompt == "" {
				t.Prompt = req.Asked()
			}
			stage := stageOrder(r.Stage)
			if prev, ok := order[key]; !ok || stage >= prev {
				order[key] = stage
				t.Output = resp.Text
			}
			out[key] = t
		}
		return out, nil
	}
}

// baseItemID strips a request's suffix ("q1#0" of a multiple-choice item).
func baseItemID(id string) string {
	if i := strings.IndexByte(id, '#'); i >= 0 {
		return id[:i]
	}
	return id
}

// stageOrder orders stored stages: turn2 after turn1 after the first.
func stageOrder(stage string) int {
	if n, err := strconv.Atoi(strings.TrimPrefix(stage, "turn")); err == nil {
		return n
	}
	return 0
}
