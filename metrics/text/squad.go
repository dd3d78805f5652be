package text

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// ErrNoReferences is returned by the max-over-references metrics when a row
// has no reference: the maximum of nothing is undefined (the reference
// implementations raise ValueError).
var ErrNoReferences = errors.New("no references: every row needs at least one reference answer")

// SquadNormalize is normalize_answer of the SQuAD v1.1 evaluation script (as
// HF evaluate 0.4.6 metrics/squad ships it): Python str.lower, remove ASCII
// punctuation, replace the words a, an, the (Unicode word boundaries, as
// Python's re) by a space, then collapse whitespace to single spaces.
func SquadNormalize(s string) string {
	var t squadTokens
	t.normalize(s)
	var b strings.Builder
	b.Grow(len(t.buf) + len(t.ends))
	for i := range t.ends {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(t.token(i))
	}
	return b.String()
}

// squadTokens holds the tokens of one normalised answer: token i is
// buf[ends[i-1]:ends[i]]. The buffers are reused from answer to answer.
type squadTokens struct {
	buf    []byte
	ends   []int
	hashes []uint64 // FNV-1a of each token, to compare tokens quickly
}

func (t *squadTokens) token(i int) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.buf[start:t.ends[i]]
}

// normalize replaces t's tokens by those of normalize_answer(s).split(), in
// one pass. Removing an article is the same as ending the token there: the
// pattern \b(a|an|the)\b matches exactly a maximal run of word characters
// that spells an article, and it is replaced by a space.
func (t *squadTokens) normalize(s string) {
	t.buf, t.ends, t.hashes = t.buf[:0], t.ends[:0], t.hashes[:0]
	if t.normalizeASCII(s) {
		return
	}
	t.buf, t.ends, t.hashes = t.buf[:0], t.ends[:0], t.hashes[:0]
	t.normalizeRunes(s)
}

// normalizeRunes is normalize for any text, rune by rune.
func (t *squadTokens) normalizeRunes(s string) {
	tokStart, runStart := 0, -1
	endRun := func() {
		if runStart < 0 {
			return
		}
		if isArticle(t.buf[runStart:]) {
			t.buf = t.buf[:runStart]
			t.end(tokStart)
			tokStart = len(t.buf)
		}
		runStart = -1
	}
	endToken := func() {
		endRun()
		t.end(tokStart)
		tokStart = len(t.buf)
	}
	for _, r := range PyLower(s) {
		switch {
		case IsPySpace(r):
			endToken()
		case isPyPunct(r):
		case isPyWord(r):
			if runStart < 0 {
				runStart = len(t.buf)
			}
			t.buf = utf8.AppendRune(t.buf, r)
		default:
			endRun()
			t.buf = utf8.AppendRune(t.buf, r)
		}
	}
	endToken()
}

// normalizeASCII is normalize for ASCII text, where lower-casing is per
// byte and every character is one byte; it is the hot path, so it writes
// by index and hashes each token as it goes. It returns false, leaving t
// undefined, at the first non-ASCII byte.
func (t *squadTokens) normalizeASCII(s string) bool {
	// The output is never longer than the input.
	buf := slices.Grow(t.buf[:0], len(s))[:len(s)]
	n := 0
	for i := 0; i < len(s); {
		switch asciiClass[s[i]] {
		case classSpace:
			i++
			continue
		case classNonASCII:
			return false
		}
		tokStart, runStart := n, -1
		h, hRun := uint64(fnvOffset), uint64(fnvOffset)
		for ; i < len(s); i++ {
			c := s[i]
			switch asciiClass[c] {
			case classWord:
				if runStart < 0 {
					runStart, hRun = n, h
				}
				c = asciiLower[c]
				buf[n] = c
				n++
				h = (h ^ uint64(c)) * fnvPrime
				continue
			case classPunct:
				continue
			case classOther:
				if runStart >= 0 {
					if isArticle(buf[runStart:n]) {
						// The article becomes a space: the text before it
						// is a token, whose hash is the state at the run.
						n = runStart
						t.emit(tokStart, n, hRun)
						tokStart, h = n, fnvOffset
					}
					runStart = -1
				}
				buf[n] = c
				n++
				h = (h ^ uint64(c)) * fnvPrime
				continue
			case classNonASCII:
				return false
			}
			break // a space ends the token
		}
		if runStart >= 0 && isArticle(buf[runStart:n]) {
			n, h = runStart, hRun
		}
		t.emit(tokStart, n, h)
	}
	t.buf = buf[:n]
	return true
}

