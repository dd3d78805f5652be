// Package report owns the report model — everything a finished run says —
// and its renderers: terminal summary, Markdown, HTML, results.json and JUnit XML.
// A renderer is a function that writes one Report to an io.Writer; the same
// Report renders the same bytes every time (sorted keys, no timestamps), so
// results.json and report.md of a re-run from cache are byte-identical.
package report

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// Schema identifies the results.json format; bump it on incompatible changes.
const Schema = "tunecheck.results/v2"

// SchemaV1 is the results format before per-item records; Decode reads it.
const SchemaV1 = "tunecheck.results/v1"

// Report is a whole run's outcome.
type Report struct {
	Schema      string        `json:"schema"`
	ToolVersion string        `json:"tool_version"`
	Plan        PlanInfo      `json:"plan"`
	Seed        uint64        `json:"seed"`
	Bootstrap   BootstrapInfo `json:"bootstrap"`
	Compare     *CompareInfo  `json:"compare,omitempty"`
	Models      []Model       `json:"models"`
	Tasks       []Task        `json:"tasks"`
	// Groups aggregate tasks that share a plan `group` (pooled items).
	Groups   []Task        `json:"groups,omitempty"`
	Gates    []gate.Result `json:"gates"`
	Verdict  gate.Status   `json:"verdict"`
	Sections []Section     `json:"sections,omitempty"`
	// Warnings are things a reader must know to trust the verdict, e.g. a
	// gate threshold smaller than the effect this eval set can detect.
	Warnings []string        `json:"warnings,omitempty"`
	Extra    json.RawMessage `json:"extra,omitempty"`
}

// PlanInfo identifies the plan a run executed.
type PlanInfo struct {
	Name string `json:"name"`
	Hash string `json:"hash"`
}

// BootstrapInfo records how intervals were computed.
type BootstrapInfo struct {
	Resamples  int     `json:"resamples"`
	Confidence float64 `json:"confidence"`
}

// CompareInfo names the baseline and the candidate.
type CompareInfo struct {
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
}

// RoleJudge marks a Model that graded the others' outputs (LLM-as-judge);
// RoleClassifier one that classified them (a safety classifier).
const (
	RoleJudge      = "judge"
	RoleClassifier = "classifier"
)

// Model is one endpoint's bill: requests, failures, tokens, latency, cost.
// A judge's (Role "judge") is billed apart from the graded models'.
type Model struct {
	Name             string   `json:"name"`
	Role             string   `json:"role,omitempty"`
	Provider         string   `json:"provider"`
	Model            string   `json:"model,omitempty"`
	Requests         int      `json:"requests"`
	Failed           int      `json:"failed"`
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	LatencyP50MS     float64  `json:"latency_p50_ms"`
	LatencyP95MS     float64  `json:"latency_p95_ms"`
	Cost             *float64 `json:"cost,omitempty"`
	// EchoLogprobs is what the echo check before the run found of the
	// model's endpoint, when a multiple_choice task needed one: supported,
	// refused, ignored, or none (the provider has no prompt logprobs).
	EchoLogprobs string `json:"echo_logprobs,omitempty"`
}

// Dataset describes the rows a task used.
type Dataset struct {
	Path        string `json:"path"`
	Fingerprint string `json:"fingerprint"`
	Rows        int    `json:"rows"`
	Total       int    `json:"total"`
	Selection   string `json:"selection,omitempty"`
	// IDField is the field the item ids came from ("" when derived from content).
	IDField string `json:"id_field,omitempty"`
}

