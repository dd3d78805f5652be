package bleu

import (
	"fmt"
	"strings"
)

// ChrFOptions configure chrF. The zero value is sacrebleu's CHRF(): character
// 6-grams, no word n-grams, beta 2, mixed case, whitespace ignored,
// effective-order averaging. chrF++ is WordOrder 2.
type ChrFOptions struct {
	// CharOrder is the highest character n-gram order (0 means 6).
	CharOrder int
	// WordOrder is the highest word n-gram order: 0 for chrF, 2 for chrF++.
	WordOrder int
	// Beta weighs recall beta times as much as precision (0 means 2).
	Beta int
	// Lowercase lower-cases both sides (Python str.lower).
	Lowercase bool
	// Whitespace keeps whitespace inside character n-grams.
	Whitespace bool
	// EpsSmoothing averages per-order F-scores with chrF++.py's epsilon
	// smoothing instead of sacrebleu's default effective-order averaging of
	// precision and recall.
	EpsSmoothing bool
}

// ChrF is a configured chrF / chrF++ metric, the counterpart of sacrebleu's
// CHRF object. It is immutable and safe for concurrent use.
type ChrF struct {
	charOrder, wordOrder, beta int
	lowercase, whitespace, eps bool
}

// NewChrF validates opts and returns the metric.
func NewChrF(opts ChrFOptions) (*ChrF, error) {
	c := &ChrF{charOrder: opts.CharOrder, wordOrder: opts.WordOrder, beta: opts.Beta,
		lowercase: opts.Lowercase, whitespace: opts.Whitespace, eps: opts.EpsSmoothing}
	if c.charOrder == 0 {
		c.charOrder = 6
	}
	if c.beta == 0 {
		c.beta = 2
	}
	if c.charOrder < 1 || c.charOrder > 64 {
		return nil, fmt.Errorf("chrF character order %d is out of range: use 1 to 64 (default 6)", opts.CharOrder)
	}
	if c.wordOrder < 0 || c.wordOrder > 64 {
		return nil, fmt.Errorf("chrF word order %d is out of range: use 0 (chrF) to 64; chrF++ is 2", opts.WordOrder)
	}
	if c.beta < 0 {
		return nil, fmt.Errorf("chrF beta %d is negative: use a positive integer (default 2)", opts.Beta)
	}
	return c, nil
}

// ChrFScore is one chrF result.
type ChrFScore struct {
	// Score is chrF on the 0-100 scale.
	Score float64
	// Name is sacrebleu's name for the variant: "chrF2", "chrF2++", ...
	Name string
}

// String formats the score as sacrebleu prints it: "chrF2 = 75.49".
func (s ChrFScore) String() string { return fmt.Sprintf("%s = %.2f", s.Name, s.Score) }

func (c *ChrF) name() string {
	return fmt.Sprintf("chrF%d", c.beta) + strings.Repeat("+", c.wordOrder)
}

func (c *ChrF) order() int { return c.charOrder + c.wordOrder }

// StatsLen is the length of one chrF statistics vector: [hyp, ref, match]
// for each character order and then each word order.
func (c *ChrF) StatsLen() int { return 3 * c.order() }

// SegmentStats returns each segment's statistics against its best
// reference (the one with the highest sentence chrF, the first on ties).
func (c *ChrF) SegmentStats(hyps []string, refs [][]string) ([][]float64, error) {
	if err := checkRows(hyps, refs); err != nil {
		return nil, err
	}
	sc := newChrFScratch()
	out := make([][]float64, len(hyps))
	L := c.StatsLen()
	flat := make([]float64, len(hyps)*L)
	for i := range hyps {
		out[i] = flat[i*L : (i+1)*L : (i+1)*L]
		c.segmentStats(sc, hyps[i], refs[i], out[i])
	}
	return out, nil
}

// Corpus computes corpus chrF (sacrebleu's CHRF.corpus_score): statistics
// summed over segments, then one F-score.
func (c *ChrF) Corpus(hyps []string, refs [][]string) (ChrFScore, error) {
	if err := checkRows(hyps, refs); err != nil {
		return ChrFScore{}, err
	}
	sc := newChrFScratch()
	sum := make([]float64, c.StatsLen())
	st := make([]float64, c.StatsLen())
	for i := range hyps {
		c.segmentStats(sc, hyps[i], refs[i], st)
		for k, v := range st {
			sum[k] += v
		}
	}
	return c.ScoreStats(sum), nil
}

