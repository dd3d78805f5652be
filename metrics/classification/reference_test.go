package classification

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// TestReference checks testdata/reference.jsonl (calibration curves,
// confusion matrices, ROC curves), made by gen_reference.py with
// scikit-learn 1.2.1.
func TestReference(t *testing.T) {
	f, err := os.Open("testdata/reference.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var c struct {
			ID, Kind, Strategy   string
			YTrue                []json.RawMessage `json:"y_true"`
			YPred                []json.RawMessage `json:"y_pred"`
			YProb                []float64         `json:"y_prob"`
			YScore               []float64         `json:"y_score"`
			NBins                int               `json:"n_bins"`
			PosLabel             json.RawMessage   `json:"pos_label"`
			ProbTrue             []float64         `json:"prob_true"`
			ProbPred             []float64         `json:"prob_pred"`
			Labels               []json.RawMessage
			Matrix               [][]int
			FPR, TPR, Thresholds []float64
			ROCAUC               float64 `json:"roc_auc"`
			AveragePrecision     float64 `json:"average_precision"`
			PartialAUC02         float64 `json:"partial_auc_0_2"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		labels := func(raw []json.RawMessage) []Label {
			var out []Label
			for _, r := range raw {
				l, err := ParseLabel(r)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, l)
			}
			return out
		}
		t.Run(c.ID, func(t *testing.T) {
			yTrue := labels(c.YTrue)
			switch c.Kind {
			case "calibration":
				var pos *Label
				if c.PosLabel != nil {
					l, _ := ParseLabel(c.PosLabel)
					pos = &l
				}
				bins, err := CalibrationCurve(yTrue, c.YProb, pos, c.NBins, Strategy(c.Strategy))
				if err != nil {
					t.Fatal(err)
				}
				if len(bins) != len(c.ProbTrue) {
					t.Fatalf("%d bins, want %d", len(bins), len(c.ProbTrue))
				}
				for i, b := range bins {
					if !close(b.FracPos, c.ProbTrue[i]) || !close(b.MeanProb, c.ProbPred[i]) {
						t.Errorf("bin %d: got (%v, %v), want (%v, %v)", i, b.FracPos, b.MeanProb, c.ProbTrue[i], c.ProbPred[i])
					}
				}
			case "confusion":
				var ls []Label
				if c.Labels != nil {
					ls = labels(c.Labels)
				}
				m, _, err := ConfusionMatrix(yTrue, labels(c.YPred), ls)
				if err != nil {
					t.Fatal(err)
				}
				for i := range c.Matrix {
					if !slices.Equal(m[i], c.Matrix[i]) {
						t.Errorf("row %d: got %v, want %v", i, m[i], c.Matrix[i])
					}
				}
			case "roc_curve":
				fpr, tpr, thr, err := ROCCurve(yTrue, c.YScore, Int(1))
				if err != nil {
					t.Fatal(err)
				}
				if len(fpr) != len(c.FPR) {
					t.Fatalf("%d points, want %d", len(fpr), len(c.FPR))
				}
				for i := range fpr {
					if !close(fpr[i], c.FPR[i]) || !close(tpr[i], c.TPR[i]) {
						t.Errorf("point %d: got (%v, %v), want (%v, %v)", i, fpr[i], tpr[i], c.FPR[i], c.TPR[i])
					}
				}
				if !slices.Equal(thr[1:], c.Thresholds) {
					t.Errorf("thresholds: got %v, want %v", thr[1:], c.Thresholds)
				}
				v, _ := ROCAUC(yTrue, c.YScore, 0)
				ap, _ := AveragePrecision(yTrue, c.YScore, nil)
				pv, _ := ROCAUC(yTrue, c.YScore, 0.2)
				if !close(v, c.ROCAUC) || !close(ap.Value, c.AveragePrecision) || !close(pv, c.PartialAUC02) {
					t.Errorf("got auc %v ap %v pauc %v, want %v %v %v", v, ap.Value, pv, c.ROCAUC, c.AveragePrecision, c.PartialAUC02)
				}
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestRadixSortMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 255, 256, 257, 5000, 100000} {
		keys := make([]uint64, n)
		for i := range keys {
			var f float64
			switch i % 4 {
			case 0:
				f = r.Float64()
			case 1:
				f = -r.NormFloat64() * 1e10
			case 2:
				f = math.Round(r.Float64()*100) / 100 // ties
			default:
				f = []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), 1e-300}[r.IntN(5)]
			}
			keys[i] = floatKey(f)
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		radixSort(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("n=%d: radix sort differs from slices.Sort", n)
		}
		for i := 1; i < len(keys); i++ {
			if keyFloat(keys[i-1]) > keyFloat(keys[i]) {
				t.Fatalf("n=%d: keys out of float order at %d", n, i)
			}
		}
	}
	if floatKey(0) != floatKey(math.Copysign(0, -1)) {
		t.Fatal("-0 and +0 must share a key (one threshold, as in numpy)")
	}
}

func TestLabelOrder(t *testing.T) {
	got, err := Classes([]Label{Str("b"), Str("B"), Str("é"), Str("a")}, []Label{Str("b")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"B", "a", "b", "é"}; joinLabels(got) != "B, a, b, é" {
		t.Fatalf("got %v, want %v (code point order)", got, want)
	}
	got, _ = Classes([]Label{Bool(true), Int(0), Int(-1), Bool(false), Num(2.5)})
	if joinLabels(got) != "-1, 0, true, 2.5" {
		t.Fatalf("got %s: booleans are 0 and 1 among numbers, false equals 0", joinLabels(got))
	}
	if _, err := Classes([]Label{Str("1"), Int(1)}); err == nil {
		t.Fatal("mixing strings and numbers must fail, as numpy cannot sort them")
	}
	// More classes than the linear scan holds.
	var many []Label
	for i := 40; i > 0; i-- {
		many = append(many, Int(i%20), Int(i))
	}
	got, _ = Classes(many)
	if len(got) != 41 || got[0] != Int(0) || got[40] != Int(40) {
		t.Fatalf("got %v", got)
	}
}

func TestErrors(t *testing.T) {
	y := []Label{Int(0), Int(1), Int(1)}
	cases := []struct {
		name string
		err  func() error
	}{
		{"length mismatch", func() error { _, err := Accuracy(y, y[:2]); return err }},
		{"empty", func() error { _, err := MCC(nil, nil); return err }},
		{"mixed kinds", func() error { _, err := Accuracy([]Label{Str("a")}, []Label{Int(1)}); return err }},
		{"bad average", func() error {
			_, err := PrecisionRecallF(y, y, PRFOptions{Average: "median"})
			return err
		}},
		{"pos label absent", func() error {
			p := Int(7)
			_, err := PrecisionRecallF(y, y, PRFOptions{PosLabel: &p})
			return err
		}},
		{"nan score", func() error { _, err := ROCAUC(y, []float64{0.1, math.NaN(), 0.3}, 0); return err }},
		{"max fpr out of range", func() error { _, err := ROCAUC(y, []float64{0.1, 0.2, 0.3}, 1.5); return err }},
		{"multiclass scores", func() error {
			_, err := ROCAUC([]Label{Int(0), Int(1), Int(2)}, []float64{0.1, 0.2, 0.3}, 0)
			return err
		}},
		{"rows not summing to one", func() error {
			_, err := ROCAUCMulticlass([]Label{Int(0), Int(1), Int(2)}, [][]float64{{0.5, 0.5, 0.5}, {0.2, 0.3, 0.5}, {0.1, 0.1, 0.8}}, MulticlassOptions{})
			return err
		}},
		{"wrong column count", func() error {
			_, err := AveragePrecisionMulticlass([]Label{Int(0), Int(1), Int(2)}, [][]float64{{0.5, 0.5}, {0.2, 0.8}, {0.1, 0.9}}, "")
			return err
		}},
		{"log loss label not in labels", func() error {
			_, err := LogLoss([]Label{Int(0), Int(3)}, [][]float64{{0.2}, {0.7}}, []Label{Int(0), Int(1)})
			return err
		}},
		{"brier above one", func() error { _, err := Brier(y, []float64{0.1, 1.2, 0.5}, nil); return err }},
		{"brier string classes", func() error {
			_, err := Brier([]Label{Str("a"), Str("b")}, []float64{0.1, 0.2}, nil)
			return err
		}},
		{"calibration multiclass", func() error {
			_, err := CalibrationCurve([]Label{Int(0), Int(1), Int(2)}, []float64{0.1, 0.2, 0.3}, nil, 5, Uniform)
			return err
		}},
		{"kappa weights", func() error { _, err := CohenKappa(y, y, "cubic"); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err() == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestECE(t *testing.T) {
	y := []Label{Int(1), Int(0), Int(1), Int(1), Int(0), Int(0)}
	p := []float64{0.9, 0.8, 0.7, 0.2, 0.1, 0.3}
	// Two uniform bins: [0, 0.5] holds 0.2 0.1 0.3 (one positive, mean
	// 0.2), (0.5, 1] holds 0.9 0.8 0.7 (two positives, mean 0.8).
	got, err := ECE(y, p, nil, 2, Uniform)
	if err != nil {
		t.Fatal(err)
	}
	want := (3*math.Abs(1.0/3-0.2) + 3*math.Abs(2.0/3-0.8)) / 6
	if !close(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRankingMatchesFunctions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	y := make([]Label, 2000)
	s := make([]float64, len(y))
	for i := range y {
		y[i] = Int(r.IntN(2))
		s[i] = math.Round(r.Float64()*50) / 50
	}
	rk, err := NewRanking(y, s, Int(1))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		idx := make([]int, len(y))
		for i := range idx {
			idx[i] = r.IntN(len(y))
		}
		ys := make([]Label, len(idx))
		ss := make([]float64, len(idx))
		for i, j := range idx {
			ys[i], ss[i] = y[j], s[j]
		}
		auc, err := ROCAUC(ys, ss, 0)
		if err != nil {
			t.Fatal(err)
		}
		ap, err := AveragePrecision(ys, ss, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rk.AUC(idx) != auc || rk.AP(idx) != ap.Value {
			t.Fatalf("Ranking gives %v, %v; functions give %v, %v", rk.AUC(idx), rk.AP(idx), auc, ap.Value)
		}
	}
	if !math.IsNaN(rk.AUC([]int{0, 0, 0})) {
		t.Fatal("one row repeated: AUC must be NaN (undefined)")
	}
}
