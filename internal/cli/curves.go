package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// curvesOptions are the flags of `tunecheck curves`.
type curvesOptions struct {
	paths           []string
	format          string
	mapping         string
	output          string
	plot            string
	failOn          []string
	greaterIsBetter bool
	opts            curves.Options
}

func newCurvesCmd(env Env) *cobra.Command {
	o := curvesOptions{opts: curves.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "curves LOG...",
		Short: "Train/eval loss: overfitting, best checkpoint, early stopping",
		Long: `curves reads training logs and says whether the fine-tune is healthy, overfitting
(since which step), diverged, noisy, too short to tell, or has no eval loss; where the
eval-loss minimum (the checkpoint to keep) is; and what Hugging Face's and Keras' early
stopping would have done with the given patience and threshold.

A LOG is a file or directory: trainer_state.json, a Trainer output directory of
checkpoint-*/, LLaMA-Factory trainer_log.jsonl, TensorBoard event files (or their
directory), Lightning/Keras CSV loggers, the OpenAI fine-tuning results CSV, W&B
history exports (CSV or JSONL), or any CSV/JSONL with --map. Several LOGs are
compared on one plot.`,
		Example: `  tunecheck curves output/checkpoint-7000/trainer_state.json
  tunecheck curves output/ --patience 5 --threshold 0.001 --plot loss.svg
  tunecheck curves runs/a.csv runs/b.csv --map step=iter,train=tr_loss,eval=va_loss -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			if cmd.Flags().Changed("greater-is-better") {
				o.opts.GreaterIsBetter = &o.greaterIsBetter
			}
			return runCurves(env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "force the log reader: "+strings.Join(curves.Formats, ", "))
	f.StringVar(&o.mapping, "map", "", "field names of a generic log: step=COL,train=COL,eval=COL")
	f.StringVarP(&o.output, "output", "o", "text", "output: text, json or md")
	f.StringVar(&o.plot, "plot", "", "write a plot of train and eval loss to this .svg, .png or .pdf file")
	f.StringSliceVar(&o.failOn, "fail-on", nil, "exit 1 when a run's verdict is one of these (overfitting, diverged, noisy, ...)")
	f.Float64Var(&o.opts.Smooth, "smooth", o.opts.Smooth, "EMA smoothing weight for train loss, as TensorBoard's slider (0 = off, <1)")
	f.IntVar(&o.opts.Patience, "patience", o.opts.Patience, "early-stopping patience, in evaluations")
	f.Float64Var(&o.opts.Threshold, "threshold", o.opts.Threshold, "early_stopping_threshold (Hugging Face) and min_delta (Keras)")
	f.StringVar(&o.opts.Metric, "metric", "", "metric_for_best_model for the replay (default: eval loss)")
	f.BoolVar(&o.greaterIsBetter, "greater-is-better", false, "the replay metric improves upward (default: inferred from its name)")
	f.BoolVar(&o.opts.RestoreBestWeights, "restore-best-weights", false, "Keras replay: restore_best_weights")
	f.BoolVar(&o.opts.Join, "join", false, "read a lightning_logs/ directory's version_N logs as one resumed run (default: the newest version only)")
	f.IntVar(&o.opts.StartFromEpoch, "start-from-epoch", 0, "Keras replay: start_from_epoch, in evaluations")
	return cmd
}

func runCurves(env Env, o curvesOptions) error {
	if err := o.validate(); err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	as, err := curves.Analyze(o.paths, o.opts)
	if err != nil {
		return err
	}
	if o.plot != "" {
		if err := curves.WritePlot(o.plot, as); err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
	}
	switch o.output {
	case "json":
		for _, a := range as {
			for _, d := range a.Damage {
				fmt.Fprintf(env.Stderr, "warning: %s\n", d)
			}
		}
		err = curves.WriteJSON(env.Stdout, as)
	case "md":
		if _, err = fmt.Fprintf(env.Stdout, "## %s\n\n", curves.MarkdownTitle); err == nil {
			err = curves.WriteMarkdown(env.Stdout, as, o.plot)
		}
	default:
		err = curves.WriteText(env.Stdout, as)
		if err == nil && o.plot != "" {
			_, err = fmt.Fprintf(env.Stdout, "\nplot: %s\n", o.plot)
		}
	}
	if err != nil {
		return err
	}
	var failed []string
	for _, a := range as {
		if slices.Contains(o.failOn, a.Verdict) {
			failed = append(failed, fmt.Sprintf("%s is %s", a.Name, a.Headline()))
		}
	}
	if len(failed) > 0 {
		return exitcode.WithCode(fmt.Errorf("--fail-on: %s", strings.Join(failed, "; ")), exitcode.GateFailed)
	}
	return nil
}

func (o *curvesOptions) validate() error {
	if o.format != "" && !slices.Contains(curves.Formats, o.format) {
		return fmt.Errorf("--format %q: unknown reader (known: %s)", o.format, strings.Join(curves.Formats, ", "))
	}
	o.opts.Format = o.format
	if o.mapping != "" {
		m, err := parseCurvesMap(o.mapping)
		if err != nil {
			return err
		}
		o.opts.Map = m
	}
	switch o.output {
	case "text", "json", "md":
	default:
		return fmt.Errorf("--output %q: use text, json or md", o.output)
	}
	if o.opts.Smooth < 0 || o.opts.Smooth >= 1 {
		return fmt.Errorf("--smooth %g: must be in [0, 1)", o.opts.Smooth)
	}
	if o.opts.Patience < 1 {
		return fmt.Errorf("--patience %d: must be at least 1 evaluation", o.opts.Patience)
	}
	if o.opts.Threshold < 0 {
		return fmt.Errorf("--threshold %g: must not be negative", o.opts.Threshold)
	}
	if o.opts.StartFromEpoch < 0 {
		return fmt.Errorf("--start-from-epoch %d: must not be negative", o.opts.StartFromEpoch)
	}
	verdicts := []string{curves.VerdictHealthy, curves.VerdictOverfitting, curves.VerdictDiverged, curves.VerdictNoisy, curves.VerdictTooShort, curves.VerdictNoEvalLoss}
	for _, v := range o.failOn {
		if !slices.Contains(verdicts, v) {
			return fmt.Errorf("--fail-on %q: not a verdict (use %s)", v, strings.Join(verdicts, ", "))
		}
	}
	return nil
}

// parseCurvesMap parses --map step=COL,train=COL,eval=COL.
func parseCurvesMap(s string) (curves.Mapping, error) {
	var m curves.Mapping
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return m, fmt.Errorf("--map %q: each entry is ROLE=COLUMN (roles: step, train, eval)", s)
		}
		switch k {
		case "step":
			m.Step = v
		case "train":
			m.Train = v
		case "eval":
			m.Eval = v
		default:
			return m, fmt.Errorf("--map %q: unknown role %q (roles: step, train, eval)", s, k)
		}
	}
	return m, nil
}
