package bleu

// idTable gives dense ids to uint64 keys: an open-addressing hash table
// whose slots are invalidated by bumping a generation number, so that
// resetting it between segments costs nothing. N-grams of any order are
// interned as (id of the (n-1)-gram prefix, id of the last unit), which keeps
// keys exact (no hash collisions change a count) and fixed-size.
type idTable struct {
	keys  []uint64
	vals  []int32
	gens  []uint32
	gen   uint32
	shift uint
	used  int
	next  int32
}

func newIDTable() *idTable {
	t := &idTable{}
	t.alloc(10)
	return t
}

func (t *idTable) alloc(bits uint) {
	n := 1 << bits
	t.keys = make([]uint64, n)
	t.vals = make([]int32, n)
	t.gens = make([]uint32, n)
	t.gen = 1
	t.shift = 64 - bits
	t.used = 0
}

// reset forgets every key; ids start again at 1.
func (t *idTable) reset() {
	t.gen++
	if t.gen == 0 {
		clear(t.gens)
		t.gen = 1
	}
	t.used = 0
	t.next = 0
}

// id returns the id of key, giving it the next id if it is new.
func (t *idTable) id(key uint64) int32 {
	if 2*(t.used+1) > len(t.keys) {
		t.grow()
	}
	h := (key * 0x9e3779b97f4a7c15) >> t.shift
	mask := uint64(len(t.keys) - 1)
	for {
		if t.gens[h] != t.gen {
			t.gens[h] = t.gen
			t.keys[h] = key
			t.next++
			t.vals[h] = t.next
			t.used++
			return t.next
		}
		if t.keys[h] == key {
			return t.vals[h]
		}
		h = (h + 1) & mask
	}
}

func (t *idTable) grow() {
	oldKeys, oldVals, oldGens, oldGen := t.keys, t.vals, t.gens, t.gen
	next := t.next
	t.alloc(64 - t.shift + 1)
	mask := uint64(len(t.keys) - 1)
	for i, g := range oldGens {
		if g != oldGen {
			continue
		}
		h := (oldKeys[i] * 0x9e3779b97f4a7c15) >> t.shift
		for t.gens[h] == t.gen {
			h = (h + 1) & mask
		}
		t.gens[h] = t.gen
		t.keys[h] = oldKeys[i]
		t.vals[h] = oldVals[i]
		t.used++
	}
	t.next = next
}

// pairKey packs a prefix id and a unit id into one key.
func pairKey(prefix int32, unit uint32) uint64 {
	return uint64(uint32(prefix))<<32 | uint64(unit)
}

// wordIDs interns strings (tokens) to ids > 0 for one segment.
type wordIDs struct {
	m    map[string]uint32
	next uint32
}

func newWordIDs() *wordIDs { return &wordIDs{m: make(map[string]uint32, 256)} }

func (w *wordIDs) reset() {
	if len(w.m) > 4096 {
		w.m = make(map[string]uint32, 256)
	} else {
		clear(w.m)
	}
	w.next = 0
}

func (w *wordIDs) id(s string) uint32 {
	if v, ok := w.m[s]; ok {
		return v
	}
	w.next++
	w.m[s] = w.next
	return w.next
}
