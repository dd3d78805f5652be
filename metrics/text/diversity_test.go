package text

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/metrics/bleu"
)

func readJSONL(t *testing.T, path string, each func(line int, raw []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		each(n, sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("%s is empty", path)
	}
}

// TestLevenshteinFixtures checks against python3-levenshtein 0.12.2
// (testdata/gen_fixtures.py).
func TestLevenshteinFixtures(t *testing.T) {
	readJSONL(t, "testdata/levenshtein.jsonl", func(line int, raw []byte) {
		var c struct {
			A, B          string
			Distance      int
			TokenDistance int `json:"token_distance"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		if got := Levenshtein(c.A, c.B); got != c.Distance {
			t.Errorf("line %d: Levenshtein(%q, %q) = %d, want %d", line, c.A, c.B, got, c.Distance)
		}
		if got := Levenshtein(c.B, c.A); got != c.Distance {
			t.Errorf("line %d: not symmetric: Levenshtein(%q, %q) = %d, want %d", line, c.B, c.A, got, c.Distance)
		}
		if got := LevenshteinTokens(c.A, c.B); got != c.TokenDistance {
			t.Errorf("line %d: LevenshteinTokens(%q, %q) = %d, want %d", line, c.A, c.B, got, c.TokenDistance)
		}
	})
}

func TestLevenshteinSimilarity(t *testing.T) {
	for _, tc := range []struct {
		a, b        string
		chars, toks float64
	}{
		{"", "", 1, 1},
		{"abc", "", 0, 0},
		{"kitten", "sitting", 1 - 3.0/7, 0},
		{"the cat", "the dog", 1 - 3.0/7, 0.5},
		{"same", "same", 1, 1},
	} {
		if got := LevenshteinSimilarity(tc.a, tc.b); !closeEnough(got, tc.chars) {
			t.Errorf("LevenshteinSimilarity(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.chars)
		}
		if got := LevenshteinTokenSimilarity(tc.a, tc.b); !closeEnough(got, tc.toks) {
			t.Errorf("LevenshteinTokenSimilarity(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.toks)
		}
	}
}

// TestSummarizeFixtures checks against numpy 1.24.2 (mean, median, quantile
// 0.95 with the linear method).
func TestSummarizeFixtures(t *testing.T) {
	readJSONL(t, "testdata/quantiles.jsonl", func(line int, raw []byte) {
		var c struct {
			Values            []float64
			Mean, Median, P95 float64
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		s := Summarize(c.Values)
		if s.Median != c.Median || s.P95 != c.P95 {
			t.Errorf("line %d: median %v p95 %v, want %v %v (values %v)", line, s.Median, s.P95, c.Median, c.P95, c.Values)
		}
		// numpy sums pairwise; the order of additions may differ in the last bit.
		if math.Abs(s.Mean-c.Mean) > 1e-12*math.Max(1, math.Abs(c.Mean)) {
			t.Errorf("line %d: mean %v, want %v", line, s.Mean, c.Mean)
		}
		if s.Count != len(c.Values) || s.Min > s.Median || s.Median > s.P95 || s.P95 > s.Max {
			t.Errorf("line %d: inconsistent summary %+v", line, s)
		}
	})
	if s := Summarize(nil); s.Count != 0 || !math.IsNaN(s.Mean) {
		t.Errorf("Summarize(nil) = %+v, want Count 0 and NaN statistics", s)
	}
}

func TestLengthStats(t *testing.T) {
	texts := []string{"one two three", "é\u0301 x", "", "a\x1cb"}
	l := LengthStats(texts, func(s string) int { return len(s) })
	if l.Chars.Max != 13 || l.Chars.Min != 0 || l.Words.Max != 3 || l.Words.Mean != (3+2+0+2)/4.0 {
		t.Errorf("LengthStats = %+v", l)
	}
	if l.Tokens == nil || l.Tokens.Max != 13 {
		t.Errorf("Tokens = %+v, want max 13 bytes", l.Tokens)
	}
	if LengthStats(texts, nil).Tokens != nil {
		t.Error("Tokens without a counter: want nil")
	}
}

func TestDistinctN(t *testing.T) {
	texts := []string{"the cat the cat", "the dog", "", "The Cat"}
	for _, tc := range []struct {
		n             int
		lower         bool
		unique, total int
		perText0      float64
	}{
		{1, false, 5, 8, 0.5},
		{1, true, 3, 8, 0.5},
		{2, false, 4, 5, 2.0 / 3},
		{2, true, 3, 5, 2.0 / 3},
		{5, false, 0, 0, 0},
	} {
		d, err := DistinctN(texts, tc.n, tc.lower)
		if err != nil {
			t.Fatal(err)
		}
		if d.Unique != tc.unique || d.Total != tc.total || !closeEnough(d.PerText[0], tc.perText0) {
			t.Errorf("distinct-%d lower=%v = %+v, want unique %d total %d per-text[0] %v", tc.n, tc.lower, d, tc.unique, tc.total, tc.perText0)
		}
		if tc.total > 0 && !closeEnough(d.Ratio, float64(tc.unique)/float64(tc.total)) {
			t.Errorf("distinct-%d ratio %v", tc.n, d.Ratio)
		}
	}
	// Tokens with odd characters must not collide when joined.
	d, _ := DistinctN([]string{"a\x00 b", "a \x00b"}, 2, false)
	if d.Unique != 2 {
		t.Errorf("distinct n-grams of crafted tokens = %d, want 2", d.Unique)
	}
	if _, err := DistinctN(texts, 0, false); err == nil {
		t.Error("n = 0: want an error")
	}
}

func TestSelfBLEU(t *testing.T) {
	same := []string{"the cat sat on the mat", "the cat sat on the mat", "the cat sat on the mat"}
	s, err := ComputeSelfBLEU(same, bleu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !closeEnough(s.Mean, 100) {
		t.Errorf("identical texts: Self-BLEU %v, want 100", s.Mean)
	}
	varied := []string{"the cat sat on the mat", "a dog ran in the park", "stock prices fell sharply today"}
	v, err := ComputeSelfBLEU(varied, bleu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Mean >= s.Mean || v.Mean < 0 {
		t.Errorf("varied texts: Self-BLEU %v, want below %v", v.Mean, s.Mean)
	}
	// Each text's value is sentence BLEU against the others.
	b, _ := bleu.NewBLEU(bleu.Options{})
	want, _ := b.Sentence(varied[1], []string{varied[0], varied[2]})
	if v.PerText[1] != want.Score {
		t.Errorf("PerText[1] = %v, want %v", v.PerText[1], want.Score)
	}
	if _, err := ComputeSelfBLEU([]string{"one"}, bleu.Options{}); err == nil {
		t.Error("one text: want an error")
	}
}

// TestSelfBLEUMatchesPairwise checks the linear-time Self-BLEU against its
// definition, sentence BLEU of each text against all the others, bit for bit.
func TestSelfBLEUMatchesPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vocab := []string{"the", "The", "cat", "sat", "on", "mat", ".", ",", "İt", "dog's", "3.5", "ran", "a", "-", "ΣΑΣ"}
	floor := 0.2
	for _, opts := range []bleu.Options{
		{},
		{Lowercase: true},
		{Tokenizer: bleu.TokIntl, Smooth: bleu.SmoothFloor, SmoothValue: &floor},
		{Tokenizer: bleu.TokChar, MaxNgramOrder: 2},
		{Tokenizer: bleu.TokNone, Smooth: bleu.SmoothNone, EffectiveOrder: bleu.EffectiveOrderOff},
		{Smooth: bleu.SmoothAddK, MaxNgramOrder: 6},
	} {
		for trial := 0; trial < 20; trial++ {
			texts := make([]string, 2+rng.IntN(12))
			for i := range texts {
				var w []string
				for range rng.IntN(12) {
					w = append(w, vocab[rng.IntN(len(vocab))])
				}
				texts[i] = strings.Join(w, " ") + []string{"", " ", "\n"}[rng.IntN(3)]
			}
			got, err := ComputeSelfBLEU(texts, opts)
			if err != nil {
				t.Fatal(err)
			}
			b, err := bleu.NewBLEU(opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range texts {
				refs := append(append([]string{}, texts[:i]...), texts[i+1:]...)
				want, err := b.Sentence(texts[i], refs)
				if err != nil {
					t.Fatal(err)
				}
				if got.PerText[i] != want.Score {
					t.Fatalf("opts %+v, texts %q: text %d Self-BLEU %v, pairwise %v", opts, texts, i, got.PerText[i], want.Score)
				}
			}
		}
	}
}

func TestClosestOther(t *testing.T) {
	for _, tc := range []struct {
		sorted []int
		h      int
		want   int
	}{
		{[]int{3, 5}, 3, 5},
		{[]int{3, 5}, 5, 3},
		{[]int{2, 4, 4, 9}, 4, 4},
		{[]int{2, 4, 6}, 4, 2}, // tie: the shorter
		{[]int{0, 0}, 0, 0},
		{[]int{1, 7, 8}, 1, 7},
	} {
		if got := closestOther(tc.sorted, tc.h); got != tc.want {
			t.Errorf("closestOther(%v, %d) = %d, want %d", tc.sorted, tc.h, got, tc.want)
		}
	}
}
