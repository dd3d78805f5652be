package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

func weightedMean(xs []float64) func(w []float64) float64 {
	return func(w []float64) float64 {
		var a, c float64
		for i, x := range xs {
			a += float64(w[i] * x)
			c += w[i]
		}
		return ratio(a, c)
	}
}

// The fused Poisson kernel must give exactly what the weights it claims to
// use give: BootMean is BootstrapWeighted of Σwx/Σw, bit for bit.
func TestBootMeanIsWeightedMean(t *testing.T) {
	for _, n := range []int{MultinomialMaxN, MultinomialMaxN + 1, 12_345} {
		xs, _ := pairedData(n, 3)
		cfg := Config{Resamples: 203, Seed: 11} // not a multiple of 4
		got := BootMean(xs, cfg)
		want := BootstrapWeighted(n, cfg, weightedMean(xs))
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: BootMean differs from BootstrapWeighted: %v… vs %v…", n, got[:3], want[:3])
		}
	}
	// Below MultinomialMaxN the two sum in different orders: equal to rounding.
	xs, _ := pairedData(300, 3)
	cfg := Config{Resamples: 101, Seed: 11}
	got := BootMean(xs, cfg)
	want := BootstrapWeighted(len(xs), cfg, weightedMean(xs))
	for b := range got {
		if math.Abs(got[b]-want[b]) > 1e-12 {
			t.Fatalf("n=300 resample %d: %v vs %v", b, got[b], want[b])
		}
	}
}

func TestPoissonWeightsAreDistributedPoisson1(t *testing.T) {
	const n = 2_000_000
	w := make([]float64, n)
	PoissonWeights(w, 5, 0)
	counts := map[float64]int{}
	for _, x := range w {
		counts[x]++
	}
	pmf := math.Exp(-1)
	for k := 0; k <= 6; k++ {
		want := pmf * n
		sd := math.Sqrt(want * (1 - pmf))
		if got := float64(counts[float64(k)]); math.Abs(got-want) > 5*sd {
			t.Errorf("P(w=%d): %d of %d, want %.0f ± %.0f", k, counts[float64(k)], n, want, sd)
		}
		pmf /= float64(k + 1)
	}
	// The table and the cut points agree everywhere, including at each cut.
	for _, c := range pois.cut {
		for _, u := range []uint32{c - 1, c, c + 1} {
			if pois.draw(u) != pois.slow(u) {
				t.Fatalf("table and cut points disagree at %d", u)
			}
		}
	}
	for u := uint64(0); u < 1<<32; u += 1<<20 - 7 {
		if pois.draw(uint32(u)) != pois.slow(uint32(u)) {
			t.Fatalf("table and cut points disagree at %d", u)
		}
	}
	if pois.draw(math.MaxUint32) < 10 {
		t.Fatalf("largest uniform gives weight %v", pois.draw(math.MaxUint32))
	}
}

func TestMultinomialWeightsSumToN(t *testing.T) {
	w := make([]float64, 777)
	MultinomialWeights(w, 1, 2)
	var s float64
	for _, x := range w {
		s += x
	}
	if s != 777 {
		t.Fatalf("weights sum to %v", s)
	}
}

// Same seed, same numbers, whatever GOMAXPROCS.
func TestBootstrapDeterministicAcrossGOMAXPROCS(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	run := func() (a, b []float64, c, d Paired) {
		small, _ := pairedData(300, 1)
		base, cand := pairedData(20_000, 2)
		cfg := Config{Resamples: 500, Seed: 99}
		a = BootMean(small, cfg)
		b = BootstrapWeighted(len(base), cfg, weightedMean(base))
		c = ComparePairedTest(base[:300], cand[:300], DeclPermutation, cfg)
		d = ComparePairedTest(base, cand, DeclBootstrap, cfg)
		return
	}
	runtime.GOMAXPROCS(1)
	a1, b1, c1, d1 := run()
	runtime.GOMAXPROCS(4)
	a4, b4, c4, d4 := run()
	if !slices.Equal(a1, a4) || !slices.Equal(b1, b4) {
		t.Fatal("replicates depend on GOMAXPROCS")
	}
	j := func(p Paired) string { b, _ := json.Marshal(p); return string(b) }
	if j(c1) != j(c4) || j(d1) != j(d4) {
		t.Fatalf("comparison depends on GOMAXPROCS:\n%s\n%s\n%s\n%s", j(c1), j(c4), j(d1), j(d4))
	}
	if c := BootMean(a1[:10], Config{Seed: 100}); slices.Equal(c, BootMean(a1[:10], Config{Seed: 99})) {
		t.Fatal("the seed changes nothing")
	}
}

