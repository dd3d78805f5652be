package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// curvesOptions are the flags of `tunecheck curves`.
type curvesOptions struct {
	paths           []string
	reader          string
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
  tunecheck curves runs/a.csv runs/b.csv --map step=iter,train=tr_loss,eval=va_loss -f json -o curves.json
  tunecheck curves logs/metrics.csv --reader lightning-csv -f md`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.legacy(cmd, env); err != nil {
				return err
			}
			o.paths = args
			if cmd.Flags().Changed("greater-is-better") {
				o.opts.GreaterIsBetter = &o.greaterIsBetter
			}
			return runCurves(env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.reader, "reader", "", "force the log reader: "+strings.Join(curves.Formats, ", ")+" (default: detected)")
	f.SetAnnotation("reader", valuesAnnotation, curves.Formats)
	f.StringVar(&o.mapping, "map", "", "field names of a generic log: step=COL,train=COL,eval=COL")
	addFormatFlag(f, &o.format, "text", "text", "json", "md")
	f.StringVarP(&o.output, "output", "o", "", "write the analysis to this file instead of stdout")
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
	err = writeOutput(env, o.output, func(w io.Writer) error {
		switch o.format {
		case "json":
			for _, a := range as {
				for _, d := range a.Damage {
					fmt.Fprintf(env.Stderr, "warning: %s\n", d)
				}
			}
			return curves.WriteJSON(w, as)
		case "md":
			if _, err := fmt.Fprintf(w, "## %s\n\n", curves.MarkdownTitle); err != nil {
				return err
			}
			return curves.WriteMarkdown(w, as, o.plot)
		}
		if err := curves.WriteText(w, as); err != nil {
			return err
		}
		if o.plot != "" {
			_, err := fmt.Fprintf(w, "\nplot: %s\n", o.plot)
			return err
		}
		return nil
	})
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

// legacy reads the spellings from before the vocabulary: --format READER
// (now --reader) and -o FORMAT (now --format).
func (o *curvesOptions) legacy(cmd *cobra.Command, env Env) error {
	formatGiven := cmd.Flags().Changed("format")
	if formatGiven && slices.Contains(curves.Formats, o.format) && !isFormatName(o.format) {
		if cmd.Flags().Changed("reader") {
			return badFlag(fmt.Errorf("--format %s names a reader, and --reader is given too", o.format), "drop --format: --reader is where the log reader goes")
		}
		deprecated(env, "--format "+o.format, "--reader "+o.format)
		o.reader, o.format, formatGiven = o.format, "text", false
	}
	if _, err := legacyOutputFormat(cmd, env, &o.output, &o.format, formatGiven); err != nil {
		return err
	}
	f, err := outputFormat(env, o.format, "text", "json", "md")
	if err != nil {
		return exitcode.WithHint(err, "--format is the output format; the log reader is --reader ("+strings.Join(curves.Formats, ", ")+")")
	}
	o.format = f
	return nil
}

func (o *curvesOptions) validate() error {
	if o.reader != "" && !slices.Contains(curves.Formats, o.reader) {
		return fmt.Errorf("--reader %q: unknown reader (known: %s)", o.reader, strings.Join(curves.Formats, ", "))
	}
	o.opts.Format = o.reader
	if o.mapping != "" {
		m, err := parseCurvesMap(o.mapping)
		if err != nil {
			return err
		}
		o.opts.Map = m
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
