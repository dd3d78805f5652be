// Package report owns the report model — everything a finished run says —
// and its renderers: terminal summary, Markdown, HTML, results.json and JUnit XML.
// A renderer is a function that writes one Report to an io.Writer; the same
// Report renders the same bytes every time (sorted keys, no timestamps), so
// results.json and report.md of a re-run from cache are byte-identical.
package report

import (
	"encoding/json"
	"fmt"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// Schema identifies the results.json format; bump it on incompatible changes.
const Schema = "tunecheck.results/v1"

// Report is a whole run's outcome.
type Report struct {
	Schema      string          `json:"schema"`
	ToolVersion string          `json:"tool_version"`
	Plan        PlanInfo        `json:"plan"`
	Seed        uint64          `json:"seed"`
	Bootstrap   BootstrapInfo   `json:"bootstrap"`
	Compare     *CompareInfo    `json:"compare,omitempty"`
	Models      []Model         `json:"models"`
	Tasks       []Task          `json:"tasks"`
	Gates       []gate.Result   `json:"gates"`
	Verdict     gate.Status     `json:"verdict"`
	Sections    []Section       `json:"sections,omitempty"`
	Extra       json.RawMessage `json:"extra,omitempty"`
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

// Model is one endpoint's bill: requests, failures, tokens, latency, cost.
type Model struct {
	Name             string   `json:"name"`
	Provider         string   `json:"provider"`
	Model            string   `json:"model,omitempty"`
	Requests         int      `json:"requests"`
	Failed           int      `json:"failed"`
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	LatencyP50MS     float64  `json:"latency_p50_ms"`
	LatencyP95MS     float64  `json:"latency_p95_ms"`
	Cost             *float64 `json:"cost,omitempty"`
}

// Dataset describes the rows a task used.
type Dataset struct {
	Path        string `json:"path"`
	Fingerprint string `json:"fingerprint"`
	Rows        int    `json:"rows"`
	Total       int    `json:"total"`
	Selection   string `json:"selection,omitempty"`
}

// Task is one task's scores.
type Task struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Dataset Dataset  `json:"dataset"`
	Items   int      `json:"items"`
	Metrics []string `json:"metrics"`
	// Primary is the metric used to pick the worst examples.
	Primary    string       `json:"primary,omitempty"`
	PerModel   []ModelScore `json:"per_model"`
	Comparison *Comparison  `json:"comparison,omitempty"`
	Worst      []Example    `json:"worst,omitempty"`
	// ItemScores[model][item id][metric] holds every per-item score, so that
	// two runs can be compared item by item without a model.
	ItemScores map[string]map[string]map[string]float64 `json:"item_scores,omitempty"`
}

// ModelScore is one model's aggregates on a task.
type ModelScore struct {
	Model string `json:"model"`
	// Scored items, and items that failed (request error or unscorable output).
	Scored  int                      `json:"scored"`
	Failed  int                      `json:"failed"`
	Metrics map[string]stats.Summary `json:"metrics"`
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
	ID             string   `json:"id"`
	Prompt         string   `json:"prompt"`
	References     []string `json:"references,omitempty"`
	Baseline       string   `json:"baseline"`
	Candidate      string   `json:"candidate"`
	Metric         string   `json:"metric"`
	BaselineScore  float64  `json:"baseline_score"`
	CandidateScore float64  `json:"candidate_score"`
}

// Section is an extra titled Markdown block (training curves, leakage).
type Section struct {
	Title    string `json:"title"`
	Markdown string `json:"markdown"`
}

// Lookup answers gate queries against r.
func (r *Report) Lookup(task, metric, field string) gate.Value {
	var t *Task
	for i := range r.Tasks {
		if r.Tasks[i].Name == task {
			t = &r.Tasks[i]
		}
	}
	if t == nil {
		return gate.Value{}
	}
	summary := func(model string) (stats.Summary, bool) {
		for _, m := range t.PerModel {
			if m.Model == model {
				s, ok := m.Metrics[metric]
				return s, ok
			}
		}
		return stats.Summary{}, false
	}
	if r.Compare == nil {
		return gate.Value{}
	}
	switch field {
	case "baseline", "candidate", "baseline.ci_low", "baseline.ci_high", "candidate.ci_low", "candidate.ci_high":
		model := r.Compare.Baseline
		if field[0] == 'c' {
			model = r.Compare.Candidate
		}
		s, ok := summary(model)
		if !ok || s.N == 0 {
			return gate.Value{}
		}
		switch field {
		case "baseline", "candidate":
			return gate.Value{X: s.Mean, Low: s.CI.Low, High: s.CI.High, HasCI: true, Exists: true}
		case "baseline.ci_low", "candidate.ci_low":
			return gate.Value{X: s.CI.Low, Exists: true}
		default:
			return gate.Value{X: s.CI.High, Exists: true}
		}
	}
	if t.Comparison == nil {
		return gate.Value{}
	}
	p, ok := t.Comparison.Metrics[metric]
	if !ok || p.N == 0 {
		return gate.Value{}
	}
	switch field {
	case "delta":
		return gate.Value{X: p.Delta, Low: p.CI.Low, High: p.CI.High, HasCI: true, Exists: true}
	case "delta.ci_low":
		return gate.Value{X: p.CI.Low, Exists: true}
	case "delta.ci_high":
		return gate.Value{X: p.CI.High, Exists: true}
	case "p_value":
		return gate.Value{X: p.PValue, Exists: true}
	case "p_adjusted":
		return gate.Value{X: p.PAdjusted, Exists: true}
	}
	return gate.Value{}
}

// Decode reads a results.json document.
func Decode(data []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("results schema %q is not %q: this tunecheck cannot read it", r.Schema, Schema)
	}
	return &r, nil
}