func TestJackknifeMean(t *testing.T) {
	got := JackknifeMean([]float64{1, 2, 3, 6})
	want := []float64{11.0 / 3, 10.0 / 3, 3, 2}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("JackknifeMean = %v want %v", got, want)
		}
	}
	if JackknifeMean([]float64{1}) != nil {
		t.Fatal("one value has no jackknife")
	}
}

func TestBCaIntervalDegenerate(t *testing.T) {
	// Constant replicates and jackknife: scipy gives NaN; this gives the constant.
	reps := []float64{2, 2, 2, 2}
	if iv := BCaInterval(reps, 2, []float64{2, 2, 2}, 0.95); iv.Low != 2 || iv.High != 2 {
		t.Fatalf("constant: %+v", iv)
	}
	// All replicates above the point: finite, within the replicates.
	if iv := BCaInterval([]float64{3, 4, 5, math.NaN()}, 1, []float64{1, 2, 0}, 0.95); !(iv.Low >= 3 && iv.High <= 5) {
		t.Fatalf("one-sided: %+v", iv)
	}
	if iv := BCaInterval(nil, 1, nil, 0.95); iv != (Interval{}) {
		t.Fatalf("no replicates: %+v", iv)
	}
	// Without acceleration or bias BCa is the percentile interval.
	sym := []float64{-2, -1, 0, 1, 2}
	if BCaInterval(sym, 0, nil, 0.9) != PercentileInterval(sym, 0.9) {
		t.Fatalf("BCa %+v, percentile %+v", BCaInterval(sym, 0, nil, 0.9), PercentileInterval(sym, 0.9))
	}
}

func TestEdgeCases(t *testing.T) {
	if p := McNemarExact(0, 0); p != 1 {
		t.Errorf("McNemarExact(0,0) = %v", p)
	}
	if _, p, _ := Wilcoxon([]float64{0, 0, 0}); p != 1 {
		t.Errorf("Wilcoxon(all zero) p = %v", p)
	}
	if _, p, _ := Wilcoxon(nil); p != 1 {
		t.Errorf("Wilcoxon(nil) p = %v", p)
	}
	if tv, p := PairedT([]float64{0, 0, 0}); tv != 0 || p != 1 {
		t.Errorf("PairedT(zeros) = %v, %v", tv, p)
	}
	if tv, p := PairedT([]float64{0.5, 0.5, 0.5}); !math.IsInf(tv, 1) || p != 0 {
		t.Errorf("PairedT(constant shift) = %v, %v", tv, p)
	}
	if tv, p := PairedT([]float64{0.1}); tv != 0 || p != 1 {
		t.Errorf("PairedT(one) = %v, %v", tv, p)
	}
	if p, ok := SignFlipExact([]float64{0, 0}); p != 1 || !ok {
		t.Errorf("SignFlipExact(zeros) = %v, %v", p, ok)
	}
	// 1/2^20 is the smallest exact p; 21 non-zero differences are not enumerated.
	d := make([]float64, 21)
	for i := range d {
		d[i] = 0.1
	}
	if p, ok := SignFlipExact(d[:20]); !ok || p != 2/math.Ldexp(1, 20) {
		t.Errorf("SignFlipExact(20 equal) = %v, %v", p, ok)
	}
	if _, ok := SignFlipExact(d); ok {
		t.Error("SignFlipExact enumerated 21 differences")
	}
	d[0] = 0.3
	if p, test := PermutationTest(d); test != TestPairedT || p != func() float64 { _, p := PairedT(d); return p }() {
		t.Errorf("PermutationTest(21) = %v, %s", p, test)
	}
	d[0] = 0
	if p, test := PermutationTest(d); test != TestPermutationExact || p != 2/math.Ldexp(1, 20) {
		t.Errorf("PermutationTest(20 non-zero + a zero) = %v, %s", p, test)
	}
	if e := OddsRatio(7, 0, 0.95); e.Value != 7.5/0.5 || e.CI != nil {
		t.Errorf("OddsRatio(7, 0) = %+v", e)
	}
	if e := OddsRatio(0, 0, 0.95); e.Value != 1 || e.CI != nil {
		t.Errorf("OddsRatio(0, 0) = %+v", e)
	}
	if e := OddsRatio(0, 7, 0.95); e.Value != 0.5/7.5 || e.CI == nil || e.CI.Low != 0 {
		t.Errorf("OddsRatio(0, 7) = %+v", e)
	}
	for _, c := range []struct {
		sd    float64
		n     int
		alpha float64
	}{{0, 100, 0.05}, {1, 1, 0.05}, {math.NaN(), 100, 0.05}, {1, 100, 0}} {
		if m := MDE(c.sd, c.n, c.alpha, 0.8); m != 0 {
			t.Errorf("MDE(%v, %d, %v) = %v, want 0", c.sd, c.n, c.alpha, m)
		}
	}
	if _, ok := CohenDz([]float64{1, 1}); ok {
		t.Error("CohenDz of constant differences")
	}
	if dz, ok := CohenDz([]float64{1, 2, 3}); !ok || dz != 2 {
		t.Errorf("CohenDz = %v, %v", dz, ok)
	}
}

