package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/tunecheck/tunecheck/internal/bench"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/lmeval"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/report"
)

// addBenchmarks replaces the plan's `benchmark:` entries with the built-in
// benchmarks' tasks, and appends those o.Benchmarks names (`run --tasks`),
// run against the plan's models. Each lm-eval task becomes a
// plan task through lmeval.Export (the prompt bytes as `context`, sent as a
// completion prompt), its rows written to a folder under tmpDir; MMLU's
// subjects form the group mmlu. The plan hash records the benchmarks, so a
// run with them never resumes one without. It returns the benchmark of each
// added task, by task name.
func addBenchmarks(p *plan.Plan, o Options, tmpDir string) (map[string]*report.BenchmarkInfo, error) {
	type request struct {
		b       *bench.Benchmark
		dataDir string
		at      string
	}
	var reqs []request
	var lmevals []plan.Task
	// The plan's `benchmark:` and `lm_eval:` entries, in place of which
	// their tasks come.
	kept := p.Tasks[:0:0]
	for i, t := range p.Tasks {
		if t.LMEval != "" {
			lmevals = append(lmevals, t)
			continue
		}
		if t.Benchmark == "" {
			kept = append(kept, t)
			continue
		}
		bs, err := bench.Lookup(t.Benchmark)
		if err != nil {
			return nil, exitcode.WithCode(err, exitcode.BadInput) // plan validation names it first
		}
		dir := ""
		if t.DataDir != "" {
			dir = p.Resolve(t.DataDir)
		}
		for _, b := range bs {
			reqs = append(reqs, request{b, dir, fmt.Sprintf("tasks[%d].data_dir", i)})
		}
	}
	p.Tasks = kept
	if len(o.Benchmarks) > 0 {
		bs, err := bench.Parse(strings.Join(o.Benchmarks, ","))
		if err != nil {
			return nil, exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput), "`tunecheck tasks` lists the built-in benchmarks")
		}
		for _, b := range bs {
			reqs = append(reqs, request{b, o.BenchDataDir, "--data-dir"})
		}
	}
	out := map[string]*report.BenchmarkInfo{}
	var names []string
	for _, e := range lmevals {
		pt, info, err := lmevalTask(p, e, tmpDir)
		if err != nil {
			return nil, err
		}
		p.Tasks = append(p.Tasks, pt)
		out[pt.Name] = info
		names = append(names, pt.Name+"@"+info.Version)
	}
	if len(reqs) == 0 {
		if len(names) > 0 {
			p.Hash += "+lm_eval=" + strings.Join(names, ",")
		}
		return out, nil
	}
	set, err := bench.LoadTasks()
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, t := range p.Tasks {
		taken[t.Name] = true
		if t.Group != "" {
			taken[t.Group] = true
		}
	}
	for _, r := range reqs {
		b := r.b
		data := bench.Embedded()
		if r.dataDir != "" {
			if _, err := os.Stat(r.dataDir); err != nil {
				return nil, exitcode.WithCode(fmt.Errorf("%s: %w", r.at, err), exitcode.BadInput)
			}
			data = bench.Dir(r.dataDir)
		}
		if taken[b.Name] {
			return nil, exitcode.WithCode(fmt.Errorf("benchmark %s: the plan already has a task or group named %s (or names the benchmark twice); rename the plan's task", b.Name, b.Name), exitcode.BadInput)
		}
		taken[b.Name] = true
		ins, err := b.Build(set, data, bench.Options{})
		if err != nil {
			return nil, exitcode.WithCode(fmt.Errorf("benchmark %s: %w", b.Name, err), exitcode.BadInput)
		}
		byTask := map[string][]lmeval.Instance{}
		for _, in := range ins {
			byTask[in.Task] = append(byTask[in.Task], lmeval.Instance{Doc: in.Doc, Context: in.Context, Choices: in.Choices,
				Continuations: in.Continuations, Gold: in.Gold, Targets: in.Targets})
		}
		info := &report.BenchmarkInfo{Name: b.Name, Version: b.Version, Source: b.Source, NShot: b.NShot, Metrics: b.Metrics}
		if b.Name == "humaneval" {
			pt, err := codeTask(b.Name, ins, filepath.Join(tmpDir, b.Name+".jsonl"))
			if err != nil {
				return nil, err
			}
			p.Tasks = append(p.Tasks, pt)
			out[b.Name] = info
			names = append(names, b.Name+"@"+b.Version)
			continue
		}
		if b.Name == "winogrande" {
			pt, err := partialTask(b.Name, ins, filepath.Join(tmpDir, b.Name+".jsonl"))
			if err != nil {
				return nil, err
			}
			p.Tasks = append(p.Tasks, pt)
			out[b.Name] = info
			names = append(names, b.Name+"@"+b.Version)
			continue
		}
		for _, name := range b.TaskNames() {
			if taken[name] && name != b.Name {
				return nil, exitcode.WithCode(fmt.Errorf("benchmark %s: the plan already has a task named %s; rename the plan's task", b.Name, name), exitcode.BadInput)
			}
			lt, _ := set.Task(name)
			rowsPath := filepath.Join(tmpDir, name+".jsonl")
			rows, yml, err := lmeval.Export(lt, byTask[name], rowsPath)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: %w", b.Name, err)
			}
			if b.Name == "truthfulqa_mc2" {
				// MC2 scores the probability mass of the true answers.
				for i, in := range ins {
					labels := make([]any, len(in.Choices))
					for j := range labels {
						labels[j] = 0
					}
					for _, g := range in.Golds {
						labels[g] = 1
					}
					rows[i]["labels"] = labels
				}
			}
			if err := writeRows(rowsPath, rows); err != nil {
				return nil, err
			}
			var pts []plan.Task
			if err := yaml.Unmarshal(yml, &pts); err != nil || len(pts) != 1 {
				return nil, fmt.Errorf("benchmark %s: task %s: reading the exported task: %v", b.Name, name, err)
			}
			pt := pts[0]
			if b.Name == "gsm8k" {
				sc, err := formatScorer(lt)
				if err != nil {
					return nil, err
				}
				pt.Scorers = append(pt.Scorers, sc)
			}
			if len(b.Tasks) > 0 {
				pt.Group = b.Name
			}
			if pt.Type == "multiple_choice" {
				// lm-eval scores every choice by its log-likelihood; the
				// benchmark's numbers mean nothing under another protocol.
				pt.Options = map[string]any{"protocol": "loglikelihood"}
				if b.Name == "truthfulqa_mc2" {
					pt.Options["mc2_labels"] = "labels"
				}
			}
			p.Tasks = append(p.Tasks, pt)
			out[name] = info
		}
		names = append(names, b.Name+"@"+b.Version)
	}
	p.Hash += "+tasks=" + strings.Join(names, ",")
	return out, nil
}

