package scorer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/metrics/classification"
	"github.com/tunecheck/tunecheck/metrics/text"
)

// classificationEntries score the output as a class label against the first
// reference, with scikit-learn 1.2.1's definitions (metrics/classification).
// Every metric but accuracy is a corpus metric: each item contributes a
// one-hot cell of the confusion matrix over the plan's labels, and the task
// value is computed from the summed matrix exactly as `tunecheck score`
// computes it from the rows.
func classificationEntries() []Entry {
	mapping := []Option{
		{Name: "strip", Type: "bool", Default: "true", Doc: "trim surrounding whitespace from the output and the reference before matching a label"},
		{Name: "lowercase", Type: "bool", Default: "false", Doc: "match labels case-insensitively (Python str.lower)"},
	}
	labels := Option{Name: "labels", Type: "list of labels", Doc: "the label set (strings, numbers or booleans; required): an output that spells none of them is a wrong answer counted as one extra class, \"other\""}
	prf := func(f bool) []Option {
		out := []Option{labels,
			{Name: "average", Type: "string", Default: "auto", Doc: "binary, micro, macro or weighted; auto is binary for at most two labels that include pos_label, macro otherwise"},
			{Name: "pos_label", Type: "label", Default: "1", Doc: "the positive class of the binary average (one of labels)"},
			{Name: "zero_division", Type: "string", Default: "warn", Doc: "value of a 0/0 precision or recall: warn (0), 0 or 1"},
		}
		if f {
			out = append(out, Option{Name: "beta", Type: "number", Default: "1", Doc: "F-beta's recall weight (the metric keeps the name f1)"})
		}
		return append(out, mapping...)
	}
	notes := "Per item: 1 when the output is the reference's label, else 0 (wins, losses, worst examples). " +
		"An output outside labels sorts after every label as one class; a reference outside labels makes the item unscorable."
	return []Entry{
		{
			Name: "accuracy", Doc: "1 when the output is the reference's label, else 0; the mean is scikit-learn 1.2.1 accuracy_score",
			Notes:   "Without labels the normalised output and reference are compared as strings; with labels, numbers match numerically (1.0 is 1).",
			Options: append([]Option{{Name: "labels", Type: "list of labels", Doc: "the label set (optional); with it a reference outside the set makes the item unscorable"}}, mapping...),
			Metrics: []Metric{passFail("accuracy")}, New: newClassifier("accuracy"),
		},
		{
			Name: "balanced_accuracy", Doc: "mean recall over the classes of the references (scikit-learn 1.2.1 balanced_accuracy_score)", Notes: notes,
			Options: append([]Option{labels, {Name: "adjusted", Type: "bool", Default: "false", Doc: "rescale so that chance scores 0"}}, mapping...),
			Metrics: []Metric{corpusBinary("balanced_accuracy")}, Example: Options{"labels": []any{"neg", "pos"}}, New: newClassifier("balanced_accuracy"),
		},
		{
			Name: "precision", Doc: "precision over the labels (scikit-learn 1.2.1 precision_score)", Notes: notes,
			Options: prf(false), Metrics: []Metric{corpusBinary("precision")}, Example: Options{"labels": []any{"neg", "pos"}, "pos_label": "pos"}, New: newClassifier("precision"),
		},
		{
			Name: "recall", Doc: "recall over the labels (scikit-learn 1.2.1 recall_score)", Notes: notes,
			Options: prf(false), Metrics: []Metric{corpusBinary("recall")}, Example: Options{"labels": []any{"neg", "pos"}, "pos_label": "pos"}, New: newClassifier("recall"),
		},
		{
			Name: "f1", Doc: "F1 (F-beta) over the labels (scikit-learn 1.2.1 f1_score / fbeta_score)", Notes: notes,
			Options: prf(true), Metrics: []Metric{corpusBinary("f1")}, Example: Options{"labels": []any{"neg", "neu", "pos"}, "average": "macro"}, New: newClassifier("f1"),
		},
		{
			Name: "mcc", Doc: "Matthews correlation coefficient, multiclass (scikit-learn 1.2.1 matthews_corrcoef)", Notes: notes,
			Options: append([]Option{labels}, mapping...), Metrics: []Metric{corpusBinary("mcc")}, Example: Options{"labels": []any{0, 1}}, New: newClassifier("mcc"),
		},
		{
			Name: "cohen_kappa", Doc: "Cohen's kappa between references and outputs (scikit-learn 1.2.1 cohen_kappa_score)", Notes: notes,
			Options: append([]Option{labels, {Name: "weights", Type: "string", Default: "none", Doc: "none, linear or quadratic (distances between sorted class positions)"}}, mapping...),
			Metrics: []Metric{corpusBinary("cohen_kappa")}, Example: Options{"labels": []any{1, 2, 3, 4, 5}}, New: newClassifier("cohen_kappa"),
		},
	}
}

