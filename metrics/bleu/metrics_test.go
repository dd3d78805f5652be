package bleu

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		tok      Tokenizer
		in, want string
	}{
		{Tok13a, "Hello, world.", "Hello , world ."},
		{Tok13a, "It costs $1,000.50 today.", "It costs $ 1,000.50 today ."},
		{Tok13a, "pages 10-20, 1990-2000", "pages 10 - 20 , 1990 - 2000"},
		{Tok13a, "a&amp;b &lt;tag&gt; &quot;q&quot;", "a & b < tag > \" q \""},
		{Tok13a, "line-\nbreak<skipped> here\nthere", "linebreak here there"},
		{Tok13a, "don't (really)", "don't ( really )"},
		{Tok13a, "end 2024.", "end 2024 ."},
		{Tok13a, "", ""},
		{TokIntl, "end 2024.", "end 2024."},
		{TokIntl, "«Bonjour», dit-il — 5€!", "« Bonjour » , dit - il — 5 € !"},
		{TokIntl, "3.14 and 1,000", "3.14 and 1,000"},
		{TokChar, "ab c", "a b   c"},
		{TokChar, "日本", "日 本"},
		{TokNone, "  keep   as is ", "  keep   as is "},
	}
	for _, tt := range tests {
		got, err := Tokenize(tt.in, tt.tok)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("Tokenize(%q, %s) = %q, want %q", tt.in, tt.tok, got, tt.want)
		}
	}
	if _, err := Tokenize("x", "zh"); err == nil || !strings.Contains(err.Error(), "13a") {
		t.Errorf("unknown tokenizer: err = %v, want one naming the choices", err)
	}
}

func TestTokenizeTercom(t *testing.T) {
	tests := []struct {
		o        TEROptions
		in, want string
	}{
		{TEROptions{}, "Hello, World.", "hello, world."},
		{TEROptions{CaseSensitive: true}, "Hello  World", "Hello World"},
		{TEROptions{Normalized: true}, "It's John's (car), 1-2.", "it 's john 's ( car ) , 1 - 2 ."},
		{TEROptions{NoPunct: true}, "Wait... what?! (yes)", "wait what yes"},
		{TEROptions{Normalized: true, AsianSupport: true}, "日本語です。", "日 本 語 です 。"},
		{TEROptions{NoPunct: true, AsianSupport: true}, "はい、そうです。", "はいそうです"},
		{TEROptions{}, "", ""},
	}
	for _, tt := range tests {
		if got := TokenizeTercom(tt.in, tt.o); got != tt.want {
			t.Errorf("TokenizeTercom(%q, %+v) = %q, want %q", tt.in, tt.o, got, tt.want)
		}
	}
}

func TestSentenceBLEUEdges(t *testing.T) {
	tests := []struct {
		name   string
		hyp    string
		refs   []string
		score  float64
		bp     float64
		sysLen int
		refLen int
	}{
		{"identical", "the cat sat on the mat", []string{"the cat sat on the mat"}, 100, 1, 6, 6},
		{"empty hypothesis", "", []string{"the cat"}, 0, 0, 0, 2},
		{"empty reference", "the cat", []string{""}, 0, 1, 2, 0},
		{"both empty", "", []string{""}, 0, 1, 0, 0},
		{"whitespace only", " \t\n", []string{"a"}, 0, 0, 0, 1},
		// The closest reference length decides BP; the tie goes to the
		// shorter one.
		{"closest reference", "a b c", []string{"a b c d e f", "x y z w"}, 100 * math.Exp(1-4.0/3.0), math.Exp(1 - 4.0/3.0), 3, 4},
		{"closest tie", "a b c", []string{"a b c d", "a b"}, 100, 1, 3, 2},
		{"unicode", "日本 の 猫", []string{"日本 の 猫"}, 100, 1, 3, 3},
		{"one token, effective order", "cat", []string{"cat"}, 100, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SentenceBLEU(tt.hyp, tt.refs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !closeTo(got.Score, tt.score) || !closeTo(got.BP, tt.bp) || got.SysLen != tt.sysLen || got.RefLen != tt.refLen {
				t.Errorf("got score %v bp %v sys %d ref %d, want %v %v %d %d", got.Score, got.BP, got.SysLen, got.RefLen, tt.score, tt.bp, tt.sysLen, tt.refLen)
			}
		})
	}
}

