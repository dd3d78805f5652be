package leakage

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Shingling says how a text becomes the set MinHash estimates Jaccard over.
type Shingling struct {
	Unit string `json:"unit"` // "word" (default) or "char"
	K    int    `json:"k"`    // shingle length in units; default 3 words or 5 characters
}

func (s Shingling) withDefaults() Shingling {
	if s.Unit == "" {
		s.Unit = "word"
	}
	if s.K <= 0 {
		if s.Unit == "char" {
			s.K = 5
		} else {
			s.K = 3
		}
	}
	return s
}

// hash64 is FNV-1a followed by a splitmix64 finaliser: FNV alone mixes short
// strings poorly in the high bits that the permutations below rely on.
func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}

func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// ShingleSet returns the sorted distinct 64-bit hashes of the shingles of an
// already normalised text. A text shorter than one shingle is one shingle, so
// short rows still compare. buf is reused scratch space.
func (s Shingling) ShingleSet(text string, toks []string, dst []uint64) ([]uint64, []string) {
	dst, toks = s.shingles(text, toks, dst)
	return sortSet(dst), toks
}

// sortSet sorts and deduplicates a list of shingle hashes in place.
func sortSet(x []uint64) []uint64 {
	slices.Sort(x)
	return slices.Compact(x)
}

// shingles is ShingleSet without the sort: the signature does not need it,
// and most training rows never meet a candidate that would.
func (s Shingling) shingles(text string, toks []string, dst []uint64) ([]uint64, []string) {
	s = s.withDefaults()
	dst = dst[:0]
	if s.Unit == "char" {
		runes := []rune(text)
		if len(runes) <= s.K {
			if len(runes) > 0 {
				dst = append(dst, hash64(text))
			}
			return dst, toks
		}
		// Hash each window of K runes through its byte span.
		offs := make([]int, 0, len(runes)+1)
		o := 0
		for _, r := range runes {
			offs = append(offs, o)
			o += runeLen(r)
		}
		offs = append(offs, o)
		for i := 0; i+s.K <= len(runes); i++ {
			dst = append(dst, hash64(text[offs[i]:offs[i+s.K]]))
		}
	} else {
		toks = Tokens(text, toks)
		if len(toks) == 0 {
			return dst, toks
		}
		if len(toks) <= s.K {
			h := uint64(0)
			for _, t := range toks {
				h = mix64(h ^ hash64(t))
			}
			return append(dst, h), toks
		}
		th := make([]uint64, len(toks))
		for i, t := range toks {
			th[i] = hash64(t)
		}
		for i := 0; i+s.K <= len(th); i++ {
			h := uint64(0)
			for _, x := range th[i : i+s.K] {
				h = mix64(h ^ x)
			}
			dst = append(dst, h)
		}
	}
	return dst, toks
}

func runeLen(r rune) int {
	switch {
	case r < 0x80:
		return 1
	case r < 0x800:
		return 2
	case r < 0x10000:
		return 3
	default:
		return 4
	}
}

// Jaccard is the exact Jaccard similarity of two sorted distinct sets.
func Jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// MinHasher computes MinHash signatures with NumPerm seeded permutations.
// Each permutation is a multiply-shift hash h(x) = (a·x + b) >> 32 over the
// 64-bit shingle hash, with a odd: two multiplications per value instead of
// the modular arithmetic of datasketch's Mersenne-prime scheme, with the
// same collision probability for the minimum.
type MinHasher struct {
	a, b []uint64
}

// NewMinHasher draws numPerm permutations from a PCG seeded with seed.
func NewMinHasher(numPerm int, seed uint64) *MinHasher {
	rng := rand.New(rand.NewPCG(seed, 0x6d696e68617368)) // "minhash"
	m := &MinHasher{a: make([]uint64, numPerm), b: make([]uint64, numPerm)}
	for i := range numPerm {
		m.a[i] = rng.Uint64() | 1
		m.b[i] = rng.Uint64()
	}
	return m
}