// Task is one task's scores (or, in Report.Groups, a group's: its Tasks
// name the members and its numbers pool their items).
type Task struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Group string `json:"group,omitempty"`
	// Tasks are a group's member tasks (groups only).
	Tasks []string `json:"tasks,omitempty"`
	// Stages are the task's stages in order (generate, turn2, …).
	Stages []string `json:"stages,omitempty"`
	// Protocol is how a multiple_choice task asked every model:
	// loglikelihood (per choice, acc and acc_norm) or generate (lettered
	// choices, acc). Runs with different protocols are never compared.
	Protocol string `json:"protocol,omitempty"`
	// ChatTemplate is true when the models' servers rendered the
	// multiple-choice prompts with their chat templates.
	ChatTemplate bool     `json:"chat_template,omitempty"`
	Dataset      Dataset  `json:"dataset"`
	Items        int      `json:"items"`
	Metrics      []string `json:"metrics"`
	// MetricInfo says, per metric, which way is better, whether it is a
	// corpus value, and which paired test fits it.
	MetricInfo map[string]Metric `json:"metric_info,omitempty"`
	// Primary is the metric used to pick the worst examples.
	Primary    string       `json:"primary,omitempty"`
	PerModel   []ModelScore `json:"per_model"`
	Comparison *Comparison  `json:"comparison,omitempty"`
	// Worst are, per metric with a direction, the up to N items where the
	// candidate lost most (Kind "worst"); Flipped are the items of a binary
	// metric that went right→wrong (Kind "regressed") or wrong→right (Kind
	// "fixed"). N is the plan's report.examples (default 20).
	Worst   []Example `json:"worst,omitempty"`
	Flipped []Example `json:"flipped,omitempty"`
	// Slices break the task's items down by the plan's slices: per value,
	// each model's scores and the paired comparison, and the disparity
	// across values.
	Slices []Slice `json:"slices,omitempty"`
	// Records hold every item's outcome per model — status, scores and the
	// corpus metrics' sufficient statistics — in dataset order, so that
	// compare and show recompute every number from exactly the stored data.
	Records []Record `json:"records,omitempty"`
	// Benchmark describes a built-in benchmark task (`run --tasks`).
	Benchmark *BenchmarkInfo `json:"benchmark,omitempty"`
}

// BenchmarkInfo names the built-in benchmark a task ran (internal/bench).
type BenchmarkInfo struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Source  string   `json:"source"`
	NShot   int      `json:"n_shot"`
	Metrics []string `json:"metrics"`
}

// Metric describes one metric of a task.
type Metric struct {
	// Direction is higher, lower or neutral (neither way is better: length).
	Direction string `json:"direction"`
	Corpus    bool   `json:"corpus,omitempty"`
	Test      string `json:"test"`
	// Binary is true for a pass/fail metric (every item 0 or 1): its items
	// can flip right→wrong or wrong→right.
	Binary bool `json:"binary,omitempty"`
}

// Item statuses: an item × model is scored, failed (request error, an
// earlier stage failed, or unscorable output), empty (the model answered
// with nothing), or without a reference (reference-based metrics skipped).
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusEmpty       = "empty"
	StatusNoReference = "no_reference"
)

// Record is one item with its outcome for every model.
type Record struct {
	ID       string             `json:"id"`
	Outcomes map[string]Outcome `json:"outcomes"`
	// Slices are the item's group in each of the task's slices, by slice name.
	Slices map[string]string `json:"slices,omitempty"`
	// References are the item's reference answers, as scored (none for a
	// task without references): the viewer and compare show them beside
	// the outputs, which the store keeps with each result.
	References []string `json:"references,omitempty"`
}

// Outcome is one item × model.
type Outcome struct {
	Status string             `json:"status"`
	Error  string             `json:"error,omitempty"`
	Scores map[string]float64 `json:"scores,omitempty"`
	// Stats are the corpus metrics' per-item sufficient statistics, by metric.
	Stats map[string][]float64 `json:"stats,omitempty"`
	// JudgeError says why a scored item has no judge metric: every judge's
	// request failed, was truncated or could not be parsed. Counted as
	// ModelScore.JudgeFailed, never scored.
	JudgeError string `json:"judge_error,omitempty"`
}

// Scored reports whether the outcome carries scores (ok, or scored on the
// metrics that need no reference).
func (o Outcome) Scored() bool { return o.Status == StatusOK || o.Status == StatusNoReference }

// ModelScore is one model's aggregates on a task.
type ModelScore struct {
	Model string `json:"model"`
	// Items in the task; Scored of them carry scores. Failed items had a
	// request error or unscorable output, Empty ones an empty answer, and
	// NoReference ones no reference (only reference-free metrics scored
	// them). Each metric's Summary.N says how many items its number rests on.
	Items       int `json:"items"`
	Scored      int `json:"scored"`
	Failed      int `json:"failed"`
	Empty       int `json:"empty"`
	NoReference int `json:"no_reference"`
	// JudgeFailed scored items have no judge metric: no judge gave a verdict.
	JudgeFailed int                      `json:"judge_failed,omitempty"`
	Metrics     map[string]stats.Summary `json:"metrics"`
	// Errors are the first distinct error messages, with counts.
	Errors []ErrorCount `json:"errors,omitempty"`
}

// ErrorCount is an error message and how often it occurred.
type ErrorCount struct {
	Message string   `json:"message"`
	Count   int      `json:"count"`
	Items   []string `json:"items"`
}

