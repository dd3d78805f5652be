package cli

import (
	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

func newScorersCmd(env Env) *cobra.Command {
	var asJSON bool
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
  tunecheck scorers --json`,
		RunE: func(_ *cobra.Command, args []string) error {
			return runScorers(env, args, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
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