// NumPerm is the signature length.
func (m *MinHasher) NumPerm() int { return len(m.a) }

// Signature writes the MinHash signature of a shingle set into dst (length
// NumPerm) and returns it. An empty set has the all-ones signature.
func (m *MinHasher) Signature(set []uint64, dst []uint32) []uint32 {
	n := len(m.a)
	if cap(dst) < n {
		dst = make([]uint32, n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = math.MaxUint32
	}
	a, b := m.a[:n], m.b[:n]
	// Eight permutations per pass over the set keep eight running minima in
	// registers: several times faster than one pass per permutation, which
	// loads and stores a minimum for every (element, permutation).
	i := 0
	for ; i+8 <= n; i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		m0, m1, m2, m3 := uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32)
		m4, m5, m6, m7 := m0, m0, m0, m0
		for _, x := range set {
			m0 = min(m0, uint32((aa[0]*x+bb[0])>>32))
			m1 = min(m1, uint32((aa[1]*x+bb[1])>>32))
			m2 = min(m2, uint32((aa[2]*x+bb[2])>>32))
			m3 = min(m3, uint32((aa[3]*x+bb[3])>>32))
			m4 = min(m4, uint32((aa[4]*x+bb[4])>>32))
			m5 = min(m5, uint32((aa[5]*x+bb[5])>>32))
			m6 = min(m6, uint32((aa[6]*x+bb[6])>>32))
			m7 = min(m7, uint32((aa[7]*x+bb[7])>>32))
		}
		dst[i], dst[i+1], dst[i+2], dst[i+3] = m0, m1, m2, m3
		dst[i+4], dst[i+5], dst[i+6], dst[i+7] = m4, m5, m6, m7
	}
	for ; i < n; i++ {
		mi := uint32(math.MaxUint32)
		for _, x := range set {
			mi = min(mi, uint32((a[i]*x+b[i])>>32))
		}
		dst[i] = mi
	}
	return dst
}

// EstimateJaccard is the share of equal signature positions.
func EstimateJaccard(a, b []uint32) float64 {
	eq := 0
	for i := range a {
		if a[i] == b[i] {
			eq++
		}
	}
	return float64(eq) / float64(len(a))
}

// LSHParams is a banding: Bands bands of Rows signature values each.
type LSHParams struct {
	Bands int `json:"bands"`
	Rows  int `json:"rows"`
}

// OptimalLSH returns the banding for a Jaccard threshold that minimises
// fpWeight·P(false positive) + fnWeight·P(false negative), both integrated
// over the similarity axis, searching every b ≤ numPerm and r ≤ numPerm/b in
// that order and keeping the first strict minimum, as datasketch's
// MinHashLSH does. The integrands are polynomials of degree b·r ≤ numPerm,
// so composite Gauss-Legendre quadrature integrates them to rounding error.
func OptimalLSH(threshold float64, numPerm int, fpWeight, fnWeight float64) LSHParams {
	best := math.Inf(1)
	opt := LSHParams{}
	for b := 1; b <= numPerm; b++ {
		for r := 1; r <= numPerm/b; r++ {
			if e := lshError(threshold, b, r, fpWeight, fnWeight); e < best {
				best, opt = e, LSHParams{Bands: b, Rows: r}
			}
		}
	}
	return opt
}

// lshError is the weighted false-positive plus false-negative probability
// of b bands of r rows at a Jaccard threshold.
func lshError(threshold float64, b, r int, fpWeight, fnWeight float64) float64 {
	fb, fr := float64(b), float64(r)
	collide := func(s float64) float64 { return 1 - math.Pow(1-math.Pow(s, fr), fb) }
	fp := integrate(collide, 0, threshold)
	fn := integrate(func(s float64) float64 { return 1 - collide(s) }, threshold, 1)
	return fp*fpWeight + fn*fnWeight
}

