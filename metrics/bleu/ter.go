package bleu

import (
	"fmt"
	"math"
	"sync"
)

// TER is a configured TER metric, the counterpart of sacrebleu's TER
// object. It is immutable and safe for concurrent use.
type TER struct {
	o TEROptions
	// scratch recycles edit-distance buffers between calls.
	scratch sync.Pool
}

// NewTER returns the metric; every option combination is valid.
func NewTER(o TEROptions) *TER {
	t := &TER{o: o}
	t.scratch.New = func() any { return newTERScratch() }
	return t
}

// TERScore is one TER result.
type TERScore struct {
	// Score is 100 * edits / reference length (it can exceed 100).
	Score float64
	// NumEdits is the number of edits (shifts, insertions, deletions,
	// substitutions), truncated to an integer as sacrebleu reports it.
	NumEdits int
	// RefLength is the (summed) average reference length in tokens.
	RefLength float64
}

// String formats the score as sacrebleu prints it: "TER = 28.58".
func (s TERScore) String() string { return fmt.Sprintf("TER = %.2f", s.Score) }

// StatsLen is the length of one TER statistics vector: [edits, average
// reference length].
func (t *TER) StatsLen() int { return 2 }

// SegmentStats returns [fewest edits over the references, average
// reference length] for every segment (TER._compute_segment_statistics).
func (t *TER) SegmentStats(hyps []string, refs [][]string) ([][]float64, error) {
	if err := checkRows(hyps, refs); err != nil {
		return nil, err
	}
	sc := t.scratch.Get().(*terScratch)
	defer t.scratch.Put(sc)
	out := make([][]float64, len(hyps))
	flat := make([]float64, 2*len(hyps))
	for i := range hyps {
		out[i] = flat[2*i : 2*i+2 : 2*i+2]
		t.segmentStats(sc, hyps[i], refs[i], out[i])
	}
	return out, nil
}

// Corpus computes corpus TER (sacrebleu's TER.corpus_score): total edits
// over total average reference length.
func (t *TER) Corpus(hyps []string, refs [][]string) (TERScore, error) {
	if err := checkRows(hyps, refs); err != nil {
		return TERScore{}, err
	}
	sc := t.scratch.Get().(*terScratch)
	defer t.scratch.Put(sc)
	sum := make([]float64, 2)
	st := make([]float64, 2)
	for i := range hyps {
		t.segmentStats(sc, hyps[i], refs[i], st)
		sum[0] += st[0]
		sum[1] += st[1]
	}
	return t.ScoreStats(sum), nil
}

// Sentence computes sentence TER (sacrebleu's TER.sentence_score).
func (t *TER) Sentence(hyp string, refs []string) (TERScore, error) {
	if len(refs) == 0 {
		return TERScore{}, fmt.Errorf("sentence TER needs at least one reference")
	}
	st := make([]float64, 2)
	sc := t.scratch.Get().(*terScratch)
	t.segmentStats(sc, hyp, refs, st)
	t.scratch.Put(sc)
	return t.ScoreStats(st), nil
}

// ScoreStats is TER._compute_score_from_stats: an empty reference with a
// non-empty hypothesis scores 100, both empty 0.
func (t *TER) ScoreStats(st []float64) TERScore {
	edits, refLen := st[0], st[1]
	var score float64
	switch {
	case refLen > 0:
		score = edits / refLen
	case edits > 0:
		score = 1
	}
	return TERScore{Score: 100 * score, NumEdits: int(edits), RefLength: refLen}
}

// CorpusTER is NewTER(o) followed by Corpus.
func CorpusTER(hyps []string, refs [][]string, o TEROptions) (TERScore, error) {
	return NewTER(o).Corpus(hyps, refs)
}

// SentenceTER is NewTER(o) followed by Sentence.
func SentenceTER(hyp string, refs []string, o TEROptions) (TERScore, error) {
	return NewTER(o).Sentence(hyp, refs)
}

// Signature is sacrebleu's TER signature, e.g.
// "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0".
func (t *TER) Signature(nrefs string) string { return t.signature(nrefs, nil) }

// BootstrapSignature is Signature with the bootstrap fields.
func (t *TER) BootstrapSignature(nrefs string, bo BootstrapOptions) string {
	return t.signature(nrefs, &bo)
}

func (t *TER) signature(nrefs string, bo *BootstrapOptions) string {
	c := "lc"
	if t.o.CaseSensitive {
		c = "mixed"
	}
	return signature(nrefs, bo,
		"case", c,
		"tok", "tercom",
		"norm", yesNo(t.o.Normalized),
		"punct", yesNo(!t.o.NoPunct),
		"asian", yesNo(t.o.AsianSupport))
}

type terScratch struct {
	words *wordIDs
	toks  []string
	hyp   []uint32
	ref   []uint32
	ed    beamED
}

