package scorefile

import (
	"fmt"
	"math"

	"github.com/tunecheck/tunecheck/metrics/classification"
	"github.com/tunecheck/tunecheck/metrics/regression"
)

func nan() float64 { return math.NaN() }

// labelPairs returns (y_true, y_pred): label rows as given, text rows as
// string labels (the reference against the prediction, compared exactly as
// given), so that generated answers that name a class ("positive", "B") can
// be scored as classes. A text row is a label only with a single reference:
// with several, which one is the true class is unknown, so such a row is an
// error naming its file and line rather than scored against its first
// reference.
func (c *context) labelPairs(metric string) ([]classification.Label, []classification.Label, error) {
	if c.in.Kind == KindLabels {
		return c.yTrue, c.yPred, nil
	}
	t := make([]classification.Label, len(c.hyps))
	p := make([]classification.Label, len(c.hyps))
	for i := range c.hyps {
		if n := len(c.refs[i]); n != 1 {
			return nil, nil, fmt.Errorf("%s: field \"references\": %d references, but %s compares the prediction with one true class: "+
				"give text rows with a single reference that names the class (or rows {\"label\": y, \"pred\": y'}); "+
				"to score free text against any of several references use exact_match, token_f1 or bleu", c.in.Pos(i), n, metric)
		}
		t[i] = classification.Str(c.refs[i][0])
		p[i] = classification.Str(c.hyps[i])
	}
	return t, p, nil
}

// freeTextWarning is the warning for text rows whose references do not look
// like a small set of classes (more distinct references than half the rows):
// every distinct sentence is then a class of its own and accuracy is exact
// string match, usually near 0 for generated text.
func (c *context) freeTextWarning(metric string, yTrue []classification.Label) string {
	if c.in.Kind != KindText || len(yTrue) < 4 {
		return ""
	}
	classes, err := classification.Classes(yTrue)
	if err != nil || 2*len(classes) <= len(yTrue) {
		return ""
	}
	return fmt.Sprintf("the %d text rows hold %d distinct references: %s treats each as a class and counts only exact string matches; for free text use exact_match, token_f1, bleu or rougeL", len(yTrue), len(classes), metric)
}

// average resolves "auto": binary when there are at most two classes and
// the positive class is known (set, or 1 among numbers/booleans), macro
// otherwise. The classes are those of the rows and of --labels together, and
// a --labels list must hold the positive class, so that a list is never
// silently dropped by a binary average (which, as in scikit-learn, ignores
// it): --labels [0, 1, 2] over rows of 0 and 1, or --labels [0], is macro.
func (c *context) average(yTrue, yPred []classification.Label) (classification.Average, error) {
	a := c.o.Average
	if a != "" && a != "auto" {
		return classification.ParseAverage(a)
	}
	classes, err := classification.Classes(yTrue, yPred, c.labels)
	if err != nil {
		return "", err
	}
	if len(classes) <= 2 {
		pos := classification.Int(1)
		if c.posLabel != nil {
			pos = *c.posLabel
		}
		has := func(ls []classification.Label) bool {
			for _, l := range ls {
				if classification.Equal(l, pos) {
					return true
				}
			}
			return false
		}
		if has(classes) && (c.labels == nil || has(c.labels)) {
			return classification.AverageBinary, nil
		}
	}
	return classification.AverageMacro, nil
}

