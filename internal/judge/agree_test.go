package judge

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// agreeFixtures is testdata/agree_fixtures.json, written by
// testdata/agree_gen.py with Debian's scikit-learn, statsmodels and SciPy.
type agreeFixtures struct {
	Cohen []struct {
		Name       string          `json:"name"`
		A          json.RawMessage `json:"a"`
		B          json.RawMessage `json:"b"`
		Unweighted *float64        `json:"unweighted"`
		Linear     *float64        `json:"linear"`
		Quadratic  *float64        `json:"quadratic"`
	} `json:"cohen"`
	Fleiss []struct {
		Name  string  `json:"name"`
		Table [][]int `json:"table"`
		Kappa float64 `json:"kappa"`
	} `json:"fleiss"`
	Correlation []struct {
		Name     string    `json:"name"`
		A        []float64 `json:"a"`
		B        []float64 `json:"b"`
		Spearman float64   `json:"spearman"`
		Kendall  float64   `json:"kendall_tau_b"`
	} `json:"correlation"`
}

func readAgreeFixtures(t *testing.T) agreeFixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/agree_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f agreeFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func agreeClose(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("%s = %.17g, reference %.17g", what, got, want)
	}
}

// TestKappaCohenSklearn: unweighted, linear and quadratic kappa on integer
// scores, unweighted on string verdicts, as sklearn's cohen_kappa_score.
func TestKappaCohenSklearn(t *testing.T) {
	for _, c := range readAgreeFixtures(t).Cohen {
		t.Run(c.Name, func(t *testing.T) {
			var ai, bi []int
			if json.Unmarshal(c.A, &ai) == nil && json.Unmarshal(c.B, &bi) == nil {
				for _, x := range []struct {
					w    KappaWeights
					want *float64
					name string
				}{{KappaUnweighted, c.Unweighted, "unweighted"}, {KappaLinear, c.Linear, "linear"}, {KappaQuadratic, c.Quadratic, "quadratic"}} {
					got, err := KappaCohen(ai, bi, x.w)
					if err != nil {
						t.Fatal(err)
					}
					agreeClose(t, x.name, got, *x.want)
				}
				return
			}
			var as, bs []string
			if err := json.Unmarshal(c.A, &as); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(c.B, &bs); err != nil {
				t.Fatal(err)
			}
			got, err := KappaCohen(as, bs, KappaUnweighted)
			if err != nil {
				t.Fatal(err)
			}
			agreeClose(t, "unweighted", got, *c.Unweighted)
		})
	}
}

func TestKappaFleissStatsmodels(t *testing.T) {
	for _, c := range readAgreeFixtures(t).Fleiss {
		got, err := KappaFleiss(c.Table)
		if err != nil {
			t.Fatal(err)
		}
		agreeClose(t, c.Name, got, c.Kappa)
	}
	if _, err := KappaFleiss([][]int{{1, 2}, {1, 1}}); err == nil {
		t.Error("unequal raters per item: no error")
	}
}

func TestAgreementCorrelationScipy(t *testing.T) {
	for _, c := range readAgreeFixtures(t).Correlation {
		s, err := AgreementSpearman(c.A, c.B)
		if err != nil {
			t.Fatal(err)
		}
		agreeClose(t, c.Name+" spearman", s, c.Spearman)
		k, err := AgreementKendallTauB(c.A, c.B)
		if err != nil {
			t.Fatal(err)
		}
		agreeClose(t, c.Name+" kendall", k, c.Kendall)
	}
}

// TestAgreementKrippendorffPublished: the worked example of Krippendorff
// (2011), "Computing Krippendorff's Alpha-Reliability" (Annenberg School for
// Communication departmental paper 43): 4 observers × 12 units with missing
// values. The paper prints alpha = 0.743 nominal (113/152 exactly: its
// coincidence matrix sums to n = 40, unit 12 having one value), 0.815
// ordinal and 0.849 interval.
func TestAgreementKrippendorffPublished(t *testing.T) {
	nan := math.NaN()
	coders := [][]float64{
		{1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan},
		{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3},
		{nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan},
		{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan},
	}
	units := make([][]float64, 12)
	for u := range units {
		for _, c := range coders {
			if !math.IsNaN(c[u]) {
				units[u] = append(units[u], c[u])
			}
		}
	}
	nominal, err := AgreementKrippendorff(units, AgreementNominal)
	if err != nil {
		t.Fatal(err)
	}
	agreeClose(t, "nominal (113/152)", nominal, 113.0/152)
	for _, c := range []struct {
		m    AgreementMetric
		want float64
	}{{AgreementNominal, 0.743}, {AgreementOrdinal, 0.815}, {AgreementInterval, 0.849}} {
		got, err := AgreementKrippendorff(units, c.m)
		if err != nil {
			t.Fatal(err)
		}
		if math.Round(got*1000)/1000 != c.want {
			t.Errorf("metric %d: alpha %.6f, the paper prints %.3f", c.m, got, c.want)
		}
	}
	if _, err := AgreementKrippendorff([][]float64{{1}, {2}}, AgreementNominal); err == nil {
		t.Error("no pairable values: no error")
	}
}

