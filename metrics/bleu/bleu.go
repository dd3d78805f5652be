package bleu

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// Smoothing names a BLEU smoothing method (Chen and Cherry, WMT 2014).
type Smoothing string

// sacrebleu's smoothing methods.
const (
	// SmoothExp is NIST's geometric smoothing (method 3), the default: the
	// k-th order with no match gets precision 1/(2^k * total).
	SmoothExp Smoothing = "exp"
	// SmoothFloor replaces a zero match count by a constant (method 1,
	// default 0.1).
	SmoothFloor Smoothing = "floor"
	// SmoothAddK adds a constant to the counts and totals of orders >= 2
	// (method 2, default 1).
	SmoothAddK Smoothing = "add-k"
	// SmoothNone applies no smoothing.
	SmoothNone Smoothing = "none"
)

// smoothDefault is sacrebleu's BLEU.SMOOTH_DEFAULTS; ok is false for the
// methods that take no value.
func smoothDefault(m Smoothing) (v float64, ok bool) {
	switch m {
	case SmoothFloor:
		return 0.1, true
	case SmoothAddK:
		return 1, true
	}
	return 0, false
}

// ParseSmoothing checks a smoothing name; the empty string means exp.
func ParseSmoothing(name string) (Smoothing, error) {
	switch Smoothing(name) {
	case "", SmoothExp:
		return SmoothExp, nil
	case SmoothFloor, SmoothAddK, SmoothNone:
		return Smoothing(name), nil
	}
	return "", fmt.Errorf("unknown BLEU smoothing %q: use exp (default), floor, add-k or none", name)
}

// EffectiveOrder says whether BLEU averages only over the n-gram orders the
// hypothesis has (sacrebleu's effective_order).
type EffectiveOrder int

const (
	// EffectiveOrderDefault is sacrebleu's default for the level asked:
	// off for corpus BLEU (corpus_bleu), on for sentence BLEU
	// (sentence_bleu).
	EffectiveOrderDefault EffectiveOrder = iota
	// EffectiveOrderOn stops at the first order with no hypothesis n-grams.
	EffectiveOrderOn
	// EffectiveOrderOff always averages over MaxNgramOrder orders.
	EffectiveOrderOff
)

func (e EffectiveOrder) resolve(sentence bool) bool {
	switch e {
	case EffectiveOrderOn:
		return true
	case EffectiveOrderOff:
		return false
	}
	return sentence
}

// Options configure BLEU. The zero value is sacrebleu's default: 13a
// tokenizer, mixed case, exp smoothing, 4-grams, effective order off for the
// corpus and on for sentences.
type Options struct {
	// Tokenizer: "13a" (default), "intl", "char" or "none".
	Tokenizer Tokenizer
	// Lowercase lower-cases hypotheses and references (Python str.lower)
	// before tokenizing.
	Lowercase bool
	// Smooth is the smoothing method (default exp).
	Smooth Smoothing
	// SmoothValue overrides the floor (0.1) or add-k (1) constant; nil keeps
	// the method's default.
	SmoothValue *float64
	// MaxNgramOrder is the highest n-gram order (default 4).
	MaxNgramOrder int
	// EffectiveOrder: see the constants.
	EffectiveOrder EffectiveOrder
}

// BLEU is a configured BLEU metric, the counterpart of sacrebleu's BLEU
// object. It is immutable and safe for concurrent use.
type BLEU struct {
	tok         Tokenizer
	lowercase   bool
	smooth      Smoothing
	smoothValue float64
	maxOrder    int
	effective   EffectiveOrder
	// scratch recycles counting buffers between calls, so that scoring
	// many single sentences (Self-BLEU, per-item scores) does not allocate
	// them each time.
	scratch sync.Pool
}

// NewBLEU validates opts and returns the metric.
func NewBLEU(opts Options) (*BLEU, error) {
	tok, err := ParseTokenizer(string(opts.Tokenizer))
	if err != nil {
		return nil, err
	}
	sm, err := ParseSmoothing(string(opts.Smooth))
	if err != nil {
		return nil, err
	}
	order := opts.MaxNgramOrder
	if order == 0 {
		order = 4
	}
	if order < 1 || order > 255 {
		return nil, fmt.Errorf("BLEU max n-gram order %d is out of range: use 1 to 255 (default 4)", opts.MaxNgramOrder)
	}
	switch opts.EffectiveOrder {
	case EffectiveOrderDefault, EffectiveOrderOn, EffectiveOrderOff:
	default:
		return nil, fmt.Errorf("unknown BLEU effective-order setting %d", opts.EffectiveOrder)
	}
	b := &BLEU{tok: tok, lowercase: opts.Lowercase, smooth: sm, maxOrder: order, effective: opts.EffectiveOrder}
	b.scratch.New = func() any { return newBLEUScratch() }
	if def, ok := smoothDefault(sm); ok {
		b.smoothValue = def
		if opts.SmoothValue != nil {
			v := *opts.SmoothValue
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("BLEU smooth value %v is not a finite number", v)
			}
			b.smoothValue = v
		}
	}
	return b, nil
}