func (c *context) labelMetric(name string) (metricRun, error) {
	yTrue, yPred, err := c.labelPairs(name)
	if err != nil {
		return metricRun{}, err
	}
	freeText := c.freeTextWarning(name, yTrue)
	zd, err := classification.ParseZeroDivision(c.o.ZeroDivision)
	if err != nil {
		return metricRun{}, err
	}
	avg, err := c.average(yTrue, yPred)
	if err != nil {
		return metricRun{}, err
	}
	prfOpts := classification.PRFOptions{Average: avg, PosLabel: c.posLabel, Labels: c.labels, ZeroDivision: zd, Beta: c.o.Beta}
	// eval computes the value and its warnings on a subset of rows.
	var eval func(t, p []classification.Label) (float64, []Detail, []string, error)
	switch name {
	case "accuracy":
		eval = func(t, p []classification.Label) (float64, []Detail, []string, error) {
			v, err := classification.Accuracy(t, p)
			return v, nil, nil, err
		}
	case "balanced_accuracy":
		eval = func(t, p []classification.Label) (float64, []Detail, []string, error) {
			r, err := classification.BalancedAccuracy(t, p, c.o.Adjusted)
			return r.Value, []Detail{{"adjusted", c.o.Adjusted}}, r.Warnings, err
		}
	case "mcc":
		eval = func(t, p []classification.Label) (float64, []Detail, []string, error) {
			v, err := classification.MCC(t, p)
			return v, nil, nil, err
		}
	case "cohen_kappa":
		w := classification.KappaWeights(c.o.KappaWeights)
		shown := c.o.KappaWeights
		if w == "none" || w == "" {
			w, shown = classification.KappaUnweighted, "none"
		}
		eval = func(t, p []classification.Label) (float64, []Detail, []string, error) {
			r, err := classification.CohenKappa(t, p, w)
			return r.Value, []Detail{{"weights", shown}}, r.Warnings, err
		}
	case "precision", "recall", "f1":
		eval = func(t, p []classification.Label) (float64, []Detail, []string, error) {
			r, err := classification.PrecisionRecallF(t, p, prfOpts)
			if err != nil {
				return 0, nil, nil, err
			}
			v, per := r.Precision, r.ClassPrecision
			switch name {
			case "recall":
				v, per = r.Recall, r.ClassRecall
			case "f1":
				v, per = r.F, r.ClassF
			}
			details := []Detail{{"average", string(avg)}}
			if avg == classification.AverageBinary {
				pos := classification.Int(1)
				if c.posLabel != nil {
					pos = *c.posLabel
				}
				details = append(details, Detail{"pos_label", pos})
			}
			if per != nil {
				details = append(details, Detail{"labels", r.Labels}, Detail{"per_class", per}, Detail{"support", r.Support})
			}
			return v, details, r.Warnings, nil
		}
	case "confusion_matrix":
		return metricRun{compute: func() (Result, error) {
			m, classes, err := classification.ConfusionMatrix(yTrue, yPred, c.labels)
			if err != nil {
				return Result{}, err
			}
			correct, total := 0, 0
			for i := range m {
				for j, v := range m[i] {
					total += v
					if i == j {
						correct += v
					}
				}
			}
			v := nan()
			if total > 0 {
				v = float64(correct) / float64(total)
			}
			res := Result{Value: v, Details: []Detail{{"labels", classes}, {"matrix", m}, {"value_is", "trace / total (accuracy over the listed labels)"}}}
			if freeText != "" {
				res.Warnings = append(res.Warnings, freeText)
			}
			return res, nil
		}}, nil
	}
	return metricRun{
		compute: func() (Result, error) {
			v, d, w, err := eval(yTrue, yPred)
			if err != nil {
				return Result{}, err
			}
			res := Result{Value: v, Details: d, Warnings: w}
			if freeText != "" {
				res.Warnings = append(res.Warnings, freeText)
			}
			if name == "accuracy" {
				// Per item: 1 where the prediction is right.
				res.PerItem = make([]float64, len(yTrue))
				for i := range yTrue {
					if classification.Equal(yTrue[i], yPred[i]) {
						res.PerItem[i] = 1
					}
				}
			}
			return res, nil
		},
		resample: func(idx []int) float64 {
			v, _, _, err := eval(sub(yTrue, idx), sub(yPred, idx))
			if err != nil {
				return nan()
			}
			return v
		},
	}, nil
}

// column returns the scores, or the one-value probabilities, of every row.
func (c *context) column() []float64 { return c.scores }

