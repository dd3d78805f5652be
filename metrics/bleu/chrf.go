package bleu

import (
	"fmt"
	"strings"
	"sync"
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
	// scratch recycles counting buffers between calls.
	scratch sync.Pool
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
	c.scratch.New = func() any { return newChrFScratch() }
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
	sc := c.scratch.Get().(*chrfScratch)
	defer c.scratch.Put(sc)
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
	sc := c.scratch.Get().(*chrfScratch)
	defer c.scratch.Put(sc)
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
	sc := c.scratch.Get().(*chrfScratch)
	c.segmentStats(sc, hyp, refs, st)
	c.scratch.Put(sc)
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

// isChrFPunct reports whether b is in Python's string.punctuation, the
// marks chrF++ splits off the start or end of words.
func isChrFPunct(b byte) bool {
	return strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", b) >= 0
}

// appendChrFWords is CHRF._remove_punctuation: a word of two or more
// characters loses a trailing punctuation mark, or else a leading one, as a
// separate word. tmp is scratch space.
func appendChrFWords(dst []string, tmp *[]string, sent string) []string {
	*tmp = appendPyFields((*tmp)[:0], sent)
	for _, w := range *tmp {
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
	words    *wordIDs
	tab      ngramTable
	units    []uint32 // per side: characters, then words
	bounds   []int    // units[bounds[2k]:bounds[2k+1]] characters of side k, then its words up to bounds[2k+2]
	toks     []string
	tmp      []string
	prev     []int32
	hypSlots []int32
	hypOB    []int // hypSlots of order o: hypSlots[hypOB[o]:hypOB[o+1]]
	refSlots []int32
	refOB    []int
	stats    []float64
}

func newChrFScratch() *chrfScratch { return &chrfScratch{words: newWordIDs()} }

// wordBase lifts word ids above every code point, so that order-1 word and
// character keys differ.
const wordBase = 0x110000

// addSide appends the units of one side: its characters (whitespace
// dropped unless kept) and, for chrF++, its words.
func (c *ChrF) addSide(s *chrfScratch, line string) {
	if c.lowercase {
		line = PyLower(line)
	}
	for _, r := range line {
		if !c.whitespace && isPySpace(r) {
			continue
		}
		s.units = append(s.units, uint32(r))
	}
	s.bounds = append(s.bounds, len(s.units))
	if c.wordOrder > 0 {
		s.toks = appendChrFWords(s.toks[:0], &s.tmp, line)
		for _, w := range s.toks {
			s.units = append(s.units, s.words.id(w)+wordBase)
		}
	}
	s.bounds = append(s.bounds, len(s.units))
}

// appendSlots appends the slots of the n-grams of units of orders 1..orders,
// and the order boundaries to ob.
func (s *chrfScratch) appendSlots(dst []int32, ob []int, units []uint32, orders int) ([]int32, []int) {
	s.prev = s.prev[:0]
	for _, u := range units {
		sl := s.tab.slot(pairKey(0, u))
		s.prev = append(s.prev, sl+1)
		dst = append(dst, sl)
	}
	ob = append(ob, len(dst))
	for n := 2; n <= orders; n++ {
		for i := 0; i+n-1 < len(units); i++ {
			sl := s.tab.slot(pairKey(s.prev[i], units[i+n-1]))
			s.prev[i] = sl + 1
			dst = append(dst, sl)
		}
		ob = append(ob, len(dst))
	}
	return dst, ob
}

// sideSlots computes the slots of side k: character orders, then word
// orders, with ob holding order boundaries (len = order+1).
func (c *ChrF) sideSlots(s *chrfScratch, dst []int32, ob []int, k int) ([]int32, []int) {
	dst, ob = dst[:0], append(ob[:0], 0)
	dst, ob = s.appendSlots(dst, ob, s.units[s.bounds[2*k]:s.bounds[2*k+1]], c.charOrder)
	if c.wordOrder > 0 {
		dst, ob = s.appendSlots(dst, ob, s.units[s.bounds[2*k+1]:s.bounds[2*k+2]], c.wordOrder)
	}
	return dst, ob
}

// segmentStats is CHRF._compute_segment_statistics: statistics against each
// reference, keeping those of the best sentence F-score (first on ties).
// Slot counters: a = hypothesis count, b = count in the current reference.
func (c *ChrF) segmentStats(s *chrfScratch, hyp string, refs []string, st []float64) {
	s.words.reset()
	s.units = s.units[:0]
	s.bounds = append(s.bounds[:0], 0)
	c.addSide(s, hyp)
	for _, ref := range refs {
		c.addSide(s, ref)
	}
	s.tab.reset(len(s.units) * max(c.charOrder, c.wordOrder))
	s.hypSlots, s.hypOB = c.sideSlots(s, s.hypSlots, s.hypOB, 0)
	for _, sl := range s.hypSlots {
		s.tab.slots[sl].a++
	}
	if cap(s.stats) < len(st) {
		s.stats = make([]float64, len(st))
	}
	cur := s.stats[:len(st)]
	best := -1.0
	for r := range refs {
		s.refSlots, s.refOB = c.sideSlots(s, s.refSlots, s.refOB, r+1)
		for o := range c.order() {
			rs := s.refSlots[s.refOB[o]:s.refOB[o+1]]
			for _, sl := range rs {
				s.tab.slots[sl].b++
			}
			match := int32(0)
			for _, sl := range rs {
				if x := &s.tab.slots[sl]; x.b > 0 {
					match += min(x.a, x.b)
					x.b = 0
				}
			}
			nHyp := s.hypOB[o+1] - s.hypOB[o]
			if len(rs) == 0 {
				// sacrebleu does not count hypothesis n-grams of an order
				// the reference lacks.
				nHyp = 0
			}
			cur[3*o], cur[3*o+1], cur[3*o+2] = float64(nHyp), float64(len(rs)), float64(match)
		}
		if f := c.fScore(cur); f > best {
			best = f
			copy(st, cur)
		}
	}
}
