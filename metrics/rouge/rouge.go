// Package rouge computes ROUGE-N, ROUGE-L and ROUGE-Lsum exactly as Google's
// rouge-score 0.1.2 (the rouge_score Python package, which HF evaluate's
// "rouge" metric wraps) computes them: its DefaultTokenizer (Python
// str.lower, every character outside [a-z0-9] a separator, optional Porter
// stemming of tokens longer than three characters), n-gram overlap, LCS,
// summary-level union LCS over newline-separated sentences, and score_multi
// for several references (per ROUGE type, the reference with the highest
// F-measure, the first on ties). The corpus value is the mean of the
// per-row scores.
//
// The stemmer is a hand port of NLTK 3.8's PorterStemmer in its default
// NLTK_EXTENSIONS mode (see Stem). Parity is tested against
// shared/data/parity/rouge.jsonl, porter_nltk38.tsv and the tokenizer probes.
package rouge

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// DefaultTypes returns the ROUGE types scored when Options.Types is empty,
// HF evaluate's rouge defaults: rouge1, rouge2, rougeL, rougeLsum.
func DefaultTypes() []string { return []string{"rouge1", "rouge2", "rougeL", "rougeLsum"} }

// Options configure a Scorer.
type Options struct {
	// Types lists the ROUGE types: "rougeN" for any N >= 1 (rouge_score
	// itself accepts only 1 to 9), "rougeL" (LCS over the whole text) and
	// "rougeLsum" (union LCS over the lines of the text). Empty means
	// DefaultTypes().
	Types []string
	// Stem applies the Porter stemmer to tokens longer than three
	// characters (rouge_score's use_stemmer).
	Stem bool
}

// Value is one ROUGE value: precision, recall and their harmonic mean
// (F-measure), all on the 0..1 scale.
type Value struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	FMeasure  float64 `json:"fmeasure"`
}

// ErrNoReferences is returned for a row without references.
var ErrNoReferences = errors.New("no references: every row needs at least one reference text")

type kind struct {
	name string
	n    int // n-gram order; 0 for rougeL, -1 for rougeLsum
}

func parseTypes(types []string) ([]kind, error) {
	if len(types) == 0 {
		types = DefaultTypes()
	}
	var out []kind
	seen := map[string]bool{}
	for _, t := range types {
		if seen[t] {
			continue
		}
		seen[t] = true
		switch {
		case t == "rougeL":
			out = append(out, kind{t, 0})
		case t == "rougeLsum":
			out = append(out, kind{t, -1})
		case strings.HasPrefix(t, "rouge"):
			n, err := strconv.Atoi(t[len("rouge"):])
			if err != nil || n < 1 || strconv.Itoa(n) != t[len("rouge"):] {
				return nil, fmt.Errorf("invalid ROUGE type %q: use rougeN with N >= 1 (rouge1, rouge2, ...), rougeL or rougeLsum", t)
			}
			out = append(out, kind{t, n})
		default:
			return nil, fmt.Errorf("invalid ROUGE type %q: use rougeN with N >= 1 (rouge1, rouge2, ...), rougeL or rougeLsum", t)
		}
	}
	return out, nil
}

// maxVocab bounds the memory of a Scorer's token tables; when a row starts
// with more distinct tokens remembered than this, the tables are emptied.
const maxVocab = 1 << 20

// Scorer scores rows with fixed options. It is safe for concurrent use:
// each call borrows a scratch state (token tables, stem cache, buffers) from
// a pool.
type Scorer struct {
	kinds []kind
	stem  bool
	pool  sync.Pool
}

// state is the scratch of one scoring goroutine.
type state struct {
	kinds []kind
	stem  bool

	// Every distinct token read gets a raw id; canon maps it to the id of its
	// final form (stemmed or not), so that each token costs one map lookup
	// and each word is stemmed once (NLTK stems every occurrence).
	raw   map[string]int32
	canon []int32
	forms map[string]int32 // final form -> id

	toks  [2]tokens // reused token buffers: prediction, reference
	buf   []byte    // the token being read
	lcs   []int32   // LCS table
	marks []bool    // union-LCS membership
	masks []uint64  // per-id match masks of lcsLength, all zero between uses
	cntR  []int32   // per-id counts, all zero between uses
	cntC  []int32   //
	pairs [2][]uint64
	grams [2][]int // n-gram start positions being sorted
}

