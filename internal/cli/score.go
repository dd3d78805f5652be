package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/scorefile"
)

type scoreFlags struct {
	src      scorefile.Sources
	opts     scorefile.Options
	metrics  string
	format   string
	perItem  string
	smoothV  float64
	effOrder bool
	wordOrd  int
}

func newScoreCmd(env Env) *cobra.Command {
	var f scoreFlags
	cmd := &cobra.Command{
		Use:   "score --pred FILE [--ref FILE]... [--metrics LIST]",
		Short: "Score prediction files offline: text, classification, ranking, regression and pass@k metrics",
		Long: `score computes metrics over files of predictions, with no model involved.

Inputs: --pred alone is a JSONL file of rows, one of
  {"prediction": "...", "references": ["...", ...]}   text metrics
  {"label": y, "pred": y'}                             classification / regression
  {"label": y, "score": s}                             ROC-AUC, average precision, regression
  {"label": y, "prob": p} or {"label": y, "prob": [p0, p1, ...]}   probability metrics
  {"n": samples, "c": correct} or {"results": [true, false, ...]} pass@k
  {"logprobs": [lp, ...], "text": "..."}               NLL, perplexities, bits per byte
--pred with one or more --ref files reads parallel files: plain text with one
segment per line, or JSONL with the text in --pred-field / --ref-field.

Metrics: ` + strings.Join(scorefile.Known, ", ") + `.
Every metric option is a flag below; docs/score.md describes each.`,
		Example: `  tunecheck score --pred preds.jsonl --metrics bleu,chrf,rougeL,token_f1
  tunecheck score --pred hyp.txt --ref ref.txt --metrics bleu --confidence --format json
  tunecheck score --pred labels.jsonl --metrics f1,mcc --average macro
  tunecheck score --pred scores.jsonl --metrics roc_auc,average_precision
  tunecheck score --pred samples.jsonl --metrics pass@k --k 1,10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScore(cmd, env, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.src.Pred, "pred", "", "predictions: a JSONL file of rows, or a text/JSONL file parallel to --ref (- reads stdin)")
	fl.StringArrayVar(&f.src.Refs, "ref", nil, "references parallel to --pred, one per line (repeat for several references per row)")
	fl.StringVar(&f.src.PredField, "pred-field", "", "JSONL field holding the prediction (default prediction)")
	fl.StringVar(&f.src.RefField, "ref-field", "", "JSONL field holding the reference(s) (default references, then reference)")
	fl.StringVar(&f.metrics, "metrics", "", "comma-separated metrics (default depends on the rows: bleu,chrf,rougeL,token_f1 for text)")
	addFormatFlag(fl, &f.format, "text", "text", "json", "md")
	fl.StringVar(&f.perItem, "per-item", "", "write per-item scores to this JSONL file")
	fl.Float64Var(&f.opts.Confidence, "confidence", 0, "add bootstrap confidence intervals at this level (bare --confidence means 0.95; write another level as --confidence=0.9)")
	fl.Lookup("confidence").NoOptDefVal = "0.95"
	fl.IntVar(&f.opts.Resamples, "resamples", 1000, "bootstrap resamples for --confidence")
	fl.Uint64Var(&f.opts.Seed, "seed", 12345, "seed of the bootstrap's PCG generator")

	fl.StringVar(&f.opts.Tokenize, "tokenize", "13a", "BLEU tokenizer: 13a, intl, char or none")
	fl.StringVar(&f.opts.Smooth, "smooth", "exp", "BLEU smoothing: exp, floor, add-k or none")
	fl.Float64Var(&f.smoothV, "smooth-value", 0, "BLEU smoothing constant (default 0.1 for floor, 1 for add-k)")
	fl.BoolVar(&f.opts.Lowercase, "lowercase", false, "lower-case before BLEU/chrF (Python str.lower) and exact_match")
	fl.BoolVar(&f.effOrder, "effective-order", false, "BLEU effective order for corpus and sentence scores (default: off for corpus, on for per-item)")
	fl.IntVar(&f.opts.CharOrder, "char-order", 6, "chrF character n-gram order")
	fl.IntVar(&f.wordOrd, "word-order", 0, "chrF word n-gram order (default 0 for chrf, 2 for chrf++)")
	fl.IntVar(&f.opts.ChrFBeta, "beta", 2, "chrF beta (recall weight)")
	fl.BoolVar(&f.opts.Whitespace, "whitespace", false, "chrF: keep whitespace in character n-grams")
	fl.BoolVar(&f.opts.EpsSmoothing, "eps-smoothing", false, "chrF: eps smoothing of zero n-gram precisions (chrF++.py style)")
	fl.BoolVar(&f.opts.TERNormalized, "normalized", false, "TER: Tercom normalisation")
	fl.BoolVar(&f.opts.TERNoPunct, "no-punct", false, "TER: remove punctuation")
	fl.BoolVar(&f.opts.TERAsian, "asian-support", false, "TER: CJK support in normalisation and punctuation removal")
	fl.BoolVar(&f.opts.TERCaseSensitive, "case-sensitive", false, "TER: keep case (TER lower-cases by default)")
	fl.BoolVar(&f.opts.Stem, "stem", false, "ROUGE: Porter-stem tokens longer than 3 characters (rouge_score use_stemmer)")

	fl.StringVar(&f.opts.Average, "average", "auto", "precision/recall/f1 averaging: auto, binary, micro, macro, weighted or none")
	fl.StringVar(&f.opts.PosLabel, "pos-label", "", `positive class as JSON (1, "yes", true); default 1, or the greater class for roc_auc`)
	fl.StringVar(&f.opts.Labels, "labels", "", `label set as a JSON list ([0, 1, 2]): restricts precision/recall/f1 and confusion_matrix, fixes log_loss columns`)
	fl.StringVar(&f.opts.ZeroDivision, "zero-division", "warn", "value of an undefined 0/0 precision/recall/F: warn (0 with a warning), 0 or 1")
	fl.Float64Var(&f.opts.Beta, "f-beta", 1, "beta of the F score named f1 (recall weight)")
	fl.BoolVar(&f.opts.Adjusted, "adjusted", false, "balanced_accuracy: rescale so that chance is 0")
	fl.StringVar(&f.opts.KappaWeights, "weights", "none", "cohen_kappa weights: none, linear or quadratic")
	fl.StringVar(&f.opts.MultiClass, "multi-class", "ovr", "multiclass roc_auc: ovr (one-vs-rest) or ovo (one-vs-one)")
	fl.StringVar(&f.opts.AUCAverage, "auc-average", "macro", "multiclass roc_auc / average_precision averaging: macro or weighted")
	fl.Float64Var(&f.opts.MaxFPR, "max-fpr", 0, "roc_auc: standardised partial AUC up to this false positive rate (0 = full)")
	fl.IntVar(&f.opts.Bins, "bins", 10, "ece: number of calibration bins")
	fl.StringVar(&f.opts.BinStrategy, "strategy", "uniform", "ece: bin edges, uniform or quantile")
	fl.IntSliceVar(&f.opts.K, "k", []int{1, 10, 100}, "k values of pass@k")
	return cmd
}

func runScore(cmd *cobra.Command, env Env, f *scoreFlags) error {
	fl := cmd.Flags()
	if f.src.Pred == "" {
		return exitcode.WithCode(fmt.Errorf("no predictions: give --pred FILE"), exitcode.BadInput)
	}
	if f.metrics != "" {
		f.opts.Metrics = strings.Split(f.metrics, ",")
	}
	if fl.Changed("smooth-value") {
		f.opts.SmoothValue = &f.smoothV
	}
	if fl.Changed("effective-order") {
		f.opts.EffectiveOrder = &f.effOrder
	}
	if fl.Changed("word-order") {
		f.opts.WordOrder = &f.wordOrd
	}
	if f.opts.Confidence == 0 && (fl.Changed("resamples") || fl.Changed("seed")) {
		return exitcode.WithCode(fmt.Errorf("--resamples and --seed set the bootstrap: add --confidence"), exitcode.BadInput)
	}
	format, err := outputFormat(env, f.format, "text", "json", "md")
	if err != nil {
		return err
	}
	f.src.Open = func(name string) (io.ReadCloser, error) {
		if name == "-" {
			return io.NopCloser(env.Stdin), nil
		}
		return os.Open(name)
	}
	in, err := scorefile.Load(f.src)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	rep, err := scorefile.Score(in, f.opts)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if f.perItem != "" {
		out, err := os.Create(f.perItem)
		if err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		if err := scorefile.WritePerItem(out, rep); err != nil {
			out.Close()
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	if format == "text" {
		format = "table" // scorefile's name for its text table
	}
	return scorefile.Render(env.Stdout, rep, format)
}
