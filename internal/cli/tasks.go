package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/bench"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

func newTasksCmd(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "tasks [NAME...]",
		Short: "List the built-in benchmarks (lm-eval names) with n-shot, metrics, version and source",
		Long: `tasks lists the benchmarks tunecheck has built in, named as lm-evaluation-harness
names them: the task type each runs as, its few-shot count, the metrics reported, the
lm-eval task version its prompts follow, and the dataset's source and licence. Run them
with ` + "`tunecheck run PLAN --tasks mmlu,gsm8k`" + `; docs/benchmarks-builtin.md describes each.
Name benchmarks to show only those ("arc" stands for arc_easy and arc_challenge).`,
		Example: `  tunecheck tasks
  tunecheck tasks mmlu gsm8k
  tunecheck tasks -f json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(env, format, "text", "json")
			if err != nil {
				return err
			}
			bs := bench.Registry()
			if len(args) > 0 {
				if bs, err = bench.Parse(strings.Join(args, ",")); err != nil {
					return exitcode.WithCode(err, exitcode.BadInput)
				}
			}
			if format == "json" {
				return bench.WriteJSON(env.Stdout, bs)
			}
			return bench.WriteList(env.Stdout, bs)
		},
	}
	addFormatFlag(cmd.Flags(), &format, "text", "text", "json")
	return cmd
}
