package classification

import (
	"fmt"
	"math"
)

// curve is scikit-learn's _binary_clf_curve: cumulative true and false
// positives at each distinct score, from the highest score down.
type curve struct {
	tps, fps []float64
	thr      []float64
}

// splitBinary separates the scores of positive and negative rows.
func splitBinary(yTrue []Label, scores []float64, pos Label) (p, n []uint64, err error) {
	if len(yTrue) != len(scores) {
		return nil, nil, fmt.Errorf("y_true has %d rows but y_score has %d: give one score per row", len(yTrue), len(scores))
	}
	if len(yTrue) == 0 {
		return nil, nil, fmt.Errorf("no rows: the metric is undefined on empty input (scikit-learn raises too)")
	}
	np := 0
	for _, l := range yTrue {
		if Equal(l, pos) {
			np++
		}
	}
	p = make([]uint64, 0, np)
	n = make([]uint64, 0, len(yTrue)-np)
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, nil, fmt.Errorf("row %d: score is %v: scores must be finite numbers", i+1, s)
		}
		if Equal(yTrue[i], pos) {
			p = append(p, floatKey(s))
		} else {
			n = append(n, floatKey(s))
		}
	}
	return p, n, nil
}

// walk visits the distinct scores from the highest down, calling visit with
// the cumulative true and false positive counts after each one. p and n are
// sorted ascending.
func walk(p, n []uint64, visit func(tps, fps int, key uint64)) {
	i, j := len(p)-1, len(n)-1
	tps, fps := 0, 0
	for i >= 0 || j >= 0 {
		var k uint64
		switch {
		case i < 0:
			k = n[j]
		case j < 0:
			k = p[i]
		default:
			k = max(p[i], n[j])
		}
		for i >= 0 && p[i] == k {
			tps++
			i--
		}
		for j >= 0 && n[j] == k {
			fps++
			j--
		}
		visit(tps, fps, k)
	}
}

// binaryAUC is the area under the ROC curve by the trapezoidal rule over the
// distinct thresholds, which gives tied scores half credit exactly as
// scikit-learn's roc_curve + auc does. Twice the area is accumulated in
// integers, so the only rounding is the final division.
func binaryAUC(p, n []uint64) float64 {
	var area2 int64
	prevT, prevF := 0, 0
	walk(p, n, func(tps, fps int, _ uint64) {
		area2 += int64(fps-prevF) * int64(tps+prevT)
		prevT, prevF = tps, fps
	})
	return float64(area2) / (2 * float64(len(p)) * float64(len(n)))
}

// binaryAP is scikit-learn's average precision: the sum over thresholds of
// the recall increase times the precision at that threshold (no
// interpolation). Without positives scikit-learn sets recall to 1 everywhere
// and the result is 0.
func binaryAP(p, n []uint64) float64 {
	if len(p) == 0 {
		return 0
	}
	total := float64(len(p))
	ap := 0.0
	prevT := 0
	walk(p, n, func(tps, fps int, _ uint64) {
		if tps != prevT {
			ap += (float64(tps)/total - float64(prevT)/total) * (float64(tps) / float64(tps+fps))
			prevT = tps
		}
	})
	return ap
}

// ROCCurve returns false and true positive rates and the thresholds, highest
// threshold first, with the (0, 0) point at threshold +Inf in front, as
// scikit-learn's roc_curve(drop_intermediate=False) does.
func ROCCurve(yTrue []Label, scores []float64, pos Label) (fpr, tpr, thresholds []float64, err error) {
	p, n, err := splitBinary(yTrue, scores, pos)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(p) == 0 {
		return nil, nil, nil, fmt.Errorf("y_true has no row of the positive class %s: the ROC curve needs positives and negatives", pos)
	}
	if len(n) == 0 {
		return nil, nil, nil, fmt.Errorf("y_true has only rows of the positive class %s: the ROC curve needs positives and negatives", pos)
	}
	radixSort(p)
	radixSort(n)
	fpr, tpr, thresholds = []float64{0}, []float64{0}, []float64{math.Inf(1)}
	walk(p, n, func(tps, fps int, k uint64) {
		fpr = append(fpr, float64(fps)/float64(len(n)))
		tpr = append(tpr, float64(tps)/float64(len(p)))
		thresholds = append(thresholds, keyFloat(k))
	})
	return fpr, tpr, thresholds, nil
}

