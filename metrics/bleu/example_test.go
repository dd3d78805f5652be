package bleu_test

import (
	"fmt"

	"github.com/tunecheck/tunecheck/metrics/bleu"
)

// The BLEU and TER lines can be checked by hand: 13a gives 12 hypothesis
// tokens, all unigrams match, 8 of 10 bigrams, 5 of 8 trigrams, 4 of 6
// 4-grams, so BLEU = (1 · 0.8 · 0.625 · 0.667)^(1/4); TER needs no edit in
// the first row and 2 in the second against its first reference, over
// 6 + (3+4)/2 reference words.
func Example() {
	hyps := []string{"The cat sat on the mat.", "It is raining today."}
	refs := [][]string{{"The cat sat on the mat."}, {"It rains today.", "Today it is raining."}}

	b, _ := bleu.NewBLEU(bleu.Options{})
	s, _ := b.Corpus(hyps, refs)
	fmt.Println(s)
	fmt.Println(b.Signature(bleu.NRefs(refs), false))

	c, _ := bleu.CorpusChrF(hyps, refs, bleu.ChrFOptions{WordOrder: 2})
	fmt.Println(c)

	t, _ := bleu.CorpusTER(hyps, refs, bleu.TEROptions{})
	fmt.Println(t, t.NumEdits, t.RefLength)
	// Output:
	// BLEU = 75.98 100.0/80.0/62.5/66.7 (BP = 1.000 ratio = 1.000 hyp_len = 12 ref_len = 12)
	// nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0
	// chrF2++ = 80.59
	// TER = 21.05 2 9.5
}

func ExampleSentenceBLEU() {
	s, _ := bleu.SentenceBLEU("the cat sat", []string{"the cat sat on the mat"}, bleu.Options{})
	fmt.Printf("%.4f %v\n", s.Score, s.Totals)
	// Output: 36.7879 [3 2 1 0]
}

func ExampleBootstrap() {
	hyps := []string{"a b c d", "e f g h", "i j k", "l m n o p", "q r s t"}
	refs := [][]string{{"a b c d"}, {"e f x h"}, {"i j k"}, {"l m n o"}, {"q r t s"}}
	m, _ := bleu.NewBLEU(bleu.Options{})
	st, _ := m.SegmentStats(hyps, refs)
	res, _ := bleu.Bootstrap(st, func(s []float64) float64 { return m.ScoreStats(s).Score }, bleu.BootstrapOptions{})
	fmt.Printf("%.2f (μ = %.2f ± %.2f) %s\n", res.Score, res.Mean, res.CI,
		m.BootstrapSignature(bleu.NRefs(refs), false, bleu.BootstrapOptions{}))
	// Output is not shown: it depends on the generator's draws, which are
	// fixed by the seed but are Go's, not numpy's.
}
