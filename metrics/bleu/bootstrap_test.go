package bleu

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// corpusFixture is a small real corpus: the first 40 rows of the parity
// file's all-rows case.
func corpusFixture(t *testing.T) ([]string, [][]string) {
	t.Helper()
	for _, c := range readParity(t, "bleu.jsonl") {
		if c.ID == "bleu/all-rows-default" {
			h, r := c.rows()
			return h[:40], r[:40]
		}
	}
	t.Fatal("bleu/all-rows-default not found")
	return nil, nil
}

func TestBootstrapConstantSegments(t *testing.T) {
	// Every segment identical: every resample is the corpus itself.
	stats := make([][]float64, 30)
	for i := range stats {
		stats[i] = []float64{3, 4}
	}
	ter := NewTER(TEROptions{})
	res, err := Bootstrap(stats, func(s []float64) float64 { return ter.ScoreStats(s).Score }, BootstrapOptions{Resamples: 200})
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 75 || !closeTo(res.Mean, 75) || res.CI != 0 || res.Lower != 75 || res.Upper != 75 {
		t.Errorf("constant segments: %+v", res)
	}
	if res.Resamples != 200 || res.Seed != DefaultSeed {
		t.Errorf("recorded resamples %d seed %d, want 200 and %d", res.Resamples, res.Seed, DefaultSeed)
	}
}

func TestBootstrapBLEU(t *testing.T) {
	hyps, refs := corpusFixture(t)
	m, _ := NewBLEU(Options{})
	st, err := m.SegmentStats(hyps, refs)
	if err != nil {
		t.Fatal(err)
	}
	score := func(s []float64) float64 { return m.ScoreStats(s).Score }
	a, err := Bootstrap(st, score, BootstrapOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Bootstrap(st, score, BootstrapOptions{Seed: 7})
	c, _ := Bootstrap(st, score, BootstrapOptions{Seed: 8})
	if a != b {
		t.Errorf("same seed, different results: %+v vs %+v", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same results: %+v", a)
	}
	corpus, _ := m.Corpus(hyps, refs)
	if a.Score != corpus.Score {
		t.Errorf("bootstrap score %v, corpus BLEU %v", a.Score, corpus.Score)
	}
	if a.Resamples != DefaultResamples || !(a.Lower < a.Mean && a.Mean < a.Upper) ||
		!closeTo(a.CI, (a.Upper-a.Lower)/2) || a.CI <= 0 {
		t.Errorf("interval: %+v", a)
	}
	// A 95% percentile interval of BLEU over 40 segments is several
	// points wide, not a fraction of a point and not the whole scale.
	if a.CI < 1 || a.CI > 30 || math.Abs(a.Mean-a.Score) > a.CI {
		t.Errorf("implausible interval for 40 segments: %+v", a)
	}
}

func TestPairedBootstrap(t *testing.T) {
	hyps, refs := corpusFixture(t)
	m, _ := NewBLEU(Options{})
	score := func(s []float64) float64 { return m.ScoreStats(s).Score }
	base, _ := m.SegmentStats(hyps, refs)

	// Against itself: no resample difference exceeds the observed 0, so p
	// is sacrebleu's floor 1/(n+1).
	self, err := PairedBootstrap(base, base, score, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if self.PValue != 1.0/1001 {
		t.Errorf("self comparison p = %v, want 1/1001", self.PValue)
	}

	// One segment changed: a tiny difference the test must not call
	// significant.
	alt := append([]string(nil), hyps...)
	alt[3] = "completely different words here"
	sys, _ := m.SegmentStats(alt, refs)
	small, _ := PairedBootstrap(base, sys, score, BootstrapOptions{})
	if small.PValue < 0.05 {
		t.Errorf("one changed segment judged significant: p = %v", small.PValue)
	}

	// Every hypothesis replaced by its reference: a large, real gain.
	best := make([]string, len(hyps))
	for i := range best {
		best[i] = refs[i][0]
	}
	sys2, _ := m.SegmentStats(best, refs)
	big, _ := PairedBootstrap(base, sys2, score, BootstrapOptions{})
	if big.PValue > 0.01 || !(big.System.Score > big.Baseline.Score) {
		t.Errorf("large gain: %+v", big)
	}

	if _, err := PairedBootstrap(base, sys[:10], score, BootstrapOptions{}); err == nil {
		t.Error("different segment counts: no error")
	}
	if _, err := Bootstrap(nil, score, BootstrapOptions{}); err == nil {
		t.Error("no segments: no error")
	}
	if _, err := Bootstrap([][]float64{{1, 2}, {1}}, score, BootstrapOptions{}); err == nil {
		t.Error("ragged statistics: no error")
	}
}

// TestSignaturesGolden pins the signature and score strings of a matrix of
// options (testdata/signatures.golden; go test -update rewrites it). The
// parity tests check the signatures sacrebleu printed; this file also covers
// the bootstrap fields and the printed score lines.
func TestSignaturesGolden(t *testing.T) {
	hyps, refs := corpusFixture(t)
	var sb strings.Builder
	bo := BootstrapOptions{Resamples: 100}
	for _, o := range []Options{{}, {Tokenizer: TokIntl, Lowercase: true}, {Smooth: SmoothFloor}, {Smooth: SmoothAddK, SmoothValue: ptr(0.25)}, {Smooth: SmoothNone, EffectiveOrder: EffectiveOrderOn}, {Tokenizer: TokChar, MaxNgramOrder: 6}} {
		m, err := NewBLEU(o)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := m.Corpus(hyps, refs)
		fmt.Fprintf(&sb, "%s\n%s\n%s\n%s\n\n", m.Signature(NRefs(refs), false), m.Signature("1", true), m.BootstrapSignature(NRefs(refs), false, bo), s)
	}
	for _, o := range []ChrFOptions{{}, {WordOrder: 2}, {Lowercase: true, Whitespace: true, EpsSmoothing: true, Beta: 3}} {
		m, _ := NewChrF(o)
		s, _ := m.Corpus(hyps, refs)
		fmt.Fprintf(&sb, "%s\n%s\n%s\n\n", m.Signature(NRefs(refs)), m.BootstrapSignature("1", bo), s)
	}
	for _, o := range []TEROptions{{}, {Normalized: true, NoPunct: true, AsianSupport: true, CaseSensitive: true}} {
		m := NewTER(o)
		s, _ := m.Corpus(hyps, refs)
		fmt.Fprintf(&sb, "%s\n%s\n%s\n\n", m.Signature(NRefs(refs)), m.BootstrapSignature("1", bo), s)
	}
	path := filepath.Join("testdata", "signatures.golden")
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if sb.String() != string(want) {
		t.Errorf("%s differs (go test -update rewrites it after a deliberate change):\ngot:\n%s", path, sb.String())
	}
}