// corpusBinary is a corpus metric whose per-item value is 0 or 1.
func corpusBinary(name string) Metric {
	m := corpus(name, Higher)
	m.Binary = true
	return m
}

// classifier maps outputs and references to labels and scores one
// classification metric.
type classifier struct {
	metric string
	labels []classification.Label // nil: compare normalised strings (accuracy only)
	other  classification.Label   // stands for every output outside labels
	byText map[string]int         // normalised label text → index
	strip  bool
	lower  bool

	avg      classification.Average
	pos      classification.Label
	zd       classification.ZeroDivision
	beta     float64
	adjusted bool
	weights  classification.KappaWeights
}

func newClassifier(metric string) func(Options) (Scorer, error) {
	return func(o Options) (Scorer, error) {
		p := newOpts(o)
		c := &classifier{metric: metric, beta: 1}
		rawLabels, hasLabels := p.list("labels", "labels")
		c.strip = p.bool("strip", true)
		c.lower = p.bool("lowercase", false)
		var avg, zd, weights string
		var posRaw any
		hasPos := false
		switch metric {
		case "precision", "recall", "f1":
			avg = p.string("average", "auto")
			posRaw, hasPos = p.get("pos_label")
			if v, ok := p.get("zero_division"); ok {
				zd = fmt.Sprint(v)
			}
			if metric == "f1" {
				c.beta = p.float("beta", 1)
			}
		case "balanced_accuracy":
			c.adjusted = p.bool("adjusted", false)
		case "cohen_kappa":
			weights = p.string("weights", "none")
		}
		if err := p.done(metric); err != nil {
			return nil, err
		}
		fail := func(format string, args ...any) (Scorer, error) {
			return nil, fmt.Errorf("scorer %s: "+format, append([]any{metric}, args...)...)
		}
		if !hasLabels && metric != "accuracy" {
			return fail("option labels is required: %s is computed from the confusion matrix summed over items, which needs the label set fixed before the run, e.g. labels: [negative, positive]", metric)
		}
		if hasLabels {
			if err := c.setLabels(rawLabels); err != nil {
				return fail("%v", err)
			}
		}
		if metric == "accuracy" {
			// A mean of per-item 0/1, not a corpus metric: no Stats.
			return accuracyScorer{c}, nil
		}
		switch metric {
		case "precision", "recall", "f1":
			if c.beta <= 0 {
				return fail("beta %g: use a positive number (1 is F1)", c.beta)
			}
			var err error
			if c.zd, err = classification.ParseZeroDivision(zd); err != nil {
				return fail("%v", err)
			}
			c.pos = classification.Int(1)
			posKnown := slices.ContainsFunc(c.labels, func(l classification.Label) bool { return classification.Equal(l, c.pos) })
			if hasPos {
				i, ok := c.parseLabel(fmt.Sprint(posRaw))
				if !ok {
					return fail("pos_label %v is not one of labels %s", posRaw, c.labelList())
				}
				c.pos, posKnown = c.labels[i], true
			}
			switch avg {
			case "auto":
				// Decided from the labels, not from the outputs, so that both
				// models and every bootstrap resample use the same average.
				c.avg = classification.AverageMacro
				if len(c.labels) <= 2 && posKnown {
					c.avg = classification.AverageBinary
				}
			case "none":
				return fail("average none gives one number per class; a plan metric needs one: use binary, micro, macro or weighted")
			default:
				a, err := classification.ParseAverage(avg)
				if err != nil {
					return fail("%v", err)
				}
				c.avg = a
			}
			if c.avg == classification.AverageBinary {
				if len(c.labels) > 2 {
					return fail("average binary needs at most two labels, got %d (%s): use micro, macro or weighted", len(c.labels), c.labelList())
				}
				if !posKnown {
					return fail("average binary needs pos_label, the positive class, one of labels %s (the default 1 is not one)", c.labelList())
				}
			}
		case "cohen_kappa":
			switch weights {
			case "none", "":
				c.weights = classification.KappaUnweighted
			case "linear", "quadratic":
				c.weights = classification.KappaWeights(weights)
			default:
				return fail("weights %q: use none, linear or quadratic", weights)
			}
		}
		return c, nil
	}
}