// Comparison is the paired base→candidate result on a task.
type Comparison struct {
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
	// Pairs is the number of items scored on both sides; Excluded failed on
	// at least one side and are left out of every pair.
	Pairs    int                     `json:"pairs"`
	Excluded int                     `json:"excluded"`
	Metrics  map[string]stats.Paired `json:"metrics"`
}

// Example is one item side by side.
type Example struct {
	// Kind is worst, regressed (right→wrong) or fixed (wrong→right).
	Kind           string   `json:"kind,omitempty"`
	ID             string   `json:"id"`
	Prompt         string   `json:"prompt"`
	References     []string `json:"references,omitempty"`
	Baseline       string   `json:"baseline"`
	Candidate      string   `json:"candidate"`
	Metric         string   `json:"metric"`
	BaselineScore  float64  `json:"baseline_score"`
	CandidateScore float64  `json:"candidate_score"`
}

// Slice is a task's items broken down by one slice of the plan: a field's
// value (MT-Bench category), a length bucket or a template over the row.
type Slice struct {
	Name string `json:"name"`
	// By says how values were drawn: "field language", "length of question
	// in chars: 0–200, 200–1000, ≥1000", or the template.
	By     string       `json:"by"`
	Groups []SliceGroup `json:"groups"`
	// Disparity per metric: how far apart the groups are.
	Disparity map[string]Disparity `json:"disparity,omitempty"`
}

// SliceGroup is one value of a slice: its items' scores per model and, on
// a compared run, the paired comparison within it.
type SliceGroup struct {
	Value      string       `json:"value"`
	Items      int          `json:"items"`
	PerModel   []ModelScore `json:"per_model"`
	Comparison *Comparison  `json:"comparison,omitempty"`
}

// Disparity summarises one metric across a slice's groups with at least
// one scored item. Worst is the group with the lowest candidate score (by
// the metric's direction), Best the highest; Gap is best − worst candidate
// score (≥ 0 for either direction, in the metric's units) and Ratio their
// ratio worst/best for a metric where higher is better, best/worst where
// lower is (0 when undefined). MinDelta is the group whose delta is worst
// by the metric's direction, with its paired comparison; DeltaGap is the
// spread between the best and the worst group's delta.
type Disparity struct {
	Worst string `json:"worst"`
	// MinValue is the worst group's candidate score with its interval.
	MinValue      stats.Summary `json:"min_value"`
	Best          string        `json:"best"`
	Gap           float64       `json:"gap"`
	Ratio         float64       `json:"ratio"`
	MinDeltaGroup string        `json:"min_delta_group,omitempty"`
	MinDelta      *stats.Paired `json:"min_delta,omitempty"`
	DeltaGap      float64       `json:"delta_gap,omitempty"`
}

// Section is a side analysis of the run (training curves, leakage,
// memorisation): its structured findings in Data, a Markdown rendering for
// text reports, and an inline SVG plot when it has one, so that the HTML
// report stands alone.
type Section struct {
	Title    string          `json:"title"`
	Kind     string          `json:"kind,omitempty"`
	Markdown string          `json:"markdown"`
	Data     json.RawMessage `json:"data,omitempty"`
	// SVG is a plot drawn by tunecheck (not data): the HTML report embeds it
	// as an image, so the page stands alone; SVGFile is the copy written
	// beside report.md that the Markdown links.
	SVG     string `json:"svg,omitempty"`
	SVGFile string `json:"svg_file,omitempty"`
}

