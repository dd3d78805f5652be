package leakage

import (
	"slices"
	"sort"

	"github.com/tunecheck/tunecheck/internal/benchdata"
)

// NgramOptions configures benchmark contamination.
type NgramOptions struct {
	// N is the n-gram length in word tokens (GPT-3 used 13).
	N int `json:"n"`
	// CleanBelow and DirtyFrom are the Llama 2 cut-offs on the share of an
	// item's tokens covered by n-grams also found in training data: below
	// CleanBelow an item is clean, from DirtyFrom on it is dirty, and in
	// between it is "not clean". Llama 2 used 20% and 80%.
	CleanBelow float64 `json:"clean_below"`
	DirtyFrom  float64 `json:"dirty_from"`
}

// DefaultNgram is GPT-3's 13-gram with Llama 2's 20%/80% cut-offs.
func DefaultNgram() NgramOptions { return NgramOptions{N: 13, CleanBelow: 0.2, DirtyFrom: 0.8} }

// Llama 2 contamination classes.
const (
	ClassClean    = "clean"
	ClassNotClean = "not clean"
	ClassDirty    = "dirty"
	ClassShort    = "too short" // fewer tokens than N: cannot share an n-gram
)

// posting is one place an n-gram occurs in a benchmark item.
type posting struct {
	item int32
	pos  int32
}

// NgramIndex holds the n-grams of benchmark items.
type NgramIndex struct {
	opt    NgramOptions
	items  []benchdata.Item
	ntok   []int32
	grams  map[uint64][]posting
	filter gramFilter
}

// gramFilter is a one-hash Bloom filter in front of the n-gram map: almost
// every training n-gram misses, and a bit in a 512 KiB array that stays in
// cache answers that several times faster than a map lookup.
type gramFilter []uint64

const gramFilterBits = 22

func newGramFilter() gramFilter { return make(gramFilter, 1<<gramFilterBits/64) }

func (f gramFilter) add(h uint64) {
	b := h >> (64 - gramFilterBits)
	f[b/64] |= 1 << (b % 64)
}

func (f gramFilter) has(h uint64) bool {
	b := h >> (64 - gramFilterBits)
	return f[b/64]&(1<<(b%64)) != 0
}

// rollP is the multiplier of the polynomial rolling hash over token hashes.
const rollP = 0x100000001b3

// rollingGrams calls f(pos, hash) for each n-gram of token hashes th.
func rollingGrams(th []uint64, n int, f func(pos int, h uint64)) {
	if len(th) < n {
		return
	}
	pn := uint64(1)
	for range n - 1 {
		pn *= rollP
	}
	h := uint64(0)
	for i := range n {
		h = h*rollP + th[i]
	}
	f(0, h)
	for i := n; i < len(th); i++ {
		h = (h-th[i-n]*pn)*rollP + th[i]
		f(i-n+1, h)
	}
}

func tokenHashes(toks []string, dst []uint64) []uint64 {
	dst = dst[:0]
	for _, t := range toks {
		dst = append(dst, hash64(t))
	}
	return dst
}

// NewNgramIndex indexes the n-grams of items.
func NewNgramIndex(items []benchdata.Item, opt NgramOptions) *NgramIndex {
	if opt.N <= 0 {
		opt.N = 13
	}
	ix := &NgramIndex{opt: opt, items: items, ntok: make([]int32, len(items)), grams: map[uint64][]posting{}, filter: newGramFilter()}
	var toks []string
	var th []uint64
	for i, it := range items {
		toks = Tokens(it.Text(), toks)
		th = tokenHashes(toks, th)
		ix.ntok[i] = int32(len(toks))
		rollingGrams(th, opt.N, func(pos int, h uint64) {
			ix.grams[h] = append(ix.grams[h], posting{item: int32(i), pos: int32(pos)})
			ix.filter.add(h)
		})
	}
	return ix
}

// ngramHit is one training n-gram found in a benchmark item.
type ngramHit struct {
	posting
	trainLine int32
}

// scan appends the benchmark hits of one training document's token hashes.
func (ix *NgramIndex) scan(th []uint64, line int, hits []ngramHit) []ngramHit {
	rollingGrams(th, ix.opt.N, func(_ int, h uint64) {
		if !ix.filter.has(h) {
			return
		}
		if ps, ok := ix.grams[h]; ok {
			for _, p := range ps {
				hits = append(hits, ngramHit{posting: p, trainLine: int32(line)})
			}
		}
	})
	return hits
}

