package classification

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// parityCase is one line of shared/data/parity/sklearn.jsonl.
type parityCase struct {
	ID       string            `json:"id"`
	Metric   string            `json:"metric"`
	Args     []string          `json:"args"`
	Input    []json.RawMessage `json:"input"`
	Note     string            `json:"note"`
	Expected struct {
		Corpus   map[string]json.RawMessage      `json:"corpus"`
		Warnings []string                        `json:"warnings"`
		Error    *struct{ Type, Message string } `json:"error"`
	} `json:"expected"`
}

func readCases(t *testing.T, name string) []parityCase {
	t.Helper()
	return shareddata.ReadJSONL[parityCase](t, shareddata.Path(t, "parity", name))
}

type row struct {
	Label json.RawMessage `json:"label"`
	Pred  json.RawMessage `json:"pred"`
	Score *float64        `json:"score"`
	Prob  json.RawMessage `json:"prob"`
}

// parsedCase is a case's rows decoded into the metric inputs.
type parsedCase struct {
	yTrue, yPred []Label
	scores       []float64
	prob         [][]float64
	probIsList   bool
	args         map[string]string
}

func parseCase(t *testing.T, c parityCase) parsedCase {
	t.Helper()
	var p parsedCase
	p.args = map[string]string{}
	for i := 0; i+1 < len(c.Args); i += 2 {
		p.args[strings.TrimPrefix(c.Args[i], "--")] = c.Args[i+1]
	}
	for i, raw := range c.Input {
		var r row
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s row %d: %v", c.ID, i, err)
		}
		l, err := ParseLabel(r.Label)
		if err != nil {
			t.Fatalf("%s row %d: %v", c.ID, i, err)
		}
		p.yTrue = append(p.yTrue, l)
		if r.Pred != nil {
			pl, err := ParseLabel(r.Pred)
			if err != nil {
				t.Fatalf("%s row %d: %v", c.ID, i, err)
			}
			p.yPred = append(p.yPred, pl)
		}
		if r.Score != nil {
			p.scores = append(p.scores, *r.Score)
		}
		if r.Prob != nil {
			if r.Prob[0] == '[' {
				var v []float64
				if err := json.Unmarshal(r.Prob, &v); err != nil {
					t.Fatal(err)
				}
				p.prob = append(p.prob, v)
				p.probIsList = true
			} else {
				var v float64
				if err := json.Unmarshal(r.Prob, &v); err != nil {
					t.Fatal(err)
				}
				p.prob = append(p.prob, []float64{v})
			}
		}
	}
	return p
}

func (p parsedCase) label(t *testing.T, name string) *Label {
	t.Helper()
	s, ok := p.args[name]
	if !ok {
		return nil
	}
	l, err := ParseLabel([]byte(s))
	if err != nil {
		t.Fatalf("--%s %s: %v", name, s, err)
	}
	return &l
}

func (p parsedCase) column() []float64 {
	out := make([]float64, len(p.prob))
	for i, r := range p.prob {
		out[i] = r[0]
	}
	return out
}

