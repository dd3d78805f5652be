package judge

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// lcFixtures is testdata/lc_fixtures.json, written by testdata/lc_gen.py with
// Debian's python3-statsmodels.
type lcFixtures struct {
	Cases []struct {
		Name        string      `json:"name"`
		X           [][]float64 `json:"x"`
		Y           []float64   `json:"y"`
		GLMParams   []float64   `json:"glm_params"`
		GLMBse      []float64   `json:"glm_bse"`
		GLMDeviance float64     `json:"glm_deviance"`
		LogitParams []float64   `json:"logit_params"`
		LogitBse    []float64   `json:"logit_bse"`
	} `json:"cases"`
	AlpacaEval []struct {
		Model      string    `json:"model"`
		SDDeltaLen float64   `json:"sd_delta_len"`
		Params     []float64 `json:"params"`
		Bse        []float64 `json:"bse"`
		LC         float64   `json:"length_controlled_winrate"`
		LCSE       float64   `json:"lc_standard_error"`
	} `json:"alpacaeval"`
}

func readLCFixtures(t *testing.T) lcFixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/lc_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f lcFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func lcClose(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > rel*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.15g, statsmodels %.15g", what, i, got[i], want[i])
		}
	}
}

// TestLCLogitStatsmodels: coefficients, standard errors and deviance of our
// IRLS agree with statsmodels' GLM(Binomial) (fractional and binary responses)
// and Logit (binary).
func TestLCLogitStatsmodels(t *testing.T) {
	for _, c := range readLCFixtures(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			m, err := LCLogit(c.X, c.Y)
			if err != nil {
				t.Fatal(err)
			}
			lcClose(t, "GLM params", m.Coef, c.GLMParams, 1e-9)
			lcClose(t, "GLM bse", m.SE, c.GLMBse, 1e-8)
			lcClose(t, "deviance", []float64{m.Deviance}, []float64{c.GLMDeviance}, 1e-9)
			if c.LogitParams != nil {
				lcClose(t, "Logit params", m.Coef, c.LogitParams, 1e-9)
				lcClose(t, "Logit bse", m.SE, c.LogitBse, 1e-8)
			}
		})
	}
}

// TestLCWinRateAlpacaEval: the length-controlled fit of the three AlpacaEval
// variants equals statsmodels' fit of the same model to the stored preferences.
func TestLCWinRateAlpacaEval(t *testing.T) {
	dir := shareddata.Path(t, "alpacaeval", "annotations")
	for _, want := range readLCFixtures(t).AlpacaEval {
		t.Run(want.Model, func(t *testing.T) {
			as, err := ReadWinRateAnnotations(dir + "/" + want.Model + ".json")
			if err != nil {
				t.Fatal(err)
			}
			r, err := WinRate(want.Model, as, WinRateAlpacaEval())
			if err != nil {
				t.Fatal(err)
			}
			lcClose(t, "params", []float64{r.LC.Intercept, r.LC.Slope}, want.Params, 1e-9)
			lcClose(t, "bse", []float64{r.LC.InterceptSE, r.LC.SlopeSE}, want.Bse, 1e-8)
			lcClose(t, "sd", []float64{r.LC.SDDeltaLen}, []float64{want.SDDeltaLen}, 1e-12)
			lcClose(t, "LC", []float64{r.LengthControlledWinRate, r.LCStandardError}, []float64{want.LC, want.LCSE}, 1e-8)
		})
	}
}

func TestLCLogitErrors(t *testing.T) {
	sep := [][]float64{{1, -2}, {1, -1}, {1, 1}, {1, 2}}
	if _, err := LCLogit(sep, []float64{0, 0, 1, 1}); err == nil || !strings.Contains(err.Error(), "separated") {
		t.Errorf("separated: %v", err)
	}
	if _, err := LCLogit(sep, []float64{0, 1.5, 1, 1}); err == nil || !strings.Contains(err.Error(), "outside [0, 1]") {
		t.Errorf("out of range: %v", err)
	}
	if _, err := LCWinRate([]float64{5, 5, 5}, []float64{1, 1, 1}, []float64{0.2, 0.3, 0.4}); err == nil {
		t.Error("constant length difference: no error")
	}
}

// TestLCWinRateNoLengthEffect: when preferences do not depend on length, the
// LC win rate is close to the raw one.
func TestLCWinRateNoLengthEffect(t *testing.T) {
	var lb, lm, y []float64
	for i := range 400 {
		lb = append(lb, float64(500+i%37*20))
		lm = append(lm, float64(300+i%23*40))
		y = append(y, float64(i%5)/4) // mean 0.5, unrelated to the lengths
	}
	f, err := LCWinRate(lb, lm, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.WinRate-50) > 5 || math.Abs(f.Slope) > 0.5 {
		t.Errorf("LC %v slope %v, want about 50 and 0", f.WinRate, f.Slope)
	}
}