// New returns a Scorer for opts, or an error naming an invalid ROUGE type.
func New(opts Options) (*Scorer, error) {
	kinds, err := parseTypes(opts.Types)
	if err != nil {
		return nil, err
	}
	s := &Scorer{kinds: kinds, stem: opts.Stem}
	s.pool.New = func() any {
		return &state{kinds: kinds, stem: opts.Stem, raw: map[string]int32{}, forms: map[string]int32{}}
	}
	return s, nil
}

func (s *Scorer) get() *state  { return s.pool.Get().(*state) }
func (s *Scorer) put(t *state) { s.pool.Put(t) }

// Types returns the ROUGE types the scorer computes, in order.
func (s *Scorer) Types() []string {
	out := make([]string, len(s.kinds))
	for i, k := range s.kinds {
		out[i] = k.name
	}
	return out
}

// Score is the package-level shortcut for one row: New(opts) then Score.
func Score(prediction string, references []string, opts Options) (map[string]Value, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	return s.Score(prediction, references)
}

// tokens is a tokenized text: token ids, and where each newline-separated
// line ends (as an index into ids), for rougeLsum.
type tokens struct {
	ids   []int32
	lines []int
}

// oneLine reports whether at most one line holds tokens.
func (t tokens) oneLine() bool {
	withTokens, start := 0, 0
	for _, end := range t.lines {
		if end > start {
			withTokens++
		}
		start = end
	}
	return withTokens <= 1
}

// Score scores prediction against its references: with one reference as
// rouge_score's score(reference, prediction), with several as score_multi.
func (s *Scorer) Score(prediction string, references []string) (map[string]Value, error) {
	st := s.get()
	defer s.put(st)
	return st.score(prediction, references)
}

func (s *state) score(prediction string, references []string) (map[string]Value, error) {
	if len(references) == 0 {
		return nil, ErrNoReferences
	}
	if len(s.raw) > maxVocab || len(s.forms) > maxVocab {
		clear(s.raw)
		clear(s.forms)
		s.canon = s.canon[:0]
	}
	pred := s.tokenize(prediction, &s.toks[0])
	best := make([]Value, len(s.kinds))
	for r, ref := range references {
		target := s.tokenize(ref, &s.toks[1])
		for k, kd := range s.kinds {
			var sc Value
			switch {
			case kd.n > 0:
				sc = s.ngramScore(target.ids, pred.ids, kd.n)
			case kd.n == 0:
				sc = s.lcsScore(target.ids, pred.ids)
			case target.oneLine() && pred.oneLine():
				// With at most one line holding tokens on each side, the
				// union LCS is the LCS, and every one of its tokens is a hit:
				// rougeLsum equals rougeL, value for value.
				sc = s.lcsScore(target.ids, pred.ids)
			default:
				sc = s.summaryLCS(target, pred)
			}
			// np.argmax: the first reference with the highest F-measure.
			if r == 0 || sc.FMeasure > best[k].FMeasure {
				best[k] = sc
			}
		}
	}
	out := make(map[string]Value, len(s.kinds))
	for k, kd := range s.kinds {
		out[kd.name] = best[k]
	}
	return out, nil
}

// Tokenize splits text as rouge_score's DefaultTokenizer does, stemming
// tokens longer than three characters when stem is set.
func Tokenize(text string, stem bool) []string {
	var out []string
	var buf []byte
	flush := func() {
		if len(buf) == 0 {
			return
		}
		tok := string(buf)
		if stem && len(tok) > 3 {
			tok = stemASCII(tok)
		}
		out = append(out, tok)
		buf = buf[:0]
	}
	scan(text, func(c byte) { buf = append(buf, c) }, func(bool) { flush() })
	flush()
	return out
}

// scan walks text as Python's text.lower() followed by replacing every run
// of characters outside [a-z0-9] with a space. It calls add for each letter
// or digit of a token and sep at each token boundary (newline reports
// whether the separator is "\n", which ends a rougeLsum line).
func scan(text string, add func(byte), sep func(newline bool)) {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				add(c)
			case 'A' <= c && c <= 'Z':
				add(c + 'a' - 'A')
			default:
				sep(c == '\n')
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		// Only two non-ASCII characters lower-case to something containing
		// [a-z]: U+0130 to "i" + U+0307 (which then separates) and the
		// Kelvin sign U+212A to "k".
		switch r {
		case 0x130:
			add('i')
			sep(false)
		case 0x212A:
			add('k')
		default:
			sep(false)
		}
	}
}