func (c *context) probMetric(name string) (metricRun, error) {
	list := c.in.Kind == KindProbs && c.probList
	if c.in.Kind == KindScores && (name == "log_loss" || name == "brier" || name == "ece") {
		for i, s := range c.scores {
			if s < 0 || s > 1 {
				return metricRun{}, fmt.Errorf("%s: field \"score\": %v is outside [0, 1]; %s needs probabilities: give them as \"prob\"", c.in.Pos(i), s, name)
			}
		}
	}
	var eval func(idx []int) (float64, []Detail, []string, error)
	switch name {
	case "roc_auc":
		eval = func(idx []int) (float64, []Detail, []string, error) {
			if list {
				mo := classification.MulticlassOptions{MultiClass: c.o.MultiClass, Average: c.o.AUCAverage}
				v, err := classification.ROCAUCMulticlass(sub(c.yTrue, idx), sub(c.prob, idx), mo)
				return v, []Detail{{"multi_class", or(mo.MultiClass, "ovr")}, {"average", or(mo.Average, "macro")}}, nil, err
			}
			v, err := classification.ROCAUC(sub(c.yTrue, idx), sub(c.column(), idx), c.o.MaxFPR)
			var d []Detail
			if c.o.MaxFPR != 0 && c.o.MaxFPR != 1 {
				d = []Detail{{"max_fpr", c.o.MaxFPR}}
			}
			return v, d, nil, err
		}
	case "average_precision":
		eval = func(idx []int) (float64, []Detail, []string, error) {
			if list {
				v, err := classification.AveragePrecisionMulticlass(sub(c.yTrue, idx), sub(c.prob, idx), c.o.AUCAverage)
				return v, []Detail{{"average", or(c.o.AUCAverage, "macro")}}, nil, err
			}
			r, err := classification.AveragePrecision(sub(c.yTrue, idx), sub(c.column(), idx), c.posLabel)
			return r.Value, nil, r.Warnings, err
		}
	case "log_loss":
		if err := c.labelsCoverRows(); err != nil {
			return metricRun{}, err
		}
		eval = func(idx []int) (float64, []Detail, []string, error) {
			p := c.prob
			if !list {
				p = make([][]float64, len(c.scores))
				for i, s := range c.scores {
					p[i] = []float64{s}
				}
			}
			v, err := classification.LogLoss(sub(c.yTrue, idx), sub(p, idx), c.labels)
			return v, nil, nil, err
		}
	case "brier", "ece":
		if list {
			return metricRun{}, fmt.Errorf("%s needs one probability per row (of the positive class), but the rows hold lists", name)
		}
		bins := c.o.Bins
		if bins == 0 {
			bins = 10
		}
		strategy := classification.Strategy(c.o.BinStrategy)
		eval = func(idx []int) (float64, []Detail, []string, error) {
			if name == "brier" {
				v, err := classification.Brier(sub(c.yTrue, idx), sub(c.column(), idx), c.posLabel)
				return v, nil, nil, err
			}
			t, p := sub(c.yTrue, idx), sub(c.column(), idx)
			v, err := classification.ECE(t, p, c.posLabel, bins, strategy)
			if err != nil || idx != nil {
				return v, nil, nil, err
			}
			curve, err := classification.CalibrationCurve(t, p, c.posLabel, bins, strategy)
			return v, []Detail{{"bins", bins}, {"strategy", string(strategyName(strategy))}, {"calibration_curve", curve}}, nil, err
		}
	}
	resample := func(idx []int) float64 {
		v, _, _, err := eval(idx)
		if err != nil {
			return nan()
		}
		return v
	}
	if fast := c.rankingResample(name, list); fast != nil {
		resample = fast
	}
	return metricRun{
		compute: func() (Result, error) {
			v, d, w, err := eval(nil)
			if err != nil {
				return Result{}, err
			}
			res := Result{Value: v, Details: d, Warnings: w}
			switch name {
			case "brier", "log_loss":
				// Per item: the row's own loss, so that the mean of the
				// per-item file is the reported value.
				if res.PerItem, err = c.rowLosses(name, list); err != nil {
					return Result{}, err
				}
			}
			return res, nil
		},
		resample: resample,
	}, nil
}

// rankingResample is a faster bootstrap for binary (full) ROC-AUC and
// average precision: the scores and labels are prepared once instead of
// being gathered and checked on every resample. It returns nil where it does
// not apply; the general path then recomputes the metric.
func (c *context) rankingResample(name string, list bool) func(idx []int) float64 {
	if list || (name != "roc_auc" && name != "average_precision") || (name == "roc_auc" && c.o.MaxFPR != 0 && c.o.MaxFPR != 1) {
		return nil
	}
	classes, err := classification.Classes(c.yTrue)
	if err != nil || len(classes) != 2 {
		return nil
	}
	pos := classes[1] // roc_auc: the greater class
	if name == "average_precision" {
		pos = classification.Int(1)
		if c.posLabel != nil {
			pos = *c.posLabel
		}
	}
	r, err := classification.NewRanking(c.yTrue, c.scores, pos)
	if err != nil {
		return nil
	}
	if name == "roc_auc" {
		return r.AUC
	}
	return r.AP
}