// lmevalTask is a plan's `lm_eval: FILE` entry as a task: the file's task
// read unmodified, its prompts built from data_dir exactly as lm-eval builds
// them, and exported to one of our task types (lmeval.Export, as `tunecheck
// lm-eval export` does). The report marks it with the file as its source.
func lmevalTask(p *plan.Plan, e plan.Task, tmpDir string) (plan.Task, *report.BenchmarkInfo, error) {
	path := p.Resolve(e.LMEval)
	set, err := lmeval.NewLoader().LoadFile(path)
	if err != nil {
		return plan.Task{}, nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	if len(set.Tasks) != 1 || len(set.Groups) > 0 {
		return plan.Task{}, nil, exitcode.WithCode(fmt.Errorf("lm_eval %s: a file of one task is needed", e.LMEval), exitcode.BadInput)
	}
	lt := set.Tasks[0]
	splits, err := lt.LoadSplits(p.Resolve(e.DataDir), lmeval.BuildOptions{})
	if err != nil {
		return plan.Task{}, nil, exitcode.WithCode(fmt.Errorf("lm_eval %s: %w", e.LMEval, err), exitcode.BadInput)
	}
	ins, err := lt.Build(splits, lmeval.BuildOptions{})
	if err != nil {
		return plan.Task{}, nil, exitcode.WithCode(fmt.Errorf("lm_eval %s: %w", e.LMEval, err), exitcode.BadInput)
	}
	rowsPath := filepath.Join(tmpDir, "lm_eval-"+lt.Name+".jsonl")
	rows, yml, err := lmeval.Export(lt, ins, rowsPath)
	if err != nil {
		return plan.Task{}, nil, exitcode.WithCode(fmt.Errorf("lm_eval %s: %w", e.LMEval, err), exitcode.BadInput)
	}
	if err := writeRows(rowsPath, rows); err != nil {
		return plan.Task{}, nil, err
	}
	var pts []plan.Task
	if err := yaml.Unmarshal(yml, &pts); err != nil || len(pts) != 1 {
		return plan.Task{}, nil, fmt.Errorf("lm_eval %s: reading the exported task: %v", e.LMEval, err)
	}
	pt := pts[0]
	if pt.Type == "multiple_choice" {
		pt.Options = map[string]any{"protocol": "loglikelihood"} // lm-eval's protocol; see addBenchmarks
	}
	var metrics []string
	for _, m := range lt.Metrics {
		metrics = append(metrics, m.Metric)
	}
	return pt, &report.BenchmarkInfo{Name: lt.Name, Version: lt.Version, Source: "lm-eval task file " + e.LMEval, NShot: lt.NumFewshot, Metrics: metrics}, nil
}

// partialTask is WinoGrande as a multiple_choice task under partial
// evaluation: the contexts are the choices, the continuation is shared.
func partialTask(name string, ins []bench.Instance, rowsPath string) (plan.Task, error) {
	rows := make([]map[string]any, len(ins))
	for i, in := range ins {
		if len(in.Continuations) != 1 || !strings.HasPrefix(in.Continuations[0], " ") {
			return plan.Task{}, fmt.Errorf("benchmark %s doc %d: want one shared continuation after a space", name, in.Doc)
		}
		rows[i] = map[string]any{"id": fmt.Sprintf("%s-%d", name, in.Doc), "context": in.Context, "choices": in.Contexts,
			"continuation": in.Continuations[0][1:], "gold": in.Gold}
	}
	if err := writeRows(rowsPath, rows); err != nil {
		return plan.Task{}, err
	}
	chat := false
	return plan.Task{Name: name, Type: "multiple_choice", Dataset: plan.Dataset{Path: rowsPath},
		Prompt: plan.Prompt{Template: "{{ context }}", Chat: &chat}, Choices: "choices", Answer: "gold",
		Options: map[string]any{"protocol": "loglikelihood", "continuation": "continuation"}}, nil
}

// formatScorer reports, beside GSM8K's exact matches, whether the answer
// is in the format strict-match reads ("#### N"): 1 when it is, so the
// format-failure rate is 1 − strict_match_format. A fine-tune that drops
// the format loses strict-match without being wrong, and this says so.
func formatScorer(t *lmeval.Task) (plan.Scorer, error) {
	for _, p := range t.Filters {
		if p.Name != "strict-match" {
			continue
		}
		for _, st := range p.Steps {
			if st.Function == "regex" && st.Pattern != nil {
				return plan.Scorer{Name: "regex", Options: map[string]any{"pattern": st.Pattern.String(), "name": "strict_match_format"}}, nil
			}
		}
	}
	return plan.Scorer{}, fmt.Errorf("task %s: no strict-match regex filter to check the answer format with", t.Name)
}

// codeTask is HumanEval as a task of the code type: each problem's prompt
// (lm-eval's doc_to_text, golden-tested in internal/bench) is completed and
// run against its test in the sandbox, pass@1 over params.n samples. The
// run refuses it before any request without --confirm-run-unsafe-code.
func codeTask(name string, ins []bench.Instance, rowsPath string) (plan.Task, error) {
	rows := make([]map[string]any, len(ins))
	for i, in := range ins {
		if len(in.Targets) != 1 || in.EntryPoint == "" {
			return plan.Task{}, fmt.Errorf("benchmark %s doc %d: want one test program and an entry point", name, in.Doc)
		}
		id := fmt.Sprintf("HumanEval/%d", in.Doc)
		rows[i] = map[string]any{"id": id, "task_id": id, "prompt": in.Context, "entry_point": in.EntryPoint, "test": in.Targets[0]}
	}
	if err := writeRows(rowsPath, rows); err != nil {
		return plan.Task{}, err
	}
	chat := false
	return plan.Task{Name: name, Type: "code", Dataset: plan.Dataset{Path: rowsPath},
		Prompt: plan.Prompt{Chat: &chat}, Options: map[string]any{"k": []any{1}}}, nil
}

func writeRows(path string, rows []map[string]any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func hasBenchmarkEntries(p *plan.Plan) bool {
	for _, t := range p.Tasks {
		if t.Benchmark != "" || t.LMEval != "" {
			return true
		}
	}
	return false
}

// groupBenchmark is the benchmark a group stands for (mmlu): every member
// task carries the same benchmark, named as the group.
func groupBenchmark(tasks []report.Task, group string, members []string) *report.BenchmarkInfo {
	var b *report.BenchmarkInfo
	for _, m := range members {
		found := false
		for i := range tasks {
			if tasks[i].Name != m {
				continue
			}
			found = true
			tb := tasks[i].Benchmark
			if tb == nil || tb.Name != group || (b != nil && b != tb) {
				return nil
			}
			b = tb
		}
		if !found {
			return nil
		}
	}
	return b
}