// tokenize turns text into token ids, reusing into's storage.
func (s *state) tokenize(text string, into *tokens) tokens {
	t := tokens{ids: into.ids[:0], lines: into.lines[:0]}
	defer func() { *into = t }()
	buf := s.buf[:0]
	flush := func() {
		if len(buf) == 0 {
			return
		}
		id, ok := s.raw[string(buf)]
		if !ok {
			tok := string(buf)
			form := tok
			if s.stem && len(tok) > 3 {
				form = stemASCII(tok)
			}
			id = int32(len(s.canon))
			s.raw[tok] = id
			s.canon = append(s.canon, s.formID(form))
		}
		t.ids = append(t.ids, s.canon[id])
		buf = buf[:0]
	}
	scan(text, func(c byte) { buf = append(buf, c) }, func(newline bool) {
		flush()
		if newline {
			t.lines = append(t.lines, len(t.ids))
		}
	})
	flush()
	t.lines = append(t.lines, len(t.ids))
	s.buf = buf
	return t
}

func (s *state) formID(form string) int32 {
	if id, ok := s.forms[form]; ok {
		return id
	}
	id := int32(len(s.forms))
	s.forms[form] = id
	if int(id) >= len(s.cntR) {
		s.cntR = append(s.cntR, make([]int32, int(id)+1-len(s.cntR))...)
		s.cntC = append(s.cntC, make([]int32, int(id)+1-len(s.cntC))...)
		s.masks = append(s.masks, make([]uint64, int(id)+1-len(s.masks))...)
	}
	return id
}

// fmeasure is rouge_score's scoring.fmeasure.
func fmeasure(precision, recall float64) float64 {
	if precision+recall > 0 {
		return 2 * precision * recall / (precision + recall)
	}
	return 0
}

// ngramScore is _score_ngrams over the n-grams of target and pred: the
// overlap counts each n-gram at most as often as it occurs on both sides.
func (s *state) ngramScore(target, pred []int32, n int) Value {
	nt := max(len(target)-n+1, 0)
	np := max(len(pred)-n+1, 0)
	overlap := 0
	if nt > 0 && np > 0 {
		overlap = s.ngramOverlap(target, pred, n)
	}
	precision := float64(overlap) / float64(max(np, 1))
	recall := float64(overlap) / float64(max(nt, 1))
	return Value{Precision: precision, Recall: recall, FMeasure: fmeasure(precision, recall)}
}

// ngramOverlap counts the multiset intersection of the n-grams of a and b:
// by counting ids for unigrams, by sorting packed pairs for bigrams, and by
// sorting start positions and merging for longer n-grams.
func (s *state) ngramOverlap(a, b []int32, n int) int {
	overlap := 0
	switch n {
	case 1:
		for _, id := range a {
			s.cntR[id]++
		}
		for _, id := range b {
			if s.cntR[id] > 0 {
				s.cntR[id]--
				overlap++
			}
		}
		for _, id := range a {
			s.cntR[id] = 0
		}
	case 2:
		pa := s.packPairs(0, a)
		pb := s.packPairs(1, b)
		for i, j := 0, 0; i < len(pa) && j < len(pb); {
			switch {
			case pa[i] == pb[j]:
				overlap++
				i++
				j++
			case pa[i] < pb[j]:
				i++
			default:
				j++
			}
		}
	default:
		sa := s.sortedGrams(0, a, n)
		sb := s.sortedGrams(1, b, n)
		for i, j := 0, 0; i < len(sa) && j < len(sb); {
			switch c := slices.Compare(a[sa[i]:sa[i]+n], b[sb[j]:sb[j]+n]); {
			case c == 0:
				overlap++
				i++
				j++
			case c < 0:
				i++
			default:
				j++
			}
		}
	}
	return overlap
}

func (s *state) packPairs(slot int, toks []int32) []uint64 {
	p := s.pairs[slot][:0]
	for i := 0; i+1 < len(toks); i++ {
		p = append(p, uint64(uint32(toks[i]))<<32|uint64(uint32(toks[i+1])))
	}
	slices.Sort(p)
	s.pairs[slot] = p
	return p
}

func (s *state) sortedGrams(slot int, toks []int32, n int) []int {
	g := s.grams[slot][:0]
	for i := 0; i+n <= len(toks); i++ {
		g = append(g, i)
	}
	slices.SortFunc(g, func(x, y int) int { return slices.Compare(toks[x:x+n], toks[y:y+n]) })
	s.grams[slot] = g
	return g
}

