package report

import (
	"encoding/json"
)

// LMEvalResults is one model's results in lm-evaluation-harness's results
// JSON shape (what lm_eval --output_path writes as results_<date>.json), so
// that tools reading lm-eval's files read tunecheck's. Keys hold the same
// meaning as lm-eval's; see docs/results.md for what is and is not filled.
type LMEvalResults struct {
	Results        map[string]map[string]any  `json:"results"`
	Groups         map[string]map[string]any  `json:"groups,omitempty"`
	GroupSubtasks  map[string][]string        `json:"group_subtasks"`
	Configs        map[string]LMEvalConfig    `json:"configs"`
	Versions       map[string]any             `json:"versions"`
	NShot          map[string]int             `json:"n-shot"`
	HigherIsBetter map[string]map[string]bool `json:"higher_is_better"`
	NSamples       map[string]LMEvalNSamples  `json:"n-samples"`
	Config         LMEvalRunConfig            `json:"config"`
	GitHash        *string                    `json:"git_hash"`
	Date           float64                    `json:"date"`
	ModelName      string                     `json:"model_name"`
}

// LMEvalConfig is the minimal per-task config: enough to say what ran.
type LMEvalConfig struct {
	Task        string            `json:"task"`
	DatasetPath string            `json:"dataset_path,omitempty"`
	NumFewshot  int               `json:"num_fewshot"`
	OutputType  string            `json:"output_type"`
	MetricList  []LMEvalMetric    `json:"metric_list"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// LMEvalMetric is one entry of a config's metric_list.
type LMEvalMetric struct {
	Metric         string `json:"metric"`
	Aggregation    string `json:"aggregation"`
	HigherIsBetter bool   `json:"higher_is_better"`
}

// LMEvalNSamples are a task's documents: all of them, and those evaluated.
type LMEvalNSamples struct {
	Original  int `json:"original"`
	Effective int `json:"effective"`
}

// LMEvalRunConfig is the run's config block.
type LMEvalRunConfig struct {
	Model     string `json:"model"`
	ModelArgs string `json:"model_args"`
	// Tunecheck names the tool and plan that wrote the file.
	Tunecheck string `json:"tunecheck"`
}

// lmFilter is the filter key of every metric: tunecheck scores the
// answer as its scorer reads it, which lm-eval calls no filter.
const lmFilter = "none"

// LMEval builds model's lm-eval results from r; date is the Unix time
// lm-eval records (seconds). ok is false when the model scored nothing.
func LMEval(r *Report, model string, date float64) (LMEvalResults, bool) {
	out := LMEvalResults{Results: map[string]map[string]any{}, GroupSubtasks: map[string][]string{}, Configs: map[string]LMEvalConfig{},
		Versions: map[string]any{}, NShot: map[string]int{}, HigherIsBetter: map[string]map[string]bool{}, NSamples: map[string]LMEvalNSamples{},
		Date: date, ModelName: model}
	for _, m := range r.Models {
		if m.Name == model {
			out.Config = LMEvalRunConfig{Model: m.Provider, ModelArgs: "model=" + m.Model, Tunecheck: r.ToolVersion + " plan " + r.Plan.Name}
		}
	}
	per := map[string]ModelScore{}
	found := false
	for _, t := range r.Tasks {
		ms, ok := modelOf(t.PerModel, model)
		if !ok {
			continue
		}
		found = true
		per[t.Name] = ms
		entry := map[string]any{"alias": t.Name}
		hib := map[string]bool{}
		var ml []LMEvalMetric
		for _, name := range t.Metrics {
			s, ok := ms.Metrics[name]
			if !ok || s.N == 0 {
				continue
			}
			entry[name+","+lmFilter] = s.Mean
			if t.MetricInfo[name].Corpus {
				entry[name+"_stderr,"+lmFilter] = "N/A"
			} else {
				entry[name+"_stderr,"+lmFilter] = LMTaskScore(ms, name).Stderr
			}
			higher := t.direction(name) != "lower"
			hib[name] = higher
			agg := "mean"
			if t.MetricInfo[name].Corpus {
				agg = name
			}
			ml = append(ml, LMEvalMetric{Metric: name, Aggregation: agg, HigherIsBetter: higher})
		}
		out.Results[t.Name] = entry
		out.HigherIsBetter[t.Name] = hib
		out.GroupSubtasks[t.Name] = []string{}
		out.NSamples[t.Name] = LMEvalNSamples{Original: t.Dataset.Total, Effective: t.Items}
		cfg := LMEvalConfig{Task: t.Name, DatasetPath: t.Dataset.Path, OutputType: lmOutputType(t), MetricList: ml}
		if b := t.Benchmark; b != nil {
			cfg.DatasetPath, cfg.NumFewshot = b.Source, b.NShot
			cfg.Metadata = map[string]string{"version": b.Version}
			out.Versions[t.Name] = b.Version
			out.NShot[t.Name] = b.NShot
		} else {
			out.Versions[t.Name] = "N/A"
			out.NShot[t.Name] = 0
		}
		out.Configs[t.Name] = cfg
	}
	for _, g := range r.Groups {
		ms, ok := modelOf(g.PerModel, model)
		if !ok {
			continue
		}
		entry := map[string]any{"alias": g.Name}
		hib := map[string]bool{}
		for _, name := range g.Metrics {
			if s, ok := ms.Metrics[name]; !ok || s.N == 0 || g.MetricInfo[name].Corpus {
				continue
			}
			var subs []ModelScore
			for _, n := range g.Tasks {
				if m, ok := per[n]; ok {
					subs = append(subs, m)
				}
			}
			l := LMGroupScore(ms, name, subs)
			entry[name+","+lmFilter] = l.Score
			if l.NoStderr {
				entry[name+"_stderr,"+lmFilter] = "N/A"
			} else {
				entry[name+"_stderr,"+lmFilter] = l.Stderr
			}
			hib[name] = g.direction(name) != "lower"
		}
		out.Results[g.Name] = entry
		if out.Groups == nil {
			out.Groups = map[string]map[string]any{}
		}
		out.Groups[g.Name] = entry
		out.GroupSubtasks[g.Name] = append([]string{}, g.Tasks...)
		out.HigherIsBetter[g.Name] = hib
		if g.Benchmark != nil {
			out.Versions[g.Name] = g.Benchmark.Version
		} else {
			out.Versions[g.Name] = "N/A"
		}
	}
	// lm-eval lists a group's subtasks with an indented alias.
	for g, subs := range out.GroupSubtasks {
		for _, s := range subs {
			if e, ok := out.Results[s]; ok && g != s {
				e["alias"] = " - " + s
			}
		}
	}
	return out, found
}

// JSON writes the results as lm-eval does: indented, keys sorted.
func (l LMEvalResults) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func modelOf(per []ModelScore, model string) (ModelScore, bool) {
	for _, m := range per {
		if m.Model == model {
			return m, true
		}
	}
	return ModelScore{}, false
}

// lmOutputType maps a task to lm-eval's output_type.
func lmOutputType(t Task) string {
	switch {
	case t.Type == "multiple_choice" && t.Protocol != "generate":
		return "multiple_choice"
	case t.Type == "perplexity":
		return "loglikelihood_rolling"
	}
	return "generate_until"
}

// LMEvalModels are the graded models of r, in report order.
func LMEvalModels(r *Report) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range r.Tasks {
		for _, m := range t.PerModel {
			if !seen[m.Model] {
				seen[m.Model] = true
				out = append(out, m.Model)
			}
		}
	}
	return out
}