// Sentence computes sentence chrF (sacrebleu's CHRF.sentence_score).
func (c *ChrF) Sentence(hyp string, refs []string) (ChrFScore, error) {
	if len(refs) == 0 {
		return ChrFScore{}, fmt.Errorf("sentence chrF needs at least one reference")
	}
	st := make([]float64, c.StatsLen())
	c.segmentStats(newChrFScratch(), hyp, refs, st)
	return c.ScoreStats(st), nil
}

// ScoreStats computes chrF from (summed) statistics.
func (c *ChrF) ScoreStats(stats []float64) ChrFScore {
	return ChrFScore{Score: c.fScore(stats), Name: c.name()}
}

// CorpusChrF is NewChrF(opts) followed by Corpus.
func CorpusChrF(hyps []string, refs [][]string, opts ChrFOptions) (ChrFScore, error) {
	c, err := NewChrF(opts)
	if err != nil {
		return ChrFScore{}, err
	}
	return c.Corpus(hyps, refs)
}

// SentenceChrF is NewChrF(opts) followed by Sentence.
func SentenceChrF(hyp string, refs []string, opts ChrFOptions) (ChrFScore, error) {
	c, err := NewChrF(opts)
	if err != nil {
		return ChrFScore{}, err
	}
	return c.Sentence(hyp, refs)
}

// Signature is sacrebleu's chrF signature, e.g.
// "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0".
func (c *ChrF) Signature(nrefs string) string { return c.signature(nrefs, nil) }

// BootstrapSignature is Signature with the bootstrap fields.
func (c *ChrF) BootstrapSignature(nrefs string, bo BootstrapOptions) string {
	return c.signature(nrefs, &bo)
}

func (c *ChrF) signature(nrefs string, bo *BootstrapOptions) string {
	return signature(nrefs, bo,
		"case", caseName(c.lowercase),
		"eff", yesNo(!c.eps),
		"nc", fmt.Sprint(c.charOrder),
		"nw", fmt.Sprint(c.wordOrder),
		"space", yesNo(c.whitespace))
}

// fScore is CHRF._compute_f_score, operation for operation.
func (c *ChrF) fScore(st []float64) float64 {
	const eps = 1e-16
	factor := float64(c.beta * c.beta)
	score := 0.0
	effOrder := 0
	avgPrec, avgRec := 0.0, 0.0
	order := c.order()
	for i := range order {
		nHyp, nRef, nMatch := st[3*i], st[3*i+1], st[3*i+2]
		prec, rec := eps, eps
		if nHyp > 0 {
			prec = nMatch / nHyp
		}
		if nRef > 0 {
			rec = nMatch / nRef
		}
		denom := factor*prec + rec
		if denom > 0 {
			score += (1 + factor) * prec * rec / denom
		} else {
			score += eps
		}
		if nHyp > 0 && nRef > 0 {
			avgPrec += prec
			avgRec += rec
			effOrder++
		}
	}
	if c.eps {
		return 100 * score / float64(order)
	}
	if effOrder == 0 {
		avgPrec, avgRec = 0, 0
	} else {
		avgPrec /= float64(effOrder)
		avgRec /= float64(effOrder)
	}
	if avgPrec+avgRec != 0 {
		score = (1 + factor) * avgPrec * avgRec
		score /= factor*avgPrec + avgRec
		return 100 * score
	}
	return 0
}

// chrfPuncts is Python's string.punctuation, which chrF++ splits off the
// start or end of words.
func isChrFPunct(b byte) bool {
	return strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", b) >= 0
}

// appendChrFWords is CHRF._remove_punctuation: a word of two or more
// characters loses a trailing punctuation mark, or else a leading one, as a
// separate word.
func appendChrFWords(dst []string, sent string) []string {
	start := len(dst)
	dst = appendPyFields(dst, sent)
	words := append([]string(nil), dst[start:]...)
	dst = dst[:start]
	for _, w := range words {
		if len(w) == 1 || !multiRune(w) {
			dst = append(dst, w)
			continue
		}
		if last := w[len(w)-1]; isChrFPunct(last) {
			dst = append(dst, w[:len(w)-1], w[len(w)-1:])
		} else if isChrFPunct(w[0]) {
			dst = append(dst, w[:1], w[1:])
		} else {
			dst = append(dst, w)
		}
	}
	return dst
}

// multiRune reports whether w has at least two code points.
func multiRune(w string) bool {
	for i := range w {
		if i > 0 {
			return true
		}
	}
	return false
}