func TestBLEUOptions(t *testing.T) {
	hyp, refs := "the cat sat", []string{"the cat sat on the mat"}
	// A 3-token hypothesis has no 4-grams: without effective order its
	// score collapses to 0; the corpus default (off) must apply to Corpus.
	on, _ := SentenceBLEU(hyp, refs, Options{})
	off, _ := SentenceBLEU(hyp, refs, Options{EffectiveOrder: EffectiveOrderOff})
	corpus, _ := CorpusBLEU([]string{hyp}, [][]string{refs}, Options{})
	if !closeTo(on.Score, 100*math.Exp(1-6.0/3.0)) || off.Score > 1e-100 || corpus.Score != off.Score {
		t.Errorf("effective order: sentence on %v, off %v, corpus default %v", on.Score, off.Score, corpus.Score)
	}
	lc, _ := SentenceBLEU("THE CAT", []string{"the cat"}, Options{Lowercase: true})
	mixed, _ := SentenceBLEU("THE CAT", []string{"the cat"}, Options{})
	if lc.Score != 100.00000000000004 && !closeTo(lc.Score, 100) || mixed.Score != 0 {
		t.Errorf("lowercase: %v, mixed: %v", lc.Score, mixed.Score)
	}
	two, _ := SentenceBLEU("a b c", []string{"a b c"}, Options{MaxNgramOrder: 2})
	if len(two.Precisions) != 2 || !closeTo(two.Score, 100) {
		t.Errorf("max order 2: %+v", two)
	}
	v := 0.5
	b, err := NewBLEU(Options{Smooth: SmoothFloor, SmoothValue: &v})
	if err != nil {
		t.Fatal(err)
	}
	if sig := b.Signature("1", false); !strings.Contains(sig, "smooth:floor[0.50]") {
		t.Errorf("signature %q lacks the floor value", sig)
	}
}

