package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/lmeval"
)

func newLMEvalCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lm-eval",
		Short: "Read lm-evaluation-harness task YAML files: list what they define, render their prompts",
		Long: `lm-eval reads lm-evaluation-harness task files unmodified (include, !function hooks,
groups, Jinja templates) and shows what tunecheck makes of them. docs/lmeval.md
describes what is supported and the --data-dir layout.`,
		Example: `  tunecheck lm-eval tasks lm_eval/tasks/arc
  tunecheck lm-eval render lm_eval/tasks/arc/arc_easy.yaml --data-dir data --limit 3
  tunecheck lm-eval export lm_eval/tasks/gsm8k/gsm8k.yaml --data-dir data --out gsm8k.jsonl`,
	}
	cmd.AddCommand(newLMEvalTasksCmd(env), newLMEvalRenderCmd(env), newLMEvalExportCmd(env))
	return cmd
}

func newLMEvalTasksCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "tasks DIR",
		Short: "List the tasks and groups a folder of lm-eval YAML files defines",
		Long: `tasks loads every *.yaml under DIR as lm-evaluation-harness does and lists each task
(name, output type, few-shot count, metrics, version, file) and each group with its
members. A file tunecheck cannot load (an unknown key, a !function hook it has no Go
implementation of) stops the listing with an error naming the file and line.`,
		Example: `  tunecheck lm-eval tasks lm_eval/tasks/mmlu`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := lmeval.NewLoader().LoadDir(args[0])
			if err != nil {
				return exitcode.WithCode(err, exitcode.BadInput)
			}
			return writeLMEvalTasks(env.Stdout, set)
		},
	}
}

func writeLMEvalTasks(w io.Writer, set *lmeval.Set) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tOUTPUT_TYPE\tSHOTS\tMETRICS\tVERSION\tFILE")
	for _, t := range set.Tasks {
		var ms []string
		for _, m := range t.Metrics {
			ms = append(ms, m.Metric)
		}
		if len(t.Filters) > 0 {
			var fs []string
			for _, f := range t.Filters {
				fs = append(fs, f.Name)
			}
			ms[len(ms)-1] += " [" + strings.Join(fs, ", ") + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", t.Name, t.OutputType, t.NumFewshot, strings.Join(ms, ", "), dash(t.Version), t.File)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, g := range set.Groups {
		if i == 0 {
			fmt.Fprintln(w)
		}
		members, err := set.Expand(g.Name)
		if err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		var names []string
		for _, m := range members {
			names = append(names, m.Name)
		}
		fmt.Fprintf(w, "group %s (%s): %s\n", g.Name, g.File, strings.Join(names, ", "))
	}
	return nil
}

