package bleu

import (
	"bytes"
	"hash/maphash"
)

// ngramTable counts n-grams of one segment: an open-addressing hash table
// whose slots hold the key and the counters together (one cache line per
// probe) and are invalidated by bumping a generation number, so resetting it
// between segments costs nothing. An n-gram of any order is keyed exactly as
// (slot of its (n-1)-gram prefix, id of its last unit), so no hash collision
// can change a count. The table is sized before a segment is inserted and
// never grows during one, which keeps slot numbers stable as prefix ids.
type ngramTable struct {
	slots []ngramSlot
	gen   uint32
	shift uint
}

type ngramSlot struct {
	key     uint64
	gen     uint32
	a, b, c int32 // per-metric counters (hypothesis, reference, best reference)
}

// reset empties the table and makes room for n distinct keys.
func (t *ngramTable) reset(n int) {
	need := 2 * (n + 1)
	// Grow when too small; shrink after an unusually long segment, so that
	// the short ones after it probe a table that fits in cache.
	if len(t.slots) < need || len(t.slots) > max(16*need, 1<<12) {
		bits := uint(6)
		for 1<<bits < need {
			bits++
		}
		t.slots = make([]ngramSlot, 1<<bits)
		t.shift = 64 - bits
		t.gen = 0
	}
	t.gen++
	if t.gen == 0 {
		clear(t.slots)
		t.gen = 1
	}
}

// slot returns the slot number (> 0 as an id: slot+1) of key, claiming a
// zeroed slot if the key is new.
func (t *ngramTable) slot(key uint64) int32 {
	h := (key * 0x9e3779b97f4a7c15) >> t.shift
	mask := uint64(len(t.slots) - 1)
	for {
		s := &t.slots[h]
		if s.gen != t.gen {
			*s = ngramSlot{key: key, gen: t.gen}
			return int32(h)
		}
		if s.key == key {
			return int32(h)
		}
		h = (h + 1) & mask
	}
}

// pairKey packs a prefix id and a unit id into one key. Prefix 0 marks an
// order-1 n-gram; slot ids are stored +1 so they never collide with it.
func pairKey(prefix int32, unit uint32) uint64 {
	return uint64(uint32(prefix))<<32 | uint64(unit)
}

// wordIDs interns tokens to ids > 0 for one segment: an open-addressing
// table keyed by the token's hash and checked against the token itself,
// whose bytes are copied into an arena on first sight. Resetting bumps a
// generation number (cheaper than clearing a Go map for every segment) and
// empties the arena.
type wordIDs struct {
	slots []wordSlot
	arena []byte
	gen   uint32
	shift uint
	used  int
	next  uint32
	seed  maphash.Seed
}

type wordSlot struct {
	h      uint64
	off, n uint32 // the token is arena[off : off+n]
	gen    uint32
	id     uint32
}

func newWordIDs() *wordIDs {
	w := &wordIDs{seed: maphash.MakeSeed()}
	w.alloc(6)
	return w
}

func (w *wordIDs) alloc(bits uint) {
	w.slots = make([]wordSlot, 1<<bits)
	w.shift = 64 - bits
	w.gen = 1
	w.used = 0
}

func (w *wordIDs) reset() {
	w.gen++
	if w.gen == 0 {
		clear(w.slots)
		w.gen = 1
	}
	w.used = 0
	w.next = 0
	w.arena = w.arena[:0]
}

// id returns the id of the token s.
func (w *wordIDs) id(s string) uint32 {
	if 2*(w.used+1) > len(w.slots) {
		w.grow()
	}
	h := maphash.String(w.seed, s)
	mask := uint64(len(w.slots) - 1)
	i := (h * 0x9e3779b97f4a7c15) >> w.shift
	for {
		sl := &w.slots[i]
		if sl.gen != w.gen {
			return w.insert(sl, h, s)
		}
		if sl.h == h && string(w.arena[sl.off:sl.off+sl.n]) == s {
			return sl.id
		}
		i = (i + 1) & mask
	}
}

// idBytes is id for a token held in a byte buffer.
func (w *wordIDs) idBytes(b []byte) uint32 {
	if 2*(w.used+1) > len(w.slots) {
		w.grow()
	}
	h := maphash.Bytes(w.seed, b)
	mask := uint64(len(w.slots) - 1)
	i := (h * 0x9e3779b97f4a7c15) >> w.shift
	for {
		sl := &w.slots[i]
		if sl.gen != w.gen {
			return w.insertBytes(sl, h, b)
		}
		if sl.h == h && bytes.Equal(w.arena[sl.off:sl.off+sl.n], b) {
			return sl.id
		}
		i = (i + 1) & mask
	}
}

func (w *wordIDs) insert(sl *wordSlot, h uint64, tok string) uint32 {
	off := len(w.arena)
	w.arena = append(w.arena, tok...)
	return w.claim(sl, h, off, len(tok))
}

func (w *wordIDs) insertBytes(sl *wordSlot, h uint64, tok []byte) uint32 {
	off := len(w.arena)
	w.arena = append(w.arena, tok...)
	return w.claim(sl, h, off, len(tok))
}

func (w *wordIDs) claim(sl *wordSlot, h uint64, off, n int) uint32 {
	w.next++
	*sl = wordSlot{h: h, off: uint32(off), n: uint32(n), gen: w.gen, id: w.next}
	w.used++
	return w.next
}

func (w *wordIDs) grow() {
	old, oldGen, next := w.slots, w.gen, w.next
	w.alloc(64 - w.shift + 1)
	mask := uint64(len(w.slots) - 1)
	for _, sl := range old {
		if sl.gen != oldGen {
			continue
		}
		i := (sl.h * 0x9e3779b97f4a7c15) >> w.shift
		for w.slots[i].gen == w.gen {
			i = (i + 1) & mask
		}
		sl.gen = w.gen
		w.slots[i] = sl
		w.used++
	}
	w.next = next
}
