package rouge

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/metrics/text"
)

func TestScoreMultiTieKeepsFirstReference(t *testing.T) {
	// Both references give F = 1/3 for rouge1, with precision and recall
	// swapped; score_multi's np.argmax keeps the first.
	got, err := Score("a b c d", []string{"a x", "a b x y z w v u"}, Options{Types: []string{"rouge1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Value{Precision: 0.25, Recall: 0.5, FMeasure: 1.0 / 3}
	if got["rouge1"] != want {
		t.Errorf("rouge1 = %+v, want %+v", got["rouge1"], want)
	}
	got, err = Score("a b c d", []string{"a b x y z w v u", "a x"}, Options{Types: []string{"rouge1"}})
	if err != nil {
		t.Fatal(err)
	}
	want = Value{Precision: 0.5, Recall: 0.25, FMeasure: 1.0 / 3}
	if got["rouge1"] != want {
		t.Errorf("swapped references: rouge1 = %+v, want %+v", got["rouge1"], want)
	}
}

func TestScoreTypesPickedIndependently(t *testing.T) {
	// rouge1 prefers the bag-of-words match, rougeL the ordered one.
	got, err := Score("c b a", []string{"a b c", "c b x"}, Options{Types: []string{"rouge1", "rougeL"}})
	if err != nil {
		t.Fatal(err)
	}
	if got["rouge1"].FMeasure != 1 {
		t.Errorf("rouge1 F = %v, want 1 (first reference)", got["rouge1"].FMeasure)
	}
	if f := got["rougeL"].FMeasure; f < 0.66 || f > 0.67 {
		t.Errorf("rougeL F = %v, want 2/3 (second reference)", f)
	}
}

func TestHigherOrderAndErrors(t *testing.T) {
	got, err := Score("one two three four five six seven eight nine ten eleven",
		[]string{"one two three four five six seven eight nine ten"}, Options{Types: []string{"rouge10"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := got["rouge10"]; v.Precision != 0.5 || v.Recall != 1 {
		t.Errorf("rouge10 = %+v, want precision 0.5 recall 1", v)
	}
	for _, bad := range []string{"rouge0", "rouge", "rougeX", "rouge01", "bleu", "rougel"} {
		if _, err := New(Options{Types: []string{bad}}); err == nil {
			t.Errorf("type %q: want an error", bad)
		}
	}
	if _, err := Score("x", nil, Options{}); !errors.Is(err, ErrNoReferences) {
		t.Errorf("no references: err = %v, want ErrNoReferences", err)
	}
	if _, err := ScoreCorpus([]string{"a"}, nil, Options{}); err == nil {
		t.Error("length mismatch: want an error")
	}
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		stem bool
		want []string
	}{
		{"The cats' running-shoes, 3.5kg!", false, []string{"the", "cats", "running", "shoes", "3", "5kg"}},
		{"The cats' running-shoes, 3.5kg!", true, []string{"the", "cat", "run", "shoe", "3", "5kg"}},
		{"naïve café", false, []string{"na", "ve", "caf"}},
		{"İSTANBUL 5\u212aM", false, []string{"i", "stanbul", "5km"}},
		{"中文", false, nil},
	} {
		got := Tokenize(tc.in, tc.stem)
		if len(got) != len(tc.want) {
			t.Errorf("Tokenize(%q, %v) = %q, want %q", tc.in, tc.stem, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("Tokenize(%q, %v) = %q, want %q", tc.in, tc.stem, got, tc.want)
				break
			}
		}
	}
}

func TestScorerReuseIsStateless(t *testing.T) {
	s, err := New(Options{Stem: true})
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := s.Score("the quick brown fox\njumps", []string{"a quick fox\njumped over"})
	_, _ = s.Score("something else entirely with other words", []string{"different words again"})
	a2, _ := s.Score("the quick brown fox\njumps", []string{"a quick fox\njumped over"})
	for k, v := range a1 {
		if a2[k] != v {
			t.Errorf("%s: first %+v, after reuse %+v", k, v, a2[k])
		}
	}
}

// TestScorerConcurrent shares one Scorer between goroutines (run with -race).
func TestScorerConcurrent(t *testing.T) {
	s, err := New(Options{Stem: true})
	if err != nil {
		t.Fatal(err)
	}
	preds := []string{"the cats were running\nfast", "a quick brown fox", "nothing in common", "running cats"}
	refs := []string{"cats run fast", "the quick brown foxes jumped", "entirely different words", "the cat is running"}
	want := make([]map[string]Value, len(preds))
	for i := range preds {
		want[i], _ = Score(preds[i], []string{refs[i]}, Options{Stem: true})
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for n := 0; n < 200; n++ {
				i := (g + n) % len(preds)
				got, err := s.Score(preds[i], []string{refs[i]})
				if err == nil {
					for k, v := range want[i] {
						if got[k] != v {
							err = fmt.Errorf("row %d %s: %+v, want %+v", i, k, got[k], v)
						}
					}
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// FuzzTokenize checks the one-pass tokenizer against rouge_score's steps
// written literally: str.lower, [^a-z0-9]+ to a space, split.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"The cat's 3.5kg", "İSTANBUL", "5\u212aM", "naïve\ncafé", "中文 abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lowered := text.PyLower(s)
		want := strings.Fields(strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
				return r
			}
			return ' '
		}, lowered))
		got := Tokenize(s, false)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("Tokenize(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestLCSLengthBitParallel compares the bit-parallel LCS length with the DP
// table on random sequences, across the one-word limit of 64 tokens.
func TestLCSLengthBitParallel(t *testing.T) {
	sc, _ := New(Options{})
	s := sc.get()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 12; i++ {
		s.formID(strconv.Itoa(i)) // ids 0..11, so that the per-id tables exist
	}
	for trial := 0; trial < 3000; trial++ {
		alpha := 1 + rng.IntN(12)
		a := make([]int32, rng.IntN(90))
		b := make([]int32, rng.IntN(90))
		for i := range a {
			a[i] = int32(rng.IntN(alpha))
		}
		for i := range b {
			b[i] = int32(rng.IntN(alpha))
		}
		tab := s.table(a, b)
		want := int(tab[len(tab)-1])
		if got := s.lcsLength(a, b); got != want {
			t.Fatalf("lcsLength(%v, %v) = %d, want %d", a, b, got, want)
		}
	}
}

// TestLsumOneLineEqualsL checks the shortcut that scores single-line texts'
// rougeLsum as rougeL against the summary-level computation itself.
func TestLsumOneLineEqualsL(t *testing.T) {
	sc, _ := New(Options{})
	s := sc.get()
	rng := rand.New(rand.NewPCG(7, 8))
	words := []string{"a", "b", "c", "d", "e", "f"}
	for trial := 0; trial < 2000; trial++ {
		var p, r []string
		for range rng.IntN(30) {
			p = append(p, words[rng.IntN(len(words))])
		}
		for range rng.IntN(30) {
			r = append(r, words[rng.IntN(len(words))])
		}
		pred := s.tokenize(strings.Join(p, " ")+"\n", &s.toks[0])
		target := s.tokenize(strings.Join(r, " "), &s.toks[1])
		if !pred.oneLine() || !target.oneLine() {
			t.Fatal("oneLine false for one line")
		}
		if got, want := s.lcsScore(target.ids, pred.ids), s.summaryLCS(target, pred); got != want {
			t.Fatalf("%q vs %q: rougeL %+v, summary-level %+v", p, r, got, want)
		}
	}
}
