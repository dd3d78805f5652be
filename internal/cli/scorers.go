package cli

import (
	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

func newScorersCmd(env Env) *cobra.Command {
	var asJSON bool
	var format string
	cmd := &cobra.Command{
		Use:   "scorers [NAME...]",
		Short: "List the scorers a plan's tasks can use, with their metrics and options",
		Long: `scorers lists every scorer a task's scorers list can name: what it computes and the
reference it matches, each metric it reports (direction, whether the task value is a
mean of items or a corpus value, the value per item, the paired test), and its options
(type, default, meaning). Name scorers to show only those. docs/plan.md holds the same
reference.`,
		Example: `  tunecheck scorers
  tunecheck scorers bleu ter f1
  tunecheck scorers -f json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := jsonAlias(cmd, asJSON, &format); err != nil {
				return err
			}
			format, err := outputFormat(env, format, "text", "json")
			if err != nil {
				return err
			}
			return runScorers(env, args, format == "json")
		},
	}
	addFormatFlag(cmd.Flags(), &format, "text", "text", "json")
	addJSONAlias(cmd.Flags(), &asJSON)
	return cmd
}

func runScorers(env Env, names []string, asJSON bool) error {
	es, err := scorer.Select(names...)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if asJSON {
		return scorer.WriteJSON(env.Stdout, es)
	}
	return scorer.WriteList(env.Stdout, es)
}
