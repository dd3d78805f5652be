package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// judgeOutputsOptions are the flags of `tunecheck judge outputs`.
type judgeOutputsOptions struct {
	data, idField, question, turns, reference string
	models                                    []string
	judgeURL, judgeModel, judgeKeyEnv         string
	judgeProvider                             string
	mode, template, parse                     string
	output, store, formats                    string
	printPlan, dryRun                         bool
}

func newJudgeOutputsCmd(env Env) *cobra.Command {
	o := judgeOutputsOptions{}
	cmd := &cobra.Command{
		Use:   "outputs",
		Short: "Judge answers generated elsewhere (JSONL files of id + output) with an LLM judge",
		Long: `outputs judges recorded answers without generating anything: each --model NAME=FILE
is a JSONL file of {"id": …, "output": …} (the file provider's format, docs/formats.md),
keyed by the ids of --data. With one model every answer is graded (single); with two, the
first is the baseline and the second the candidate, and --mode pairwise judges them
against each other in both orders.

It writes the plan it runs (plan.yaml in the output directory, with absolute paths) and
runs it as tunecheck run would: the judgments go through the runner (cache, retries,
resume), are stored as a run, and are reported with judge_score or judge_win, paired tests,
failures counted, and the judging section (templates' hashes, position bias, lengths).
--print-plan prints the plan instead, to edit and run with tunecheck run.`,
		Example: `  tunecheck judge outputs --data mtbench/question.jsonl --id-field question_id --turns turns \
    --model base=base.jsonl --model tuned=tuned.jsonl \
    --judge-url http://localhost:8000/v1 --judge-model Qwen/Qwen2.5-72B-Instruct
  tunecheck judge outputs --data qa.jsonl --question q --model tuned=out.jsonl \
    --judge-model gpt-4o --judge-key-env OPENAI_API_KEY --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			text, dir, err := judgeOutputsPlan(o)
			if err != nil {
				return exitcode.WithCode(err, exitcode.BadInput)
			}
			if o.printPlan {
				_, err := fmt.Fprint(env.Stdout, text)
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			path := filepath.Join(dir, "plan.yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				return err
			}
			return runRun(cmd, env, path, runOptions{store: o.store, output: dir, formats: o.formats, seed: -1, dryRun: o.dryRun})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "the questions: JSONL, JSON, CSV, TSV or Parquet")
	f.StringVar(&o.idField, "id-field", "id", "the field of --data holding the ids the output files are keyed by")
	f.StringVar(&o.question, "question", "question", "the field holding the question (or a Jinja template over the row)")
	f.StringVar(&o.turns, "turns", "", "the field holding a list of user turns (MT-Bench's turns): the judge sees the whole conversation")
	f.StringVar(&o.reference, "reference", "", "the field holding a reference answer to show the judge")
	f.StringArrayVar(&o.models, "model", nil, "NAME=FILE: a model's outputs (JSONL of id + output); twice for baseline then candidate")
	f.StringVar(&o.judgeProvider, "judge-provider", "openai", "the judge's provider: openai, anthropic or ollama")
	f.StringVar(&o.judgeURL, "judge-url", "", "the judge endpoint's base URL (the provider's default when empty)")
	f.StringVar(&o.judgeModel, "judge-model", "", "the judge's model id")
	f.StringVar(&o.judgeKeyEnv, "judge-key-env", "", "the environment variable holding the judge's API key")
	f.StringVar(&o.mode, "mode", "single", "single (grade each answer) or pairwise (baseline vs candidate, both orders)")
	f.StringVar(&o.template, "template", "", "a built-in judge template (default: MT-Bench's, chosen per item)")
	f.StringVar(&o.parse, "parse", "fastchat", "fastchat or strict")
	f.StringVarP(&o.output, "output", "o", "tunecheck-judge", "directory plan.yaml and the report files are written to")
	f.StringVar(&o.store, "store", "", "the store (default: .tunecheck/tunecheck.db beside plan.yaml)")
	f.StringVarP(&o.formats, "format", "f", "md,json", "report files to write, comma-separated: md, json, html, junit")
	f.BoolVar(&o.printPlan, "print-plan", false, "print the plan and exit")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the judge calls with estimated tokens and cost; send nothing")
	return cmd
}

// judgeOutputsPlan writes the plan `judge outputs` runs, and the directory
// it goes in. Strings are written as JSON strings, which YAML reads as they are.
func judgeOutputsPlan(o judgeOutputsOptions) (string, string, error) {
	q := strconv.Quote
	abs := func(p string) (string, error) {
		a, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(a); err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		return a, nil
	}
	switch {
	case o.data == "":
		return "", "", fmt.Errorf("--data names the questions file")
	case len(o.models) == 0 || len(o.models) > 2:
		return "", "", fmt.Errorf("give one --model NAME=FILE to grade, or two (baseline, then candidate); got %d", len(o.models))
	case o.judgeModel == "":
		return "", "", fmt.Errorf("--judge-model names the judge's model id")
	case o.mode == "pairwise" && len(o.models) != 2:
		return "", "", fmt.Errorf("--mode pairwise compares two models: give --model twice (baseline, then candidate)")
	}
	data, err := abs(o.data)
	if err != nil {
		return "", "", err
	}
	dir, err := filepath.Abs(o.output)
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	b.WriteString("# Written by tunecheck judge outputs: judge recorded answers, generate nothing.\nversion: 1\nname: judge-outputs\n\nmodels:\n")
	var names []string
	for _, m := range o.models {
		name, file, ok := strings.Cut(m, "=")
		if !ok || name == "" || file == "" {
			return "", "", fmt.Errorf("--model %q: write NAME=FILE, e.g. --model tuned=outputs.jsonl", m)
		}
		path, err := abs(file)
		if err != nil {
			return "", "", fmt.Errorf("--model %s: %w", name, err)
		}
		names = append(names, name)
		fmt.Fprintf(&b, "  - {name: %s, provider: file, path: %s}\n", q(name), q(path))
	}
	fmt.Fprintf(&b, "\njudges:\n  - name: judge\n    provider: %s\n    model: %s\n", q(o.judgeProvider), q(o.judgeModel))
	if o.judgeURL != "" {
		fmt.Fprintf(&b, "    base_url: %s\n", q(o.judgeURL))
	}
	if o.judgeKeyEnv != "" {
		fmt.Fprintf(&b, "    api_key_env: %s\n", q(o.judgeKeyEnv))
	}
	fmt.Fprintf(&b, "\ntasks:\n  - name: judged\n    dataset: {path: %s, id_field: %s}\n", q(data), q(o.idField))
	if o.turns != "" {
		fmt.Fprintf(&b, "    turns: %s\n", q(o.turns))
	} else {
		src := o.question
		if !strings.Contains(src, "{{") {
			src = "{{ " + src + " }}"
		}
		fmt.Fprintf(&b, "    prompt: {template: %s}\n", q(src))
	}
	fmt.Fprintf(&b, "    judge:\n      with: [judge]\n      mode: %s\n      parse: %s\n", q(o.mode), q(o.parse))
	if o.template != "" {
		fmt.Fprintf(&b, "      template: %s\n", q(o.template))
	}
	if o.reference != "" {
		fmt.Fprintf(&b, "      reference: %s\n", q(o.reference))
	}
	if len(names) == 2 {
		fmt.Fprintf(&b, "\ncompare:\n  baseline: %s\n  candidate: %s\n", q(names[0]), q(names[1]))
	}
	fmt.Fprintf(&b, "\noutput: %s\n", q(dir))
	return b.String(), dir, nil
}