// Every declared test on degenerate data gives JSON-encodable numbers.
func TestComparePairedTestJSONSafe(t *testing.T) {
	cases := map[string][2][]float64{
		"empty":     {nil, nil},
		"one":       {{1}, {0}},
		"identical": {{1, 0, 1, 0, 1}, {1, 0, 1, 0, 1}},
		"shift":     {{0, 0, 0, 0}, {1, 1, 1, 1}},
		"all wins":  {{0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1}},
		"mixed":     {{0, 1, 0, 1, 1, 0, 0, 1}, {1, 1, 0, 0, 1, 1, 1, 1}},
	}
	for name, c := range cases {
		for _, test := range []string{DeclPermutation, DeclMcNemar, DeclWilcoxon, DeclBootstrap, DeclT, ""} {
			p := ComparePairedTest(c[0], c[1], test, Config{Seed: 1, Resamples: 200})
			if _, err := json.Marshal(p); err != nil {
				t.Errorf("%s/%s: %v: %+v", name, test, err, p)
			}
			if p.PValue < 0 || p.PValue > 1 || p.PAdjusted != p.PValue || p.Test == "" {
				t.Errorf("%s/%s: %+v", name, test, p)
			}
		}
	}
}

func TestComparePairedTestFields(t *testing.T) {
	base := []float64{0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0}
	cand := []float64{1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1}
	// Discordant: 6 wins (0→1), 1 loss (1→0).
	p := ComparePairedTest(base, cand, DeclMcNemar, Config{Seed: 2})
	if p.Test != TestMcNemarExact || p.PValue != McNemarExact(6, 1) || p.Wins != 6 || p.Losses != 1 || p.Ties != 5 {
		t.Fatalf("mcnemar: %+v", p)
	}
	if p.Effect == nil || p.Effect.Name != EffectOddsRatio || p.Effect.Value != 6 || p.Effect.CI == nil {
		t.Fatalf("mcnemar effect: %+v", p.Effect)
	}
	d := make([]float64, len(base))
	for i := range d {
		d[i] = cand[i] - base[i]
	}
	if p.MDE != MDE(StdDev(d), len(d), 0.05, 0.8) || p.MDE <= 0 {
		t.Fatalf("MDE %v", p.MDE)
	}
	if !(p.CI.Low <= p.Delta && p.Delta <= p.CI.High && p.CIBCa.Low <= p.CIBCa.High) {
		t.Fatalf("intervals %+v %+v around %v", p.CI, p.CIBCa, p.Delta)
	}
	for test, want := range map[string]string{DeclWilcoxon: TestWilcoxonNormal, DeclT: TestPairedT, DeclBootstrap: TestBootstrap, DeclPermutation: TestPermutationExact} {
		q := ComparePairedTest(base, cand, test, Config{Seed: 2})
		if q.Test != want || q.Effect == nil || q.Effect.Name != EffectCohenDz {
			t.Errorf("%s: test %q effect %+v", test, q.Test, q.Effect)
		}
		if q.CI != p.CI || q.CIBCa != p.CIBCa {
			t.Errorf("%s: the intervals depend on the test", test)
		}
	}
	if _, pw, _ := Wilcoxon(d); ComparePairedTest(base, cand, DeclWilcoxon, Config{}).PValue != pw {
		t.Error("wilcoxon p")
	}
}

