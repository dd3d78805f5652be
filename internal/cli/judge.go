package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/judge"
)

func newJudgeCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "judge",
		Short: "LLM-as-judge on files: judge recorded outputs, win rates, length control, calibration",
		Long: `judge works on files: it judges answers generated elsewhere (outputs), and works on
judgments already made: AlpacaEval-style win rates with a length-controlled win rate
beside the raw one, and a judge's agreement with human labels and with itself.
Judging inside a plan is the task key judge (docs/plan.md). docs/judge.md defines
every figure and file format.`,
	}
	cmd.AddCommand(newJudgeWinRateCmd(env), newJudgeCalibrateCmd(env), newJudgeOutputsCmd(env))
	return cmd
}

type judgeWinRateOptions struct {
	paths  []string
	format string
	seed   int
}

func newJudgeWinRateCmd(env Env) *cobra.Command {
	o := judgeWinRateOptions{}
	cmd := &cobra.Command{
		Use:   "winrate ANNOTATIONS.json...",
		Short: "Win rate, standard error and length-controlled win rate from AlpacaEval annotations",
		Long: `winrate reads AlpacaEval annotations.json files (one model against one baseline per
file, with the judge's raw completions and top logprobs), recomputes each item's soft
preference from the logprobs as the weighted_alpaca_eval_gpt4_turbo annotator does
(including its per-instruction swap of the two outputs), and prints AlpacaEval's
win_rate, standard_error, n_wins, n_wins_base, n_draws, n_total and discrete_win_rate,
the mean output lengths, and a length-controlled win rate: a logistic regression of
the preference on the length difference, predicted with the difference set to 0.
JSON keys are named as AlpacaEval's leaderboard CSV columns.`,
		Example: `  tunecheck judge winrate results/my-model/weighted_alpaca_eval_gpt4_turbo/annotations.json
  tunecheck judge winrate normal.json concise.json verbose.json --format md`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			o.paths = args
			return runJudgeWinRate(env, o)
		},
	}
	f := cmd.Flags()
	addFormatFlag(f, &o.format, "text", judge.WinRateFormats...)
	f.IntVar(&o.seed, "seed", 0, "the annotator's seed, which decides which items the judge saw swapped (AlpacaEval: 0)")
	return cmd
}

func runJudgeWinRate(env Env, o judgeWinRateOptions) error {
	var err error
	if o.format, err = outputFormat(env, o.format, judge.WinRateFormats...); err != nil {
		return err
	}
	opts := judge.WinRateAlpacaEval()
	opts.Seed = o.seed
	rs := make([]judge.WinRateResult, 0, len(o.paths))
	for _, p := range o.paths {
		as, err := judge.ReadWinRateAnnotations(p)
		if err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		r, err := judge.WinRate(p, as, opts)
		if err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		rs = append(rs, r)
	}
	return judge.WriteWinRates(env.Stdout, rs, o.format)
}

type judgeCalibrateOptions struct {
	judgments  string
	labels     string
	prometheus string
	format     string
}

func newJudgeCalibrateCmd(env Env) *cobra.Command {
	o := judgeCalibrateOptions{}
	cmd := &cobra.Command{
		Use:   "calibrate --judgments J [--labels H]",
		Short: "A judge's agreement with human labels and with itself (test-retest)",
		Long: `calibrate compares a judge's judgments with human labels: agreement with and
without ties, Cohen's kappa, Spearman and Kendall for scores, and a confusion matrix.
When the judge graded an item several times ("sample"), it also reports test-retest
consistency: how often all samples agree, Krippendorff's alpha across samples and
Fleiss' kappa. Without --labels only test-retest is reported.

J and H are JSONL files (docs/judge.md, "Calibration"):
  judgments  {"id": "q1", "score": 7}  or  {"id": "q1", "choice": "A"|"B"|"tie"}
             optional "judge" (one report per judge) and "sample" (0, 1, ...)
  labels     {"id": "q1", "label": 7 | "A" | "B" | "tie", "annotator": "ann1"}

--prometheus reads a Prometheus evaluation file instead: mt_bench_eval.json or
vicuna_eval.json as judgments (three GPT-4 scores per item), hhh_alignment_eval.json
as labels (the human-preferred response is A on even rows, B on odd rows).`,
		Example: `  tunecheck judge calibrate --judgments judge.jsonl --labels humans.jsonl
  tunecheck judge calibrate --prometheus mt_bench_eval.json
  tunecheck judge calibrate --prometheus hhh_alignment_eval.json --judgments verdicts.jsonl --format md`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			return runJudgeCalibrate(env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.judgments, "judgments", "", "JSONL file of the judge's judgments")
	f.StringVar(&o.labels, "labels", "", "JSONL file of human labels")
	f.StringVar(&o.prometheus, "prometheus", "", "a Prometheus mt_bench_eval.json / vicuna_eval.json (judgments) or hhh_alignment_eval.json (labels)")
	addFormatFlag(f, &o.format, "text", judge.CalibrationFormats...)
	return cmd
}

func runJudgeCalibrate(env Env, o judgeCalibrateOptions) error {
	bad := func(err error) error { return exitcode.WithCode(err, exitcode.BadInput) }
	var err error
	if o.format, err = outputFormat(env, o.format, judge.CalibrationFormats...); err != nil {
		return err
	}
	var js []judge.CalibrationJudgment
	var ls []judge.CalibrationLabel
	if o.prometheus != "" {
		pj, pl, err := judge.CalibrationFromPrometheus(o.prometheus)
		if err != nil {
			return bad(err)
		}
		if pj != nil && o.judgments != "" {
			return bad(fmt.Errorf("--prometheus %s holds judgments already: drop --judgments", o.prometheus))
		}
		if pl != nil && o.labels != "" {
			return bad(fmt.Errorf("--prometheus %s holds the human labels already: drop --labels", o.prometheus))
		}
		js, ls = pj, pl
	}
	if o.judgments != "" {
		var err error
		if js, err = judge.ReadCalibrationJudgments(o.judgments); err != nil {
			return bad(err)
		}
	}
	if js == nil {
		return bad(errors.New("no judgments: give --judgments FILE (or --prometheus mt_bench_eval.json)"))
	}
	if o.labels != "" {
		var err error
		if ls, err = judge.ReadCalibrationLabels(o.labels); err != nil {
			return bad(err)
		}
	}
	rs, err := judge.Calibrate(js, ls)
	if err != nil {
		return bad(err)
	}
	return judge.WriteCalibration(env.Stdout, rs, o.format)
}