// Lookup answers gate queries against r: a task's or a group's metric, or
// a task's failure counts (metric ""), for the candidate — or the only
// model of a one-model run — through gate.Resolve; and a slice's group or
// disparity (g.Slice).
func (r *Report) Lookup(g gate.Gate) gate.Value {
	var t *Task
	var known []string
	for _, list := range [][]Task{r.Tasks, r.Groups} {
		for i := range list {
			known = append(known, list[i].Name)
			if list[i].Name == g.Task && t == nil {
				t = &list[i]
			}
		}
	}
	if t == nil {
		return gate.NoTask(g.Task, known)
	}
	if g.Metric != "" {
		if _, ok := t.MetricInfo[g.Metric]; !ok && !slices.Contains(t.Metrics, g.Metric) {
			return gate.NoMetric(g.Task, g.Metric, t.Metrics)
		}
	}
	if g.Slice == "" {
		return gate.Resolve(g.Field, r.sources(t.PerModel, t.Comparison, g.Metric))
	}
	var sl *Slice
	var names []string
	for i := range t.Slices {
		names = append(names, t.Slices[i].Name)
		if t.Slices[i].Name == g.Slice {
			sl = &t.Slices[i]
		}
	}
	if sl == nil {
		return gate.Value{Why: fmt.Sprintf("task %s has no slice %q (slices: %v)", g.Task, g.Slice, names)}
	}
	if g.Group != "" {
		var groups []string
		for _, sg := range sl.Groups {
			groups = append(groups, sg.Value)
			if sg.Value == g.Group {
				return gate.Resolve(g.Field, r.sources(sg.PerModel, sg.Comparison, g.Metric))
			}
		}
		return gate.Value{Why: fmt.Sprintf("slice %s of task %s has no group %q (groups: %v)", g.Slice, g.Task, g.Group, groups)}
	}
	d, ok := sl.Disparity[g.Metric]
	if !ok {
		return gate.Value{Why: fmt.Sprintf("slice %s of task %s has no disparity for %s: the metric has no direction, or no group has scored items", g.Slice, g.Task, g.Metric)}
	}
	return gate.ResolveDisparity(g.Field, gate.Disparity{
		MinValue:    gate.Estimate{N: d.MinValue.N, Mean: d.MinValue.Mean, Low: d.MinValue.CI.Low, High: d.MinValue.CI.High},
		HasMinValue: d.Worst != "",
		MinDelta:    d.minDelta(), HasMinDelta: d.MinDelta != nil && r.Compare != nil,
		Gap: d.Gap, Ratio: d.Ratio, DeltaGap: d.DeltaGap,
	})
}

func (d Disparity) minDelta() gate.Estimate {
	if d.MinDelta == nil {
		return gate.Estimate{}
	}
	return gate.Estimate{N: d.MinDelta.N, Mean: d.MinDelta.Delta, Low: d.MinDelta.CI.Low, High: d.MinDelta.CI.High}
}

// sources gathers what gate.Resolve reads from one task's (or one slice
// group's) per-model scores and comparison.
func (r *Report) sources(per []ModelScore, cmp *Comparison, metric string) gate.Sources {
	cand, base := "", ""
	if r.Compare != nil {
		cand, base = r.Compare.Candidate, r.Compare.Baseline
	} else if len(per) > 0 {
		cand = per[len(per)-1].Model
	}
	src := gate.Sources{Compared: r.Compare != nil && cmp != nil}
	for _, m := range per {
		c := gate.Counts{Items: m.Items, Failed: m.Failed, Empty: m.Empty, NoReference: m.NoReference, JudgeFailed: m.JudgeFailed}
		sum := m.Metrics[metric]
		e := gate.Estimate{N: sum.N, Mean: sum.Mean, Low: sum.CI.Low, High: sum.CI.High}
		switch m.Model {
		case cand:
			src.Counts, src.Candidate = c, e
		case base:
			src.BaselineCounts, src.Baseline = c, e
		}
	}
	if cmp != nil {
		if p, ok := cmp.Metrics[metric]; ok {
			src.Delta = gate.Estimate{N: p.N, Mean: p.Delta, Low: p.CI.Low, High: p.CI.High}
			src.PValue, src.PAdjusted = p.PValue, p.PAdjusted
		}
	}
	return src
}

// Decode reads a results.json document.
func Decode(data []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	switch r.Schema {
	case Schema:
	case SchemaV1:
		// Runs stored before pipeline v2 still show and trend: their
		// aggregates read the same; they only lack per-item records.
	default:
		return nil, fmt.Errorf("results schema %q is not %q: this tunecheck cannot read it", r.Schema, Schema)
	}
	return &r, nil
}

// SplitRecords returns a copy of r without its tasks' per-item records, and
// the records by task name. The store keeps the two apart (a summary stays
// small however many items the run had); AttachRecords puts them back.
func (r *Report) SplitRecords() (*Report, map[string][]Record) {
	out := *r
	out.Tasks = make([]Task, len(r.Tasks))
	recs := map[string][]Record{}
	for i, t := range r.Tasks {
		if t.Records != nil {
			recs[t.Name] = t.Records
		}
		t.Records = nil
		out.Tasks[i] = t
	}
	return &out, recs
}

// AttachRecords gives each task its records back (see SplitRecords).
func (r *Report) AttachRecords(recs map[string][]Record) {
	for i := range r.Tasks {
		if rs, ok := recs[r.Tasks[i].Name]; ok {
			r.Tasks[i].Records = rs
		}
	}
}

// TypeLabel is the task's type as task headers show it: a multiple_choice
// task's with its protocol and chat-template use.
func (t Task) TypeLabel() string {
	if t.Protocol == "" {
		return t.Type
	}
	s := t.Type + ", protocol " + t.Protocol
	if t.ChatTemplate {
		s += ", chat template"
	}
	return s
}
