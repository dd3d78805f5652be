package leakage

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Embedder turns texts into vectors; internal/embed has the OpenAI-compatible
// and Ollama clients and the cache.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// SemanticOptions configures semantic near duplicates.
type SemanticOptions struct {
	Embedder Embedder
	Model    string  // recorded in the report
	Cosine   float64 // threshold, default 0.9
	// Index is "exact" (compare every pair), "lsh" (random-hyperplane LSH,
	// candidates verified with the exact cosine) or "auto" (exact up to
	// ExactMax test rows).
	Index    string
	ExactMax int // default 5000
	Batch    int // texts per embeddings request, default 64
	Seed     uint64
}

// SemanticConfig is recorded in the report.
type SemanticConfig struct {
	Model  string  `json:"model,omitempty"`
	Cosine float64 `json:"cosine"`
	Index  string  `json:"index"`
	Tables int     `json:"tables,omitempty"`
	Bits   int     `json:"bits,omitempty"`
}

type semanticResult struct {
	config SemanticConfig
	leaks  []testLeak
	pairs  []Pair
}

func normalizeVec(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func dot(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}

// VectorIndex finds stored unit vectors whose cosine with a query reaches a
// threshold, exactly or through random-hyperplane LSH.
type VectorIndex struct {
	vecs   [][]float32
	planes [][]float32 // tables*bits hyperplanes; nil for exact search
	tables []map[uint32][]int32
	bits   int
}

// NewVectorIndex builds an index over vecs (normalised here). tables = 0
// means exact search.
func NewVectorIndex(vecs [][]float32, tables, bits int, seed uint64) (*VectorIndex, error) {
	ix := &VectorIndex{bits: bits}
	dim := -1
	for i, v := range vecs {
		if dim >= 0 && len(v) != dim {
			return nil, fmt.Errorf("embedding %d has %d dimensions, the others %d (mixed models?)", i, len(v), dim)
		}
		dim = len(v)
		ix.vecs = append(ix.vecs, normalizeVec(v))
	}
	if tables == 0 || dim <= 0 {
		return ix, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x73696d68617368)) // "simhash"
	ix.planes = make([][]float32, tables*bits)
	for i := range ix.planes {
		p := make([]float32, dim)
		for j := range p {
			p[j] = float32(rng.NormFloat64())
		}
		ix.planes[i] = p
	}
	ix.tables = make([]map[uint32][]int32, tables)
	for t := range ix.tables {
		ix.tables[t] = map[uint32][]int32{}
	}
	for i, v := range ix.vecs {
		for t := range ix.tables {
			k := ix.key(t, v)
			ix.tables[t][k] = append(ix.tables[t][k], int32(i))
		}
	}
	return ix, nil
}

func (ix *VectorIndex) key(t int, v []float32) uint32 {
	var k uint32
	for b := range ix.bits {
		if dot(ix.planes[t*ix.bits+b], v) >= 0 {
			k |= 1 << b
		}
	}
	return k
}

// VecMatch is one stored vector at or above the threshold.
type VecMatch struct {
	Pos    int
	Cosine float64
}

// Query returns the stored vectors with cosine ≥ threshold to q, by position.
func (ix *VectorIndex) Query(q []float32, threshold float64) []VecMatch {
	q = normalizeVec(q)
	var out []VecMatch
	if ix.planes == nil {
		for i, v := range ix.vecs {
			if len(v) == len(q) {
				if c := dot(q, v); c >= threshold {
					out = append(out, VecMatch{Pos: i, Cosine: c})
				}
			}
		}
		return out
	}
	seen := map[int32]bool{}
	for t := range ix.tables {
		for _, i := range ix.tables[t][ix.key(t, q)] {
			if seen[i] {
				continue
			}
			seen[i] = true
			if c := dot(q, ix.vecs[i]); c >= threshold {
				out = append(out, VecMatch{Pos: int(i), Cosine: c})
			}
		}
	}
	slices.SortFunc(out, func(a, b VecMatch) int { return a.Pos - b.Pos })
	return out
}

