package judge

import (
	"crypto/sha512"
	"strconv"
)

// winRatePyRandom is CPython's random.Random: MT19937 seeded by init_by_array,
// with random() built from two 32-bit outputs. AlpacaEval decides per
// instruction whether the judge saw the outputs swapped with
// random.Random(seed).choices([False, True], k=1)[0], so reproducing its
// preferences from the raw judge completions needs the same generator.
type winRatePyRandom struct {
	mt  [624]uint32
	idx int
}

// newWinRatePyRandom seeds like random.Random(s) for a str s (seed version 2):
// the integer whose big-endian bytes are s + sha512(s), split into 32-bit words
// least significant first, then init_by_array.
func newWinRatePyRandom(s string) *winRatePyRandom {
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
	r := &winRatePyRandom{}
	r.initByArray(key)
	return r
}

func (r *winRatePyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

func (r *winRatePyRandom) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	for k := max(624, len(key)); k > 0; k-- {
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
	for k := 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

func (r *winRatePyRandom) next32() uint32 {
	if r.idx >= 624 {
		for k := range 624 {
			y := r.mt[k]&0x80000000 | r.mt[(k+1)%624]&0x7fffffff
			v := r.mt[(k+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[k] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// random is random.random(): 53 bits from two outputs.
func (r *winRatePyRandom) random() float64 {
	a, b := r.next32()>>5, r.next32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// winRateSwitched is AlpacaEval's RandomSwitchTwoColumnsProcessor decision:
// random_seeded_choice(seed="is_switched_outputs" + instruction + str(seed),
// choices=[False, True]), i.e. choices[floor(random() * 2)].
func winRateSwitched(instruction string, seed int) bool {
	r := newWinRatePyRandom("is_switched_outputs" + instruction + strconv.Itoa(seed))
	return int(r.random()*2) == 1
}
