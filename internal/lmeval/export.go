package lmeval

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/goccy/go-yaml"
)

// Export turns built instances into rows a tunecheck plan task reads
// unchanged, and that task's plan entry (YAML). The row's `context` holds
// lm-eval's prompt bytes; the plan task sends it as a completion prompt
// (`{{ context }}`, chat off), so `tunecheck run` asks exactly what lm-eval
// asks:
//
//   - multiple_choice → type multiple_choice (continuation " " + choice,
//     acc and acc_norm by characters); rows {id, context, choices, gold}.
//     tunecheck's type puts one space before each choice, so a task with
//     another target_delimiter is refused.
//   - generate_until → type generate with stop = until, max_tokens =
//     max_gen_toks, temperature 0 unless do_sample; rows {id, context,
//     references}; each exact_match × filter pipeline becomes one
//     lm_eval_exact_match scorer (metric exact_match_<filter> when there
//     are several pipelines).
//   - loglikelihood_rolling → type perplexity over the target text.
func Export(t *Task, ins []Instance, datasetPath string) (rows []map[string]any, planTask []byte, err error) {
	if t.Repeats != 1 {
		return nil, nil, fmt.Errorf("%s: repeats: %d: tunecheck samples once per item; use params.n with a pass@k scorer instead", t.raw.at("repeats"), t.Repeats)
	}
	task := yaml.MapSlice{{Key: "name", Value: t.Name}}
	id := func(in Instance) string { return t.Name + "-" + strconv.Itoa(in.Doc) }
	completion := yaml.MapSlice{{Key: "template", Value: "{{ context }}"}, {Key: "chat", Value: false}}
	switch t.OutputType {
	case MultipleChoice:
		if t.TargetDelimiter != " " {
			return nil, nil, fmt.Errorf("%s: target_delimiter %q: tunecheck's multiple_choice type scores \" \" + choice; only the default delimiter can be exported", t.raw.at("target_delimiter"), t.TargetDelimiter)
		}
		for _, m := range t.Metrics {
			if m.Metric != "acc" && m.Metric != "acc_norm" {
				return nil, nil, fmt.Errorf("%s: metric %s: a multiple_choice task reports acc and acc_norm; other metrics are not exported", t.raw.at("metric_list"), m.Metric)
			}
		}
		for _, in := range ins {
			rows = append(rows, map[string]any{"id": id(in), "context": in.Context, "choices": in.Choices, "gold": in.Gold})
		}
		task = append(task, yaml.MapItem{Key: "type", Value: "multiple_choice"},
			yaml.MapItem{Key: "dataset", Value: yaml.MapSlice{{Key: "path", Value: datasetPath}}},
			yaml.MapItem{Key: "prompt", Value: completion},
			yaml.MapItem{Key: "choices", Value: "choices"}, yaml.MapItem{Key: "answer", Value: "gold"})
	case GenerateUntil:
		scorers, err := t.exactMatchScorers()
		if err != nil {
			return nil, nil, err
		}
		for _, in := range ins {
			rows = append(rows, map[string]any{"id": id(in), "context": in.Context, "references": in.Targets})
		}
		params := yaml.MapSlice{{Key: "max_tokens", Value: t.MaxGenToks}, {Key: "stop", Value: t.Until}}
		if !t.DoSample {
			params = append(params, yaml.MapItem{Key: "temperature", Value: 0.0})
		} else {
			params = append(params, yaml.MapItem{Key: "temperature", Value: t.Temperature})
		}
		task = append(task, yaml.MapItem{Key: "type", Value: "generate"},
			yaml.MapItem{Key: "dataset", Value: yaml.MapSlice{{Key: "path", Value: datasetPath}}},
			yaml.MapItem{Key: "prompt", Value: completion},
			yaml.MapItem{Key: "reference", Value: "references"},
			yaml.MapItem{Key: "params", Value: params},
			yaml.MapItem{Key: "scorers", Value: scorers})
	case LoglikelihoodRolling:
		for _, in := range ins {
			if len(in.Targets) != 1 {
				return nil, nil, fmt.Errorf("task %s doc %d: loglikelihood_rolling needs one target text, got %d", t.Name, in.Doc, len(in.Targets))
			}
			rows = append(rows, map[string]any{"id": id(in), "text": in.Targets[0]})
		}
		task = append(task, yaml.MapItem{Key: "type", Value: "perplexity"},
			yaml.MapItem{Key: "dataset", Value: yaml.MapSlice{{Key: "path", Value: datasetPath}}},
			yaml.MapItem{Key: "prompt", Value: yaml.MapSlice{{Key: "template", Value: "{{ text }}"}}})
	default:
		return nil, nil, fmt.Errorf("task %s: output_type %s has no tunecheck task type to export to", t.Name, t.OutputType)
	}
	out, err := yaml.MarshalWithOptions([]yaml.MapSlice{task}, yaml.IndentSequence(true))
	return rows, out, err
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func (t *Task) exactMatchScorers() ([]yaml.MapSlice, error) {
	pipes := t.Filters
	if len(pipes) == 0 {
		pipes = []FilterPipeline{{Name: "none", Steps: []FilterStep{{Function: "take_first"}}}}
	}
	var out []yaml.MapSlice
	for _, m := range t.Metrics {
		if m.Metric != "exact_match" {
			return nil, fmt.Errorf("%s: metric %s: only exact_match is exported for generate_until tasks", t.raw.at("metric_list"), m.Metric)
		}
		for _, p := range pipes {
			opts := yaml.MapSlice{}
			for _, st := range p.Steps {
				switch st.Function {
				case "take_first":
				case "regex":
					if len(opts) > 0 {
						return nil, fmt.Errorf("%s: filter %s: only one regex step per pipeline can be exported", t.raw.at("filter_list"), p.Name)
					}
					opts = append(opts, yaml.MapItem{Key: "extract", Value: st.Pattern.String()})
					if st.GroupSelect != 0 {
						opts = append(opts, yaml.MapItem{Key: "group_select", Value: st.GroupSelect})
					}
					if st.Fallback != "[invalid]" {
						opts = append(opts, yaml.MapItem{Key: "fallback", Value: st.Fallback})
					}
				default:
					return nil, fmt.Errorf("%s: filter %s: step %s cannot be exported (regex and take_first can)", t.raw.at("filter_list"), p.Name, st.Function)
				}
			}
			if m.IgnoreCase {
				opts = append(opts, yaml.MapItem{Key: "ignore_case", Value: true})
			}
			if m.IgnorePunct {
				opts = append(opts, yaml.MapItem{Key: "ignore_punctuation", Value: true})
			}
			if m.IgnoreNumbers {
				opts = append(opts, yaml.MapItem{Key: "ignore_numbers", Value: true})
			}
			if len(m.RegexesToIgnore) > 0 {
				opts = append(opts, yaml.MapItem{Key: "regexes_to_ignore", Value: m.RegexesToIgnore})
			}
			if len(pipes) > 1 {
				opts = append(opts, yaml.MapItem{Key: "name", Value: "exact_match_" + nonName.ReplaceAllString(p.Name, "_")})
			}
			sc := yaml.MapSlice{{Key: "name", Value: "lm_eval_exact_match"}}
			if len(opts) > 0 {
				sc = append(sc, yaml.MapItem{Key: "options", Value: opts})
			}
			out = append(out, sc)
		}
	}
	return out, nil
}
