package classification

import (
	"fmt"
	"math"
)

// Accuracy is the fraction of rows where the prediction equals the label.
func Accuracy(yTrue, yPred []Label) (float64, error) {
	if err := checkLengths(len(yTrue), len(yPred)); err != nil {
		return 0, err
	}
	if _, err := Classes(yTrue, yPred); err != nil {
		return 0, err
	}
	hits := 0
	for i := range yTrue {
		if Equal(yTrue[i], yPred[i]) {
			hits++
		}
	}
	return float64(hits) / float64(len(yTrue)), nil
}

// ConfusionMatrix counts rows by (true class, predicted class). With labels
// nil the classes are those of both slices, sorted; otherwise rows whose true
// or predicted label is not in labels are left out, as scikit-learn does.
// m[i][j] counts rows of true class i predicted as class j.
func ConfusionMatrix(yTrue, yPred, labels []Label) (m [][]int, classes []Label, err error) {
	if err := checkLengths(len(yTrue), len(yPred)); err != nil {
		return nil, nil, err
	}
	if labels == nil {
		classes, err = Classes(yTrue, yPred)
		if err != nil {
			return nil, nil, err
		}
	} else {
		if len(labels) == 0 {
			return nil, nil, fmt.Errorf("labels is empty: give at least one label")
		}
		if _, err := Classes(labels, yTrue, yPred); err != nil {
			return nil, nil, err
		}
		classes = labels
	}
	ix := newIndex(classes)
	if labels != nil && len(yTrue) > 0 {
		// scikit-learn 1.2.1 raises here rather than return a zero matrix.
		found := false
		for _, l := range yTrue {
			if _, ok := ix.of(l); ok {
				found = true
				break
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("none of the labels (%s) occurs in y_true: at least one label must (scikit-learn raises too)", joinLabels(labels))
		}
	}
	m = make([][]int, len(classes))
	for i := range m {
		m[i] = make([]int, len(classes))
	}
	for r := range yTrue {
		i, ok1 := ix.of(yTrue[r])
		j, ok2 := ix.of(yPred[r])
		if ok1 && ok2 {
			m[i][j]++
		}
	}
	return m, classes, nil
}

// BalancedResult is balanced accuracy with what scikit-learn warns about.
type BalancedResult struct {
	Value    float64
	Warnings []string
}

// BalancedAccuracy is the mean recall over the classes present in y_true.
// Classes that occur only in y_pred are dropped (with a warning). adjusted
// rescales so that chance scores 0 and perfect scores 1.
func BalancedAccuracy(yTrue, yPred []Label, adjusted bool) (BalancedResult, error) {
	m, _, err := ConfusionMatrix(yTrue, yPred, nil)
	if err != nil {
		return BalancedResult{}, err
	}
	var res BalancedResult
	sum, n := 0.0, 0
	for i, row := range m {
		total := 0
		for _, c := range row {
			total += c
		}
		if total == 0 {
			continue
		}
		sum += float64(row[i]) / float64(total)
		n++
	}
	if n < len(m) {
		res.Warnings = append(res.Warnings, "y_pred contains classes that never occur in y_true; they are left out of the mean recall")
	}
	score := sum / float64(n)
	if adjusted {
		chance := 1 / float64(n)
		score -= chance
		score /= 1 - chance
	}
	res.Value = score
	return res, nil
}

// MCC is the Matthews correlation coefficient in its multiclass form
// (Gorodkin's R_K), as scikit-learn computes it. A constant y_true or y_pred
// makes it 0/0, which scikit-learn (and this function) reports as 0.
func MCC(yTrue, yPred []Label) (float64, error) {
	m, _, err := ConfusionMatrix(yTrue, yPred, nil)
	if err != nil {
		return 0, err
	}
	k := len(m)
	tSum := make([]float64, k)
	pSum := make([]float64, k)
	correct := 0.0
	for i := range m {
		for j, c := range m[i] {
			tSum[i] += float64(c)
			pSum[j] += float64(c)
		}
		correct += float64(m[i][i])
	}
	n := 0.0
	for _, v := range pSum {
		n += v
	}
	dotTP, dotPP, dotTT := 0.0, 0.0, 0.0
	for i := range k {
		dotTP += tSum[i] * pSum[i]
		dotPP += pSum[i] * pSum[i]
		dotTT += tSum[i] * tSum[i]
	}
	covTP := correct*n - dotTP
	covPP := n*n - dotPP
	covTT := n*n - dotTT
	if covPP*covTT == 0 {
		return 0, nil
	}
	return covTP / math.Sqrt(covTT*covPP), nil
}

// KappaWeights selects how Cohen's kappa weighs disagreements.
type KappaWeights string

// The weightings scikit-learn offers; distances are between class indices
// in sorted order, not between label values.
const (
	KappaUnweighted KappaWeights = ""
	KappaLinear     KappaWeights = "linear"
	KappaQuadratic  KappaWeights = "quadratic"
)

// KappaResult is Cohen's kappa with what scikit-learn warns about.
type KappaResult struct {
	Value    float64
	Warnings []string
}

// CohenKappa is the agreement between two raters beyond chance. When only one
// class occurs anywhere the expected disagreement is 0 and kappa is 0/0:
// scikit-learn 1.2.1 returns NaN (with a RuntimeWarning), and so does this.
func CohenKappa(y1, y2 []Label, weights KappaWeights) (KappaResult, error) {
	switch weights {
	case KappaUnweighted, KappaLinear, KappaQuadratic:
	default:
		return KappaResult{}, fmt.Errorf("unknown kappa weights %q: use none, linear or quadratic", weights)
	}
	m, _, err := ConfusionMatrix(y1, y2, nil)
	if err != nil {
		return KappaResult{}, err
	}
	k := len(m)
	sum0 := make([]float64, k) // column sums (y2)
	sum1 := make([]float64, k) // row sums (y1)
	total := 0.0
	for i := range m {
		for j, c := range m[i] {
			sum0[j] += float64(c)
			sum1[i] += float64(c)
			total += float64(c)
		}
	}
	num, den := 0.0, 0.0
	for i := range k {
		for j := range k {
			var w float64
			switch weights {
			case KappaUnweighted:
				if i != j {
					w = 1
				}
			case KappaLinear:
				w = math.Abs(float64(i - j))
			case KappaQuadratic:
				w = float64((i - j) * (i - j))
			}
			num += w * float64(m[i][j])
			// scikit-learn's expected matrix is outer(sum0, sum1) / n.
			den += w * (sum0[i] * sum1[j] / total)
		}
	}
	var res KappaResult
	if den == 0 {
		res.Value = math.NaN()
		res.Warnings = append(res.Warnings, "kappa is 0/0: only one class occurs, so chance agreement is perfect; the value is NaN")
		return res, nil
	}
	res.Value = 1 - num/den
	return res, nil
}
