package scorer

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/metrics/bleu"
)

func TestScorers(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		in   Input
		want map[string]float64
		err  string
	}{
		{name: "exact_match", in: Input{Prediction: " Paris ", References: []string{"Paris"}}, want: map[string]float64{"exact_match": 1}},
		{name: "exact_match", in: Input{Prediction: "paris", References: []string{"Paris"}}, want: map[string]float64{"exact_match": 0}},
		{name: "exact_match", opts: Options{"lowercase": true}, in: Input{Prediction: "paris", References: []string{"Paris"}}, want: map[string]float64{"exact_match": 1}},
		{name: "exact_match", in: Input{Prediction: "x"}, err: "reference"},
		{name: "contains", in: Input{Prediction: "It is Paris.", References: []string{"Paris"}}, want: map[string]float64{"contains": 1}},
		{name: "regex", opts: Options{"pattern": `^\d+$`}, in: Input{Prediction: "42"}, want: map[string]float64{"regex": 1}},
		{name: "token_f1", in: Input{Prediction: "the cat sat", References: []string{"a cat sat down"}}, want: map[string]float64{"token_f1": 0.8}},
		{name: "squad", in: Input{Prediction: "The Cat", References: []string{"cat"}}, want: map[string]float64{"squad_em": 1, "squad_f1": 1}},
		{name: "json_valid", opts: Options{"keys": []any{"a"}}, in: Input{Prediction: "```json\n{\"a\": 1}\n```"}, want: map[string]float64{"json_valid": 1}},
		{name: "json_valid", opts: Options{"keys": []any{"b"}}, in: Input{Prediction: `{"a": 1}`}, want: map[string]float64{"json_valid": 0}},
		{name: "length", in: Input{Prediction: "héllo  wörld\n"}, want: map[string]float64{"length_chars": 13, "length_words": 2}},
	}
	for _, c := range cases {
		s, err := New(c.name, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := s.Score(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s(%+v): err %v, want %q", c.name, c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for k, v := range c.want {
			if math.Abs(got[k]-v) > 1e-12 {
				t.Errorf("%s(%+v) = %v, want %v", c.name, c.in, got, c.want)
			}
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		err  string
	}{
		{"exact_match", Options{"lowercse": true}, "unknown option lowercse"},
		{"exact_match", Options{"lowercase": "yes"}, "must be true or false"},
		{"regex", nil, "pattern is required"},
		{"regex", Options{"pattern": "("}, "regex"},
		{"bleu2", nil, "unknown scorer"},
	} {
		if _, err := New(c.name, c.o); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s %v: err %v, want %q", c.name, c.o, err, c.err)
		}
	}
}

func TestMultipleChoice(t *testing.T) {
	// "a" is likelier in total, but "bbbb" is likelier per character.
	got := MultipleChoice([]float64{-2, -4}, []string{"a", "bbbb"}, 1)
	if !reflect.DeepEqual(got, map[string]float64{"acc": 0, "acc_norm": 1}) {
		t.Fatal(got)
	}
}

func TestPerplexity(t *testing.T) {
	// "one two three" is 13 bytes and 3 words (lm-eval: len(re.split(r"\s+", doc))).
	in := Input{Prediction: "one two three", LogLikelihood: -13 * math.Ln2}
	m, err := PerplexityScorer.Score(in)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m["bits_per_byte"]-1) > 1e-12 || math.Abs(m["byte_perplexity"]-2) > 1e-12 || math.Abs(m["word_perplexity"]-math.Exp(13*math.Ln2/3)) > 1e-9 {
		t.Fatal(m)
	}
	st, _ := PerplexityScorer.Stats(in)
	if got := PerplexityScorer.Aggregate([]float64{2 * st[0], 2 * st[1], 2 * st[2]}); math.Abs(got["bits_per_byte"]-1) > 1e-12 {
		t.Fatal(got)
	}
	if _, err := PerplexityScorer.Score(Input{Prediction: "x", LogLikelihood: 1}); err == nil {
		t.Fatal("a positive log-likelihood must be refused")
	}
}

// The corpus scorers must give exactly what the parity-tested metrics/bleu
// corpus functions give on the whole set: summing per-item statistics is the
// same computation sacrebleu does.
func TestCorpusScorersMatchCorpusFunctions(t *testing.T) {
	hyps := []string{"the cat sat on the mat", "a quick brown fox", "Zürich est grand!"}
	refs := [][]string{{"the cat sat on a mat"}, {"the quick brown fox jumps"}, {"Zurich est très grand !"}}
	wantBLEU, err := bleu.CorpusBLEU(hyps, refs, bleu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantChrF, err := bleu.CorpusChrF(hyps, refs, bleu.ChrFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, metric string
		want         float64
	}{{"bleu", "bleu", wantBLEU.Score}, {"chrf", "chrf", wantChrF.Score}} {
		s, err := New(c.name, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs, ok := s.(CorpusScorer)
		if !ok {
			t.Fatalf("%s is not a corpus scorer", c.name)
		}
		var sum []float64
		for i := range hyps {
			st, err := cs.Stats(Input{Prediction: hyps[i], References: refs[i]})
			if err != nil {
				t.Fatal(err)
			}
			if sum == nil {
				sum = make([]float64, len(st))
			}
			for j := range st {
				sum[j] += st[j]
			}
		}
		if got := cs.Aggregate(sum)[c.metric]; got != c.want {
			t.Errorf("%s corpus = %.15g, want %.15g", c.name, got, c.want)
		}
		if _, err := cs.Stats(Input{Prediction: "x"}); err == nil {
			t.Errorf("%s without references must be an error", c.name)
		}
	}
}

func TestRougeScorer(t *testing.T) {
	s, err := New("rouge", Options{"types": []any{"rouge1", "rougeL"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Score(Input{Prediction: "the cat sat", References: []string{"the cat sat down"}})
	if err != nil {
		t.Fatal(err)
	}
	// P=1, R=3/4 → F=6/7 for both
	if math.Abs(got["rouge1"]-6.0/7) > 1e-12 || math.Abs(got["rougeL"]-6.0/7) > 1e-12 {
		t.Fatal(got)
	}
}