func keyFloat(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// ROCAUC is the binary ROC-AUC of scores against y_true, whose greater class
// is the positive one (scikit-learn binarises y_true with its sorted
// classes). maxFPR in (0, 1) gives the standardised partial AUC up to that
// false positive rate (McClish correction); 0 or 1 means the full area.
func ROCAUC(yTrue []Label, scores []float64, maxFPR float64) (float64, error) {
	classes, err := Classes(yTrue)
	if err != nil {
		return 0, err
	}
	if len(classes) > 2 {
		return 0, fmt.Errorf("y_true has %d classes (%s) but one score per row: give probability lists for multiclass ROC-AUC", len(classes), joinLabels(classes))
	}
	if len(classes) < 2 {
		return 0, fmt.Errorf("only one class (%s) in y_true: ROC-AUC is undefined (scikit-learn 1.2.1 raises); add rows of the other class", joinLabels(classes))
	}
	if maxFPR < 0 || maxFPR > 1 || math.IsNaN(maxFPR) {
		return 0, fmt.Errorf("max_fpr %g: expected a value in (0, 1]", maxFPR)
	}
	pos := classes[1]
	if maxFPR != 0 && maxFPR != 1 {
		return partialAUC(yTrue, scores, pos, maxFPR)
	}
	p, n, err := splitBinary(yTrue, scores, pos)
	if err != nil {
		return 0, err
	}
	radixSort(p)
	radixSort(n)
	return binaryAUC(p, n), nil
}

func partialAUC(yTrue []Label, scores []float64, pos Label, maxFPR float64) (float64, error) {
	fpr, tpr, _, err := ROCCurve(yTrue, scores, pos)
	if err != nil {
		return 0, err
	}
	// The first point whose fpr exceeds maxFPR (numpy searchsorted, right).
	stop := 0
	for stop < len(fpr) && fpr[stop] <= maxFPR {
		stop++
	}
	x0, x1 := fpr[stop-1], fpr[stop]
	y0, y1 := tpr[stop-1], tpr[stop]
	yi := y0
	if x1 != x0 {
		yi = y0 + (maxFPR-x0)*(y1-y0)/(x1-x0)
	}
	xs := append(append([]float64{}, fpr[:stop]...), maxFPR)
	ys := append(append([]float64{}, tpr[:stop]...), yi)
	area := trapz(xs, ys)
	minArea := 0.5 * maxFPR * maxFPR
	maxArea := maxFPR
	return 0.5 * (1 + (area-minArea)/(maxArea-minArea)), nil
}

func trapz(x, y []float64) float64 {
	s := 0.0
	for i := 1; i < len(x); i++ {
		s += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return s
}

// APResult is average precision with what scikit-learn warns about.
type APResult struct {
	Value    float64
	Warnings []string
}

// AveragePrecision is scikit-learn's binary average precision of scores for
// the class pos (nil means 1). When y_true has two classes, pos must be one
// of them.
func AveragePrecision(yTrue []Label, scores []float64, pos *Label) (APResult, error) {
	classes, err := Classes(yTrue)
	if err != nil {
		return APResult{}, err
	}
	if len(classes) > 2 {
		return APResult{}, fmt.Errorf("y_true has %d classes (%s) but one score per row: give probability lists for multiclass average precision", len(classes), joinLabels(classes))
	}
	pl := Int(1)
	if pos != nil {
		pl = *pos
	}
	if len(classes) == 2 && !Equal(classes[0], pl) && !Equal(classes[1], pl) {
		return APResult{}, fmt.Errorf("pos_label %s is not one of the classes (%s): set pos_label to the positive class", pl, joinLabels(classes))
	}
	p, n, err := splitBinary(yTrue, scores, pl)
	if err != nil {
		return APResult{}, err
	}
	var res APResult
	if len(p) == 0 {
		res.Warnings = append(res.Warnings, "no positive class in y_true: recall is 0/0 and set to 1 at every threshold, so average precision is 0")
	}
	radixSort(p)
	radixSort(n)
	res.Value = binaryAP(p, n)
	return res, nil
}

// MulticlassOptions configure ROC-AUC and average precision on probability
// lists (one column per class of y_true, in class order).
type MulticlassOptions struct {
	// MultiClass is "ovr" (one-vs-rest, the default) or "ovo" (one-vs-one);
	// average precision is always one-vs-rest.
	MultiClass string
	// Average is "macro" (default) or "weighted" (by class prevalence).
	Average string
}

func (o *MulticlassOptions) check() error {
	if o.MultiClass == "" {
		o.MultiClass = "ovr"
	}
	if o.Average == "" {
		o.Average = "macro"
	}
	if o.MultiClass != "ovr" && o.MultiClass != "ovo" {
		return fmt.Errorf("multi_class %q: use ovr or ovo", o.MultiClass)
	}
	if o.Average != "macro" && o.Average != "weighted" {
		return fmt.Errorf("average %q: use macro or weighted", o.Average)
	}
	return nil
}

// probColumns checks prob against the classes of y_true and returns the
// classes and the class index of each row.
func probColumns(yTrue []Label, prob [][]float64, requireSumOne bool) ([]Label, []int, error) {
	if len(yTrue) != len(prob) {
		return nil, nil, fmt.Errorf("y_true has %d rows but y_score has %d: give one probability list per row", len(yTrue), len(prob))
	}
	if len(yTrue) == 0 {
		return nil, nil, fmt.Errorf("no rows: the metric is undefined on empty input (scikit-learn raises too)")
	}
	classes, err := Classes(yTrue)
	if err != nil {
		return nil, nil, err
	}
	ix := newIndex(classes)
	y := make([]int, len(yTrue))
	for i, l := range yTrue {
		y[i], _ = ix.of(l)
		if len(prob[i]) != len(classes) {
			return nil, nil, fmt.Errorf("row %d: %d probabilities but y_true has %d classes (%s): give one probability per class, in class order", i+1, len(prob[i]), len(classes), joinLabels(classes))
		}
		s := 0.0
		for _, v := range prob[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("row %d: probability %v is not a finite number", i+1, v)
			}
			s += v
		}
		// numpy.allclose(1, s): |s - 1| <= 1e-8 + 1e-5 * |s|.
		if requireSumOne && math.Abs(s-1) > 1e-8+1e-5*math.Abs(s) {
			return nil, nil, fmt.Errorf("row %d: probabilities sum to %v, not 1: multiclass ROC-AUC needs probabilities over the classes", i+1, s)
		}
	}
	return classes, y, nil
}

// ROCAUCMulticlass is ROC-AUC for probability lists: one-vs-rest (each class
// against the others) or one-vs-one (Hand and Till: each pair of classes,
// both directions averaged), with macro or prevalence-weighted averaging.
// Two classes with two columns reduce to the binary AUC of the second column.
func ROCAUCMulticlass(yTrue []Label, prob [][]float64, o MulticlassOptions) (float64, error) {
	if err := o.check(); err != nil {
		return 0, err
	}
	classes, y, err := probColumns(yTrue, prob, true)
	if err != nil {
		return 0, err
	}
	k := len(classes)
	if k < 2 {
		return 0, fmt.Errorf("only one class (%s) in y_true: ROC-AUC is undefined (scikit-learn 1.2.1 raises); add rows of the other classes", joinLabels(classes))
	}
	col := func(c int, rows []int) (p, n []uint64) {
		for _, r := range rows {
			if y[r] == c {
				p = append(p, floatKey(prob[r][c]))
			} else {
				n = append(n, floatKey(prob[r][c]))
			}
		}
		radixSort(p)
		radixSort(n)
		return p, n
	}
	all := make([]int, len(y))
	for i := range all {
		all[i] = i
	}
	if k == 2 {
		p, n := col(1, all)
		return binaryAUC(p, n), nil
	}
	if o.MultiClass == "ovr" {
		scores := make([]float64, k)
		weights := make([]float64, k)
		for c := range k {
			p, n := col(c, all)
			scores[c] = binaryAUC(p, n)
			weights[c] = float64(len(p))
		}
		if o.Average == "weighted" {
			return weightedMean(scores, weights), nil
		}
		return mean(scores), nil
	}
	var scores, weights []float64
	for a := range k {
		for b := a + 1; b < k; b++ {
			var rows []int
			for r, c := range y {
				if c == a || c == b {
					rows = append(rows, r)
				}
			}
			pa, na := col(a, rows)
			pb, nb := col(b, rows)
			scores = append(scores, (binaryAUC(pa, na)+binaryAUC(pb, nb))/2)
			weights = append(weights, float64(len(rows))/float64(len(y)))
		}
	}
	if o.Average == "weighted" {
		return weightedMean(scores, weights), nil
	}
	return mean(scores), nil
}

// AveragePrecisionMulticlass is one-vs-rest average precision over
// probability lists (scikit-learn >= 1.3 semantics: y_true binarised with
// its sorted classes), macro or weighted by class support.
func AveragePrecisionMulticlass(yTrue []Label, prob [][]float64, average string) (float64, error) {
	o := MulticlassOptions{Average: average}
	if err := o.check(); err != nil {
		return 0, err
	}
	classes, y, err := probColumns(yTrue, prob, false)
	if err != nil {
		return 0, err
	}
	k := len(classes)
	scores := make([]float64, k)
	weights := make([]float64, k)
	for c := range k {
		var p, n []uint64
		for r := range y {
			if y[r] == c {
				p = append(p, floatKey(prob[r][c]))
			} else {
				n = append(n, floatKey(prob[r][c]))
			}
		}
		radixSort(p)
		radixSort(n)
		scores[c] = binaryAP(p, n)
		weights[c] = float64(len(p))
	}
	if o.Average == "weighted" {
		return weightedMean(scores, weights), nil
	}
	return mean(scores), nil
}

// Ranking is a binary scoring problem prepared once (scores as sort keys,
// labels as positive or not) so that ROC-AUC and average precision can be
// recomputed cheaply on many subsets, as a bootstrap does.
type Ranking struct {
	keys []uint64
	pos  []bool
}

// NewRanking prepares yTrue and scores with pos as the positive class.
func NewRanking(yTrue []Label, scores []float64, pos Label) (*Ranking, error) {
	if len(yTrue) != len(scores) {
		return nil, fmt.Errorf("y_true has %d rows but y_score has %d: give one score per row", len(yTrue), len(scores))
	}
	r := &Ranking{keys: make([]uint64, len(scores)), pos: make([]bool, len(scores))}
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("row %d: score is %v: scores must be finite numbers", i+1, s)
		}
		r.keys[i] = floatKey(s)
		r.pos[i] = Equal(yTrue[i], pos)
	}
	return r, nil
}

// split returns the sorted keys of the positive and negative rows of idx.
func (r *Ranking) split(idx []int) (p, n []uint64) {
	np := 0
	for _, i := range idx {
		if r.pos[i] {
			np++
		}
	}
	p = make([]uint64, 0, np)
	n = make([]uint64, 0, len(idx)-np)
	for _, i := range idx {
		if r.pos[i] {
			p = append(p, r.keys[i])
		} else {
			n = append(n, r.keys[i])
		}
	}
	radixSort(p)
	radixSort(n)
	return p, n
}

// AUC is the ROC-AUC of the rows idx; NaN when they hold one class only.
func (r *Ranking) AUC(idx []int) float64 {
	p, n := r.split(idx)
	if len(p) == 0 || len(n) == 0 {
		return math.NaN()
	}
	return binaryAUC(p, n)
}

// AP is the average precision of the rows idx (0 without positives, as
// scikit-learn).
func (r *Ranking) AP(idx []int) float64 {
	p, n := r.split(idx)
	return binaryAP(p, n)
}
