package classification

import (
	"fmt"
	"math"
)

// Average selects how per-class precision, recall and F are combined.
type Average string

// The averages of scikit-learn's precision_recall_fscore_support.
const (
	// AverageBinary reports the positive class only; it needs at most two classes.
	AverageBinary Average = "binary"
	// AverageMicro pools the counts of all classes.
	AverageMicro Average = "micro"
	// AverageMacro is the unweighted mean over classes.
	AverageMacro Average = "macro"
	// AverageWeighted weighs each class by its support in y_true.
	AverageWeighted Average = "weighted"
	// AverageNone reports every class separately.
	AverageNone Average = "none"
)

// ZeroDivision says what a 0/0 precision, recall or F becomes.
type ZeroDivision uint8

// The zero_division settings of scikit-learn 1.2.1.
const (
	// ZeroDivisionWarn acts as 0 and reports a warning.
	ZeroDivisionWarn ZeroDivision = iota
	// ZeroDivisionZero acts as 0 silently.
	ZeroDivisionZero
	// ZeroDivisionOne acts as 1 silently.
	ZeroDivisionOne
)

// ParseZeroDivision reads "warn", "0" or "1".
func ParseZeroDivision(s string) (ZeroDivision, error) {
	switch s {
	case "warn", "":
		return ZeroDivisionWarn, nil
	case "0", "0.0":
		return ZeroDivisionZero, nil
	case "1", "1.0":
		return ZeroDivisionOne, nil
	}
	return 0, fmt.Errorf("zero_division %q: use warn, 0 or 1", s)
}

// ParseAverage reads an average name.
func ParseAverage(s string) (Average, error) {
	switch a := Average(s); a {
	case AverageBinary, AverageMicro, AverageMacro, AverageWeighted, AverageNone:
		return a, nil
	}
	return "", fmt.Errorf("average %q: use binary, micro, macro, weighted or none", s)
}

// PRFOptions are the arguments of precision_recall_fscore_support.
type PRFOptions struct {
	Average Average // "" means binary
	// PosLabel is the positive class for AverageBinary; nil means 1.
	PosLabel *Label
	// Labels restricts (and orders) the classes; nil means all classes.
	Labels       []Label
	ZeroDivision ZeroDivision
	// Beta weighs recall against precision; 0 means 1 (F1).
	Beta float64
}

// PRF holds precision, recall and F-beta. With an average the scalar fields
// hold the averaged values; the per-class slices are always filled, in the
// order of Labels.
type PRF struct {
	Precision, Recall, F float64

	Labels                              []Label
	ClassPrecision, ClassRecall, ClassF []float64
	Support                             []int
	Warnings                            []string
}