func newLMEvalRenderCmd(env Env) *cobra.Command {
	var (
		dataDir, taskName string
		limit, shots      int
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "render TASK.yaml",
		Short: "Print the exact prompts an lm-eval task file gives for the first docs",
		Long: `render builds the first --limit docs of a task as lm-evaluation-harness does —
description, few-shot examples (first_n, or random.Random(1234).sample), delimiters —
and prints each context byte for byte, then the continuations (multiple_choice) or the
references and stop sequences (generate_until), quoted. Rows are read from --data-dir
laid out as DATA_DIR/<dataset_path>/<dataset_name>/<split>.jsonl (see docs/lmeval.md).`,
		Example: `  tunecheck lm-eval render tasks/gsm8k/gsm8k.yaml --data-dir data --limit 2
  tunecheck lm-eval render tasks/mmlu/mmlu_anatomy.yaml --data-dir data --num-fewshot 5 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var n *int
			if cmd.Flags().Changed("num-fewshot") {
				if shots < 0 {
					return exitcode.WithCode(fmt.Errorf("--num-fewshot must be ≥ 0"), exitcode.BadInput)
				}
				n = &shots
			}
			if dataDir == "" {
				return exitcode.WithCode(fmt.Errorf("--data-dir is required: the folder holding <dataset_path>/<dataset_name>/<split>.jsonl"), exitcode.BadInput)
			}
			err := runLMEvalRender(env.Stdout, args[0], taskName, dataDir, lmeval.BuildOptions{NumFewshot: n, Limit: limit}, asJSON)
			if err != nil {
				return exitcode.WithCode(err, exitcode.BadInput)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "", "folder holding the datasets' rows (DATA_DIR/<dataset_path>/<dataset_name>/<split>.jsonl)")
	f.StringVar(&taskName, "task", "", "which task of a group file to render (default: the only one)")
	f.IntVar(&limit, "limit", 3, "render the first N docs (0: all)")
	f.IntVar(&shots, "num-fewshot", 0, "few-shot examples per prompt (default: the task's num_fewshot)")
	f.BoolVar(&asJSON, "json", false, "print the instances as JSON")
	return cmd
}

func runLMEvalRender(w io.Writer, path, name, dataDir string, o lmeval.BuildOptions, asJSON bool) error {
	set, err := lmeval.NewLoader().LoadFile(path)
	if err != nil {
		return err
	}
	var task *lmeval.Task
	switch {
	case name != "":
		t, ok := set.Task(name)
		if !ok {
			return fmt.Errorf("%s does not define task %q inline", path, name)
		}
		task = t
	case len(set.Tasks) == 1:
		task = set.Tasks[0]
	default:
		return fmt.Errorf("%s is a group file; render one of its member task files instead (or name an inline task with --task)", path)
	}
	splits, err := task.LoadSplits(dataDir, o)
	if err != nil {
		return err
	}
	ins, err := task.Build(splits, o)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(map[string]any{"task": task.Name, "output_type": task.OutputType, "instances": ins})
	}
	for _, in := range ins {
		shots := ""
		if len(in.Fewshot) > 0 {
			shots = fmt.Sprintf(", few-shot docs %v of %s", in.Fewshot, splitLabel(task.FewshotSource()))
		}
		fmt.Fprintf(w, "=== %s doc %d (%s%s)\n%s\n", task.Name, in.Doc, task.OutputType, shots, in.Context)
		switch task.OutputType {
		case lmeval.MultipleChoice:
			fmt.Fprintf(w, "--- continuations (gold %d)\n", in.Gold)
			for i, c := range in.Continuations {
				fmt.Fprintf(w, "[%d] %q\n", i, c)
			}
		case lmeval.GenerateUntil:
			fmt.Fprintf(w, "--- until %q, max_gen_toks %d\n", task.Until, task.MaxGenToks)
			for _, t := range in.Targets {
				fmt.Fprintf(w, "target %q\n", t)
			}
		default:
			for _, c := range in.Continuations {
				fmt.Fprintf(w, "continuation %q\n", c)
			}
			for _, t := range in.Targets {
				fmt.Fprintf(w, "target %q\n", t)
			}
		}
	}
	return nil
}

func splitLabel(s string) string {
	if s == "" {
		return "fewshot_config.samples"
	}
	return s
}

func newLMEvalExportCmd(env Env) *cobra.Command {
	var (
		dataDir, out string
		limit, shots int
	)
	cmd := &cobra.Command{
		Use:   "export TASK.yaml --data-dir DIR --out FILE.jsonl",
		Short: "Write an lm-eval task's prompts as a dataset and print the plan task that runs it",
		Long: `export builds every doc of an lm-eval task (or the first --limit) as render does, writes
one row per doc to --out (id, context — lm-eval's exact prompt — and choices and gold, or
references), and prints the plan task entry that sends those prompts unchanged: a
multiple_choice, generate or perplexity task with lm-eval's stop sequences, token budget and
exact_match filters as lm_eval_exact_match scorers. Paste it under tasks: in tunecheck.yaml;
the dataset path is written as given to --out, so give it relative to the plan's folder.`,
		Example: `  tunecheck lm-eval export tasks/arc/arc_easy.yaml --data-dir data --out evals/arc_easy.jsonl --num-fewshot 25`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataDir == "" || out == "" {
				return exitcode.WithCode(fmt.Errorf("--data-dir and --out are required"), exitcode.BadInput)
			}
			o := lmeval.BuildOptions{Limit: limit}
			if cmd.Flags().Changed("num-fewshot") {
				if shots < 0 {
					return exitcode.WithCode(fmt.Errorf("--num-fewshot must be ≥ 0"), exitcode.BadInput)
				}
				o.NumFewshot = &shots
			}
			if err := runLMEvalExport(env.Stdout, args[0], dataDir, out, o); err != nil {
				return exitcode.WithCode(err, exitcode.BadInput)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "", "folder holding the datasets' rows (DATA_DIR/<dataset_path>/<dataset_name>/<split>.jsonl)")
	f.StringVar(&out, "out", "", "JSONL file to write the prompts to")
	f.IntVar(&limit, "limit", 0, "export the first N docs (0: all)")
	f.IntVar(&shots, "num-fewshot", 0, "few-shot examples per prompt (default: the task's num_fewshot)")
	return cmd
}

func runLMEvalExport(w io.Writer, path, dataDir, out string, o lmeval.BuildOptions) error {
	set, err := lmeval.NewLoader().LoadFile(path)
	if err != nil {
		return err
	}
	if len(set.Tasks) != 1 || len(set.Groups) > 0 {
		return fmt.Errorf("%s is a group file; export each member task file", path)
	}
	t := set.Tasks[0]
	splits, err := t.LoadSplits(dataDir, o)
	if err != nil {
		return err
	}
	ins, err := t.Build(splits, o)
	if err != nil {
		return err
	}
	rows, snippet, err := lmeval.Export(t, ins, out)
	if err != nil {
		return err
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	if err := os.WriteFile(out, []byte(buf.String()), 0o644); err != nil {
		return fmt.Errorf("writing the prompts: %w", err)
	}
	fmt.Fprintf(w, "# %d prompts of lm-eval task %s written to %s; add under tasks: in tunecheck.yaml\n", len(rows), t.Name, out)
	_, err = w.Write(snippet)
	return err
}
