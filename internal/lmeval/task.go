// Package lmeval loads lm-evaluation-harness task YAML files unmodified and
// turns them into prompts exactly as lm-eval builds them (lm_eval/api/task.py
// ConfigurableTask.fewshot_context, lm_eval/api/samplers.py, the YAML loader
// in lm_eval/tasks/_yaml_loader.py, as of lm-eval's main in 2026):
//
//   - `include` relative to the including file, recursive, later keys win,
//     cycles refused; `!function module.name` resolved to a Go Hook by name.
//   - doc_to_text/doc_to_target/doc_to_choice as a field name, a Jinja
//     template (gonja with StrictUndefined and keep_trailing_newline, as
//     lm-eval's jinja2 Environment), a list, or a hook; templates that render
//     a Python list ("{{choices.text}}", "['A', 'B']") are parsed back as
//     ast.literal_eval would.
//   - prompt = description + Σ(question + target_delimiter + answer +
//     fewshot_delimiter) + question; few-shot docs from fewshot_split, else
//     fewshot_config.samples, else training, validation, test; sampler
//     first_n (in order) or default (CPython random.Random(1234).sample, one
//     generator shared by all docs in order, drawing n+1 and dropping the
//     doc itself when the few-shot split is the test split).
//
// Python's random, repr and literal_eval are re-implemented here (see
// internal/pyrand, pyliteral.go) because prompt bytes depend on them exactly.
package lmeval

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Output types lm-eval defines.
const (
	MultipleChoice       = "multiple_choice"
	GenerateUntil        = "generate_until"
	Loglikelihood        = "loglikelihood"
	LoglikelihoodRolling = "loglikelihood_rolling"
)

// Task is one lm-eval task definition after include merging.
type Task struct {
	Name, Alias string
	File        string
	Tags        []string

	DatasetPath, DatasetName                  string
	DatasetKwargs                             map[string]any
	TrainingSplit, ValidationSplit, TestSplit *string
	FewshotSplit                              *string

	ProcessDocs *Hook

	DocToText, DocToTarget, DocToChoice *Field
	Description                         string

	TargetDelimiter, FewshotDelimiter string
	NumFewshot                        int
	Fewshot                           FewshotConfig

	OutputType  string
	Until       []string
	MaxGenToks  int
	DoSample    bool
	Temperature float64
	Repeats     int

	Filters []FilterPipeline
	Metrics []MetricSpec

	ShouldDecontaminate bool
	Version             string

	j        *jinja
	raw      *rawConfig
	descTmpl *Template
}

// FewshotConfig is fewshot_config: its keys override the task's when the
// few-shot examples are formatted.
type FewshotConfig struct {
	Sampler                             string  // "default" or "first_n"
	Split                               *string // fewshot_config.split, else fewshot_split
	Samples                             []Doc
	DocToText, DocToTarget, DocToChoice *Field
	TargetDelimiter, FewshotDelimiter   *string
}

// MetricSpec is one metric_list entry.
type MetricSpec struct {
	Metric          string
	Aggregation     string
	HigherIsBetter  bool
	IgnoreCase      bool
	IgnorePunct     bool
	IgnoreNumbers   bool
	RegexesToIgnore []string
}

// Group is a group file: `group` with a `task` list.
type Group struct {
	Name, Alias string
	File        string
	Tasks       []string
	// Inline tasks defined inside the group file.
	Inline     []*Task
	Aggregates []MetricSpec
	Version    string
}

// Loader loads task files against a set of hooks.
type Loader struct {
	Hooks Hooks
	j     *jinja
}

// NewLoader returns a loader with DefaultHooks.
func NewLoader() *Loader { return &Loader{Hooks: DefaultHooks(), j: newJinja()} }

// Set is what a file or folder defines.
type Set struct {
	Tasks  []*Task
	Groups []*Group
}

