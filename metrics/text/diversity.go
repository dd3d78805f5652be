package text

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/bleu"
)

// Distinct is distinct-n (Li et al., 2016, "A Diversity-Promoting Objective
// Function for Neural Conversation Models"): the number of distinct n-grams
// over all texts divided by the total number of n-grams. Tokens are Python
// str.split() tokens; n-grams do not cross text boundaries.
type Distinct struct {
	N         int
	Unique    int     // distinct n-grams over all texts
	Total     int     // n-grams over all texts
	Ratio     float64 // Unique / Total; 0 when there are no n-grams
	PerText   []float64
	Lowercase bool
}

// DistinctN computes distinct-n over texts. PerText holds each text's own
// ratio (0 for a text shorter than n tokens). With lowercase, tokens are
// lower-cased (Python str.lower) first.
func DistinctN(texts []string, n int, lowercase bool) (Distinct, error) {
	if n < 1 {
		return Distinct{}, fmt.Errorf("distinct-n: n = %d, want n >= 1 (distinct-1, distinct-2, ...)", n)
	}
	d := Distinct{N: n, PerText: make([]float64, len(texts)), Lowercase: lowercase}
	// Tokens get ids; an n-gram's id chains (id of its (n-1)-gram prefix + 1,
	// last token), so equal n-grams share an id without building keys.
	words := map[string]uint32{}
	grams := map[uint64]uint32{}
	var lastText []int32 // per n-gram id of order n: the last text it was seen in, +1
	var ids, prev []uint32
	for i, t := range texts {
		if lowercase {
			t = PyLower(t)
		}
		ids = ids[:0]
		for _, w := range PySplit(t) {
			id, ok := words[w]
			if !ok {
				id = uint32(len(words))
				words[w] = id
			}
			ids = append(ids, id)
		}
		prev = append(prev[:0], make([]uint32, len(ids))...)
		own, count := 0, 0
		for k := 1; k <= n; k++ {
			for j := 0; j+k <= len(ids); j++ {
				key := uint64(prev[j])<<32 | uint64(ids[j+k-1])
				id, ok := grams[key]
				if !ok {
					id = uint32(len(grams))
					grams[key] = id
					lastText = append(lastText, 0)
				}
				prev[j] = id + 1
				if k < n {
					continue
				}
				count++
				if lastText[id] == 0 {
					d.Unique++
				}
				if lastText[id] != int32(i)+1 {
					lastText[id] = int32(i) + 1
					own++
				}
			}
		}
		d.Total += count
		if count > 0 {
			d.PerText[i] = float64(own) / float64(count)
		}
	}
	if d.Total > 0 {
		d.Ratio = float64(d.Unique) / float64(d.Total)
	}
	return d, nil
}

// ErrTooFewTexts is returned by ComputeSelfBLEU for fewer than two texts.
var ErrTooFewTexts = errors.New("Self-BLEU needs at least two texts: each is scored against the others")

// SelfBLEU is the Self-BLEU diversity score (Zhu et al., 2018, "Texygen"):
// each text is scored by sentence BLEU against all the other texts as
// references, and the scores are averaged. Lower means more diverse. BLEU
// here is sacrebleu's sentence BLEU as package metrics/bleu computes it
// (opts; the zero value is 13a tokenisation with exp smoothing), on the 0-100
// scale; Texygen itself used NLTK's BLEU with its own tokenisation, so
// absolute values differ from papers that used it.
type SelfBLEU struct {
	Mean    float64   // mean over texts, 0-100
	PerText []float64 // each text's sentence BLEU against the others
}

