package classification

import (
	"fmt"
	"math"
)

// machineEps is float64's machine epsilon, scikit-learn 1.2's default clip
// for log loss.
const machineEps = 2.220446049250313e-16

// LogLoss is the mean negative log-likelihood of y_true under the predicted
// probabilities, as scikit-learn 1.2.1 computes it: probabilities are clipped
// to [eps, 1-eps] with eps the float64 machine epsilon, then each row is
// renormalised to sum to 1 (silently, as 1.2.1 does).
//
// prob has one row per sample: either one value, the probability of the
// greater of two classes, or one value per class in class order. labels gives
// the classes (and so the column order); nil means the classes of y_true, and
// then y_true needs at least two. A y_true label missing from labels is an
// error (scikit-learn would silently score that row 0).
func LogLoss(yTrue []Label, prob [][]float64, labels []Label) (float64, error) {
	if len(yTrue) != len(prob) {
		return 0, fmt.Errorf("y_true has %d rows but y_prob has %d: give one probability per row", len(yTrue), len(prob))
	}
	if len(yTrue) == 0 {
		return 0, fmt.Errorf("no rows: log loss is undefined on empty input (scikit-learn raises too)")
	}
	var classes []Label
	var err error
	if labels != nil {
		classes, err = Classes(labels)
		if err != nil {
			return 0, err
		}
		if len(classes) < 2 {
			return 0, fmt.Errorf("labels has %d class: log loss needs at least two", len(classes))
		}
		if _, err := Classes(classes, yTrue); err != nil {
			return 0, err
		}
	} else {
		classes, err = Classes(yTrue)
		if err != nil {
			return 0, err
		}
		if len(classes) < 2 {
			return 0, fmt.Errorf("y_true contains only one label (%s): give the full class list with labels", joinLabels(classes))
		}
	}
	ix := newIndex(classes)
	width := len(prob[0])
	total := 0.0
	row := make([]float64, len(classes))
	for r := range yTrue {
		ci, ok := ix.of(yTrue[r])
		if !ok {
			return 0, fmt.Errorf("row %d: label %s is not in the label set (%s): add it to labels", r+1, yTrue[r], joinLabels(classes))
		}
		p := prob[r]
		if len(p) != width {
			return 0, fmt.Errorf("row %d: %d probabilities but row 1 has %d: every row needs the same number", r+1, len(p), width)
		}
		for _, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("row %d: probability %v is not a finite number", r+1, v)
			}
		}
		switch {
		case width == 1:
			if len(classes) != 2 {
				return 0, fmt.Errorf("one probability per row needs exactly two classes, but there are %d (%s): give one probability per class", len(classes), joinLabels(classes))
			}
			q := clip(p[0])
			row[0], row[1] = 1-q, q
		case width == len(classes):
			for i, v := range p {
				row[i] = clip(v)
			}
		default:
			return 0, fmt.Errorf("row %d: %d probabilities but %d classes (%s): give one per class, in class order, or set labels", r+1, width, len(classes), joinLabels(classes))
		}
		s := 0.0
		for _, v := range row {
			s += v
		}
		total += -math.Log(row[ci] / s)
	}
	return total / float64(len(yTrue)), nil
}

func clip(v float64) float64 { return min(max(v, machineEps), 1-machineEps) }

// binaryPositive resolves the positive class of a binary y_true the way
// scikit-learn's brier_score_loss and calibration_curve do: an explicit
// pos_label; otherwise 1 when the classes are within {0, 1} or {-1, 1};
// otherwise the greater class for numbers, and an error for strings.
func binaryPositive(yTrue []Label, pos *Label) (Label, error) {
	classes, err := Classes(yTrue)
	if err != nil {
		return Label{}, err
	}
	if len(classes) > 2 {
		return Label{}, fmt.Errorf("y_true has %d classes (%s): only binary classification is supported", len(classes), joinLabels(classes))
	}
	if pos != nil {
		if _, err := Classes(classes, []Label{*pos}); err != nil {
			return Label{}, fmt.Errorf("pos_label %s: %w", *pos, err)
		}
		return *pos, nil
	}
	standard := true
	for _, c := range classes {
		if c.Kind == KindString || (c.Num != 0 && c.Num != 1 && c.Num != -1) {
			standard = false
		}
	}
	if len(classes) == 2 && classes[0].Num == -1 && classes[1].Num == 0 {
		standard = false
	}
	if standard {
		return Int(1), nil
	}
	if classes[len(classes)-1].Kind == KindString {
		return Label{}, fmt.Errorf("y_true has string classes (%s): set pos_label to the positive one", joinLabels(classes))
	}
	return classes[len(classes)-1], nil
}

// PositiveClass is the positive class Brier and CalibrationCurve use for
// y_true and pos (see binaryPositive).
func PositiveClass(yTrue []Label, pos *Label) (Label, error) { return binaryPositive(yTrue, pos) }

func checkProbs(prob []float64) error {
	for i, v := range prob {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("row %d: probability %v is not a finite number", i+1, v)
		}
		if v < 0 || v > 1 {
			return fmt.Errorf("row %d: probability %v is outside [0, 1]", i+1, v)
		}
	}
	return nil
}