// runMetric computes what a case asks for, as key → value(s) plus warnings.
func runMetric(t *testing.T, c parityCase) (map[string]any, []string, error) {
	p := parseCase(t, c)
	out := map[string]any{}
	zd, err := ParseZeroDivision(p.args["zero-division"])
	if err != nil {
		t.Fatal(err)
	}
	switch c.Metric {
	case "accuracy":
		v, err := Accuracy(p.yTrue, p.yPred)
		out["accuracy"] = v
		return out, nil, err
	case "balanced_accuracy":
		adj, _ := strconv.ParseBool(p.args["adjusted"])
		r, err := BalancedAccuracy(p.yTrue, p.yPred, adj)
		out["balanced_accuracy"] = r.Value
		return out, r.Warnings, err
	case "mcc":
		v, err := MCC(p.yTrue, p.yPred)
		out["mcc"] = v
		return out, nil, err
	case "cohen_kappa":
		r, err := CohenKappa(p.yTrue, p.yPred, KappaWeights(p.args["weights"]))
		out["cohen_kappa"] = r.Value
		return out, r.Warnings, err
	case "precision", "recall", "f1":
		o := PRFOptions{Average: Average(p.args["average"]), PosLabel: p.label(t, "pos-label"), ZeroDivision: zd}
		if s, ok := p.args["labels"]; ok {
			ls, err := ParseLabels([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			o.Labels = ls
		}
		r, err := PrecisionRecallF(p.yTrue, p.yPred, o)
		if err != nil {
			return nil, nil, err
		}
		val, class := r.Precision, r.ClassPrecision
		prefix := "precision"
		switch c.Metric {
		case "recall":
			val, class, prefix = r.Recall, r.ClassRecall, "recall"
		case "f1":
			val, class, prefix = r.F, r.ClassF, "F-score"
		}
		if o.Average == AverageNone {
			out[c.Metric] = class
		} else {
			out[c.Metric] = val
		}
		// scikit-learn's single-metric functions warn only about their own
		// metric (f1_score only when both precision and recall are 0/0).
		var ws []string
		for _, w := range r.Warnings {
			if strings.HasPrefix(w, prefix) {
				ws = append(ws, w)
			}
		}
		return out, ws, nil
	case "prf_all":
		classes, err := Classes(p.yTrue, p.yPred)
		if err != nil {
			return nil, nil, err
		}
		avgs := []Average{AverageMicro, AverageMacro, AverageWeighted}
		if len(classes) <= 2 {
			avgs = append(avgs, AverageBinary)
		}
		var ws []string
		for _, a := range avgs {
			r, err := PrecisionRecallF(p.yTrue, p.yPred, PRFOptions{Average: a, PosLabel: p.label(t, "pos-label"), ZeroDivision: zd})
			if err != nil {
				return nil, nil, err
			}
			out["precision_"+string(a)] = r.Precision
			out["recall_"+string(a)] = r.Recall
			out["f1_"+string(a)] = r.F
			for _, w := range r.Warnings {
				if !strings.HasPrefix(w, "F-score") {
					ws = append(ws, w)
				}
			}
		}
		return out, ws, nil
	case "roc_auc":
		var v float64
		var err error
		if p.probIsList {
			v, err = ROCAUCMulticlass(p.yTrue, p.prob, MulticlassOptions{MultiClass: p.args["multi-class"], Average: p.args["auc-average"]})
		} else {
			maxFPR := 0.0
			if s, ok := p.args["max-fpr"]; ok {
				maxFPR, _ = strconv.ParseFloat(s, 64)
			}
			v, err = ROCAUC(p.yTrue, p.scores, maxFPR)
		}
		out["roc_auc"] = v
		return out, nil, err
	case "average_precision":
		if p.probIsList {
			v, err := AveragePrecisionMulticlass(p.yTrue, p.prob, p.args["auc-average"])
			out["average_precision"] = v
			return out, nil, err
		}
		r, err := AveragePrecision(p.yTrue, p.scores, p.label(t, "pos-label"))
		out["average_precision"] = r.Value
		return out, r.Warnings, err
	case "log_loss":
		var labels []Label
		if s, ok := p.args["labels"]; ok {
			labels, err = ParseLabels([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
		}
		v, err := LogLoss(p.yTrue, p.prob, labels)
		out["log_loss"] = v
		return out, nil, err
	case "brier":
		v, err := Brier(p.yTrue, p.column(), p.label(t, "pos-label"))
		out["brier"] = v
		return out, nil, err
	}
	return nil, nil, errSkip
}

var errSkip = fmt.Errorf("not a classification metric")

func wantFloat(t *testing.T, raw json.RawMessage) float64 {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN()
		case "Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		}
		t.Fatalf("unexpected string %q", s)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return f
}

func close(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// TestSklearnParity checks every classification case of sklearn.jsonl:
// values within 1e-9 relative, errors where scikit-learn raised, and a
// warning exactly where scikit-learn warned.
func TestSklearnParity(t *testing.T) {
	n := 0
	for _, c := range readCases(t, "sklearn.jsonl") {
		switch c.Metric {
		case "mae", "mse", "r2":
			continue
		}
		n++
		t.Run(c.ID, func(t *testing.T) {
			got, warnings, err := runMetric(t, c)
			if err == errSkip {
				t.Fatalf("metric %q not handled", c.Metric)
			}
			if c.Expected.Error != nil {
				if err == nil {
					t.Fatalf("want an error like %q, got %v", c.Expected.Error.Message, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			for k, raw := range c.Expected.Corpus {
				if k == "note" {
					continue
				}
				g, ok := got[k]
				if !ok {
					t.Errorf("%s: missing", k)
					continue
				}
				if raw[0] == '[' {
					var want []float64
					if err := json.Unmarshal(raw, &want); err != nil {
						t.Fatal(err)
					}
					gs := g.([]float64)
					if len(gs) != len(want) {
						t.Errorf("%s: got %v, want %v", k, gs, want)
						continue
					}
					for i := range want {
						if !close(gs[i], want[i]) {
							t.Errorf("%s[%d]: got %v, want %v", k, i, gs[i], want[i])
						}
					}
					continue
				}
				want := wantFloat(t, raw)
				if !close(g.(float64), want) {
					t.Errorf("%s: got %v, want %v", k, g, want)
				}
			}
			if (len(warnings) > 0) != (len(c.Expected.Warnings) > 0) {
				t.Errorf("warnings: got %q, reference warned %q", warnings, c.Expected.Warnings)
			}
		})
	}
	if n < 150 {
		t.Fatalf("only %d classification cases read", n)
	}
}