func newTERScratch() *terScratch { return &terScratch{words: newWordIDs()} }

func (t *TER) segmentStats(s *terScratch, hyp string, refs []string, st []float64) {
	s.words.reset()
	s.toks = appendPyFields(s.toks[:0], tercom(pyRStrip(hyp), t.o))
	s.hyp = s.hyp[:0]
	for _, w := range s.toks {
		s.hyp = append(s.hyp, s.words.id(w))
	}
	refLengths := 0
	best := math.MaxInt
	for _, ref := range refs {
		s.toks = appendPyFields(s.toks[:0], tercom(pyRStrip(ref), t.o))
		s.ref = s.ref[:0]
		for _, w := range s.toks {
			s.ref = append(s.ref, s.words.id(w))
		}
		edits, refLen := s.ed.translationEditRate(s.hyp, s.ref)
		refLengths += refLen
		if edits < best {
			best = edits
		}
	}
	st[0] = float64(best)
	st[1] = float64(refLengths) / float64(len(refs))
}

// Tercom's limits as sacrebleu's lib_ter sets them.
const (
	terMaxShiftSize       = 10
	terMaxShiftDist       = 50
	terBeamWidth          = 25
	terMaxShiftCandidates = 1000
	terInf                = int32(1 << 30)
)

// Edit operations of the trace, as lib_ter names them.
const (
	opNop   = ' '
	opSub   = 's'
	opIns   = 'i'
	opDel   = 'd'
	opUndef = 'x'
)

// beamED is lib_ter's BeamEditDistance for one reference: Levenshtein
// distance restricted to a beam around the length-scaled diagonal, with
// Tercom's tie preferences recorded for the trace. Only the beam of each row
// is stored (cells outside it are infinite by definition), so memory is
// O(hypothesis × beam + reference), not the full matrix. Instead of
// lib_ter's trie of cached rows it keeps the rows of the hypothesis a shift
// search starts from; a shifted candidate shares its first min(start,
// target) words and so those rows, and the rest is computed with two rolling
// rows (the candidate needs only its cost). Both give identical distances:
// rows depend only on the prefix and the (unchanged) hypothesis length.
type beamED struct {
	ref    []uint32
	nh, nr int
	ratio  float64
	beam   int
	// The base hypothesis's beam: row i holds columns [lo[i], hi[i]) at
	// bandCost/bandOp[off[i]:].
	bandCost []int32
	bandOp   []byte
	lo, hi   []int32
	off      []int32
	r0, r1   rollRow // rolling full-width rows
	shifted  []uint32
	input    []uint32
	next     []uint32
	align    []int
	hypErr   []int32 // prefix sums: hypErr[k] = errors among hyp words < k
	refErr   []int32
	trace    []byte
}

// rollRow is a full-width matrix row that is infinite outside [lo, hi), so
// that clearing it costs only the width of the last beam written.
type rollRow struct {
	v      []int32
	lo, hi int
}

func (r *rollRow) init(w int) {
	if cap(r.v) < w {
		r.v = make([]int32, w)
	}
	r.v = r.v[:w]
	for j := range r.v {
		r.v[j] = terInf
	}
	r.lo, r.hi = 0, 0
}

// reset makes every cell infinite again and notes the next beam.
func (r *rollRow) reset(lo, hi int) {
	for j := r.lo; j < r.hi; j++ {
		r.v[j] = terInf
	}
	r.lo, r.hi = lo, hi
}

// setup prepares the beam for hypotheses of nh words against ref.
func (e *beamED) setup(ref []uint32, nh int) {
	e.ref = ref
	e.nh, e.nr = nh, len(ref)
	e.ratio = 1
	if nh > 0 {
		e.ratio = float64(e.nr) / float64(nh)
	}
	e.beam = terBeamWidth
	// Very unequal lengths would leave no overlap between rows.
	if float64(terBeamWidth) < e.ratio/2 {
		e.beam = int(math.Ceil(e.ratio/2 + terBeamWidth))
	}
	e.r0.init(e.nr + 1)
	e.r1.init(e.nr + 1)
}

// span is the beam of row i: columns [lo, hi).
func (e *beamED) span(i int) (lo, hi int) {
	diag := int(math.Floor(float64(i) * e.ratio))
	lo = max(0, diag-e.beam)
	hi = min(e.nr+1, diag+e.beam)
	if i == e.nh {
		hi = e.nr + 1
	}
	return lo, hi
}

// loadRow0 puts row 0 (insert every reference word) into r.
func (e *beamED) loadRow0(r *rollRow) {
	r.reset(0, e.nr+1)
	for j := range r.v {
		r.v[j] = int32(j)
	}
}

