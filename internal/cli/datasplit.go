package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/leakage"
)

// dataSplitOptions are the flags of `tunecheck data split`.
type dataSplitOptions struct {
	read      leakageReadFlags
	job       leakage.SplitJob
	noCheck   bool
	maxPairs  int
	output    string
	failAbove float64
}

func newDataSplitCmd(env Env) *cobra.Command {
	o := dataSplitOptions{}
	cmd := &cobra.Command{
		Use:   "split INPUT --out DIR",
		Short: "Split a data set without leaks: random, stratified, grouped, chronological, k-fold",
		Long: `split writes DIR/train.jsonl and DIR/test.jsonl (k-fold: DIR/fold-N/train.jsonl and
test.jsonl), each line copied byte for byte, and DIR/split.json recording the method,
seed, fields, input sha256 and counts. Methods:

  random         shuffle with --seed, --test fraction to test
  stratified     the same share of every --label value in test
  grouped        every --group value (a conversation, a customer) on one side only
  chronological  the latest --test fraction by --time (RFC 3339, YYYY-MM-DD or a number)
  kfold          --folds folds; with --group, groups are kept whole

Then exact and MinHash duplicate checks run on each train/test pair and their
findings are printed: a random split of a set with duplicates leaks by construction.`,
		Example: `  tunecheck data split data.jsonl --out splits/ --test 0.1 --seed 7
  tunecheck data split chats.jsonl --out splits/ --method grouped --group conversation_id
  tunecheck data split tickets.jsonl --out splits/ --method chronological --time created_at
  tunecheck data split data.jsonl --out folds/ --method kfold --folds 5 --group customer`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.job.Input = args[0]
			if !cmd.Flags().Changed("fail-above") {
				o.failAbove = -1
			}
			return runDataSplit(cmd, env, o)
		},
	}
	o.read.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.job.OutDir, "out", "", "output directory; required")
	f.StringVar(&o.job.Split.Method, "method", leakage.SplitRandom, "random, stratified, grouped, chronological or kfold")
	f.Float64Var(&o.job.Split.TestFraction, "test", 0.2, "fraction of rows in the test part")
	f.IntVar(&o.job.Split.Folds, "folds", 5, "folds for kfold")
	f.Uint64Var(&o.job.Split.Seed, "seed", 1, "shuffle seed (recorded in split.json)")
	f.StringVar(&o.job.Split.LabelField, "label", "", "label field for stratified splits")
	f.StringVar(&o.job.Split.GroupField, "group", "", "group field for grouped splits and group k-fold")
	f.StringVar(&o.job.Split.TimeField, "time", "", "time field for chronological splits")
	f.BoolVar(&o.noCheck, "no-check", false, "skip the duplicate checks on the result")
	f.Float64Var(&o.job.CheckOptions.Threshold, "threshold", 0.8, "Jaccard threshold of the near-duplicate check")
	f.IntVar(&o.maxPairs, "max-pairs", 20, "findings printed per part (0 = all)")
	f.StringVarP(&o.output, "output", "o", "text", "output: text or json (the manifest)")
	f.Float64Var(&o.failAbove, "fail-above", -1, "exit 1 when the share of test rows with a duplicate in train is above this percentage")
	return cmd
}

func runDataSplit(cmd *cobra.Command, env Env, o dataSplitOptions) error {
	if o.job.OutDir == "" {
		return exitcode.WithCode(fmt.Errorf("--out DIR is required"), exitcode.BadInput)
	}
	if _, err := os.Stat(o.job.Input); err != nil {
		return exitcode.WithCode(fmt.Errorf("cannot read %s: %w", o.job.Input, err), exitcode.BadInput)
	}
	if err := o.job.Split.Validate(); err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if o.output != "text" && o.output != "json" {
		return exitcode.WithCode(fmt.Errorf("--output %q: use text or json", o.output), exitcode.BadInput)
	}
	o.job.Read = o.read.options(o.read.fields)
	o.job.Check = !o.noCheck
	o.job.CheckOptions.Normalize = leakage.DefaultNormalize()
	o.job.CheckOptions.Seed = o.job.Split.Seed
	rep, err := leakage.RunSplit(cmd.Context(), o.job)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if o.output == "json" {
		b, err := os.ReadFile(rep.Manifest)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(b)
		if err != nil {
			return err
		}
	} else if err := leakage.WriteSplitText(env.Stdout, rep, o.maxPairs); err != nil {
		return err
	}
	worst := 0.0
	for _, p := range rep.Parts {
		if p.Check != nil {
			worst = max(worst, 100*p.Check.LeakedShare)
		}
	}
	if o.failAbove >= 0 && worst > o.failAbove {
		return exitcode.WithCode(fmt.Errorf("%.1f%% of test rows have a duplicate in train, above --fail-above %g%%", worst, o.failAbove), exitcode.GateFailed)
	}
	return nil
}
