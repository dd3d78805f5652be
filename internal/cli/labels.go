package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/store"
)

// newLabelsCmd moves the human labels recorded in the viewer in and out of
// the store as the JSONL `judge calibrate` reads (docs/judge.md).
func newLabelsCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "labels",
		Short: "Export or import a run's human labels (the JSONL judge calibrate reads)",
		Long: `labels moves the human labels of a stored run — recorded in tunecheck view, or written
by hand — in and out of the store, in the human-label JSONL that tunecheck judge calibrate
reads (docs/judge.md). Labels never change a run or its results.`,
	}
	cmd.AddCommand(newLabelsExportCmd(env), newLabelsImportCmd(env))
	return cmd
}

func newLabelsExportCmd(env Env) *cobra.Command {
	var loc storeFlags
	var kind, user, output string
	cmd := &cobra.Command{
		Use:   "export [RUN]",
		Short: "Write a run's labels (default: the latest finished run) as human-label JSONL",
		Example: `  tunecheck labels export latest --kind preference -o labels.jsonl
  tunecheck judge calibrate --judgments judgments.jsonl --labels labels.jsonl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := loc.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			run, _, err := app.LoadReport(cmd.Context(), st, runArg(args))
			if err != nil {
				return err
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
			n, err := st.ExportLabels(cmd.Context(), run.ID, w, store.LabelFilter{Kind: kind, User: user})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "%d labels of run %s\n", n, run.ID)
			return nil
		},
	}
	loc.add(cmd)
	cmd.Flags().StringVar(&kind, "kind", "", "only labels of this kind: preference, rating, tags or note")
	cmd.Flags().StringVar(&user, "user", "", "only this person's labels")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (default: standard output)")
	return cmd
}

func newLabelsImportCmd(env Env) *cobra.Command {
	var loc storeFlags
	var user, taskName, format string
	cmd := &cobra.Command{
		Use:   "import RUN FILE",
		Short: "Store human labels from a JSONL file with a run (checked line by line before any is stored)",
		Example: `  tunecheck labels import latest labels.jsonl --user ana
  tunecheck labels import latest labels.jsonl --task qa -f json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(env, format, "text", "json")
			if err != nil {
				return err
			}
			st, err := loc.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			run, rep, err := app.LoadReport(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			if taskName == "" && len(rep.Tasks) == 1 {
				taskName = rep.Tasks[0].Name // lines need not name the only task
			}
			f, err := os.Open(args[1])
			if err != nil {
				return exitcode.WithCode(err, exitcode.BadInput)
			}
			defer f.Close()
			n, err := st.ImportLabels(cmd.Context(), run.ID, f, store.ImportOptions{Name: args[1], User: user, Task: taskName})
			if err != nil {
				return exitcode.WithCode(err, exitcode.BadInput)
			}
			if format == "json" {
				return writeJSON(env.Stdout, struct {
					Run    string `json:"run"`
					Stored int    `json:"stored"`
				}{run.ID, n})
			}
			fmt.Fprintf(env.Stdout, "stored %d labels with run %s\n", n, run.ID)
			return nil
		},
	}
	loc.add(cmd)
	cmd.Flags().StringVar(&user, "user", "", "the annotator of lines that name none")
	cmd.Flags().StringVar(&taskName, "task", "", "the task of lines that name none (needed when the run has several tasks)")
	addFormatFlag(cmd.Flags(), &format, "text", "text", "json")
	return cmd
}
