package text

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func tokensOf(words ...string) *squadTokens {
	var t squadTokens
	t.normalize(strings.Join(words, " "))
	return &t
}

// TestCommonMatchesExact compares the hash-table intersection with the
// count-map one on random token lists with many repeats.
func TestCommonMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"x", "y", "z", "w", "long", "tokens", "x1", "y2", "ü", "ß"}
	var s squadScorer
	for n := 0; n < 2000; n++ {
		var p, r []string
		for range rng.IntN(40) {
			p = append(p, vocab[rng.IntN(len(vocab))])
		}
		for range rng.IntN(40) {
			r = append(r, vocab[rng.IntN(len(vocab))])
		}
		pt, rt := tokensOf(p...), tokensOf(r...)
		if got, want := s.common(pt, rt), s.commonExact(pt, rt); got != want {
			t.Fatalf("common(%q, %q) = %d, want %d", p, r, got, want)
		}
	}
}

// TestCommonHashCollision forces every token to the same hash: the
// content check must catch it and fall back to the exact count.
func TestCommonHashCollision(t *testing.T) {
	var s squadScorer
	for _, tc := range []struct {
		pred, ref []string
		want      int
	}{
		{[]string{"x", "y"}, []string{"y", "z"}, 1},
		{[]string{"x", "x", "y"}, []string{"x", "y", "y"}, 2},
		{[]string{"q"}, []string{"r"}, 0},
	} {
		pt, rt := tokensOf(tc.pred...), tokensOf(tc.ref...)
		for i := range pt.hashes {
			pt.hashes[i] = 42
		}
		for i := range rt.hashes {
			rt.hashes[i] = 42
		}
		if got := s.common(pt, rt); got != tc.want {
			t.Errorf("common(%q, %q) with colliding hashes = %d, want %d", tc.pred, tc.ref, got, tc.want)
		}
	}
}

func TestSquadRows(t *testing.T) {
	for _, tc := range []struct {
		pred   string
		refs   []string
		em, f1 float64
	}{
		{"The Eiffel Tower", []string{"eiffel tower"}, 1, 1},
		{"Eiffel", []string{"the eiffel tower", "Eiffel!"}, 1, 1},
		{"in 1889", []string{"1889"}, 0, 2.0 / 3},
		{"", []string{""}, 1, 0},
		{"a an the", []string{""}, 1, 0},
		{"ça va", []string{"ç va"}, 0, 0.5},
		{"x_y", []string{"xy"}, 1, 1},
	} {
		em, err := SquadExactMatch(tc.pred, tc.refs)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := SquadF1(tc.pred, tc.refs)
		if em != tc.em || !closeEnough(f, tc.f1) {
			t.Errorf("%q vs %q: em %v f1 %v, want %v %v", tc.pred, tc.refs, em, f, tc.em, tc.f1)
		}
	}
	if _, err := Squad([]string{"a"}, [][]string{{}}); err == nil {
		t.Error("row without references: want an error")
	}
	if _, err := Squad([]string{"a"}, nil); err == nil {
		t.Error("length mismatch: want an error")
	}
}

// literalNormalize is normalize_answer written step by step as the Python
// script does it, to check the one-pass tokenizers against.
func literalNormalize(s string) string {
	s = PyLower(s)
	s = strings.Map(func(r rune) rune {
		if isPyPunct(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(PySplit(removeArticles(s)), " ")
}

func FuzzSquadNormalize(f *testing.F) {
	for _, s := range []string{
		"The Eiffel Tower!", "a\x01the x", "an.a", "THE_A", "ça a été", "x\u0085the\u00a0an y",
		"İA the", "ΟΔΟΣ the", "don't a-b", "\x1ca\x1f", "中a文", "the", "", " a ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := literalNormalize(s)
		if got := SquadNormalize(s); got != want {
			t.Fatalf("SquadNormalize(%q) = %q, want %q", s, got, want)
		}
		var a, r squadTokens
		r.normalizeRunes(s)
		// The fast path must agree with the general one, hashes included,
		// since F1 compares tokens of both kinds by hash.
		if ok := a.normalizeASCII(s); ok != isASCII(s) {
			t.Fatalf("%q: normalizeASCII returned %v", s, ok)
		} else if ok {
			if string(a.buf) != string(r.buf) || !slices.Equal(a.ends, r.ends) || !slices.Equal(a.hashes, r.hashes) {
				t.Fatalf("%q: ASCII path %q %v %v, rune path %q %v %v", s, a.buf, a.ends, a.hashes, r.buf, r.ends, r.hashes)
			}
		}
	})
}

// isASCII reports whether s is all ASCII, where normalizeASCII must succeed.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
