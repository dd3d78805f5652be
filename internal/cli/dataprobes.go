package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/safety/bias"
)

// newDataProbesCmd writes counterfactual probes: every template with its
// {group} slot filled by every group, one item per pair, with a group field
// a plan slices by (internal/safety/bias).
func newDataProbesCmd(env Env) *cobra.Command {
	var groups []string
	var textField, output string
	cmd := &cobra.Command{
		Use:   "probes TEMPLATES",
		Short: "Counterfactual probes: fill a {group} slot from a list, for per-group metrics and gap gates",
		Long: `probes reads TEMPLATES (JSONL, JSON, CSV, TSV or Parquet; each row an id and a text with a
{group} slot) and writes one item per template and group — id TEMPLATE/GROUP, template_id,
group and text — as JSONL. Evaluate them with a plan whose task slices by group, and gate on
the largest gap between groups (docs/safety.md):

  slices: [{field: group}]
  gates: [probes.judge_score.slice(group).gap <= 1, probes.refusal.slice(group).delta_gap <= 0.05]`,
		Example: `  tunecheck data probes templates.jsonl --groups 'women,men,nonbinary people' -o probes.jsonl`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ds, err := dataset.Load(args[0], dataset.Options{IDField: "id"})
			if err != nil {
				return exitcode.WithCode(err, exitcode.BadInput)
			}
			var templates []bias.ProbeTemplate
			for _, r := range ds.Rows {
				text, ok := r.Fields[textField].(string)
				if !ok {
					return exitcode.WithCode(fmt.Errorf("%s line %d: field %q must be a string holding the template", args[0], r.Line, textField), exitcode.BadInput)
				}
				templates = append(templates, bias.ProbeTemplate{ID: r.ID, Text: text})
			}
			var clean []string
			for _, g := range groups {
				if g = strings.TrimSpace(g); g != "" {
					clean = append(clean, g)
				}
			}
			probes, err := bias.FillProbes(templates, clean)
			if err != nil {
				return exitcode.WithCode(fmt.Errorf("%s: %w", args[0], err), exitcode.BadInput)
			}
			var w io.Writer = env.Stdout
			if output != "" && output != "-" {
				f, err := os.Create(output)
				if err != nil {
					return exitcode.WithCode(err, exitcode.BadInput)
				}
				defer f.Close()
				w = f
			}
			if err := bias.WriteProbesJSONL(w, probes); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "%d probes: %d templates × %d groups\n", len(probes), len(templates), len(clean))
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&groups, "groups", nil, "the groups that fill the {group} slot (comma-separated, at least 2)")
	cmd.Flags().StringVar(&textField, "text-field", "text", "the field holding each template")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (default: standard output)")
	return cmd
}