// setLabels converts the plan's label list, checks it and indexes the
// labels by their normalised text.
func (c *classifier) setLabels(raw []any) error {
	if len(raw) == 0 {
		return fmt.Errorf("option labels is empty: list the classes, e.g. labels: [negative, positive]")
	}
	c.byText = map[string]int{}
	for _, v := range raw {
		var l classification.Label
		switch x := v.(type) {
		case string:
			l = classification.Str(x)
		case bool:
			l = classification.Bool(x)
		case int64:
			l = classification.Num(float64(x))
		case int:
			l = classification.Num(float64(x))
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("label %v is not a finite number", x)
			}
			l = classification.Num(x)
		default:
			return fmt.Errorf("label %v: labels are strings, numbers or booleans", v)
		}
		for _, k := range c.labels {
			if classification.Equal(k, l) {
				return fmt.Errorf("label %s is listed twice", l)
			}
		}
		key := c.normalize(l.String())
		if j, dup := c.byText[key]; dup {
			return fmt.Errorf("labels %s and %s are the same once normalised (strip, lowercase): outputs could not tell them apart", c.labels[j], l)
		}
		c.byText[key] = len(c.labels)
		c.labels = append(c.labels, l)
	}
	if _, err := classification.Classes(c.labels); err != nil {
		return err
	}
	c.other = otherLabel(c.labels)
	return nil
}

// otherLabel is a label equal to none of labels that sorts after all of them.
func otherLabel(labels []classification.Label) classification.Label {
	if labels[0].Kind == classification.KindString {
		s := "\U0010FFFF"
		for slices.ContainsFunc(labels, func(l classification.Label) bool { return l.Str == s }) {
			s += "\U0010FFFF"
		}
		return classification.Str(s)
	}
	top := labels[0].Num
	for _, l := range labels {
		top = math.Max(top, l.Num)
	}
	return classification.Num(math.Floor(top) + 1)
}

func (c *classifier) normalize(s string) string {
	if c.strip {
		s = strings.TrimFunc(s, text.IsPySpace)
	}
	if c.lower {
		s = text.PyLower(s)
	}
	return s
}

// parseLabel maps text to the index of the label it spells: the same text
// once normalised, or, for numeric labels, the same number ("1.0" is 1).
func (c *classifier) parseLabel(s string) (int, bool) {
	s = c.normalize(s)
	if i, ok := c.byText[s]; ok {
		return i, true
	}
	if c.labels[0].Kind == classification.KindString {
		return -1, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return -1, false
	}
	for i, l := range c.labels {
		if l.Num == v {
			return i, true
		}
	}
	return -1, false
}

