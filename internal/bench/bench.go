// Package bench is tunecheck's registry of built-in benchmarks, named as
// lm-evaluation-harness names them (mmlu, hellaswag, arc_easy, arc_challenge,
// truthfulqa_mc1, truthfulqa_mc2, gsm8k, winogrande, piqa, humaneval). Each
// entry carries its few-shot count, metrics, lm-eval version and source, an
// lm-eval task definition embedded as YAML (tasks/), and a loader for the
// benchmark's original file formats.
//
// Prompts come from internal/lmeval, which assembles them as lm-eval does
// (description, few-shot first_n or random.Random(1234).sample, target and
// few-shot delimiters). WinoGrande is the exception: lm-eval scores it by
// partial evaluation (doc_to_text gives the gold index, doc_to_choice the
// contexts, the continuation is shared), which internal/lmeval refuses, so
// this package builds its instances itself (winogrande.go).
//
// Data comes from the embedded samples (internal/benchdata, for tests and
// contamination checks), from a folder in the original formats, or from a
// folder in the Hugging Face layout internal/lmeval reads
// (DATA_DIR/<dataset_path>/<dataset_name>/<split>.{jsonl,json,parquet,csv}).
package bench

import (
	"fmt"
	"slices"
	"strings"
)

// Benchmark is one registry entry.
type Benchmark struct {
	// Name is lm-eval's task (or group) name.
	Name string
	// Type is the tunecheck task type the benchmark runs as.
	Type string
	// NShot is the number of few-shot examples tunecheck uses by default
	// (lm-eval's num_fewshot, or the customary count where lm-eval leaves it
	// to --num_fewshot: MMLU 5).
	NShot int
	// Metrics are the metric names reported.
	Metrics []string
	// Version is lm-eval's metadata.version of the task definition.
	Version string
	// Source is the dataset (Hugging Face path) and its upstream.
	Source  string
	Licence string
	// Tasks are the lm-eval tasks the name stands for (mmlu: its 57
	// subjects); empty for a single task of the same name.
	Tasks []string
	// Alias lists deprecated names that still select this benchmark.
	Alias []string
	// Unsafe marks benchmarks that execute model output.
	Unsafe bool
}

// TaskNames lists the lm-eval tasks the benchmark stands for.
func (b *Benchmark) TaskNames() []string {
	if len(b.Tasks) > 0 {
		return b.Tasks
	}
	return []string{b.Name}
}

// MMLUSubjects are MMLU's 57 subjects, in lm-eval's (alphabetical) order.
var MMLUSubjects = []string{
	"abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
	"college_chemistry", "college_computer_science", "college_mathematics", "college_medicine", "college_physics",
	"computer_security", "conceptual_physics", "econometrics", "electrical_engineering", "elementary_mathematics",
	"formal_logic", "global_facts", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
	"high_school_european_history", "high_school_geography", "high_school_government_and_politics",
	"high_school_macroeconomics", "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
	"high_school_psychology", "high_school_statistics", "high_school_us_history", "high_school_world_history",
	"human_aging", "human_sexuality", "international_law", "jurisprudence", "logical_fallacies", "machine_learning",
	"management", "marketing", "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
	"philosophy", "prehistory", "professional_accounting", "professional_law", "professional_medicine",
	"professional_psychology", "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology",
	"world_religions",
}

func mmluTasks() []string {
	out := make([]string, len(MMLUSubjects))
	for i, s := range MMLUSubjects {
		out[i] = "mmlu_" + s
	}
	return out
}

// Registry returns the built-in benchmarks in listing order.
func Registry() []*Benchmark {
	return []*Benchmark{
		{Name: "mmlu", Type: "multiple_choice", NShot: 5, Metrics: []string{"acc"}, Version: "1.0",
			Source: "cais/mmlu (hendrycks/test)", Licence: "MIT", Tasks: mmluTasks()},
		{Name: "hellaswag", Type: "multiple_choice", NShot: 0, Metrics: []string{"acc", "acc_norm"}, Version: "1.0",
			Source: "Rowan/hellaswag (rowanz/hellaswag)", Licence: "MIT"},
		{Name: "arc_easy", Type: "multiple_choice", NShot: 0, Metrics: []string{"acc", "acc_norm"}, Version: "1.0",
			Source: "allenai/ai2_arc ARC-Easy", Licence: "CC BY-SA 4.0", Alias: []string{"arc"}},
		{Name: "arc_challenge", Type: "multiple_choice", NShot: 0, Metrics: []string{"acc", "acc_norm"}, Version: "1.0",
			Source: "allenai/ai2_arc ARC-Challenge", Licence: "CC BY-SA 4.0", Alias: []string{"arc"}},
		{Name: "truthfulqa_mc1", Type: "multiple_choice", NShot: 0, Metrics: []string{"acc"}, Version: "2.0",
			Source: "truthful_qa multiple_choice (sylinrl/TruthfulQA v1)", Licence: "Apache-2.0"},
		{Name: "truthfulqa_mc2", Type: "multiple_choice", NShot: 0, Metrics: []string{"mc2"}, Version: "2.0",
			Source: "truthful_qa multiple_choice (sylinrl/TruthfulQA v1)", Licence: "Apache-2.0"},
		{Name: "gsm8k", Type: "generate", NShot: 5,
			Metrics: []string{"exact_match_strict_match", "exact_match_flexible_extract", "strict_match_format"}, Version: "3.0",
			Source: "openai/gsm8k main (openai/grade-school-math)", Licence: "MIT"},
		{Name: "winogrande", Type: "multiple_choice", NShot: 0, Metrics: []string{"acc"}, Version: "1.0",
			Source: "winogrande winogrande_xl (allenai/winogrande)", Licence: "CC-BY"},
		{Name: "piqa", Type: "multiple_choice", NShot: 0, Metrics: []string{"acc", "acc_norm"}, Version: "1.0",
			Source: "baber/piqa (ybisk/ybisk.github.io piqa)", Licence: "AFL-3.0"},
		{Name: "humaneval", Type: "code", NShot: 0, Metrics: []string{"pass@1"}, Version: "1.0",
			Source: "openai/openai_humaneval (openai/human-eval)", Licence: "MIT", Unsafe: true},
	}
}

// Lookup resolves a name (or a deprecated alias, which may stand for several
// benchmarks: arc = arc_easy + arc_challenge).
func Lookup(name string) ([]*Benchmark, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	var out []*Benchmark
	for _, b := range Registry() {
		if b.Name == name {
			return []*Benchmark{b}, nil
		}
		if slices.Contains(b.Alias, name) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("unknown benchmark %q (built-in: %s); `tunecheck tasks` lists them", name, strings.Join(Names(), ", "))
	}
	return out, nil
}

// Names lists the built-in benchmark names in registry order.
func Names() []string {
	var out []string
	for _, b := range Registry() {
		out = append(out, b.Name)
	}
	return out
}

// Parse splits a comma-separated list ("mmlu,gsm8k", or "all") into
// benchmarks, each once, in the order given.
func Parse(list string) ([]*Benchmark, error) {
	var out []*Benchmark
	seen := map[string]bool{}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var bs []*Benchmark
		if strings.EqualFold(f, "all") {
			bs = Registry()
		} else {
			var err error
			if bs, err = Lookup(f); err != nil {
				return nil, err
			}
		}
		for _, b := range bs {
			if !seen[b.Name] {
				seen[b.Name] = true
				out = append(out, b)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no benchmark named in %q (built-in: %s)", list, strings.Join(Names(), ", "))
	}
	return out, nil
}