// BLEUScore is one BLEU result, with the fields sacrebleu's BLEUScore has.
type BLEUScore struct {
	// Score is BLEU on the 0-100 scale.
	Score float64
	// Counts and Totals are the matched and hypothesis n-gram counts per
	// order. They are whole numbers except with add-k smoothing, where, as
	// in sacrebleu, orders >= 2 include the added constant.
	Counts, Totals []float64
	// Precisions are the (smoothed) n-gram precisions, 0-100.
	Precisions []float64
	// BP is the brevity penalty.
	BP float64
	// SysLen and RefLen are the hypothesis and closest-reference lengths in
	// tokens.
	SysLen, RefLen int
	// Ratio is SysLen / RefLen (0 when RefLen is 0).
	Ratio float64
}

// String formats the score as sacrebleu prints it (without the signature):
// "BLEU = 44.03 80.5/52.7/37.0/25.9 (BP = 0.971 ratio = 0.972 hyp_len = ... ref_len = ...)".
func (s BLEUScore) String() string {
	p := make([]string, len(s.Precisions))
	for i, v := range s.Precisions {
		p[i] = fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("BLEU = %.2f %s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
		s.Score, strings.Join(p, "/"), s.BP, s.Ratio, s.SysLen, s.RefLen)
}

// StatsLen is the length of one BLEU statistics vector:
// [sys_len, ref_len, correct_1..N, total_1..N], sacrebleu's layout.
func (b *BLEU) StatsLen() int { return 2 + 2*b.maxOrder }

// SegmentStats returns the sufficient statistics of every segment:
// hyps[i] is scored against refs[i] (one or more references; the count may
// differ between rows). Sum them (SumStats) and call ScoreStats to get corpus
// BLEU, or resample them for a bootstrap.
func (b *BLEU) SegmentStats(hyps []string, refs [][]string) ([][]float64, error) {
	if err := checkRows(hyps, refs); err != nil {
		return nil, err
	}
	sc := b.scratch.Get().(*bleuScratch)
	defer b.scratch.Put(sc)
	out := make([][]float64, len(hyps))
	flat := make([]float64, len(hyps)*b.StatsLen())
	for i := range hyps {
		st := flat[i*b.StatsLen() : (i+1)*b.StatsLen() : (i+1)*b.StatsLen()]
		b.segmentStats(sc, hyps[i], refs[i], st)
		out[i] = st
	}
	return out, nil
}

// Corpus computes corpus BLEU (sacrebleu's BLEU.corpus_score); effective
// order is off unless Options turned it on.
func (b *BLEU) Corpus(hyps []string, refs [][]string) (BLEUScore, error) {
	if err := checkRows(hyps, refs); err != nil {
		return BLEUScore{}, err
	}
	sc := b.scratch.Get().(*bleuScratch)
	defer b.scratch.Put(sc)
	sum := make([]float64, b.StatsLen())
	st := make([]float64, b.StatsLen())
	for i := range hyps {
		b.segmentStats(sc, hyps[i], refs[i], st)
		for k, v := range st {
			sum[k] += v
		}
	}
	return b.ScoreStats(sum), nil
}

// Sentence computes sentence BLEU (sacrebleu's sentence_bleu /
// BLEU.sentence_score); effective order is on unless Options turned it off.
func (b *BLEU) Sentence(hyp string, refs []string) (BLEUScore, error) {
	if len(refs) == 0 {
		return BLEUScore{}, fmt.Errorf("sentence BLEU needs at least one reference")
	}
	st := make([]float64, b.StatsLen())
	sc := b.scratch.Get().(*bleuScratch)
	b.segmentStats(sc, hyp, refs, st)
	b.scratch.Put(sc)
	return b.score(st, b.effective.resolve(true)), nil
}

// ScoreStats computes corpus-level BLEU from summed statistics (sacrebleu's
// _compute_score_from_stats), with the corpus effective-order setting.
func (b *BLEU) ScoreStats(sum []float64) BLEUScore {
	return b.score(sum, b.effective.resolve(false))
}

// SentenceScoreStats computes BLEU from one segment's statistics with the
// sentence-level effective-order setting.
func (b *BLEU) SentenceScoreStats(stats []float64) BLEUScore {
	return b.score(stats, b.effective.resolve(true))
}

// CorpusBLEU is NewBLEU(opts) followed by Corpus.
func CorpusBLEU(hyps []string, refs [][]string, opts Options) (BLEUScore, error) {
	b, err := NewBLEU(opts)
	if err != nil {
		return BLEUScore{}, err
	}
	return b.Corpus(hyps, refs)
}

// SentenceBLEU is NewBLEU(opts) followed by Sentence.
func SentenceBLEU(hyp string, refs []string, opts Options) (BLEUScore, error) {
	b, err := NewBLEU(opts)
	if err != nil {
		return BLEUScore{}, err
	}
	return b.Sentence(hyp, refs)
}

// checkRows rejects inputs sacrebleu would fail on.
func checkRows(hyps []string, refs [][]string) error {
	if len(hyps) == 0 {
		return fmt.Errorf("no hypotheses to score")
	}
	if len(hyps) != len(refs) {
		return fmt.Errorf("%d hypotheses but %d reference rows: give one row of references per hypothesis", len(hyps), len(refs))
	}
	for i, r := range refs {
		if len(r) == 0 {
			return fmt.Errorf("row %d has no reference: every hypothesis needs at least one (an empty string counts)", i)
		}
	}
	return nil
}

// preprocess is BLEU._preprocess_segment: optional lower-casing, rstrip,
// tokenization. The result's whitespace is not collapsed (callers split it)
// and it is valid until the next call with the same scratch.
func (b *BLEU) preprocess(ts *tokScratch, s string) []byte {
	if b.lowercase {
		s = PyLower(s)
	}
	s = pyRStrip(s)
	if b.tok == Tok13a {
		return ts.tok13aBytes(s)
	}
	if b.tok != TokNone {
		s = tokenize(s, b.tok)
	}
	ts.a = append(ts.a[:0], s...)
	return ts.a
}

type bleuScratch struct {
	ts       tokScratch
	words    *wordIDs
	tab      ngramTable
	w        []uint32 // token ids: hypothesis, then each reference
	bounds   []int    // w[bounds[k]:bounds[k+1]]: hypothesis (k=0), references
	prev     []int32
	hypSlots []int32
	hypOrd   []uint8
	refSlots []int32
	refLens  []int
}

func newBLEUScratch() *bleuScratch { return &bleuScratch{words: newWordIDs()} }

// appendTokenIDs splits b on Python whitespace (str.split) and appends the
// ids of its tokens.
func appendTokenIDs(dst []uint32, words *wordIDs, b []byte) []uint32 {
	start := -1
	for i := 0; i < len(b); {
		c := b[i]
		if c > ' ' && c < utf8.RuneSelf {
			if start < 0 {
				start = i
			}
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(b[i:])
		}
		if isPySpace(r) {
			if start >= 0 {
				dst = append(dst, words.idBytes(b[start:i]))
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, words.idBytes(b[start:]))
	}
	return dst
}

// ngramSlots appends the table slots of every n-gram of the token ids w,
// order 1 first, and (if wantOrd) their orders.
func (s *bleuScratch) ngramSlots(dst []int32, ord []uint8, w []uint32, maxN int, wantOrd bool) ([]int32, []uint8) {
	s.prev = s.prev[:0]
	for _, x := range w {
		sl := s.tab.slot(pairKey(0, x))
		s.prev = append(s.prev, sl+1)
		dst = append(dst, sl)
	}
	if wantOrd {
		for range w {
			ord = append(ord, 1)
		}
	}
	for n := 2; n <= maxN; n++ {
		for i := 0; i+n-1 < len(w); i++ {
			sl := s.tab.slot(pairKey(s.prev[i], w[i+n-1]))
			s.prev[i] = sl + 1
			dst = append(dst, sl)
			if wantOrd {
				ord = append(ord, uint8(n))
			}
		}
	}
	return dst, ord
}

// segmentStats fills st with [hyp_len, closest ref_len, correct..., total...]
// as BLEU._compute_segment_statistics does, with the reference n-gram counts
// merged by maximum over references. Slot counters: a = hypothesis count,
// b = count in the current reference, c = maximum over references.
func (b *BLEU) segmentStats(s *bleuScratch, hyp string, refs []string, st []float64) {
	clear(st)
	N := b.maxOrder
	s.words.reset()
	s.w = appendTokenIDs(s.w[:0], s.words, b.preprocess(&s.ts, hyp))
	s.bounds = append(s.bounds[:0], 0, len(s.w))
	for _, ref := range refs {
		s.w = appendTokenIDs(s.w, s.words, b.preprocess(&s.ts, ref))
		s.bounds = append(s.bounds, len(s.w))
	}
	s.tab.reset(len(s.w) * N)
	hyp1 := s.w[:s.bounds[1]]
	s.hypSlots, s.hypOrd = s.ngramSlots(s.hypSlots[:0], s.hypOrd[:0], hyp1, N, true)
	for _, sl := range s.hypSlots {
		s.tab.slots[sl].a++
	}
	s.refLens = s.refLens[:0]
	for r := range refs {
		toks := s.w[s.bounds[r+1]:s.bounds[r+2]]
		s.refLens = append(s.refLens, len(toks))
		s.refSlots, _ = s.ngramSlots(s.refSlots[:0], nil, toks, N, false)
		for _, sl := range s.refSlots {
			s.tab.slots[sl].b++
		}
		for _, sl := range s.refSlots {
			x := &s.tab.slots[sl]
			if x.b > x.c {
				x.c = x.b
			}
			x.b = 0
		}
	}
	correct := st[2 : 2+N]
	total := st[2+N : 2+2*N]
	for k, sl := range s.hypSlots {
		n := int(s.hypOrd[k]) - 1
		total[n]++
		if x := &s.tab.slots[sl]; x.a > 0 {
			correct[n] += float64(min(x.a, x.c))
			x.a = 0
		}
	}
	st[0] = float64(len(hyp1))
	st[1] = float64(closestRefLen(len(hyp1), s.refLens))
}

// closestRefLen is BLEU._get_closest_ref_len: the reference length nearest
// the hypothesis length, the shorter one on ties.
func closestRefLen(hypLen int, refLens []int) int {
	closestDiff, closestLen := -1, -1
	for _, rl := range refLens {
		diff := hypLen - rl
		if diff < 0 {
			diff = -diff
		}
		if closestDiff == -1 || diff < closestDiff {
			closestDiff, closestLen = diff, rl
		} else if diff == closestDiff && rl < closestLen {
			closestLen = rl
		}
	}
	return closestLen
}

// myLog is sacrebleu's my_log: log with log(0) floored to -9999999999.
func myLog(x float64) float64 {
	if x == 0 {
		return -9999999999
	}
	return math.Log(x)
}

// score is BLEU.compute_bleu, operation for operation, so that the float
// results match sacrebleu's.
func (b *BLEU) score(stats []float64, effective bool) BLEUScore {
	N := b.maxOrder
	correct := append([]float64(nil), stats[2:2+N]...)
	total := append([]float64(nil), stats[2+N:2+2*N]...)
	sysLen := int(stats[0])
	refLen := int(stats[1])
	bp := 1.0
	if sysLen < refLen {
		if sysLen > 0 {
			bp = math.Exp(1 - float64(refLen)/float64(sysLen))
		} else {
			bp = 0
		}
	}
	ratio := 0.0
	if refLen != 0 {
		ratio = float64(sysLen) / float64(refLen)
	}
	out := BLEUScore{Counts: correct, Totals: total, Precisions: make([]float64, N), BP: bp, SysLen: sysLen, RefLen: refLen, Ratio: ratio}
	any := false
	for _, c := range correct {
		if c != 0 {
			any = true
			break
		}
	}
	// sacrebleu stops here when nothing matched (its issue #141), before
	// any smoothing is applied.
	if !any {
		return out
	}
	smoothMteval := 1.0
	eff := N
	for n := 1; n <= N; n++ {
		if b.smooth == SmoothAddK && n > 1 {
			correct[n-1] += b.smoothValue
			total[n-1] += b.smoothValue
		}
		if total[n-1] == 0 {
			break
		}
		if effective {
			eff = n
		}
		if correct[n-1] == 0 {
			switch b.smooth {
			case SmoothExp:
				smoothMteval *= 2
				out.Precisions[n-1] = 100 / (smoothMteval * total[n-1])
			case SmoothFloor:
				out.Precisions[n-1] = 100 * b.smoothValue / total[n-1]
			}
		} else {
			out.Precisions[n-1] = 100 * correct[n-1] / total[n-1]
		}
	}
	sum := 0.0
	for _, p := range out.Precisions[:eff] {
		sum += myLog(p)
	}
	out.Score = bp * math.Exp(sum/float64(eff))
	return out
}

// Signature is sacrebleu's BLEU signature for nrefs references per segment
// (NRefs gives "var" when the count varies), e.g.
// "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0".
// sentence selects the sentence-level effective-order setting.
func (b *BLEU) Signature(nrefs string, sentence bool) string {
	return b.signature(nrefs, sentence, nil)
}

// BootstrapSignature is Signature with the bootstrap fields sacrebleu adds
// when --confidence is on ("bs:1000|rs:12345" in its short form).
func (b *BLEU) BootstrapSignature(nrefs string, sentence bool, bo BootstrapOptions) string {
	return b.signature(nrefs, sentence, &bo)
}

func (b *BLEU) signature(nrefs string, sentence bool, bo *BootstrapOptions) string {
	smooth := string(b.smooth)
	if _, ok := smoothDefault(b.smooth); ok {
		smooth += fmt.Sprintf("[%.2f]", b.smoothValue)
	}
	return signature(nrefs, bo,
		"case", caseName(b.lowercase),
		"eff", yesNo(b.effective.resolve(sentence)),
		"tok", string(b.tok),
		"smooth", smooth)
}