// PrecisionRecallF computes precision, recall and F-beta as scikit-learn
// 1.2.1's precision_recall_fscore_support does, including its label
// selection rules, zero_division handling and F from the divided precision
// and recall.
func PrecisionRecallF(yTrue, yPred []Label, o PRFOptions) (PRF, error) {
	if o.Average == "" {
		o.Average = AverageBinary
	}
	if _, err := ParseAverage(string(o.Average)); err != nil {
		return PRF{}, err
	}
	beta := o.Beta
	if beta == 0 {
		beta = 1
	}
	if beta < 0 {
		return PRF{}, fmt.Errorf("beta %g: beta must be positive", beta)
	}
	if err := checkLengths(len(yTrue), len(yPred)); err != nil {
		return PRF{}, err
	}
	present, err := Classes(yTrue, yPred)
	if err != nil {
		return PRF{}, err
	}
	labels := o.Labels
	if o.Average == AverageBinary {
		if len(present) > 2 {
			return PRF{}, fmt.Errorf("average binary needs at most two classes but there are %d (%s): choose micro, macro, weighted or none", len(present), joinLabels(present))
		}
		pos := Int(1)
		if o.PosLabel != nil {
			pos = *o.PosLabel
		}
		found := false
		for _, c := range present {
			if Equal(c, pos) {
				found = true
			}
		}
		if !found && len(present) >= 2 {
			return PRF{}, fmt.Errorf("pos_label %s is not one of the classes (%s): set pos_label to the positive class", pos, joinLabels(present))
		}
		if _, err := Classes(present, []Label{pos}); err != nil {
			return PRF{}, fmt.Errorf("pos_label %s: %w", pos, err)
		}
		labels = []Label{pos}
	} else if labels == nil {
		labels = present
	} else if _, err := Classes(labels, present); err != nil {
		return PRF{}, fmt.Errorf("labels: %w", err)
	}

	ix := newIndex(labels)
	k := len(labels)
	tp := make([]float64, k)
	predSum := make([]float64, k)
	trueSum := make([]float64, k)
	for r := range yTrue {
		ti, tok := ix.of(yTrue[r])
		pi, pok := ix.of(yPred[r])
		if tok {
			trueSum[ti]++
		}
		if pok {
			predSum[pi]++
		}
		if tok && pok && ti == pi {
			tp[ti]++
		}
	}
	res := PRF{Labels: labels, Support: make([]int, k)}
	for i := range trueSum {
		res.Support[i] = int(trueSum[i])
	}
	if o.Average == AverageMicro {
		tp = []float64{sum(tp)}
		predSum = []float64{sum(predSum)}
		trueSum = []float64{sum(trueSum)}
	}
	zd := 0.0
	if o.ZeroDivision == ZeroDivisionOne {
		zd = 1
	}
	precision, pUndef := divide(tp, predSum, zd)
	recall, rUndef := divide(tp, trueSum, zd)
	if o.ZeroDivision == ZeroDivisionWarn {
		where := "in labels with no"
		if len(tp) == 1 {
			where = "due to no"
		}
		if pUndef {
			res.Warnings = append(res.Warnings, fmt.Sprintf("precision is 0/0 %s predicted samples; set to 0 (choose with zero_division)", where))
		}
		if rUndef {
			res.Warnings = append(res.Warnings, fmt.Sprintf("recall is 0/0 %s true samples; set to 0 (choose with zero_division)", where))
		}
		for i := range trueSum {
			if trueSum[i] == 0 && predSum[i] == 0 {
				res.Warnings = append(res.Warnings, "F-score is 0/0 in labels with no true nor predicted samples; set to 0 (choose with zero_division)")
				break
			}
		}
	}
	beta2 := beta * beta
	f := make([]float64, len(precision))
	for i := range precision {
		den := beta2*precision[i] + recall[i]
		if den == 0 {
			den = 1
		}
		f[i] = (1 + beta2) * precision[i] * recall[i] / den
	}
	if o.Average != AverageMicro {
		res.ClassPrecision, res.ClassRecall, res.ClassF = precision, recall, f
	}
	switch o.Average {
	case AverageNone:
		res.Precision, res.Recall, res.F = math.NaN(), math.NaN(), math.NaN()
		return res, nil
	case AverageWeighted:
		if sum(trueSum) == 0 {
			// No row of y_true carries a selected label: scikit-learn
			// returns zero_division for what is undefined.
			if sum(predSum) == 0 {
				res.Precision, res.Recall, res.F = zd, zd, zd
			} else {
				res.Precision, res.Recall, res.F = 0, zd, 0
			}
			return res, nil
		}
		res.Precision = weightedMean(precision, trueSum)
		res.Recall = weightedMean(recall, trueSum)
		res.F = weightedMean(f, trueSum)
		return res, nil
	}
	res.Precision = mean(precision)
	res.Recall = mean(recall)
	res.F = mean(f)
	return res, nil
}

// divide returns num/den element-wise, with zd where den is 0, and whether
// that happened.
func divide(num, den []float64, zd float64) ([]float64, bool) {
	out := make([]float64, len(num))
	undef := false
	for i := range num {
		if den[i] == 0 {
			out[i] = zd
			undef = true
			continue
		}
		out[i] = num[i] / den[i]
	}
	return out, undef
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func mean(xs []float64) float64 { return sum(xs) / float64(len(xs)) }

func weightedMean(xs, w []float64) float64 {
	s, ws := 0.0, 0.0
	for i := range xs {
		s += xs[i] * w[i]
		ws += w[i]
	}
	return s / ws
}

func joinLabels(ls []Label) string {
	s := ""
	for i, l := range ls {
		if i > 0 {
			s += ", "
		}
		s += l.String()
	}
	return s
}