// full computes the beam of every row of words, keeping costs and
// operations, and returns the distance.
func (e *beamED) full(words []uint32) int32 {
	w := e.nr + 1
	e.bandCost, e.bandOp = e.bandCost[:0], e.bandOp[:0]
	e.lo, e.hi, e.off = e.lo[:0], e.hi[:0], e.off[:0]
	prev, cur := &e.r0, &e.r1
	e.loadRow0(prev)
	e.lo, e.hi, e.off = append(e.lo, 0), append(e.hi, int32(w)), append(e.off, 0)
	e.bandCost = append(e.bandCost, prev.v...)
	for range w {
		e.bandOp = append(e.bandOp, opIns)
	}
	for i := 1; i <= e.nh; i++ {
		lo, hi := e.span(i)
		cur.reset(lo, hi)
		e.lo, e.hi, e.off = append(e.lo, int32(lo)), append(e.hi, int32(hi)), append(e.off, int32(len(e.bandCost)))
		hw := words[i-1]
		p, c := prev.v, cur.v
		for j := lo; j < hi; j++ {
			var cost int32
			var op byte
			if j == 0 {
				cost, op = p[0]+1, opDel
			} else {
				// Tercom prefers match/substitution, then deletion, then
				// insertion (deletion and insertion swapped because the
				// trace is flipped later); the first strictly smaller cost
				// wins.
				cost, op = p[j-1]+1, opSub
				if hw == e.ref[j-1] {
					cost, op = p[j-1], opNop
				}
				if d := p[j] + 1; d < cost {
					cost, op = d, opDel
				}
				if in := c[j-1] + 1; in < cost {
					cost, op = in, opIns
				}
			}
			if cost < terInf {
				c[j] = cost
			} else {
				op = opUndef
			}
			e.bandCost = append(e.bandCost, c[j])
			e.bandOp = append(e.bandOp, op)
		}
		prev, cur = cur, prev
	}
	return prev.v[e.nr]
}

// opAt is the operation recorded at row i, column j of the base matrix.
func (e *beamED) opAt(i, j int) byte {
	lo, hi := int(e.lo[i]), int(e.hi[i])
	if j < lo || j >= hi {
		return opUndef
	}
	return e.bandOp[int(e.off[i])+j-lo]
}

// fromPrefix returns the distance of words, which share their first p words
// with the hypothesis the beam was computed for.
func (e *beamED) fromPrefix(words []uint32, p int) int32 {
	prev, cur := &e.r0, &e.r1
	lo, hi := int(e.lo[p]), int(e.hi[p])
	prev.reset(lo, hi)
	copy(prev.v[lo:hi], e.bandCost[e.off[p]:int(e.off[p])+hi-lo])
	if p >= e.nh {
		return prev.v[e.nr]
	}
	for i := p + 1; i <= e.nh; i++ {
		lo, hi := e.span(i)
		cur.reset(lo, hi)
		hw := words[i-1]
		pv, c := prev.v, cur.v
		for j := lo; j < hi; j++ {
			if j == 0 {
				c[0] = pv[0] + 1
				continue
			}
			cost := pv[j-1] + 1
			if hw == e.ref[j-1] {
				cost = pv[j-1]
			}
			if d := pv[j] + 1; d < cost {
				cost = d
			}
			if in := c[j-1] + 1; in < cost {
				cost = in
			}
			if cost < terInf {
				c[j] = cost
			}
		}
		prev, cur = cur, prev
	}
	return prev.v[e.nr]
}

// alignment walks the trace of the base matrix back from the corner and
// fills align (reference position -> hypothesis position) and the error
// prefix sums, as lib_ter's _flip_trace + trace_to_alignment do.
func (e *beamED) alignment() {
	e.trace = e.trace[:0]
	i, j := e.nh, e.nr
	for i > 0 || j > 0 {
		o := e.opAt(i, j)
		e.trace = append(e.trace, o)
		switch o {
		case opSub, opNop:
			i--
			j--
		case opIns:
			j--
		case opDel:
			i--
		default:
			// Unreachable: every cell on a finite-cost path is inside the
			// beam. lib_ter raises here; stop rather than loop forever.
			i, j = 0, 0
		}
	}
	e.align = e.align[:0]
	for range e.nr {
		e.align = append(e.align, -1)
	}
	e.hypErr = append(e.hypErr[:0], 0)
	e.refErr = append(e.refErr[:0], 0)
	posH, posR := -1, -1
	for k := len(e.trace) - 1; k >= 0; k-- {
		// Flipped: the matrix's deletion (a hypothesis word) is an
		// insertion when rewriting the reference into the hypothesis.
		switch e.trace[k] {
		case opNop, opSub:
			posH++
			posR++
			e.align[posR] = posH
			bad := int32(0)
			if e.trace[k] == opSub {
				bad = 1
			}
			e.hypErr = append(e.hypErr, e.hypErr[len(e.hypErr)-1]+bad)
			e.refErr = append(e.refErr, e.refErr[len(e.refErr)-1]+bad)
		case opDel:
			posH++
			e.hypErr = append(e.hypErr, e.hypErr[len(e.hypErr)-1]+1)
		case opIns:
			posR++
			e.align[posR] = posH
			e.refErr = append(e.refErr, e.refErr[len(e.refErr)-1]+1)
		}
	}
}