// Task returns the named task.
func (s *Set) Task(name string) (*Task, bool) {
	for _, t := range s.Tasks {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// LoadFile loads one task or group file.
func (l *Loader) LoadFile(path string) (*Set, error) {
	rc, err := loadYAML(path, nil)
	if err != nil {
		return nil, err
	}
	set := &Set{}
	if _, ok := rc.Values["group"]; ok {
		if list, ok := rc.Values["task"].([]any); ok {
			g, inline, err := l.group(rc, list)
			if err != nil {
				return nil, err
			}
			set.Groups = append(set.Groups, g)
			set.Tasks = append(set.Tasks, inline...)
			return set, nil
		}
	}
	t, err := l.task(rc)
	if err != nil {
		return nil, err
	}
	set.Tasks = append(set.Tasks, t)
	return set, nil
}

// LoadDir loads every *.yaml / *.yml file under dir that defines a task or
// a group, as lm-eval's task index does; files without `task` (templates
// meant for include) are skipped. Names must be unique.
func (l *Loader) LoadDir(dir string) (*Set, error) {
	set := &Set{}
	seen := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		rc, err := loadYAML(p, nil)
		if err != nil {
			return err
		}
		if _, ok := rc.Values["task"]; !ok {
			return nil
		}
		s, err := l.LoadFile(p)
		if err != nil {
			return err
		}
		for _, t := range s.Tasks {
			if prev, dup := seen[t.Name]; dup {
				return fmt.Errorf("%s: task %q is also defined in %s; task names must be unique", p, t.Name, prev)
			}
			seen[t.Name] = p
		}
		for _, g := range s.Groups {
			if prev, dup := seen[g.Name]; dup {
				return fmt.Errorf("%s: group %q is also defined in %s; names must be unique", p, g.Name, prev)
			}
			seen[g.Name] = p
		}
		set.Tasks = append(set.Tasks, s.Tasks...)
		set.Groups = append(set.Groups, s.Groups...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(set.Tasks, func(a, b *Task) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(set.Groups, func(a, b *Group) int { return strings.Compare(a.Name, b.Name) })
	return set, nil
}

// Expand lists the tasks a name stands for: a task, a group's members
// (recursively), or every task carrying a tag.
func (s *Set) Expand(name string) ([]*Task, error) {
	return s.expand(name, nil)
}

func (s *Set) expand(name string, chain []string) ([]*Task, error) {
	if slices.Contains(chain, name) {
		return nil, fmt.Errorf("group cycle: %s → %s", strings.Join(chain, " → "), name)
	}
	if t, ok := s.Task(name); ok {
		return []*Task{t}, nil
	}
	for _, g := range s.Groups {
		if g.Name != name {
			continue
		}
		var out []*Task
		for _, m := range g.Tasks {
			ts, err := s.expand(m, append(chain, name))
			if err != nil {
				return nil, fmt.Errorf("%s: group %s: %w", g.File, g.Name, err)
			}
			out = append(out, ts...)
		}
		return out, nil
	}
	var tagged []*Task
	for _, t := range s.Tasks {
		if slices.Contains(t.Tags, name) {
			tagged = append(tagged, t)
		}
	}
	if len(tagged) > 0 {
		return tagged, nil
	}
	return nil, fmt.Errorf("no task, group or tag named %q (have: %s)", name, strings.Join(s.names(), ", "))
}

func (s *Set) names() []string {
	var n []string
	for _, t := range s.Tasks {
		n = append(n, t.Name)
	}
	for _, g := range s.Groups {
		n = append(n, g.Name)
	}
	slices.Sort(n)
	return n
}

func (l *Loader) group(rc *rawConfig, list []any) (*Group, []*Task, error) {
	g := &Group{File: rc.File}
	var err error
	if g.Name, err = str(rc, "group"); err != nil {
		return nil, nil, err
	}
	if g.Alias, err = str(rc, "group_alias"); err != nil {
		return nil, nil, err
	}
	var inline []*Task
	for i, e := range list {
		switch x := e.(type) {
		case string:
			g.Tasks = append(g.Tasks, x)
		case map[string]any:
			sub := &rawConfig{File: rc.File, Values: x, Lines: map[string]string{}}
			for k := range x {
				sub.Lines[k] = fmt.Sprintf("%s (task[%d])", rc.at("task"), i)
			}
			if _, isGroup := x["group"]; isGroup {
				return nil, nil, fmt.Errorf("%s: task[%d]: a group nested inline is not supported; put it in its own file and name it", rc.at("task"), i)
			}
			t, err := l.task(sub)
			if err != nil {
				return nil, nil, err
			}
			inline = append(inline, t)
			g.Tasks = append(g.Tasks, t.Name)
		default:
			return nil, nil, fmt.Errorf("%s: task[%d]: expected a task name or a task mapping, got %v", rc.at("task"), i, e)
		}
	}
	if raw, ok := rc.Values["aggregate_metric_list"]; ok {
		if g.Aggregates, err = metricList(rc, "aggregate_metric_list", raw); err != nil {
			return nil, nil, err
		}
	}
	g.Version = version(rc)
	return g, inline, nil
}

func version(rc *rawConfig) string {
	if md, ok := rc.Values["metadata"].(map[string]any); ok {
		if v, ok := md["version"]; ok {
			s, _ := pyStr(v)
			return s
		}
	}
	return ""
}

func str(rc *rawConfig, key string) (string, error) {
	v, ok := rc.Values[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s: expected text, got %v", rc.at(key), key, v)
	}
	return s, nil
}

func optStr(rc *rawConfig, key string) (*string, error) {
	v, ok := rc.Values[key]
	if !ok || v == nil {
		return nil, nil
	}
	s, err := str(rc, key)
	return &s, err
}

// known lists the keys tunecheck reads; anything else in a task file is an
// error rather than a silently different evaluation.
var known = map[string]bool{
	"task": true, "task_alias": true, "tag": true, "group": true, "dataset_path": true, "dataset_name": true,
	"dataset_kwargs": true, "training_split": true, "validation_split": true, "test_split": true,
	"fewshot_split": true, "process_docs": true, "doc_to_text": true, "doc_to_target": true,
	"doc_to_choice": true, "description": true, "target_delimiter": true, "fewshot_delimiter": true,
	"num_fewshot": true, "fewshot_config": true, "output_type": true, "generation_kwargs": true,
	"filter_list": true, "metric_list": true, "should_decontaminate": true,
	"doc_to_decontamination_query": true, "metadata": true, "repeats": true, "task_list": true,
}

func (l *Loader) task(rc *rawConfig) (*Task, error) {
	t := &Task{File: rc.File, j: l.j, raw: rc, TargetDelimiter: " ", FewshotDelimiter: "\n\n", OutputType: GenerateUntil, Repeats: 1, MaxGenToks: 256}
	for _, k := range slices.Sorted(maps.Keys(rc.Values)) {
		if !known[k] {
			return nil, fmt.Errorf("%s: %s: tunecheck does not support this lm-eval key (it reads: %s); remove it or open an issue", rc.at(k), k, strings.Join(slices.Sorted(maps.Keys(known)), ", "))
		}
	}
	var err error
	set := func(dst *string, key string) {
		if err == nil {
			*dst, err = str(rc, key)
		}
	}
	set(&t.Name, "task")
	set(&t.Alias, "task_alias")
	set(&t.DatasetPath, "dataset_path")
	set(&t.DatasetName, "dataset_name")
	set(&t.Description, "description")
	set(&t.OutputType, "output_type")
	if err != nil {
		return nil, err
	}
	if t.Name == "" {
		return nil, fmt.Errorf("%s: task: missing; name the task (`task: my_task`)", rc.File)
	}
	if t.OutputType == "" {
		t.OutputType = GenerateUntil
	}
	switch t.OutputType {
	case MultipleChoice, GenerateUntil, Loglikelihood, LoglikelihoodRolling:
	default:
		return nil, fmt.Errorf("%s: output_type: %q is not one of multiple_choice, generate_until, loglikelihood, loglikelihood_rolling", rc.at("output_type"), t.OutputType)
	}
	for _, sp := range []struct {
		dst **string
		key string
	}{{&t.TrainingSplit, "training_split"}, {&t.ValidationSplit, "validation_split"}, {&t.TestSplit, "test_split"}, {&t.FewshotSplit, "fewshot_split"}} {
		if *sp.dst, err = optStr(rc, sp.key); err != nil {
			return nil, err
		}
	}
	if t.TestSplit == nil && t.ValidationSplit == nil {
		return nil, fmt.Errorf("%s: task %s has neither test_split nor validation_split: lm-eval evaluates on one of them", rc.File, t.Name)
	}
	switch tag := rc.Values["tag"].(type) {
	case nil:
	case string:
		t.Tags = []string{tag}
	case []any:
		for _, e := range tag {
			s, _ := pyStr(e)
			t.Tags = append(t.Tags, s)
		}
	}
	// Older task files put a task in a group with `group: name`; lm-eval
	// now treats that as a tag.
	if g, ok := rc.Values["group"].(string); ok {
		t.Tags = append(t.Tags, g)
	}
	if kw, ok := rc.Values["dataset_kwargs"].(map[string]any); ok {
		t.DatasetKwargs = kw
	}
	if v, ok := rc.Values["process_docs"]; ok && v != nil {
		ref, ok := v.(FuncRef)
		if !ok {
			return nil, fmt.Errorf("%s: process_docs: expected `!function module.name`", rc.at("process_docs"))
		}
		h, err := l.Hooks.resolve(ref, "process_docs")
		if err != nil {
			return nil, err
		}
		if h.ProcessDocs == nil {
			return nil, fmt.Errorf("%s:%d: process_docs: hook %s computes a field, not a docs list", ref.File, ref.Line, ref.Key)
		}
		t.ProcessDocs = &h
	}
	for _, f := range []struct {
		dst **Field
		key string
	}{{&t.DocToText, "doc_to_text"}, {&t.DocToTarget, "doc_to_target"}, {&t.DocToChoice, "doc_to_choice"}} {
		if *f.dst, err = l.field(rc, f.key, rc.Values[f.key]); err != nil {
			return nil, err
		}
	}
	if t.DocToText == nil {
		return nil, fmt.Errorf("%s: doc_to_text: missing; give a field name or a Jinja template", rc.File)
	}
	if t.OutputType == MultipleChoice && t.DocToChoice == nil {
		return nil, fmt.Errorf("%s: doc_to_choice: a multiple_choice task needs it (a field, a list, or a template rendering a list)", rc.File)
	}
	if t.Description != "" {
		if t.descTmpl, err = l.j.compile(t.Description); err != nil {
			return nil, fmt.Errorf("%s: description: %w", rc.at("description"), err)
		}
	}
	if v, ok := rc.Values["target_delimiter"]; ok {
		if t.TargetDelimiter, err = str(rc, "target_delimiter"); err != nil || v == nil {
			return nil, fmt.Errorf("%s: target_delimiter: expected text", rc.at("target_delimiter"))
		}
	}
	if v, ok := rc.Values["fewshot_delimiter"]; ok {
		if t.FewshotDelimiter, err = str(rc, "fewshot_delimiter"); err != nil || v == nil {
			return nil, fmt.Errorf("%s: fewshot_delimiter: expected text", rc.at("fewshot_delimiter"))
		}
	}
	if n, ok := rc.Values["num_fewshot"]; ok && n != nil {
		v, ok := n.(int64)
		if !ok || v < 0 {
			return nil, fmt.Errorf("%s: num_fewshot: expected a whole number ≥ 0, got %v", rc.at("num_fewshot"), n)
		}
		t.NumFewshot = int(v)
	}
	if r, ok := rc.Values["repeats"]; ok && r != nil {
		v, ok := r.(int64)
		if !ok || v < 1 {
			return nil, fmt.Errorf("%s: repeats: expected a whole number ≥ 1, got %v", rc.at("repeats"), r)
		}
		t.Repeats = int(v)
	}
	if err := l.fewshotConfig(t, rc); err != nil {
		return nil, err
	}
	if err := t.generationKwargs(rc); err != nil {
		return nil, err
	}
	if raw, ok := rc.Values["filter_list"]; ok && raw != nil {
		if t.Filters, err = filterList(rc, raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := rc.Values["metric_list"]; ok && raw != nil {
		if t.Metrics, err = metricList(rc, "metric_list", raw); err != nil {
			return nil, err
		}
	} else {
		t.Metrics = defaultMetrics(t.OutputType)
	}
	if b, ok := rc.Values["should_decontaminate"].(bool); ok {
		t.ShouldDecontaminate = b
	}
	t.Version = version(rc)
	return t, nil
}

// defaultMetrics are lm-eval's per-output-type defaults (api/task.py).
func defaultMetrics(outputType string) []MetricSpec {
	switch outputType {
	case MultipleChoice:
		return []MetricSpec{{Metric: "acc", Aggregation: "mean", HigherIsBetter: true}, {Metric: "acc_norm", Aggregation: "mean", HigherIsBetter: true}}
	case Loglikelihood:
		return []MetricSpec{{Metric: "perplexity", Aggregation: "perplexity"}, {Metric: "acc", Aggregation: "mean", HigherIsBetter: true}}
	case LoglikelihoodRolling:
		return []MetricSpec{{Metric: "word_perplexity", Aggregation: "weighted_perplexity"}, {Metric: "byte_perplexity", Aggregation: "weighted_perplexity"}, {Metric: "bits_per_byte", Aggregation: "bits_per_byte"}}
	}
	return []MetricSpec{{Metric: "exact_match", Aggregation: "mean", HigherIsBetter: true}}
}

func (l *Loader) fewshotConfig(t *Task, rc *rawConfig) error {
	t.Fewshot.Sampler = "default"
	t.Fewshot.Split = t.FewshotSplit
	raw, ok := rc.Values["fewshot_config"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: fewshot_config: expected a mapping (sampler, samples, …)", rc.at("fewshot_config"))
	}
	at := rc.at("fewshot_config")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		var err error
		switch k {
		case "sampler":
			s, _ := v.(string)
			if s != "default" && s != "first_n" {
				return fmt.Errorf("%s: fewshot_config.sampler: %v is not one of default, first_n", at, v)
			}
			t.Fewshot.Sampler = s
		case "split":
			sp, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s: fewshot_config.split: expected a split name", at)
			}
			t.Fewshot.Split = &sp
		case "samples":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("%s: fewshot_config.samples: expected a list of documents (a !function producing them is not supported)", at)
			}
			for i, e := range list {
				d, ok := e.(map[string]any)
				if !ok {
					return fmt.Errorf("%s: fewshot_config.samples[%d]: expected a mapping of fields", at, i)
				}
				t.Fewshot.Samples = append(t.Fewshot.Samples, d)
			}
		case "doc_to_text":
			t.Fewshot.DocToText, err = l.field(rc, "fewshot_config.doc_to_text", v)
		case "doc_to_target":
			t.Fewshot.DocToTarget, err = l.field(rc, "fewshot_config.doc_to_target", v)
		case "doc_to_choice":
			t.Fewshot.DocToChoice, err = l.field(rc, "fewshot_config.doc_to_choice", v)
		case "target_delimiter", "fewshot_delimiter":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s: fewshot_config.%s: expected text", at, k)
			}
			if k == "target_delimiter" {
				t.Fewshot.TargetDelimiter = &s
			} else {
				t.Fewshot.FewshotDelimiter = &s
			}
		default:
			return fmt.Errorf("%s: fewshot_config.%s: not supported (tunecheck reads sampler, split, samples, doc_to_text, doc_to_target, doc_to_choice, target_delimiter, fewshot_delimiter)", at, k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *Task) generationKwargs(rc *rawConfig) error {
	t.Until = []string{t.FewshotDelimiter}
	raw, ok := rc.Values["generation_kwargs"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: generation_kwargs: expected a mapping", rc.at("generation_kwargs"))
	}
	at := rc.at("generation_kwargs")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch k {
		case "until":
			t.Until = nil
			switch x := v.(type) {
			case string:
				t.Until = []string{x}
			case []any:
				for _, e := range x {
					s, ok := e.(string)
					if !ok {
						return fmt.Errorf("%s: generation_kwargs.until: each stop must be text", at)
					}
					t.Until = append(t.Until, s)
				}
			default:
				return fmt.Errorf("%s: generation_kwargs.until: expected text or a list", at)
			}
		case "max_gen_toks":
			n, ok := v.(int64)
			if !ok || n < 1 {
				return fmt.Errorf("%s: generation_kwargs.max_gen_toks: expected a whole number ≥ 1", at)
			}
			t.MaxGenToks = int(n)
		case "do_sample":
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("%s: generation_kwargs.do_sample: expected true or false", at)
			}
			t.DoSample = b
		case "temperature":
			switch x := v.(type) {
			case float64:
				t.Temperature = x
			case int64:
				t.Temperature = float64(x)
			default:
				return fmt.Errorf("%s: generation_kwargs.temperature: expected a number", at)
			}
		default:
			return fmt.Errorf("%s: generation_kwargs.%s: not supported (tunecheck reads until, max_gen_toks, do_sample, temperature)", at, k)
		}
	}
	return nil
}

func metricList(rc *rawConfig, key string, raw any) ([]MetricSpec, error) {
	list, ok := raw.([]any)
	at := rc.at(key)
	if !ok {
		return nil, fmt.Errorf("%s: %s: expected a list of {metric: …}", at, key)
	}
	var out []MetricSpec
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %s[%d]: expected a mapping with metric:", at, key, i)
		}
		ms := MetricSpec{HigherIsBetter: true, Aggregation: "mean"}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			v := m[k]
			bad := func(want string) error {
				return fmt.Errorf("%s: %s[%d].%s: expected %s, got %v", at, key, i, k, want, v)
			}
			switch k {
			case "metric":
				s, ok := v.(string)
				if !ok {
					return nil, bad("a metric name (a !function metric is not supported)")
				}
				ms.Metric = s
			case "aggregation":
				s, ok := v.(string)
				if !ok {
					return nil, bad("an aggregation name")
				}
				ms.Aggregation = s
			case "higher_is_better", "ignore_case", "ignore_punctuation", "ignore_numbers":
				b, ok := v.(bool)
				if !ok {
					return nil, bad("true or false")
				}
				switch k {
				case "higher_is_better":
					ms.HigherIsBetter = b
				case "ignore_case":
					ms.IgnoreCase = b
				case "ignore_punctuation":
					ms.IgnorePunct = b
				case "ignore_numbers":
					ms.IgnoreNumbers = b
				}
			case "regexes_to_ignore":
				l, ok := v.([]any)
				if !ok {
					return nil, bad("a list of regular expressions")
				}
				for _, r := range l {
					s, ok := r.(string)
					if !ok {
						return nil, bad("a list of regular expressions")
					}
					ms.RegexesToIgnore = append(ms.RegexesToIgnore, s)
				}
			case "weight_by_size", "filter_list":
				// group aggregation options, recorded by lm-eval; tunecheck aggregates by mean.
			default:
				return nil, fmt.Errorf("%s: %s[%d].%s: not supported (tunecheck reads metric, aggregation, higher_is_better, ignore_case, ignore_punctuation, ignore_numbers, regexes_to_ignore)", at, key, i, k)
			}
		}
		if ms.Metric == "" {
			return nil, fmt.Errorf("%s: %s[%d]: metric: missing", at, key, i)
		}
		out = append(out, ms)
	}
	return out, nil
}