// ngramAcc accumulates hits into per-item token coverage.
type ngramAcc struct {
	covered [][]bool
	first   []int32 // first training line that shares an n-gram, 0 = none
}

func (ix *NgramIndex) newAcc() *ngramAcc {
	a := &ngramAcc{covered: make([][]bool, len(ix.items)), first: make([]int32, len(ix.items))}
	return a
}

func (ix *NgramIndex) add(a *ngramAcc, hits []ngramHit) {
	for _, h := range hits {
		c := a.covered[h.item]
		if c == nil {
			c = make([]bool, ix.ntok[h.item])
			a.covered[h.item] = c
		}
		for k := h.pos; k < h.pos+int32(ix.opt.N); k++ {
			c[k] = true
		}
		if a.first[h.item] == 0 || h.trainLine < a.first[h.item] {
			a.first[h.item] = h.trainLine
		}
	}
}

// ContaminatedItem is one benchmark item that shares at least one n-gram
// with the training data.
type ContaminatedItem struct {
	ID        string  `json:"id"`
	Tokens    int     `json:"tokens"`
	Fraction  float64 `json:"fraction"`   // share of the item's tokens inside shared n-grams
	Class     string  `json:"class"`      // clean, not clean, dirty
	TrainLine int     `json:"train_line"` // first training row that shares an n-gram
}

// BenchmarkContamination is the result for one benchmark.
type BenchmarkContamination struct {
	Benchmark    string             `json:"benchmark"`
	Items        int                `json:"items"`
	Checked      int                `json:"checked"` // items with at least N tokens
	Contaminated int                `json:"contaminated"`
	Share        float64            `json:"share"` // Contaminated / Checked
	Clean        int                `json:"clean"`
	NotClean     int                `json:"not_clean"`
	Dirty        int                `json:"dirty"`
	TooShort     int                `json:"too_short"`
	ItemsHit     []ContaminatedItem `json:"contaminated_items"`
}

// result turns the accumulated coverage into per-benchmark results, in
// benchmark name order, items in index order.
func (ix *NgramIndex) result(a *ngramAcc) []BenchmarkContamination {
	by := map[string]*BenchmarkContamination{}
	for i, it := range ix.items {
		bc := by[it.Benchmark]
		if bc == nil {
			bc = &BenchmarkContamination{Benchmark: it.Benchmark, ItemsHit: []ContaminatedItem{}}
			by[it.Benchmark] = bc
		}
		bc.Items++
		n := int(ix.ntok[i])
		frac, ok := ix.fraction(a, i)
		if !ok {
			bc.TooShort++
			continue
		}
		bc.Checked++
		cov := 0
		for _, c := range a.covered[i] {
			if c {
				cov++
			}
		}
		class := ix.opt.classify(frac)
		switch class {
		case ClassClean:
			bc.Clean++
		case ClassNotClean:
			bc.NotClean++
		case ClassDirty:
			bc.Dirty++
		}
		if cov > 0 {
			bc.Contaminated++
			bc.ItemsHit = append(bc.ItemsHit, ContaminatedItem{ID: it.ID, Tokens: n, Fraction: frac, Class: class, TrainLine: int(a.first[i])})
		}
	}
	out := make([]BenchmarkContamination, 0, len(by))
	for _, bc := range by {
		if bc.Checked > 0 {
			bc.Share = float64(bc.Contaminated) / float64(bc.Checked)
		}
		out = append(out, *bc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Benchmark < out[j].Benchmark })
	return out
}

// fraction is the share of item i's tokens inside n-grams found in the
// training data; ok is false when the item is shorter than one n-gram.
func (ix *NgramIndex) fraction(a *ngramAcc, i int) (frac float64, ok bool) {
	n := int(ix.ntok[i])
	if n < ix.opt.N {
		return 0, false
	}
	cov := 0
	for _, c := range a.covered[i] {
		if c {
			cov++
		}
	}
	return float64(cov) / float64(n), true
}

func (o NgramOptions) classify(frac float64) string {
	switch {
	case frac < o.CleanBelow:
		return ClassClean
	case frac >= o.DirtyFrom:
		return ClassDirty
	default:
		return ClassNotClean
	}
}

// DirtyIDs lists the ids of the items that are not clean (Llama 2 classes
// "not clean" and "dirty"); scoring the benchmark without them gives the
// clean-subset score to report beside the full one.
func (bc BenchmarkContamination) DirtyIDs() []string {
	var out []string
	for _, it := range bc.ItemsHit {
		if it.Class != ClassClean {
			out = append(out, it.ID)
		}
	}
	return slices.Clip(out)
}