// table fills the LCS length table of a and b, (len(a)+1) × (len(b)+1), row
// major, as rouge_score's _lcs_table.
func (s *state) table(a, b []int32) []int32 {
	cols := len(b) + 1
	size := (len(a) + 1) * cols
	if cap(s.lcs) < size {
		s.lcs = make([]int32, size)
	}
	t := s.lcs[:size]
	clear(t[:cols])
	for i := 1; i <= len(a); i++ {
		row, prev := t[i*cols:(i+1)*cols], t[(i-1)*cols:i*cols]
		row[0] = 0
		ai := a[i-1]
		for j := 1; j < cols; j++ {
			if ai == b[j-1] {
				row[j] = prev[j-1] + 1
			} else {
				row[j] = max(prev[j], row[j-1])
			}
		}
	}
	return t
}

// lcsScore is _score_lcs: ROUGE-L over the whole texts.
func (s *state) lcsScore(target, pred []int32) Value {
	if len(target) == 0 || len(pred) == 0 {
		return Value{}
	}
	l := float64(s.lcsLength(target, pred))
	precision := l / float64(len(pred))
	recall := l / float64(len(target))
	return Value{Precision: precision, Recall: recall, FMeasure: fmeasure(precision, recall)}
}

// lcsLength is the length of the longest common subsequence of a and b:
// bit-parallel (Hyyrö 2004, after Allison and Dix 1986) when the shorter
// side fits in one 64-bit word, the DP table otherwise.
func (s *state) lcsLength(a, b []int32) int {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) > 64 {
		t := s.table(a, b)
		return int(t[len(t)-1])
	}
	// masks[id] has bit i set where a[i] == id.
	for i, id := range a {
		s.masks[id] |= 1 << uint(i)
	}
	v := ^uint64(0)
	for _, id := range b {
		u := v & s.masks[id]
		v = (v + u) | (v - u)
	}
	for _, id := range a {
		s.masks[id] = 0
	}
	// The LCS length is the number of zero bits among the low len(a).
	zeros := ^v
	if len(a) < 64 {
		zeros &= 1<<uint(len(a)) - 1
	}
	return bits.OnesCount64(zeros)
}

// summaryLCS is _summary_level_lcs: for each reference line, the union of
// the LCS positions against every prediction line, each token counted at most
// as often as it occurs on both sides.
func (s *state) summaryLCS(target, pred tokens) Value {
	m, n := len(target.ids), len(pred.ids)
	if m == 0 || n == 0 {
		return Value{}
	}
	defer func() {
		// Leave the count tables all zero for the next use.
		for _, id := range target.ids {
			s.cntR[id] = 0
		}
		for _, id := range pred.ids {
			s.cntC[id] = 0
		}
	}()
	for _, id := range target.ids {
		s.cntR[id]++
	}
	for _, id := range pred.ids {
		s.cntC[id]++
	}
	hits := 0
	start := 0
	for _, end := range target.lines {
		ref := target.ids[start:end]
		start = end
		if len(ref) == 0 {
			continue
		}
		s.marks = slices.Grow(s.marks[:0], len(ref))[:len(ref)]
		clear(s.marks)
		cstart := 0
		for _, cend := range pred.lines {
			s.markLCS(ref, pred.ids[cstart:cend])
			cstart = cend
		}
		for i, in := range s.marks {
			if !in {
				continue
			}
			tok := ref[i]
			if s.cntC[tok] > 0 && s.cntR[tok] > 0 {
				hits++
				s.cntC[tok]--
				s.cntR[tok]--
			}
		}
	}
	precision := float64(hits) / float64(n)
	recall := float64(hits) / float64(m)
	return Value{Precision: precision, Recall: recall, FMeasure: fmeasure(precision, recall)}
}

// markLCS marks the positions of ref on one LCS with can, chosen by
// rouge_score's _backtrack_norec tie rule (step left in can only when that
// keeps a strictly longer LCS than stepping up in ref).
func (s *state) markLCS(ref, can []int32) {
	if len(can) == 0 {
		return
	}
	t := s.table(ref, can)
	cols := len(can) + 1
	i, j := len(ref), len(can)
	for i > 0 && j > 0 {
		switch {
		case ref[i-1] == can[j-1]:
			s.marks[i-1] = true
			i--
			j--
		case t[i*cols+j-1] > t[(i-1)*cols+j]:
			j--
		default:
			i--
		}
	}
}