func TestErrors(t *testing.T) {
	bad := []struct {
		name string
		err  error
	}{
		{"unknown tokenizer", second(NewBLEU(Options{Tokenizer: "ja-mecab"}))},
		{"unknown smoothing", second(NewBLEU(Options{Smooth: "laplace"}))},
		{"order out of range", second(NewBLEU(Options{MaxNgramOrder: -1}))},
		{"NaN smooth value", second(NewBLEU(Options{Smooth: SmoothAddK, SmoothValue: ptr(math.NaN())}))},
		{"row count mismatch", second(CorpusBLEU([]string{"a", "b"}, [][]string{{"a"}}, Options{}))},
		{"no rows", second(CorpusBLEU(nil, nil, Options{}))},
		{"row without references", second(CorpusBLEU([]string{"a"}, [][]string{{}}, Options{}))},
		{"sentence without references", second(SentenceBLEU("a", nil, Options{}))},
		{"chrF order", second(NewChrF(ChrFOptions{CharOrder: -2}))},
		{"chrF word order", second(NewChrF(ChrFOptions{WordOrder: -1}))},
		{"chrF rows", second(CorpusChrF([]string{"a"}, nil, ChrFOptions{}))},
		{"TER rows", second(CorpusTER([]string{"a"}, [][]string{{}}, TEROptions{}))},
		{"TER sentence", second(SentenceTER("a", nil, TEROptions{}))},
	}
	for _, tt := range bad {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	// Rows may have different numbers of references.
	if _, err := CorpusBLEU([]string{"a b", "c"}, [][]string{{"a b"}, {"c", "d", ""}}, Options{}); err != nil {
		t.Errorf("variable reference counts: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func ptr[T any](v T) *T { return &v }

func TestChrFEdges(t *testing.T) {
	tests := []struct {
		name  string
		hyp   string
		refs  []string
		opts  ChrFOptions
		score float64
	}{
		{"identical", "the cat sat", []string{"the cat sat"}, ChrFOptions{}, 100},
		{"identical chrF++", "the cat sat.", []string{"the cat sat."}, ChrFOptions{WordOrder: 2}, 100},
		{"empty hypothesis", "", []string{"the cat"}, ChrFOptions{}, 0},
		{"empty reference", "the cat", []string{""}, ChrFOptions{}, 0},
		{"both empty", "", []string{""}, ChrFOptions{}, 0},
		{"whitespace ignored", "thecat", []string{"the cat"}, ChrFOptions{}, 100},
		{"lowercase", "THE CAT", []string{"the cat"}, ChrFOptions{Lowercase: true}, 100},
		{"best reference wins", "abc", []string{"xyz", "abc"}, ChrFOptions{}, 100},
		// Two-character strings against each other: unigram P=R=1/2,
		// bigram 0 (no match, but both sides have one: counted), orders
		// 3-6 absent on both sides (not counted).
		{"half", "ab", []string{"ac"}, ChrFOptions{}, 100 * (5 * 0.25 * 0.25 / (4*0.25 + 0.25))},
	}
	for _, tt := range tests {
		got, err := SentenceChrF(tt.hyp, tt.refs, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(got.Score, tt.score) {
			t.Errorf("%s: chrF = %v, want %v", tt.name, got.Score, tt.score)
		}
	}
	c, _ := NewChrF(ChrFOptions{WordOrder: 2})
	if s := c.ScoreStats(make([]float64, c.StatsLen())); s.Name != "chrF2++" || s.Score != 0 {
		t.Errorf("chrF++ of zero statistics: %+v", s)
	}
}

func TestTEREdges(t *testing.T) {
	tests := []struct {
		name      string
		hyp       string
		refs      []string
		opts      TEROptions
		edits     int
		refLength float64
		score     float64
	}{
		{"identical", "a b c d", []string{"a b c d"}, TEROptions{}, 0, 4, 0},
		{"one shift", "d a b c", []string{"a b c d"}, TEROptions{}, 1, 4, 25},
		{"block shift", "e f a b c d", []string{"a b c d e f"}, TEROptions{}, 1, 6, 100.0 / 6},
		{"substitution", "a x c", []string{"a b c"}, TEROptions{}, 1, 3, 100.0 / 3},
		{"empty hypothesis", "", []string{"a b"}, TEROptions{}, 2, 2, 100},
		{"empty reference", "a b c", []string{""}, TEROptions{}, 3, 0, 100},
		{"both empty", "", []string{""}, TEROptions{}, 0, 0, 0},
		{"case folded by default", "A B", []string{"a b"}, TEROptions{}, 0, 2, 0},
		{"case sensitive", "A B", []string{"a b"}, TEROptions{CaseSensitive: true}, 2, 2, 100},
		// Fewest edits over references, average reference length.
		{"two references", "a b", []string{"a b c d", "a b"}, TEROptions{}, 0, 3, 0},
	}
	for _, tt := range tests {
		got, err := SentenceTER(tt.hyp, tt.refs, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got.NumEdits != tt.edits || got.RefLength != tt.refLength || !closeTo(got.Score, tt.score) {
			t.Errorf("%s: got %+v, want edits %d ref length %v score %v", tt.name, got, tt.edits, tt.refLength, tt.score)
		}
	}
}

// TestTERLongSegment checks that a long segment keeps only the beam of the
// edit-distance matrix and still finds the block shift.
func TestTERLongSegment(t *testing.T) {
	const n = 1500
	ref := make([]uint32, n)
	for i := range ref {
		ref[i] = uint32(i + 1)
	}
	// Move words 700..704 to just before word 730.
	hyp := performShift(nil, ref, 700, 5, 730)
	var e beamED
	edits, refLen := e.translationEditRate(hyp, ref)
	if edits != 1 || refLen != n {
		t.Errorf("edits %d ref length %d, want 1 and %d", edits, refLen, n)
	}
	// Two beams of 25 per row, plus the full first and last rows.
	if cells, bound := len(e.bandCost), 2*terBeamWidth*n+2*(n+1); cells > bound {
		t.Errorf("kept %d cells for a %dx%d matrix, want at most %d (the beam)", cells, n+1, n+1, bound)
	}
}

// TestConcurrentUse scores from several goroutines with one metric of each
// kind: the metrics share pooled scratch, which must not leak between calls
// (run with -race).
func TestConcurrentUse(t *testing.T) {
	hyps, refs := corpusFixture(t)
	b, _ := NewBLEU(Options{})
	c, _ := NewChrF(ChrFOptions{WordOrder: 2})
	ter := NewTER(TEROptions{})
	wantB, _ := b.Corpus(hyps, refs)
	wantC, _ := c.Corpus(hyps, refs)
	wantT, _ := ter.Corpus(hyps, refs)
	wantS := make([]float64, len(hyps))
	for i := range hyps {
		s, _ := b.Sentence(hyps[i], refs[i])
		wantS[i] = s.Score
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			for i := range hyps {
				k := (i + g*7) % len(hyps)
				if s, _ := b.Sentence(hyps[k], refs[k]); s.Score != wantS[k] {
					done <- fmt.Errorf("sentence BLEU %d: %v, want %v", k, s.Score, wantS[k])
					return
				}
			}
			gb, _ := b.Corpus(hyps, refs)
			gc, _ := c.Corpus(hyps, refs)
			gt, _ := ter.Corpus(hyps, refs)
			if gb.Score != wantB.Score || gc != wantC || gt != wantT {
				done <- fmt.Errorf("corpus scores differ: %v %v %v", gb.Score, gc, gt)
				return
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