// Brier is the mean squared difference between the predicted probability of
// the positive class and the outcome (1 for the positive class, else 0).
// pos follows scikit-learn's rules (see binaryPositive).
func Brier(yTrue []Label, prob []float64, pos *Label) (float64, error) {
	if len(yTrue) != len(prob) {
		return 0, fmt.Errorf("y_true has %d rows but y_prob has %d: give one probability per row", len(yTrue), len(prob))
	}
	if len(yTrue) == 0 {
		return 0, fmt.Errorf("no rows: the Brier score is undefined on empty input (scikit-learn raises too)")
	}
	if err := checkProbs(prob); err != nil {
		return 0, err
	}
	pl, err := binaryPositive(yTrue, pos)
	if err != nil {
		return 0, err
	}
	s := 0.0
	for i, l := range yTrue {
		y := 0.0
		if Equal(l, pl) {
			y = 1
		}
		d := y - prob[i]
		s += d * d
	}
	return s / float64(len(yTrue)), nil
}

// Strategy chooses calibration bin edges.
type Strategy string

// The binning strategies of scikit-learn's calibration_curve.
const (
	// Uniform bins have equal widths on [0, 1].
	Uniform Strategy = "uniform"
	// Quantile bins hold (about) equal numbers of predictions.
	Quantile Strategy = "quantile"
)

// Bin is one non-empty calibration bin.
type Bin struct {
	Lo       float64 `json:"lo"`        // the bin's lower edge
	Hi       float64 `json:"hi"`        // the bin's upper edge
	Count    int     `json:"count"`     // predictions in the bin
	MeanProb float64 `json:"prob_pred"` // mean predicted probability
	FracPos  float64 `json:"prob_true"` // fraction of positives
}

// CalibrationCurve bins the predicted probabilities of the positive class
// and returns the non-empty bins, as scikit-learn 1.2.1's calibration_curve
// does (a value on an inner edge falls in the lower bin; quantile edges use
// numpy's linear percentile).
func CalibrationCurve(yTrue []Label, prob []float64, pos *Label, nBins int, strategy Strategy) ([]Bin, error) {
	if len(yTrue) != len(prob) {
		return nil, fmt.Errorf("y_true has %d rows but y_prob has %d: give one probability per row", len(yTrue), len(prob))
	}
	if len(yTrue) == 0 {
		return nil, fmt.Errorf("no rows: the calibration curve is undefined on empty input")
	}
	if nBins < 1 {
		return nil, fmt.Errorf("n_bins %d: use at least 1", nBins)
	}
	if err := checkProbs(prob); err != nil {
		return nil, err
	}
	pl, err := binaryPositive(yTrue, pos)
	if err != nil {
		return nil, err
	}
	var edges []float64
	switch strategy {
	case Uniform, "":
		edges = linspace01(nBins)
	case Quantile:
		edges = make([]float64, nBins+1)
		sorted := append([]float64(nil), prob...)
		keys := make([]uint64, len(sorted))
		for i, v := range sorted {
			keys[i] = floatKey(v)
		}
		radixSort(keys)
		for i, k := range keys {
			sorted[i] = keyFloat(k)
		}
		qs := linspace01(nBins)
		for i, q := range qs {
			// np.percentile(x, q*100) divides by 100 again.
			edges[i] = percentileLinear(sorted, q*100/100)
		}
	default:
		return nil, fmt.Errorf("strategy %q: use uniform or quantile", strategy)
	}
	inner := edges[1 : len(edges)-1]
	sums := make([]float64, len(edges))
	trues := make([]float64, len(edges))
	counts := make([]int, len(edges))
	for i, v := range prob {
		// numpy.searchsorted(inner, v, side="left"): the first edge >= v.
		lo, hi := 0, len(inner)
		for lo < hi {
			mid := (lo + hi) / 2
			if inner[mid] < v {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		sums[lo] += v
		counts[lo]++
		if Equal(yTrue[i], pl) {
			trues[lo]++
		}
	}
	var bins []Bin
	for b := range counts {
		if counts[b] == 0 {
			continue
		}
		hiEdge := 1.0
		if b+1 < len(edges) {
			hiEdge = edges[b+1]
		}
		bins = append(bins, Bin{
			Lo: edges[b], Hi: hiEdge, Count: counts[b],
			MeanProb: sums[b] / float64(counts[b]),
			FracPos:  trues[b] / float64(counts[b]),
		})
	}
	return bins, nil
}

// ECE is the expected calibration error over the bins of CalibrationCurve:
// the count-weighted mean of |fraction of positives - mean probability|.
// scikit-learn has no ECE; this is the usual definition (Naeini et al. 2015,
// Guo et al. 2017) on sklearn's bins.
func ECE(yTrue []Label, prob []float64, pos *Label, nBins int, strategy Strategy) (float64, error) {
	bins, err := CalibrationCurve(yTrue, prob, pos, nBins, strategy)
	if err != nil {
		return 0, err
	}
	s := 0.0
	for _, b := range bins {
		s += float64(b.Count) * math.Abs(b.FracPos-b.MeanProb)
	}
	return s / float64(len(prob)), nil
}

// linspace01 is numpy.linspace(0, 1, n+1): i*step, with the end exactly 1.
func linspace01(n int) []float64 {
	step := 1 / float64(n)
	out := make([]float64, n+1)
	for i := range out {
		out[i] = float64(i) * step
	}
	out[n] = 1
	return out
}

// percentileLinear is numpy's default ("linear") percentile of sorted data
// at quantile q in [0, 1], with numpy's lerp.
func percentileLinear(sorted []float64, q float64) float64 {
	n := len(sorted)
	v := q * float64(n-1)
	lo := math.Floor(v)
	i := int(lo)
	if i >= n-1 {
		return sorted[n-1]
	}
	if i < 0 {
		return sorted[0]
	}
	t := v - lo
	a, b := sorted[i], sorted[i+1]
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}