func strategyName(s classification.Strategy) classification.Strategy {
	if s == "" {
		return classification.Uniform
	}
	return s
}

// numbers returns (y_true, y_pred) as floats for regression metrics.
func (c *context) numbers() ([]float64, []float64, error) {
	in := c.in
	t := make([]float64, in.Len())
	for i, l := range in.Labels {
		if l.Kind == classification.KindString {
			return nil, nil, fmt.Errorf("%s: field \"label\": %q is not a number: regression metrics need numeric labels", in.Pos(i), l.Str)
		}
		t[i] = l.Num
	}
	if in.Kind == KindScores {
		return t, in.Scores, nil
	}
	p := make([]float64, in.Len())
	for i, l := range in.Preds {
		if l.Kind == classification.KindString {
			return nil, nil, fmt.Errorf("%s: field \"pred\": %q is not a number: regression metrics need numeric predictions", in.Pos(i), l.Str)
		}
		p[i] = l.Num
	}
	return t, p, nil
}

func (c *context) regression(name string) (metricRun, error) {
	yt, yp, err := c.numbers()
	if err != nil {
		return metricRun{}, err
	}
	eval := func(idx []int) (regression.Result, error) {
		t, p := sub(yt, idx), sub(yp, idx)
		plain := func(v float64, err error) (regression.Result, error) { return regression.Result{Value: v}, err }
		switch name {
		case "mae":
			return plain(regression.MAE(t, p))
		case "mse":
			return plain(regression.MSE(t, p))
		case "rmse":
			return plain(regression.RMSE(t, p))
		case "mape":
			return plain(regression.MAPE(t, p))
		case "r2":
			return regression.R2(t, p)
		case "pearson":
			return regression.Pearson(t, p)
		case "spearman":
			return regression.Spearman(t, p)
		}
		return regression.KendallTauB(t, p)
	}
	return metricRun{
		compute: func() (Result, error) {
			r, err := eval(nil)
			if err != nil {
				return Result{}, err
			}
			res := Result{Value: r.Value, Warnings: r.Warnings}
			switch name {
			case "mae", "mse":
				res.PerItem = make([]float64, len(yt))
				for i := range yt {
					d := yp[i] - yt[i]
					if name == "mae" {
						res.PerItem[i] = math.Abs(d)
					} else {
						res.PerItem[i] = d * d
					}
				}
			}
			return res, nil
		},
		resample: func(idx []int) float64 {
			r, err := eval(idx)
			if err != nil {
				return nan()
			}
			return r.Value
		},
	}, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// rowLosses is each row's Brier term or log loss, computed by the metric
// functions on that row alone with the classes of the whole input.
func (c *context) rowLosses(name string, list bool) ([]float64, error) {
	n := len(c.yTrue)
	out := make([]float64, n)
	classes := c.labels
	if classes == nil && name == "log_loss" {
		var err error
		if classes, err = classification.Classes(c.yTrue); err != nil {
			return nil, err
		}
	}
	var pos *classification.Label
	if name == "brier" {
		// Resolve the positive class once, on all rows: one row alone may
		// show a single class.
		p, err := classification.PositiveClass(c.yTrue, c.posLabel)
		if err != nil {
			return nil, err
		}
		pos = &p
	}
	for i := range n {
		var v float64
		var err error
		if name == "brier" {
			v, err = classification.Brier(c.yTrue[i:i+1], c.scores[i:i+1], pos)
		} else {
			p := []float64{}
			if list {
				p = c.prob[i]
			} else {
				p = append(p, c.scores[i])
			}
			v, err = classification.LogLoss(c.yTrue[i:i+1], [][]float64{p}, classes)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.in.Pos(i), err)
		}
		out[i] = v
	}
	return out, nil
}
