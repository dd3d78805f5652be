package regression

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

func decodeFloat(t *testing.T, raw json.RawMessage) float64 {
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
		t.Fatal(err)
	}
	return f
}

func near(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func compute(metric string, y, p []float64) (Result, error) {
	wrap := func(v float64, err error) (Result, error) { return Result{Value: v}, err }
	switch metric {
	case "mae":
		return wrap(MAE(y, p))
	case "mse":
		return wrap(MSE(y, p))
	case "rmse":
		return wrap(RMSE(y, p))
	case "mape":
		return wrap(MAPE(y, p))
	case "r2":
		return R2(y, p)
	case "pearson":
		return Pearson(y, p)
	case "spearman":
		return Spearman(y, p)
	case "kendall":
		return KendallTauB(y, p)
	}
	return Result{}, os.ErrInvalid
}

func lines(t *testing.T, path string, each func(line int, b []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		each(n, sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestSklearnParity checks the mae, mse and r2 cases of shared
// parity/sklearn.jsonl.
func TestSklearnParity(t *testing.T) {
	n := 0
	lines(t, shareddata.Path(t, "parity", "sklearn.jsonl"), func(line int, b []byte) {
		var c struct {
			ID       string
			Metric   string
			Input    json.RawMessage
			Expected struct {
				Corpus   map[string]json.RawMessage
				Warnings []string
			}
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("sklearn.jsonl:%d: %v", line, err)
		}
		switch c.Metric {
		case "mae", "mse", "r2":
		default:
			return
		}
		n++
		t.Run(c.ID, func(t *testing.T) {
			var rows []struct{ Label, Pred float64 }
			if err := json.Unmarshal(c.Input, &rows); err != nil {
				t.Fatal(err)
			}
			var y, p []float64
			for _, r := range rows {
				y, p = append(y, r.Label), append(p, r.Pred)
			}
			got, err := compute(c.Metric, y, p)
			if err != nil {
				t.Fatal(err)
			}
			want := decodeFloat(t, c.Expected.Corpus[c.Metric])
			if !near(got.Value, want) {
				t.Errorf("got %v, want %v", got.Value, want)
			}
			if (len(got.Warnings) > 0) != (len(c.Expected.Warnings) > 0) {
				t.Errorf("warnings: got %q, reference %q", got.Warnings, c.Expected.Warnings)
			}
		})
	})
	if n != 24 {
		t.Fatalf("read %d regression cases, want 24", n)
	}
}

// TestReference checks testdata/reference.jsonl, made by gen_reference.py
// with scikit-learn 1.2.1 and scipy 1.10.1.
func TestReference(t *testing.T) {
	lines(t, "testdata/reference.jsonl", func(line int, b []byte) {
		var c struct {
			ID       string
			YTrue    []float64 `json:"y_true"`
			YPred    []float64 `json:"y_pred"`
			Expected map[string]json.RawMessage
			Warnings map[string][]string
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("reference.jsonl:%d: %v", line, err)
		}
		for metric, raw := range c.Expected {
			t.Run(c.ID+"/"+metric, func(t *testing.T) {
				got, err := compute(metric, c.YTrue, c.YPred)
				if err != nil {
					t.Fatal(err)
				}
				want := decodeFloat(t, raw)
				if !near(got.Value, want) {
					t.Errorf("got %v, want %v", got.Value, want)
				}
				if len(c.Warnings[metric]) > 0 && len(got.Warnings) == 0 {
					t.Errorf("reference warned %q, got no warning", c.Warnings[metric])
				}
				if math.IsNaN(got.Value) != (len(got.Warnings) > 0) {
					t.Errorf("NaN must come with a warning: %v %q", got.Value, got.Warnings)
				}
			})
		}
	})
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		metric string
		y, p   []float64
	}{
		{"empty", "mae", nil, nil},
		{"length mismatch", "mse", []float64{1, 2}, []float64{1}},
		{"nan", "r2", []float64{1, math.NaN()}, []float64{1, 2}},
		{"inf pred", "mape", []float64{1, 2}, []float64{1, math.Inf(1)}},
		{"pearson one row", "pearson", []float64{1}, []float64{2}},
		{"kendall one row", "kendall", []float64{1}, []float64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := compute(tt.metric, tt.y, tt.p); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// TestKendallAgainstQuadratic checks the O(n log n) count against the
// definition over all pairs on inputs with many ties.
func TestKendallAgainstQuadratic(t *testing.T) {
	x := make([]float64, 500)
	y := make([]float64, 500)
	s := uint64(7)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		x[i] = float64(s>>60) / 3
		y[i] = float64((s>>40)&7) + x[i]/4
	}
	var con, dis, tx, ty float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			a := (x[i] - x[j]) * (y[i] - y[j])
			switch {
			case a > 0:
				con++
			case a < 0:
				dis++
			default:
				if x[i] == x[j] && y[i] != y[j] {
					tx++
				}
				if y[i] == y[j] && x[i] != x[j] {
					ty++
				}
			}
		}
	}
	want := (con - dis) / math.Sqrt((con+dis+tx)*(con+dis+ty))
	got, err := KendallTauB(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got.Value, want) {
		t.Fatalf("got %v, want %v", got.Value, want)
	}
}

func BenchmarkKendallTauB(b *testing.B) {
	x := make([]float64, 100000)
	y := make([]float64, len(x))
	s := uint64(1)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		x[i] = float64(s >> 44)
		y[i] = x[i] + float64((s>>20)&0xffff)
	}
	for b.Loop() {
		if _, err := KendallTauB(x, y); err != nil {
			b.Fatal(err)
		}
	}
}