// TestAgreementKrippendorffFleiss: on complete data with many items, nominal
// alpha and Fleiss' kappa differ only by the small-sample correction.
func TestAgreementKrippendorffFleiss(t *testing.T) {
	for _, c := range readAgreeFixtures(t).Fleiss {
		var units [][]float64
		for _, row := range c.Table {
			var u []float64
			for cat, n := range row {
				for range n {
					u = append(u, float64(cat))
				}
			}
			units = append(units, u)
		}
		a, err := AgreementKrippendorff(units, AgreementNominal)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(a-c.Kappa) > 0.03 {
			t.Errorf("%s: alpha %v, Fleiss %v", c.Name, a, c.Kappa)
		}
	}
}

func TestAgreementPercent(t *testing.T) {
	a := []string{"A", "B", "tie", "A", "B"}
	b := []string{"A", "A", "tie", "tie", "B"}
	isTie := func(s string) bool { return s == "tie" }
	got, n, _ := AgreementPercent(a, b, false, isTie)
	if n != 5 || got != 0.6 {
		t.Errorf("with ties: %v of %d, want 0.6 of 5", got, n)
	}
	got, n, _ = AgreementPercent(a, b, true, isTie)
	if n != 3 || math.Abs(got-2.0/3) > 1e-15 {
		t.Errorf("without ties: %v of %d, want 2/3 of 3", got, n)
	}
	if _, _, err := AgreementPercent(a, b[:2], false, isTie); err == nil {
		t.Error("length mismatch: no error")
	}
}

// TestAgreementProperties: symmetry, bounds and perfect agreement on seeded
// random ratings.
func TestAgreementProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2026))
	for trial := range 200 {
		n := 2 + rng.IntN(30)
		a, b := make([]int, n), make([]int, n)
		fa, fb := make([]float64, n), make([]float64, n)
		for i := range n {
			a[i], b[i] = 1+rng.IntN(5), 1+rng.IntN(5)
			fa[i], fb[i] = float64(a[i]), float64(b[i])
		}
		for _, w := range []KappaWeights{KappaUnweighted, KappaLinear, KappaQuadratic} {
			ab, _ := KappaCohen(a, b, w)
			ba, _ := KappaCohen(b, a, w)
			if !(math.IsNaN(ab) && math.IsNaN(ba)) && math.Abs(ab-ba) > 1e-12 || ab > 1+1e-12 {
				t.Fatalf("trial %d weights %q: kappa(a,b) %v, kappa(b,a) %v", trial, w, ab, ba)
			}
			if aa, _ := KappaCohen(a, a, w); !math.IsNaN(aa) && math.Abs(aa-1) > 1e-12 {
				t.Fatalf("trial %d: kappa(a,a) = %v", trial, aa)
			}
		}
		s, _ := AgreementSpearman(fa, fb)
		k, _ := AgreementKendallTauB(fa, fb)
		if s < -1-1e-12 || s > 1+1e-12 || k < -1-1e-12 || k > 1+1e-12 {
			t.Fatalf("trial %d: spearman %v kendall %v out of [-1, 1]", trial, s, k)
		}
		units := make([][]float64, n)
		same := make([][]float64, n)
		for i := range n {
			units[i] = []float64{fa[i], fb[i]}
			same[i] = []float64{fa[i], fa[i]}
		}
		for _, m := range []AgreementMetric{AgreementNominal, AgreementOrdinal, AgreementInterval} {
			if al, err := AgreementKrippendorff(units, m); err == nil && al > 1+1e-12 {
				t.Fatalf("trial %d: alpha %v > 1", trial, al)
			}
			if al, err := AgreementKrippendorff(same, m); err == nil && math.Abs(al-1) > 1e-12 {
				t.Fatalf("trial %d: alpha of identical coders %v", trial, al)
			}
		}
	}
}