// performShift is lib_ter's _perform_shift into dst.
func performShift(dst, words []uint32, start, length, target int) []uint32 {
	dst = dst[:0]
	switch {
	case target < start:
		dst = append(dst, words[:target]...)
		dst = append(dst, words[start:start+length]...)
		dst = append(dst, words[target:start]...)
		dst = append(dst, words[start+length:]...)
	case target > start+length:
		dst = append(dst, words[:start]...)
		dst = append(dst, words[start+length:target]...)
		dst = append(dst, words[start:start+length]...)
		dst = append(dst, words[target:]...)
	default:
		dst = append(dst, words[:start]...)
		dst = append(dst, words[start+length:length+target]...)
		dst = append(dst, words[start:start+length]...)
		dst = append(dst, words[length+target:]...)
	}
	return dst
}

// translationEditRate is lib_ter's translation_edit_rate: greedy shifts
// while they reduce the edit distance (at most 1000 candidates examined per
// sentence), then the edit distance, plus one edit per shift.
func (e *beamED) translationEditRate(hyp, ref []uint32) (edits, refLen int) {
	if len(ref) == 0 {
		return len(hyp), 0
	}
	e.setup(ref, len(hyp))
	e.input = append(e.input[:0], hyp...)
	shifts := 0
	checked := 0
	for {
		dist := e.full(e.input)
		delta, start, length, target, found := e.bestShift(e.input, dist, &checked)
		if checked >= terMaxShiftCandidates || !found || delta <= 0 {
			return shifts + int(dist), len(ref)
		}
		shifts++
		e.next = performShift(e.next, e.input, start, length, target)
		e.input, e.next = e.next, e.input
	}
}

// bestShift is lib_ter's _shift on the base matrix just computed for words
// (whose distance is pre): it returns the best candidate by Tercom's ranking
// (largest gain, then longest, then earliest start, then earliest target).
func (e *beamED) bestShift(words []uint32, pre int32, checked *int) (delta int32, bStart, bLen, bTarget int, found bool) {
	e.alignment()
	nh, nr := len(words), len(e.ref)
	for sh := 0; sh < nh; sh++ {
		for sr := 0; sr < nr; sr++ {
			if sr-sh > terMaxShiftDist || sh-sr > terMaxShiftDist {
				continue
			}
			for length := 1; length <= terMaxShiftSize; length++ {
				if words[sh+length-1] != e.ref[sr+length-1] {
					break
				}
				if e.considerShift(words, pre, sh, sr, length, checked, &delta, &bStart, &bLen, &bTarget, &found) {
					return delta, bStart, bLen, bTarget, found
				}
				if sh+length == nh || sr+length == nr {
					break
				}
			}
		}
	}
	return delta, bStart, bLen, bTarget, found
}

// considerShift evaluates the targets of one matching block and reports
// whether the candidate limit was reached.
func (e *beamED) considerShift(words []uint32, pre int32, sh, sr, length int, checked *int,
	delta *int32, bStart, bLen, bTarget *int, found *bool) bool {
	// Shift only words that are wrong, to a place where the reference is
	// not already matched, and not into the block itself.
	if e.hypErr[sh+length]-e.hypErr[sh] == 0 {
		return false
	}
	if e.refErr[sr+length]-e.refErr[sr] == 0 {
		return false
	}
	if a := e.align[sr]; sh <= a && a < sh+length {
		return false
	}
	prevIdx := -1
	for offset := -1; offset < length; offset++ {
		var idx int
		switch {
		case sr+offset == -1:
			idx = 0
		case sr+offset < len(e.ref):
			// lib_ter inserts before the aligned position, Tercom after.
			idx = e.align[sr+offset] + 1
		default:
			// Aims past the reference: no more targets.
			offset = length
			continue
		}
		if idx == prevIdx {
			continue
		}
		prevIdx = idx
		e.shifted = performShift(e.shifted, words, sh, length, idx)
		gain := pre - e.fromPrefix(e.shifted, min(sh, idx))
		*checked++
		better := !*found || gain > *delta ||
			(gain == *delta && (length > *bLen ||
				(length == *bLen && (sh < *bStart ||
					(sh == *bStart && idx < *bTarget)))))
		if better {
			*delta, *bStart, *bLen, *bTarget, *found = gain, sh, length, idx, true
		}
	}
	return *checked >= terMaxShiftCandidates
}
