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
		{name: "levenshtein", in: Input{Prediction: "kitten", References: []string{"sitting", "kitchen"}}, want: map[string]float64{"levenshtein": 2}},
		{name: "levenshtein", in: Input{Prediction: "x"}, err: "reference"},
		{name: "levenshtein_similarity", in: Input{Prediction: "", References: []string{""}}, want: map[string]float64{"levenshtein_similarity": 1}},
		{name: "ter", in: Input{Prediction: "", References: []string{"a b"}}, want: map[string]float64{"ter": 100}},
		{name: "chrf++", in: Input{Prediction: "same", References: []string{"same"}}, want: map[string]float64{"chrf++": 100}},
		{name: "squad_em", in: Input{Prediction: "the Cat!", References: []string{"cat"}}, want: map[string]float64{"squad_em": 1}},
		{name: "accuracy", in: Input{Prediction: " yes\n", References: []string{"yes"}}, want: map[string]float64{"accuracy": 1}},
		{name: "accuracy", opts: Options{"strip": false}, in: Input{Prediction: " yes\n", References: []string{"yes"}}, want: map[string]float64{"accuracy": 0}},
		{name: "accuracy", opts: Options{"labels": []any{int64(0), int64(1)}}, in: Input{Prediction: "1.0", References: []string{"1"}}, want: map[string]float64{"accuracy": 1}},
		{name: "accuracy", opts: Options{"labels": []any{int64(0), int64(1)}}, in: Input{Prediction: "1", References: []string{"2"}}, err: `reference "2" is not one of labels [0, 1]`},
		{name: "accuracy", opts: Options{"labels": []any{false, true}, "lowercase": true}, in: Input{Prediction: "True", References: []string{"true"}}, want: map[string]float64{"accuracy": 1}},
		{name: "f1", opts: Options{"labels": []any{"a", "b"}, "pos_label": "b"}, in: Input{Prediction: "c", References: []string{"b"}}, want: map[string]float64{"f1": 0}},
		{name: "mse", in: Input{Prediction: "1.5", References: []string{"-0.5"}}, want: map[string]float64{"mse": 4}},
		{name: "r2", in: Input{Prediction: "3", References: []string{"1"}}, want: map[string]float64{"r2": -4}},
		{name: "rmse", in: Input{Prediction: "3", References: []string{"1"}}, want: map[string]float64{"rmse": 2}},
		{name: "mape", in: Input{Prediction: "1", References: []string{"0"}}, want: map[string]float64{"mape": 1 / 2.220446049250313e-16}},
		{name: "mae", in: Input{Prediction: "1e308", References: []string{"-1e308"}}, err: "not finite"},
		{name: "rmse", in: Input{Prediction: "1e200", References: []string{"1"}}, err: "too large"},
		{name: "mae", in: Input{Prediction: "Infinity", References: []string{"1"}}, err: "not a finite number"},
		{name: "mae", in: Input{Prediction: "1e999", References: []string{"1"}}, err: "not a finite number"},
		{name: "mae", in: Input{Prediction: "1"}, err: "reference"},
		{name: "pass_at_k", opts: Options{"k": []any{int64(1), int64(2)}}, in: Input{Prediction: "a", Samples: []string{"a", "b", "a", "c"}, References: []string{"a"}}, want: map[string]float64{"pass@1": 0.5, "pass@2": 1 - 1.0/6}},
		{name: "pass_at_k", in: Input{Prediction: " a ", References: []string{"a"}}, want: map[string]float64{"pass@1": 1}},
		{name: "pass_at_k", in: Input{Prediction: "a"}, err: "sample 1: "},
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
		if len(got) != len(c.want) {
			t.Errorf("%s(%+v) = %v, want %v", c.name, c.in, got, c.want)
		}
		for k, v := range c.want {
			if math.Abs(got[k]-v) > 1e-12*math.Max(1, math.Abs(v)) {
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
		{"regex", Options{"pattern": "x", "name": ""}, "option name is empty"},
		{"chrf++", Options{"plus_plus": true}, "unknown option plus_plus"},
		{"chrf", Options{"char_order": 2.5}, "must be a whole number"},
		{"bleu", Options{"smooth_value": "big"}, "must be a finite number"},
		{"rougeL", Options{"types": []any{"rouge1"}}, "unknown option types"},
		{"f1", nil, "option labels is required"},
		{"f1", Options{"labels": []any{}}, "labels is empty"},
		{"f1", Options{"labels": []any{"a", "A"}, "lowercase": true}, "same once normalised"},
		{"f1", Options{"labels": []any{"a", int64(1)}}, "mix strings with numbers"},
		{"f1", Options{"labels": []any{int64(1), true}}, "listed twice"},
		{"f1", Options{"labels": []any{"a", "b"}, "pos_label": "c"}, "pos_label c is not one of labels [a, b]"},
		{"f1", Options{"labels": []any{"a", "b"}, "average": "binary"}, "needs pos_label"},
		{"f1", Options{"labels": []any{"a", "b", "c"}, "average": "binary", "pos_label": "a"}, "at most two labels"},
		{"f1", Options{"labels": []any{"a", "b"}, "average": "none"}, "a plan metric needs one"},
		{"f1", Options{"labels": []any{"a", "b"}, "average": "mean"}, "average \"mean\""},
		{"f1", Options{"labels": []any{"a", "b"}, "zero_division": "nan"}, "zero_division"},
		{"f1", Options{"labels": []any{"a", "b"}, "beta": -1.0}, "beta -1"},
		{"mcc", Options{"labels": []any{"a", "b"}, "average": "macro"}, "unknown option average"},
		{"cohen_kappa", Options{"labels": []any{int64(1), int64(2)}, "weights": "cubic"}, "weights \"cubic\""},
		{"mae", Options{"strip": true}, "unknown option strip"},
		{"pass_at_k", Options{"k": []any{}}, "k is empty"},
		{"pass_at_k", Options{"k": []any{int64(0)}}, "at least 1"},
		{"pass_at_k", Options{"k": []any{int64(2), int64(2)}}, "listed twice"},
		{"pass_at_k", Options{"check": "token_f1"}, "does not pass or fail one sample"},
		{"pass_at_k", Options{"check": "bleu"}, "does not pass or fail one sample"},
		{"pass_at_k", Options{"check": "pass_at_k"}, "not pass_at_k"},
		{"pass_at_k", Options{"check": "regex"}, "check: scorer regex: option pattern is required"},
		{"pass_at_k", Options{"check_options": "x"}, "must be a mapping"},
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
	s, err := New("rouge", Options{"types": []any{"rouge1", "rougeL"}, "stem": false})
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

// With a binary average, an output outside the labels is a negative
// prediction: precision and recall of the positive class alone.
func TestBinaryAverageWithOtherOutputs(t *testing.T) {
	o := Options{"labels": []any{"no", "yes"}, "pos_label": "yes"}
	items := []Input{
		{Prediction: "yes", References: []string{"yes"}},   // tp
		{Prediction: "maybe", References: []string{"yes"}}, // fn
		{Prediction: "no", References: []string{"yes"}},    // fn
		{Prediction: "yes", References: []string{"no"}},    // fp
		{Prediction: "maybe", References: []string{"no"}},  // tn
	}
	want := map[string]float64{"precision": 0.5, "recall": 1.0 / 3, "f1": 0.4}
	for m, w := range want {
		s, err := New(m, o)
		if err != nil {
			t.Fatal(err)
		}
		cs := s.(CorpusScorer)
		var sum []float64
		for _, in := range items {
			st, err := cs.Stats(in)
			if err != nil {
				t.Fatal(err)
			}
			if sum == nil {
				sum = make([]float64, len(st))
			}
			for k, v := range st {
				sum[k] += v
			}
		}
		if got := cs.Aggregate(sum)[m]; math.Abs(got-w) > 1e-12 {
			t.Errorf("%s = %v, want %v", m, got, w)
		}
	}
}

// An undefined corpus value is NaN from Aggregate (the app must not store
// it); a per-item score never is.
func TestUndefinedCorpusValues(t *testing.T) {
	s, err := New("cohen_kappa", Options{"labels": []any{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	cs := s.(CorpusScorer)
	st, err := cs.Stats(Input{Prediction: "a", References: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := cs.Aggregate(st)["cohen_kappa"]; !math.IsNaN(v) {
		t.Errorf("kappa with one class = %v, want NaN", v)
	}
	p, _ := New("pearson", nil)
	pst, _ := p.(CorpusScorer).Stats(Input{Prediction: "1", References: []string{"2"}})
	if v := p.(ItemAggregator).AggregateItems([][]float64{pst, pst})["pearson"]; !math.IsNaN(v) {
		t.Errorf("pearson of a constant = %v, want NaN", v)
	}
}