// emit records the token buf[start:end] with hash h, if it is not empty.
func (t *squadTokens) emit(start, end int, h uint64) {
	if end > start {
		t.ends = append(t.ends, end)
		t.hashes = append(t.hashes, h)
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// end closes the token that started at buf[start], if it is not empty.
func (t *squadTokens) end(start int) {
	if len(t.buf) == start {
		return
	}
	h := uint64(fnvOffset)
	for _, c := range t.buf[start:] {
		h = (h ^ uint64(c)) * fnvPrime
	}
	t.ends = append(t.ends, len(t.buf))
	t.hashes = append(t.hashes, h)
}

func isArticle(w []byte) bool {
	switch len(w) {
	case 1:
		return w[0] == 'a'
	case 2:
		return w[0] == 'a' && w[1] == 'n'
	case 3:
		return w[0] == 't' && w[1] == 'h' && w[2] == 'e'
	}
	return false
}

const (
	classOther    = iota // control characters: kept, but not part of a word
	classSpace           // Python whitespace
	classPunct           // string.punctuation
	classWord            // [A-Za-z0-9]; "_" is punctuation and removed first
	classNonASCII        // a byte of a multi-byte UTF-8 sequence
)

// asciiLower maps ASCII upper-case letters to lower case.
var asciiLower = func() (l [utf8.RuneSelf]byte) {
	for b := range l {
		l[b] = byte(b)
		if 'A' <= b && b <= 'Z' {
			l[b] += 'a' - 'A'
		}
	}
	return l
}()

// asciiClass classifies each byte for normalize's fast path.
var asciiClass = func() (c [256]uint8) {
	for b := range c {
		switch r := rune(b); {
		case r >= utf8.RuneSelf:
			c[b] = classNonASCII
		case IsPySpace(r):
			c[b] = classSpace
		case isPyPunct(r):
			c[b] = classPunct
		case isPyWord(r):
			c[b] = classWord
		}
	}
	return c
}()

// squadScorer scores rows with reused buffers.
type squadScorer struct {
	pred, ref squadTokens
	table     []slot
	counts    map[string]int
}

// common is sum((Counter(pred) & Counter(ref)).values()): the size of the
// multiset intersection. The reference's tokens go into a small
// open-addressing table keyed by token hash; every hash match is confirmed
// by content, and a collision between different tokens sends the row to the
// exact count-map path.
func (s *squadScorer) common(pred, ref *squadTokens) int {
	size := 16
	for size < 2*len(ref.ends) {
		size *= 2
	}
	if cap(s.table) < size {
		s.table = make([]slot, size)
	}
	table := s.table[:size]
	clear(table)
	mask := uint64(size - 1)
	for j, h := range ref.hashes {
		for k := h & mask; ; k = (k + 1) & mask {
			sl := &table[k]
			if sl.count == 0 {
				*sl = slot{hash: h, idx: int32(j), count: 1}
				break
			}
			if sl.hash == h {
				if string(ref.token(int(sl.idx))) != string(ref.token(j)) {
					return s.commonExact(pred, ref)
				}
				sl.count++
				break
			}
		}
	}
	same := 0
	for i, h := range pred.hashes {
		for k := h & mask; ; k = (k + 1) & mask {
			sl := &table[k]
			if sl.count == 0 {
				break
			}
			if sl.hash == h {
				if string(ref.token(int(sl.idx))) != string(pred.token(i)) {
					return s.commonExact(pred, ref)
				}
				if sl.count > 0 {
					same++
					sl.count--
					if sl.count == 0 {
						// Keep the slot occupied so that probes past it
						// still work: -1 marks it used up.
						sl.count = -1
					}
				}
				break
			}
		}
	}
	return same
}

// slot is one entry of common's hash table: count > 0 tokens of this hash
// left to match, -1 when all are used, 0 for an empty slot.
type slot struct {
	hash  uint64
	idx   int32
	count int32
}

func (s *squadScorer) commonExact(pred, ref *squadTokens) int {
	if s.counts == nil {
		s.counts = make(map[string]int)
	}
	clear(s.counts)
	for j := range ref.ends {
		s.counts[string(ref.token(j))]++
	}
	same := 0
	for i := range pred.ends {
		if c := s.counts[string(pred.token(i))]; c > 0 {
			s.counts[string(pred.token(i))] = c - 1
			same++
		}
	}
	return same
}

// f1 is f1_score of the SQuAD script, with its operation order so that the
// last bits agree.
func (s *squadScorer) f1(pred, ref *squadTokens) float64 {
	same := s.common(pred, ref)
	if same == 0 {
		return 0
	}
	precision := float64(same) / float64(len(pred.ends))
	recall := float64(same) / float64(len(ref.ends))
	return (2 * precision * recall) / (precision + recall)
}

// score returns the row's exact match (0 or 1) and F1, each the maximum over
// the references.
func (s *squadScorer) score(prediction string, references []string) (em, f float64, err error) {
	if len(references) == 0 {
		return 0, 0, ErrNoReferences
	}
	s.pred.normalize(prediction)
	for i, r := range references {
		s.ref.normalize(r)
		// Equal token sequences are equal normalised strings.
		if string(s.pred.buf) == string(s.ref.buf) && slices.Equal(s.pred.ends, s.ref.ends) {
			em = 1
		}
		if v := s.f1(&s.pred, &s.ref); i == 0 || v > f {
			f = v
		}
	}
	return em, f, nil
}

// scorers recycles squadScorer buffers between the one-row functions, which
// the per-item scorers call from many goroutines.
var scorers = sync.Pool{New: func() any { return new(squadScorer) }}

// SquadScore returns both SQuAD values of one row, normalising each answer
// once: exact match (0 or 1) and token F1 (0..1), each the maximum over the
// references.
func SquadScore(prediction string, references []string) (SquadRow, error) {
	s := scorers.Get().(*squadScorer)
	defer scorers.Put(s)
	em, f, err := s.score(prediction, references)
	return SquadRow{ExactMatch: em, F1: f}, err
}

// SquadExactMatch is 1 when the normalised prediction equals the normalised
// form of any reference, else 0 (SQuAD v1.1 exact_match_score, max over
// ground truths).
func SquadExactMatch(prediction string, references []string) (float64, error) {
	r, err := SquadScore(prediction, references)
	return r.ExactMatch, err
}

// SquadF1 is the SQuAD v1.1 token F1 between the normalised prediction and
// each reference (bag-of-tokens overlap), maximised over the references. Its
// scale is 0..1; 0 when nothing overlaps, including when either side is empty.
func SquadF1(prediction string, references []string) (float64, error) {
	r, err := SquadScore(prediction, references)
	return r.F1, err
}

// SquadResult is the corpus value of the SQuAD metric, in percent as the
// reference reports it.
type SquadResult struct {
	ExactMatch float64 // 100 × mean exact match
	F1         float64 // 100 × mean token F1
	// PerExample holds each row's exact match (0 or 1) and F1 (0..1).
	PerExample []SquadRow
}

// SquadRow is one row's SQuAD scores.
type SquadRow struct {
	ExactMatch float64
	F1         float64
}

// Squad scores a whole set as compute_score of HF evaluate's metrics/squad.
// predictions[i] is scored against references[i].
func Squad(predictions []string, references [][]string) (SquadResult, error) {
	if len(predictions) != len(references) {
		return SquadResult{}, &LengthError{Predictions: len(predictions), References: len(references)}
	}
	res := SquadResult{PerExample: make([]SquadRow, len(predictions))}
	var s squadScorer
	var emSum, f1Sum float64
	for i, p := range predictions {
		e, f, err := s.score(p, references[i])
		if err != nil {
			return SquadResult{}, &RowError{Row: i, Err: err}
		}
		res.PerExample[i] = SquadRow{ExactMatch: e, F1: f}
		emSum += e
		f1Sum += f
	}
	if n := float64(len(predictions)); n > 0 {
		// 100.0 * total / n, in this order, as the reference computes it.
		res.ExactMatch = 100 * emSum / n
		res.F1 = 100 * f1Sum / n
	}
	return res, nil
}
