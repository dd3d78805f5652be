package leakage

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestOptimalLSH pins the bandings that minimise 0.5·FP + 0.5·FN. The
// expected values were computed independently with scipy's quad
// (testdata/lsh_params.py, output in testdata/lsh_params.json).
func TestOptimalLSH(t *testing.T) {
	tests := []struct {
		threshold   float64
		numPerm     int
		bands, rows int
	}{
		{0.5, 16, 5, 3}, {0.7, 16, 3, 5}, {0.8, 16, 2, 8}, {0.9, 16, 1, 15}, {0.95, 16, 1, 16},
		{0.5, 64, 14, 4}, {0.7, 64, 8, 8}, {0.8, 64, 5, 11}, {0.9, 64, 3, 21}, {0.95, 64, 2, 32},
		{0.5, 128, 25, 5}, {0.7, 128, 14, 9}, {0.8, 128, 9, 13}, {0.9, 128, 5, 25}, {0.95, 128, 3, 42},
		{0.5, 256, 42, 6}, {0.7, 256, 25, 10}, {0.8, 256, 17, 15}, {0.9, 256, 9, 28}, {0.95, 256, 5, 51},
	}
	for _, tc := range tests {
		got := OptimalLSH(tc.threshold, tc.numPerm, 0.5, 0.5)
		if got.Bands != tc.bands || got.Rows != tc.rows {
			t.Errorf("OptimalLSH(%v, %d) = %d×%d, want %d×%d", tc.threshold, tc.numPerm, got.Bands, got.Rows, tc.bands, tc.rows)
		}
	}
}

func TestLSHErrorMatchesScipy(t *testing.T) {
	b, err := os.ReadFile("testdata/lsh_params.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Threshold float64 `json:"threshold"`
		NumPerm   int     `json:"num_perm"`
		Bands     int     `json:"bands"`
		Rows      int     `json:"rows"`
		Error     float64 `json:"error"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 20 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		got := lshError(c.Threshold, c.Bands, c.Rows, 0.5, 0.5)
		if math.Abs(got-c.Error) > 1e-9 {
			t.Errorf("error(%v, %d×%d) = %.12f, scipy %.12f", c.Threshold, c.Bands, c.Rows, got, c.Error)
		}
	}
}

func TestIntegrateExactForPolynomials(t *testing.T) {
	for _, deg := range []int{0, 1, 5, 31, 128, 256} {
		f := func(x float64) float64 { return math.Pow(x, float64(deg)) }
		got := integrate(f, 0, 1)
		want := 1 / float64(deg+1)
		if math.Abs(got-want) > 1e-13 {
			t.Errorf("∫x^%d = %.15f, want %.15f", deg, got, want)
		}
	}
}

func TestJaccard(t *testing.T) {
	tests := []struct {
		a, b []uint64
		want float64
	}{
		{nil, nil, 1},
		{[]uint64{1, 2, 3}, []uint64{1, 2, 3}, 1},
		{[]uint64{1, 2, 3}, []uint64{4, 5}, 0},
		{[]uint64{1, 2, 3, 4}, []uint64{3, 4, 5, 6}, 2.0 / 6},
	}
	for _, tc := range tests {
		if got := Jaccard(tc.a, tc.b); got != tc.want {
			t.Errorf("Jaccard(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestMinHashEstimate checks that the signature agreement estimates the exact
// Jaccard within the binomial error of 256 permutations.
func TestMinHashEstimate(t *testing.T) {
	mh := NewMinHasher(256, 7)
	for _, j := range []float64{0.2, 0.5, 0.8} {
		// Sets of 1000 elements sharing s of them: J = s / (2000 - s).
		s := int(math.Round(2000 * j / (1 + j)))
		a := make([]uint64, 0, 1000)
		b := make([]uint64, 0, 1000)
		for i := range 1000 {
			a = append(a, mix64(uint64(i)))
			if i < s {
				b = append(b, mix64(uint64(i)))
			} else {
				b = append(b, mix64(uint64(i+100000)))
			}
		}
		sortU(a)
		sortU(b)
		exact := Jaccard(a, b)
		est := EstimateJaccard(mh.Signature(a, nil), mh.Signature(b, nil))
		sd := math.Sqrt(exact * (1 - exact) / 256)
		if math.Abs(est-exact) > 4*sd {
			t.Errorf("J=%.3f: estimate %.3f outside 4 sd (%.3f)", exact, est, sd)
		}
	}
}

func TestMinHasherSeeded(t *testing.T) {
	set, _ := Shingling{}.ShingleSet("the quick brown fox jumps over the lazy dog", nil, nil)
	a := NewMinHasher(128, 1).Signature(set, nil)
	b := NewMinHasher(128, 1).Signature(set, nil)
	c := NewMinHasher(128, 2).Signature(set, nil)
	if EstimateJaccard(a, b) != 1 {
		t.Fatal("same seed, different signatures")
	}
	if EstimateJaccard(a, c) == 1 {
		t.Fatal("different seeds, same signatures")
	}
}

func sortU(x []uint64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}