// Gauss-Legendre nodes and weights on [-1, 1], 16 points.
var glX = [8]float64{0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438,
	0.7554044083550030, 0.8656312023878318, 0.9445750230732326, 0.9894009349916499}
var glW = [8]float64{0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767,
	0.1246289712555339, 0.0951585116824928, 0.0622535239386479, 0.0271524594117541}

// integrate is composite 16-point Gauss-Legendre over 32 panels.
func integrate(f func(float64) float64, a, b float64) float64 {
	const panels = 32
	h := (b - a) / panels
	sum := 0.0
	for p := range panels {
		lo := a + float64(p)*h
		mid, half := lo+h/2, h/2
		for i := range glX {
			sum += glW[i] * half * (f(mid-half*glX[i]) + f(mid+half*glX[i]))
		}
	}
	return sum
}

// bandKeys fills keys with one 64-bit key per band of sig.
func (p LSHParams) bandKeys(sig []uint32, keys []uint64) []uint64 {
	keys = keys[:0]
	for band := range p.Bands {
		h := uint64(band+1) * 0x9e3779b97f4a7c15
		for _, v := range sig[band*p.Rows : (band+1)*p.Rows] {
			h = mix64(h ^ uint64(v))
		}
		keys = append(keys, h)
	}
	return keys
}

// LSHIndex holds the signatures' band keys and exact shingle sets of the
// indexed documents; queries return candidates verified with exact Jaccard.
type LSHIndex struct {
	params  LSHParams
	tables  []map[uint64][]int32
	sets    [][]uint64
	scratch []uint64
}

// NewLSHIndex makes an empty index for the banding p.
func NewLSHIndex(p LSHParams) *LSHIndex {
	ix := &LSHIndex{params: p, tables: make([]map[uint64][]int32, p.Bands)}
	for i := range ix.tables {
		ix.tables[i] = map[uint64][]int32{}
	}
	return ix
}

// Len is the number of indexed documents.
func (ix *LSHIndex) Len() int { return len(ix.sets) }

// Add indexes a document by its signature and shingle set and returns its
// position (0, 1, 2, … in order of Add).
func (ix *LSHIndex) Add(sig []uint32, set []uint64) int {
	id := int32(len(ix.sets))
	ix.sets = append(ix.sets, set)
	ix.scratch = ix.params.bandKeys(sig, ix.scratch)
	for b, k := range ix.scratch {
		ix.tables[b][k] = append(ix.tables[b][k], id)
	}
	return int(id)
}

// Match is one verified candidate.
type Match struct {
	Pos     int     // position in the index
	Jaccard float64 // exact Jaccard of the shingle sets
}

// Query returns the indexed documents that share a band with sig and whose
// exact Jaccard with set (sorted, distinct) is at least threshold, by
// position. keys and seen are scratch buffers the caller may reuse (Query is
// safe for concurrent use when each goroutine passes its own).
func (ix *LSHIndex) Query(sig []uint32, set []uint64, threshold float64, keys []uint64, seen map[int32]struct{}) ([]Match, []uint64) {
	return ix.query(sig, set, true, threshold, keys, seen)
}

// query is Query for a set that may still be unsorted: it is sorted in place
// only when a candidate needs verifying.
func (ix *LSHIndex) query(sig []uint32, set []uint64, sorted bool, threshold float64, keys []uint64, seen map[int32]struct{}) ([]Match, []uint64) {
	keys = ix.params.bandKeys(sig, keys)
	clear(seen)
	var out []Match
	for b, k := range keys {
		for _, id := range ix.tables[b][k] {
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			if !sorted {
				set, sorted = sortSet(set), true
			}
			if j := Jaccard(set, ix.sets[id]); j >= threshold {
				out = append(out, Match{Pos: int(id), Jaccard: j})
			}
		}
	}
	slices.SortFunc(out, func(a, b Match) int { return a.Pos - b.Pos })
	return out, keys
}