// ComparePairedStat of a mean statistic is the mean's paired bootstrap.
func TestComparePairedStatOfMean(t *testing.T) {
	for _, n := range []int{400, 6000} {
		base, cand := pairedData(n, 8)
		d := make([]float64, n)
		for i := range d {
			d[i] = cand[i] - base[i]
		}
		cfg := Config{Seed: 4, Resamples: 1000}
		jk := JackknifeMean(d)
		ci, bca, p := ComparePairedStat(n, Mean(d), weightedMean(d), func(i int) float64 { return jk[i] }, cfg)
		want := ComparePairedTest(base, cand, DeclBootstrap, cfg)
		near := func(a, b Interval) bool { return math.Abs(a.Low-b.Low) < 1e-12 && math.Abs(a.High-b.High) < 1e-12 }
		if !near(ci, want.CI) || !near(bca, want.CIBCa) || math.Abs(p-want.PValue) > 1e-9 {
			t.Fatalf("n=%d: stat %+v %+v %v; mean %+v %+v %v", n, ci, bca, p, want.CI, want.CIBCa, want.PValue)
		}
	}
	if ci, bca, p := ComparePairedStat(0, 0, nil, nil, Config{}); ci != (Interval{}) || bca != (Interval{}) || p != 1 {
		t.Fatal("n = 0")
	}
}

func TestBootP(t *testing.T) {
	reps := []float64{-1, 0, 1, math.NaN()}
	// sd of {-1, 0, 1} is 1: p = 2Φ(−1.96) ≈ 0.05.
	if p := bootP(reps, 1.959963984540054); math.Abs(p-0.05) > 1e-12 {
		t.Fatalf("bootP = %v", p)
	}
	if bootP([]float64{1, 1}, 0) != 1 || bootP([]float64{1, 1}, 1) != 0 {
		t.Fatal("zero se")
	}
	// Far beyond the replicates the p-value keeps falling: no 1/(B+1) floor.
	if p := bootP(reps, 10); !(p > 0 && p < 1e-20) {
		t.Fatalf("bootP(10) = %v", p)
	}
}

func TestDescribeFast(t *testing.T) {
	xs := make([]float64, 400)
	for i := range xs {
		xs[i] = float64(i % 2)
	}
	s := DescribeFast(xs, Config{Seed: 42})
	half := (s.CI.High - s.CI.Low) / 2
	if s.N != 400 || s.Mean != 0.5 || half < 0.04 || half > 0.06 {
		t.Fatalf("summary %+v, half-width %v", s, half)
	}
	if DescribeFast(nil, Config{}) != (Summary{}) {
		t.Fatal("empty")
	}
}

func TestWeightsToIndices(t *testing.T) {
	got := WeightsToIndices([]float64{2, 0, 1, 3}, make([]int, 5))
	if !slices.Equal(got, []int{0, 0, 2, 3, 3, 3}) {
		t.Fatalf("WeightsToIndices = %v", got)
	}
}

// SignFlipExact's meet-in-the-middle count equals summing every sign
// pattern afresh, on random differences with many ties (two decimals).
func TestSignFlipExactMatchesEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for trial := range 200 {
		n := 1 + r.IntN(14)
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(r.IntN(21)-8) / 100
		}
		var obs, scale float64
		var nz []float64
		for _, x := range d {
			if x != 0 {
				nz = append(nz, x)
				obs += x
				scale += math.Abs(x)
			}
		}
		count := 0
		for mask := range 1 << len(nz) {
			var s float64
			for i, x := range nz {
				if mask>>i&1 == 1 {
					s -= x
				} else {
					s += x
				}
			}
			if math.Abs(s) >= math.Abs(obs)-1e-9*scale {
				count++
			}
		}
		want := float64(count) / math.Ldexp(1, len(nz))
		if p, ok := SignFlipExact(d); !ok || p != want {
			t.Fatalf("trial %d, d=%v: SignFlipExact = %v, enumeration %v", trial, d, p, want)
		}
	}
}