func (c *classifier) labelList() string {
	parts := make([]string, len(c.labels))
	for i, l := range c.labels {
		parts[i] = l.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// cell returns the (true, predicted) label indices of an item; the
// predicted index is len(labels) for an output outside the labels.
func (c *classifier) cell(in Input) (t, p int, err error) {
	if len(in.References) == 0 {
		return 0, 0, errNoRefs
	}
	t, ok := c.parseLabel(in.References[0])
	if !ok {
		return 0, 0, fmt.Errorf("the reference %q is not one of labels %s: fix the dataset, or add it to labels", in.References[0], c.labelList())
	}
	p, ok = c.parseLabel(in.Prediction)
	if !ok {
		p = len(c.labels)
	}
	return t, p, nil
}

func (c *classifier) Metrics() []Metric { return []Metric{corpusBinary(c.metric)} }

// accuracyScorer is the classifier of accuracy, whose task value is the mean
// of its per-item values.
type accuracyScorer struct{ c *classifier }

func (a accuracyScorer) Metrics() []Metric                          { return []Metric{passFail("accuracy")} }
func (a accuracyScorer) Score(in Input) (map[string]float64, error) { return a.c.Score(in) }

// Score is 1 when the output is the reference's label, else 0.
func (c *classifier) Score(in Input) (map[string]float64, error) {
	if c.labels == nil {
		if len(in.References) == 0 {
			return nil, errNoRefs
		}
		return map[string]float64{c.metric: b2f(c.normalize(in.Prediction) == c.normalize(in.References[0]))}, nil
	}
	t, p, err := c.cell(in)
	if err != nil {
		return nil, err
	}
	return map[string]float64{c.metric: b2f(t == p)}, nil
}

// Stats is the one-hot (true, predicted) cell of the confusion matrix, rows
// by label, columns by label and then "other".
func (c *classifier) Stats(in Input) ([]float64, error) {
	t, p, err := c.cell(in)
	if err != nil {
		return nil, err
	}
	k := len(c.labels) + 1
	st := make([]float64, len(c.labels)*k)
	st[t*k+p] = 1
	return st, nil
}

// Aggregate rebuilds label columns from the summed confusion matrix and
// computes the metric on them with metrics/classification, as `tunecheck
// score` does on the rows (every metric here depends on the rows only through
// that matrix). Undefined values (kappa with one class) are NaN.
func (c *classifier) Aggregate(sum []float64) map[string]float64 {
	nan := map[string]float64{c.metric: math.NaN()}
	k := len(c.labels) + 1
	if len(sum) != len(c.labels)*k {
		return nan
	}
	var yt, yp []classification.Label
	for i, v := range sum {
		n := int(math.Round(v))
		pred := c.other
		if j := i % k; j < len(c.labels) {
			pred = c.labels[j]
		}
		for range n {
			yt = append(yt, c.labels[i/k])
			yp = append(yp, pred)
		}
	}
	v, err := c.value(yt, yp)
	if err != nil {
		return nan
	}
	return map[string]float64{c.metric: v}
}

func (c *classifier) value(yt, yp []classification.Label) (float64, error) {
	switch c.metric {
	case "balanced_accuracy":
		r, err := classification.BalancedAccuracy(yt, yp, c.adjusted)
		return r.Value, err
	case "mcc":
		return classification.MCC(yt, yp)
	case "cohen_kappa":
		r, err := classification.CohenKappa(yt, yp, c.weights)
		return r.Value, err
	case "precision", "recall", "f1":
		o := classification.PRFOptions{Average: c.avg, Labels: c.labels, ZeroDivision: c.zd, Beta: c.beta}
		if c.avg == classification.AverageBinary {
			// The positive class alone, with the other labels and "other"
			// as negatives: scikit-learn's binary average, which would
			// refuse a third class in the outputs, is micro over [pos].
			o.Average, o.Labels = classification.AverageMicro, []classification.Label{c.pos}
		}
		r, err := classification.PrecisionRecallF(yt, yp, o)
		switch c.metric {
		case "precision":
			return r.Precision, err
		case "recall":
			return r.Recall, err
		}
		return r.F, err
	}
	return math.NaN(), fmt.Errorf("scorer %s has no corpus value", c.metric)
}