// ComputeSelfBLEU computes Self-BLEU over texts in time linear in their
// total length: each text is tokenized once, and for every n-gram the two
// texts with the highest counts are kept, which gives each hypothesis its
// clipping count over all other texts without comparing pairs. The values
// equal bleu's Sentence(texts[i], all other texts) exactly.
func ComputeSelfBLEU(texts []string, opts bleu.Options) (SelfBLEU, error) {
	if len(texts) < 2 {
		return SelfBLEU{}, ErrTooFewTexts
	}
	b, err := bleu.NewBLEU(opts)
	if err != nil {
		return SelfBLEU{}, err
	}
	tok, err := bleu.ParseTokenizer(string(opts.Tokenizer))
	if err != nil {
		return SelfBLEU{}, err
	}
	maxN := (b.StatsLen() - 2) / 2

	// Token ids, then n-gram ids chained as (id of the (n-1)-gram prefix + 1,
	// last token), so that equal n-grams of any order share one id.
	words := map[string]uint32{}
	grams := map[uint64]uint32{}
	gramOrder := []uint8{}
	textGrams := make([][]uint32, len(texts))
	lengths := make([]int, len(texts))
	var ids []uint32
	var prev []uint32
	for i, t := range texts {
		if opts.Lowercase {
			t = bleu.PyLower(t)
		}
		t = strings.TrimRightFunc(t, IsPySpace)
		t, err = bleu.Tokenize(t, tok)
		if err != nil {
			return SelfBLEU{}, err
		}
		ids = ids[:0]
		for _, w := range PySplit(t) {
			id, ok := words[w]
			if !ok {
				id = uint32(len(words))
				words[w] = id
			}
			ids = append(ids, id)
		}
		lengths[i] = len(ids)
		prev = append(prev[:0], make([]uint32, len(ids))...)
		var g []uint32
		for n := 1; n <= maxN; n++ {
			for j := 0; j+n <= len(ids); j++ {
				key := uint64(prev[j])<<32 | uint64(ids[j+n-1])
				id, ok := grams[key]
				if !ok {
					id = uint32(len(gramOrder))
					grams[key] = id
					gramOrder = append(gramOrder, uint8(n))
				}
				prev[j] = id + 1
				g = append(g, id)
			}
		}
		textGrams[i] = g
	}

	// For each n-gram, the highest count in any text (and which text) and
	// the highest count in any other text.
	best := make([]int32, len(gramOrder))
	bestText := make([]int32, len(gramOrder))
	second := make([]int32, len(gramOrder))
	count := make([]int32, len(gramOrder))
	for i, g := range textGrams {
		for _, id := range g {
			count[id]++
		}
		for _, id := range g {
			c := count[id]
			if c == 0 {
				continue // already merged
			}
			switch {
			case c > best[id]:
				second[id], best[id], bestText[id] = best[id], c, int32(i)
			case c > second[id]:
				second[id] = c
			}
			count[id] = 0
		}
	}

	sortedLens := slices.Clone(lengths)
	slices.Sort(sortedLens)
	out := SelfBLEU{PerText: make([]float64, len(texts))}
	stats := make([]float64, b.StatsLen())
	sum := 0.0
	for i, g := range textGrams {
		clear(stats)
		correct := stats[2 : 2+maxN]
		total := stats[2+maxN:]
		for _, id := range g {
			count[id]++
		}
		for _, id := range g {
			c := count[id]
			if c == 0 {
				continue
			}
			ref := best[id]
			if bestText[id] == int32(i) {
				ref = second[id]
			}
			correct[gramOrder[id]-1] += float64(min(c, ref))
			count[id] = 0
		}
		for n := 1; n <= maxN; n++ {
			total[n-1] = float64(max(lengths[i]-n+1, 0))
		}
		stats[0] = float64(lengths[i])
		stats[1] = float64(closestOther(sortedLens, lengths[i]))
		s := b.SentenceScoreStats(stats).Score
		out.PerText[i] = s
		sum += s
	}
	out.Mean = sum / float64(len(texts))
	return out, nil
}

// closestOther returns sacrebleu's closest reference length for a
// hypothesis of length h when the references are all texts but the
// hypothesis itself: the length nearest to h, the shorter on ties. sorted
// holds every text's length, the hypothesis's included, so one occurrence
// of h is its own and is skipped.
func closestOther(sorted []int, h int) int {
	// Remove one occurrence of h, conceptually: find it, and look at its
	// neighbours in the sorted list.
	k, _ := slices.BinarySearch(sorted, h)
	// Other texts of the same length are at k+1 (sorted[k] == h is the
	// hypothesis's own); they are the exact match.
	if k+1 < len(sorted) && sorted[k+1] == h {
		return h
	}
	best, bestDiff := -1, 0
	consider := func(l int) {
		d := l - h
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bestDiff || d == bestDiff && l < best {
			best, bestDiff = l, d
		}
	}
	if k > 0 {
		consider(sorted[k-1])
	}
	if k+1 < len(sorted) {
		consider(sorted[k+1])
	}
	return best
}

// Summary describes a distribution of lengths.
type Summary struct {
	Count  int
	Mean   float64
	Median float64
	P95    float64 // 95th percentile, linear interpolation (numpy's default)
	Min    float64
	Max    float64
}

// Summarize returns the summary of values. With no values, Count is 0 and
// every statistic is NaN.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		nan := math.NaN()
		return Summary{Mean: nan, Median: nan, P95: nan, Min: nan, Max: nan}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return Summary{
		Count:  len(v),
		Mean:   sum / float64(len(v)),
		Median: Quantile(v, 0.5),
		P95:    Quantile(v, 0.95),
		Min:    v[0],
		Max:    v[len(v)-1],
	}
}

// Quantile is numpy.quantile(sorted, q) with the default "linear" method:
// the value at position q*(n-1), interpolated between its neighbours.
// sorted must be in ascending order and non-empty.
func Quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	frac := pos - float64(lo)
	a, b := sorted[lo], sorted[hi]
	// numpy's _lerp interpolates from the nearer end, which decides the
	// last bit.
	if frac >= 0.5 {
		return b - (b-a)*(1-frac)
	}
	return a + (b-a)*frac
}

// Lengths summarises the lengths of texts in characters (Unicode code
// points, as Python's len), in words (Python str.split tokens) and, when
// countTokens is not nil, in model tokens as it counts them.
type Lengths struct {
	Chars  Summary
	Words  Summary
	Tokens *Summary // nil when no token counter was given
}

// LengthStats computes Lengths over texts.
func LengthStats(texts []string, countTokens func(string) int) Lengths {
	chars := make([]float64, len(texts))
	words := make([]float64, len(texts))
	var toks []float64
	for i, t := range texts {
		chars[i] = float64(utf8.RuneCountInString(t))
		words[i] = float64(len(PySplit(t)))
		if countTokens != nil {
			toks = append(toks, float64(countTokens(t)))
		}
	}
	l := Lengths{Chars: Summarize(chars), Words: Summarize(words)}
	if countTokens != nil {
		s := Summarize(toks)
		l.Tokens = &s
	}
	return l
}
