package leakage

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// bowEmbedder embeds a text as its hashed bag of words, so word order and
// punctuation do not matter: a stand-in for a real model in tests.
type bowEmbedder struct{ calls, texts int }

func (e *bowEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.calls++
	e.texts += len(texts)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 256)
		for _, w := range Tokens(t, nil) {
			v[hash64(w)%256]++
		}
		out[i] = v
	}
	return out, nil
}

func TestVectorIndexLSHFindsWhatExactFinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const dim = 64
	randVec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	var base [][]float32
	for range 2000 {
		base = append(base, randVec())
	}
	exact, _ := NewVectorIndex(base, 0, 0, 0)
	tables, bits := lshShape(0.9)
	approx, err := NewVectorIndex(base, tables, bits, 7)
	if err != nil {
		t.Fatal(err)
	}
	found, total := 0, 0
	for q := range 200 {
		// A query near base[q*10]: the vector plus small noise (cosine ≈ 0.95).
		v := slices.Clone(base[q*10])
		for i := range v {
			v[i] += float32(rng.NormFloat64()) * 0.3
		}
		want := exact.Query(v, 0.9)
		got := approx.Query(v, 0.9)
		total += len(want)
		for _, w := range want {
			for _, g := range got {
				if g.Pos == w.Pos {
					found++
				}
			}
		}
		for _, g := range got {
			if g.Cosine < 0.9 {
				t.Fatalf("approximate match below the threshold: %+v", g)
			}
		}
	}
	if total < 150 || float64(found) < 0.97*float64(total) {
		t.Errorf("LSH recall %d of %d (tables %d, bits %d)", found, total, tables, bits)
	}
}

func TestVectorIndexDimensionMismatch(t *testing.T) {
	if _, err := NewVectorIndex([][]float32{{1, 2}, {1, 2, 3}}, 0, 0, 0); err == nil {
		t.Fatal("want error for mixed dimensions")
	}
}

func TestSemanticCheck(t *testing.T) {
	gsm := mustLoad(t, "gsm8k")
	var testRows, trainRows []map[string]string
	for _, it := range gsm[:30] {
		testRows = append(testRows, map[string]string{"id": it.ID, "text": it.Question})
	}
	for _, it := range gsm[100:160] {
		trainRows = append(trainRows, map[string]string{"id": it.ID, "text": it.Question})
	}
	// Same words, shuffled: a paraphrase MinHash cannot see but embeddings can.
	words := Tokens(gsm[6].Question, nil)
	rand.New(rand.NewPCG(3, 3)).Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	shuffled := ""
	for _, w := range words {
		shuffled += w + " "
	}
	trainRows = append(trainRows, map[string]string{"id": "planted", "text": shuffled})
	for _, index := range []string{"exact", "lsh"} {
		t.Run(index, func(t *testing.T) {
			emb := &bowEmbedder{}
			test := StringSource("test", jsonl(t, testRows), ReadOptions{})
			rep, err := Check(context.Background(), StringSource("train", jsonl(t, trainRows), ReadOptions{}), &test,
				Options{Methods: []string{MethodMinHash, MethodEmbed}, Threshold: 0.8,
					Semantic: SemanticOptions{Embedder: emb, Cosine: 0.95, Index: index, Batch: 16, Model: "bow"}})
			if err != nil {
				t.Fatal(err)
			}
			var sem []Pair
			for _, p := range rep.Pairs {
				if p.Kind == KindNear {
					t.Errorf("MinHash should not see a word shuffle: %+v", p)
				}
				if p.Kind == KindSemantic {
					sem = append(sem, p)
				}
			}
			if len(sem) != 1 || sem[0].A.ID != "planted" || sem[0].B.ID != gsm[6].ID || sem[0].Similarity < 0.999 {
				t.Fatalf("semantic pairs %+v", sem)
			}
			if rep.Summary.Leaked[KindSemantic] != 1 || rep.Config.Semantic.Index != index {
				t.Errorf("summary %+v config %+v", rep.Summary, rep.Config.Semantic)
			}
			if emb.texts != 30+61 || emb.calls != 2+4 {
				t.Errorf("embedder saw %d texts in %d calls", emb.texts, emb.calls)
			}
		})
	}
}