// lshShape picks hyperplane tables and bits so that a pair at the cosine
// threshold collides in at least one table with probability ≥ 99%: a random
// hyperplane separates two vectors at angle θ with probability θ/π.
func lshShape(cosine float64) (tables, bits int) {
	p := 1 - math.Acos(min(max(cosine, -1), 1))/math.Pi
	bits = 12
	for bits > 4 {
		perTable := math.Pow(p, float64(bits))
		t := int(math.Ceil(math.Log(0.01) / math.Log(1-perTable)))
		if t <= 64 {
			return max(t, 1), bits
		}
		bits--
	}
	perTable := math.Pow(p, float64(bits))
	return int(math.Ceil(math.Log(0.01) / math.Log(1-perTable))), bits
}

func semanticCheck(ctx context.Context, train Source, tdocs []prepared, opt Options) (*semanticResult, error) {
	so := opt.Semantic
	if so.Embedder == nil {
		return nil, fmt.Errorf("method embed needs an embeddings endpoint (--embed-url and --embed-model)")
	}
	if so.Cosine <= 0 {
		so.Cosine = 0.9
	}
	if so.Batch <= 0 {
		so.Batch = 64
	}
	if so.ExactMax <= 0 {
		so.ExactMax = 5000
	}
	idx := so.Index
	if idx == "" || idx == "auto" {
		idx = "exact"
		if len(tdocs) > so.ExactMax {
			idx = "lsh"
		}
	}
	res := &semanticResult{config: SemanticConfig{Model: so.Model, Cosine: so.Cosine, Index: idx}, leaks: make([]testLeak, len(tdocs))}
	texts := make([]string, len(tdocs))
	for i, d := range tdocs {
		texts[i] = d.doc.Text
	}
	tvecs, err := embedAll(ctx, so, texts)
	if err != nil {
		return nil, fmt.Errorf("embedding the test set: %w", err)
	}
	tables, bits := 0, 0
	if idx == "lsh" {
		tables, bits = lshShape(so.Cosine)
		res.config.Tables, res.config.Bits = tables, bits
	} else if idx != "exact" {
		return nil, fmt.Errorf("unknown semantic index %q (use auto, exact or lsh)", so.Index)
	}
	vix, err := NewVectorIndex(tvecs, tables, bits, so.Seed)
	if err != nil {
		return nil, err
	}
	var pending []Doc
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		ts := make([]string, len(pending))
		for i, d := range pending {
			ts[i] = d.Text
		}
		vs, err := embedAll(ctx, so, ts)
		if err != nil {
			return fmt.Errorf("embedding training rows %d-%d: %w", pending[0].Line, pending[len(pending)-1].Line, err)
		}
		for i, v := range vs {
			for _, m := range vix.Query(v, so.Cosine) {
				l := &res.leaks[m.Pos]
				if !l.found || m.Cosine > l.sim {
					*l = testLeak{train: ref("train", pending[i]), sim: m.Cosine, found: true}
				}
			}
		}
		pending = pending[:0]
		return nil
	}
	err = readSource(train, func(d Doc) error {
		if d.Text == "" {
			return nil
		}
		pending = append(pending, d)
		if len(pending) >= so.Batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	for ti, l := range res.leaks {
		if l.found {
			res.pairs = append(res.pairs, Pair{Kind: KindSemantic, Scope: ScopeCross, Similarity: l.sim, A: l.train, B: ref("test", tdocs[ti].doc)})
		}
	}
	return res, nil
}

// EmbedError is a failure of the embeddings endpoint (not of the input), so
// callers can tell "unreachable" from "bad input".
type EmbedError struct{ Err error }

func (e *EmbedError) Error() string { return e.Err.Error() }
func (e *EmbedError) Unwrap() error { return e.Err }

func embedAll(ctx context.Context, so SemanticOptions, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for i := 0; i < len(texts); i += so.Batch {
		j := min(i+so.Batch, len(texts))
		vs, err := so.Embedder.Embed(ctx, texts[i:j])
		if err != nil {
			return nil, &EmbedError{Err: err}
		}
		if len(vs) != j-i {
			return nil, fmt.Errorf("asked for %d embeddings, got %d", j-i, len(vs))
		}
		out = append(out, vs...)
	}
	return out, nil
}