type chrfScratch struct {
	words  *wordIDs
	tab    *idTable
	runes  []rune
	units  []uint32
	prev   []int32
	toks   []string
	hypIDs [][]int32 // per order
	refIDs [][]int32
	hypCnt []int32
	refCnt []int32
	stats  []float64
}

func newChrFScratch() *chrfScratch {
	return &chrfScratch{words: newWordIDs(), tab: newIDTable()}
}

// charUnits fills s.units with the code points chrF counts: whitespace
// removed unless kept.
func (c *ChrF) charUnits(s *chrfScratch, line string) {
	s.units = s.units[:0]
	for _, r := range line {
		if !c.whitespace && isPySpace(r) {
			continue
		}
		s.units = append(s.units, uint32(r))
	}
}

// ngramIDs fills ids[o] (o = 0..orders-1) with the ids of the n-grams of
// units, of order o+1. Character and word n-grams share the table; word ids
// are offset by base so they never collide with code points.
func (s *chrfScratch) ngramIDs(ids [][]int32, units []uint32, orders int, base uint32) [][]int32 {
	for len(ids) < orders {
		ids = append(ids, nil)
	}
	s.prev = s.prev[:0]
	o := ids[0][:0]
	for _, u := range units {
		id := s.tab.id(pairKey(0, u+base))
		s.prev = append(s.prev, id)
		o = append(o, id)
	}
	ids[0] = o
	for n := 2; n <= orders; n++ {
		o := ids[n-1][:0]
		for i := 0; i+n-1 < len(units); i++ {
			id := s.tab.id(pairKey(s.prev[i], units[i+n-1]+base))
			s.prev[i] = id
			o = append(o, id)
		}
		ids[n-1] = o
	}
	return ids[:orders]
}

// wordBase lifts word ids above every code point, so that order-1 word and
// character keys differ.
const wordBase = 0x110000

// segmentStats is CHRF._compute_segment_statistics.
func (c *ChrF) segmentStats(s *chrfScratch, hyp string, refs []string, st []float64) {
	if c.lowercase {
		hyp = PyLower(hyp)
	}
	s.words.reset()
	s.tab.reset()
	c.idsOf(s, &s.hypIDs, hyp)
	best := -1.0
	if cap(s.stats) < len(st) {
		s.stats = make([]float64, len(st))
	}
	cur := s.stats[:len(st)]
	for _, ref := range refs {
		if c.lowercase {
			ref = PyLower(ref)
		}
		c.idsOf(s, &s.refIDs, ref)
		size := int(s.tab.next) + 1
		s.hypCnt = growZero(s.hypCnt, size)
		s.refCnt = growZero(s.refCnt, size)
		for o := range c.order() {
			h, r := s.hypIDs[o], s.refIDs[o]
			for _, id := range h {
				s.hypCnt[id]++
			}
			for _, id := range r {
				s.refCnt[id]++
			}
			match := 0
			for _, id := range r {
				if rc := s.refCnt[id]; rc > 0 {
					match += int(min(rc, s.hypCnt[id]))
					s.refCnt[id] = 0
				}
			}
			for _, id := range h {
				s.hypCnt[id] = 0
			}
			nHyp := len(h)
			if len(r) == 0 {
				// sacrebleu does not count hypothesis n-grams of an order
				// the reference lacks.
				nHyp = 0
			}
			cur[3*o], cur[3*o+1], cur[3*o+2] = float64(nHyp), float64(len(r)), float64(match)
		}
		if f := c.fScore(cur); f > best {
			best = f
			copy(st, cur)
		}
	}
}

// idsOf computes the character (and word) n-gram ids of one side into
// *dst, one slice per order.
func (c *ChrF) idsOf(s *chrfScratch, dst *[][]int32, line string) {
	c.charUnits(s, line)
	ids := s.ngramIDs(*dst, s.units, c.charOrder, 0)
	if c.wordOrder > 0 {
		s.toks = appendChrFWords(s.toks[:0], line)
		s.units = s.units[:0]
		for _, w := range s.toks {
			s.units = append(s.units, s.words.id(w)+wordBase)
		}
		// Word n-gram ids are appended after the character orders.
		tmp := make([][]int32, 0, c.wordOrder)
		if len(ids) > c.charOrder {
			tmp = append(tmp, ids[c.charOrder:]...)
		}
		for len(tmp) < c.wordOrder {
			tmp = append(tmp, nil)
		}
		tmp = s.ngramIDs(tmp, s.units, c.wordOrder, 0)
		ids = append(ids[:c.charOrder], tmp...)
	}
	*dst = ids
}
