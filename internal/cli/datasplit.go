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
	format    string
	oldOut    string // --out, the old spelling of -o/--output
	failAbove float64
}

func newDataSplitCmd(env Env) *cobra.Command {
	o := dataSplitOptions{}
	cmd := &cobra.Command{
		Use:   "split INPUT -o DIR",
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
		Example: `  tunecheck data split data.jsonl -o splits/ --test 0.1 --seed 7
  tunecheck data split chats.jsonl -o splits/ --method grouped --group conversation_id
  tunecheck data split tickets.jsonl -o splits/ --method chronological --time created_at
  tunecheck data split data.jsonl -o folds/ --method kfold --folds 5 --group customer -f json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.legacy(cmd, env); err != nil {
				return err
			}
			o.job.Input = args[0]
			if !cmd.Flags().Changed("fail-above") {
				o.failAbove = -1
			}
			return runDataSplit(cmd, env, o)
		},
	}
	o.read.add(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.job.OutDir, "output", "o", "", "directory the parts and split.json are written to; required")
	f.StringVar(&o.oldOut, "out", "", "deprecated: use -o/--output")
	f.Lookup("out").Hidden = true
	f.SetAnnotation("out", deprecatedAnnotation, []string{"-o/--output"})
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
	addFormatFlag(f, &o.format, "text", "text", "json")
	f.Float64Var(&o.failAbove, "fail-above", -1, "exit 1 when the share of test rows with a duplicate in train is above this percentage")
	return cmd
}

// legacy reads the spellings from before the vocabulary: --out DIR (now
// -o/--output), -o FORMAT (now --format) and --format ROWS (now
// --input-format).
func (o *dataSplitOptions) legacy(cmd *cobra.Command, env Env) error {
	fl := cmd.Flags()
	old := fl.Changed("out") // its warning comes from rootPreRun
	// With --out, -o can only be the old format; leave the directory aside
	// while that is read.
	if err := o.read.legacy(cmd, env, &o.format, &o.job.OutDir, old, "text", "json"); err != nil {
		return err
	}
	if old {
		if o.job.OutDir != "" {
			return badFlag(fmt.Errorf("--out %s and -o %s both name the directory", o.oldOut, o.job.OutDir), "drop --out (the old spelling of -o/--output)")
		}
		o.job.OutDir = o.oldOut
	}
	return nil
}

func runDataSplit(cmd *cobra.Command, env Env, o dataSplitOptions) error {
	if o.job.OutDir == "" {
		return exitcode.WithCode(fmt.Errorf("-o DIR is required: the directory the parts are written to"), exitcode.BadInput)
	}
	if _, err := os.Stat(o.job.Input); err != nil {
		return exitcode.WithCode(fmt.Errorf("cannot read %s: %w", o.job.Input, err), exitcode.BadInput)
	}
	if err := o.job.Split.Validate(); err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	o.job.Read = o.read.options(o.read.fields)
	o.job.Check = !o.noCheck
	o.job.CheckOptions.Normalize = leakage.DefaultNormalize()
	o.job.CheckOptions.Seed = o.job.Split.Seed
	rep, err := leakage.RunSplit(cmd.Context(), o.job)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if o.format == "json" {
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
