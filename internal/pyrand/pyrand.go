// Package pyrand reproduces CPython's random.Random: MT19937 seeded by
// init_by_array, random(), getrandbits() and sample(). Two reference
// implementations need its exact stream: lm-evaluation-harness's default
// few-shot sampler (random.Random(1234).sample, internal/lmeval) and
// AlpacaEval's per-instruction swap decision (random.Random(str).choices,
// internal/judge). Go's math/rand uses other generators and no Go module on
// the proxy reproduces CPython's, so it is written here from the published
// MT19937 reference algorithm and CPython's documented seeding and
// sample/_randbelow semantics; testdata/pyrandom.json holds vectors from
// python3 (testdata/gen_pyrandom.py) and the MT19937 reference output checks
// the core.
package pyrand

import (
	"crypto/sha512"
	"fmt"
	"math"
	"math/bits"
)

// Random is one random.Random instance: its MT19937 state.
type Random struct {
	mt  [624]uint32
	idx int
}

// New is random.Random(seed) for a non-negative or negative int
// seed (CPython seeds with the absolute value).
func New(seed int64) *Random {
	r := &Random{}
	u := uint64(seed)
	if seed < 0 {
		u = uint64(-seed)
	}
	key := []uint32{uint32(u)}
	if hi := uint32(u >> 32); hi != 0 {
		key = append(key, hi)
	}
	r.initByArray(key)
	return r
}

// NewString is random.Random(s) for a str s (seed version 2, CPython's
// default): the integer whose big-endian bytes are s + sha512(s), split
// into 32-bit words least significant first, then init_by_array.
func NewString(s string) *Random {
	sum := sha512.Sum512([]byte(s))
	b := append([]byte(s), sum[:]...)
	// Leading zero bytes do not count in the integer.
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	var key []uint32
	for end := len(b); end > 0; end -= 4 {
		start := max(end-4, 0)
		var w uint32
		for _, c := range b[start:end] {
			w = w<<8 | uint32(c)
		}
		key = append(key, w)
	}
	if len(key) == 0 {
		key = []uint32{0}
	}
	r := &Random{}
	r.initByArray(key)
	return r
}

func (r *Random) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

func (r *Random) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	k := max(624, len(key))
	for ; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

func (r *Random) uint32() uint32 {
	const upper, lower = 0x80000000, 0x7fffffff
	if r.idx >= 624 {
		for kk := 0; kk < 624; kk++ {
			y := (r.mt[kk] & upper) | (r.mt[(kk+1)%624] & lower)
			v := r.mt[(kk+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[kk] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Random is random.random(): 53 bits from two draws.
func (r *Random) Random() float64 {
	a, b := r.uint32()>>5, r.uint32()>>6
	return (float64(a)*67108864 + float64(b)) * (1.0 / 9007199254740992.0)
}

// GetRandBits is random.getrandbits(k) for 0 ≤ k ≤ 64: 32-bit words from
// least to most significant, the last one shifted down to its k bits.
func (r *Random) GetRandBits(k int) uint64 {
	var out uint64
	for shift := 0; k > 0; shift += 32 {
		w := r.uint32()
		if k < 32 {
			w >>= 32 - k
		}
		out |= uint64(w) << shift
		k -= 32
	}
	return out
}

// randBelow is _randbelow_with_getrandbits: rejection sampling on
// n.bit_length() bits.
func (r *Random) randBelow(n int) int {
	k := bits.Len(uint(n))
	v := r.GetRandBits(k)
	for v >= uint64(n) {
		v = r.GetRandBits(k)
	}
	return int(v)
}

// SampleIndices is random.sample(range(n), k): the positions random.sample
// picks from a population of n, in the order it returns them. The two
// branches (pool for small populations, rejection set for large ones) draw
// different streams, so both are kept.
func (r *Random) SampleIndices(n, k int) ([]int, error) {
	if k < 0 || k > n {
		return nil, fmt.Errorf("sample larger than population or is negative (k=%d, population %d)", k, n)
	}
	out := make([]int, k)
	setsize := 21
	if k > 5 {
		setsize += int(math.Pow(4, math.Ceil(math.Log(float64(k*3))/math.Log(4))))
	}
	if n <= setsize {
		pool := make([]int, n)
		for i := range pool {
			pool[i] = i
		}
		for i := 0; i < k; i++ {
			j := r.randBelow(n - i)
			out[i] = pool[j]
			pool[j] = pool[n-i-1]
		}
		return out, nil
	}
	selected := make(map[int]bool, k)
	for i := 0; i < k; i++ {
		j := r.randBelow(n)
		for selected[j] {
			j = r.randBelow(n)
		}
		selected[j] = true
		out[i] = j
	}
	return out, nil
}
