package scorer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/scorefile"
	"github.com/tunecheck/tunecheck/internal/shareddata"
	"github.com/tunecheck/tunecheck/metrics/text"
)

// The parity tests run each plan scorer over items the way internal/app
// does, and `tunecheck score` (scorefile.Score) over the same rows written as
// JSONL, and require the same task values to 1e-12. scorefile is itself
// checked against the reference implementations' vectors, so a plan scorer
// that matches it matches them.

// appRun is what the app computes from one scorer over a task's items.
type appRun struct {
	values  map[string]float64
	perItem map[string][]float64 // over the scored items, in order
	failed  []int                // indices of the items the scorer refused
}

// runLikeApp scores each item (an error marks it failed, never 0), collects
// the corpus statistics of the scored items, and forms each metric's value:
// the mean of the per-item values, or, for a corpus metric, AggregateItems of
// the items' statistics (ItemAggregator) or Aggregate of their sum.
func runLikeApp(t *testing.T, s Scorer, inputs []Input) appRun {
	t.Helper()
	run := appRun{values: map[string]float64{}, perItem: map[string][]float64{}}
	cs, isCorpus := s.(CorpusScorer)
	var stats [][]float64
	for i, in := range inputs {
		m, err := s.Score(in)
		if err != nil {
			run.failed = append(run.failed, i)
			continue
		}
		if isCorpus {
			st, err := cs.Stats(in)
			if err != nil {
				t.Fatalf("item %d: Score accepted it but Stats did not: %v", i, err)
			}
			stats = append(stats, st)
		}
		for _, metric := range s.Metrics() {
			v, ok := m[metric.Name]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("item %d: %s is %v (present %v): a stored score must be a finite number", i, metric.Name, v, ok)
			}
			run.perItem[metric.Name] = append(run.perItem[metric.Name], v)
		}
	}
	for _, metric := range s.Metrics() {
		if !metric.Corpus {
			sum := 0.0
			for _, v := range run.perItem[metric.Name] {
				sum += v
			}
			run.values[metric.Name] = sum / float64(len(run.perItem[metric.Name]))
			continue
		}
		if ia, ok := s.(ItemAggregator); ok {
			run.values[metric.Name] = ia.AggregateItems(stats)[metric.Name]
			continue
		}
		sum := make([]float64, len(stats[0]))
		for _, st := range stats {
			for k, v := range st {
				sum[k] += v
			}
		}
		run.values[metric.Name] = cs.Aggregate(sum)[metric.Name]
	}
	return run
}

// scoreFile runs `tunecheck score` on rows written as JSONL.
func scoreFile(t *testing.T, name string, rows []any, o scorefile.Options) map[string]scorefile.Result {
	t.Helper()
	var buf bytes.Buffer
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	in, err := scorefile.ReadRows(name, &buf, "", "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scorefile.Score(in, o)
	if err != nil {
		t.Fatalf("scorefile %v: %v", o.Metrics, err)
	}
	out := map[string]scorefile.Result{}
	for _, r := range rep.Results {
		out[r.Metric] = r
	}
	return out
}

func near(got, want float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

type textRow struct {
	Prediction string   `json:"prediction"`
	References []string `json:"references"`
}

func readTextRows(t *testing.T, path string) []textRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []textRow
	for line := range bytes.Lines(data) {
		var r textRow
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r)
	}
	return rows
}

// sharedTextRows are the distinct prediction/reference rows of the
// reference vectors in shared/data/parity: real sentences in many scripts.
func sharedTextRows(t *testing.T) []textRow {
	t.Helper()
	type parityCase struct {
		Input []textRow `json:"input"`
	}
	seen := map[string]bool{}
	var out []textRow
	for _, f := range []string{"bleu.jsonl", "chrf.jsonl", "ter.jsonl", "rouge.jsonl", "squad.jsonl"} {
		for _, c := range shareddata.ReadJSONL[parityCase](t, shareddata.Path(t, "parity", f)) {
			for _, r := range c.Input {
				if len(r.References) == 0 {
					continue
				}
				k := r.Prediction + "\x00" + strings.Join(r.References, "\x00")
				if !seen[k] {
					seen[k] = true
					out = append(out, r)
				}
			}
		}
	}
	return out
}

type parityCase struct {
	scorer string
	opts   Options
	score  scorefile.Options // Metrics names the metric(s) compared
	scale  float64           // score's value = plan value × scale (0 means 1)
}

func ptr[T any](v T) *T { return &v }

// checkParity runs c on inputs and on the score rows and compares every
// metric of the scorer, and the per-item values where score has them.
func checkParity(t *testing.T, c parityCase, inputs []Input, rows []any) {
	t.Helper()
	s, err := New(c.scorer, c.opts)
	if err != nil {
		t.Fatalf("%s %v: %v", c.scorer, c.opts, err)
	}
	run := runLikeApp(t, s, inputs)
	if len(run.failed) > 0 {
		t.Fatalf("%s %v refused items %v", c.scorer, c.opts, run.failed)
	}
	want := scoreFile(t, c.scorer+".jsonl", rows, c.score)
	scale := c.scale
	if scale == 0 {
		scale = 1
	}
	label := fmt.Sprintf("%s %v", c.scorer, c.opts)
	for _, m := range s.Metrics() {
		w, ok := want[m.Name]
		if !ok {
			t.Fatalf("%s: score did not report %s (asked %v)", label, m.Name, c.score.Metrics)
		}
		if got := run.values[m.Name] * scale; !near(got, w.Value) {
			t.Errorf("%s: %s = %.17g, score gives %.17g", label, m.Name, got, w.Value)
		}
		if w.PerItem == nil || m.Corpus && !slices.Contains([]string{"bleu", "chrf", "chrf++", "ter"}, m.Name) {
			continue
		}
		for i, v := range run.perItem[m.Name] {
			if !near(v, w.PerItem[i]) {
				t.Errorf("%s: item %d: %s = %.17g, score gives %.17g", label, i, m.Name, v, w.PerItem[i])
			}
		}
	}
}

func TestTextParityWithScore(t *testing.T) {
	sets := map[string][]textRow{
		"tricky": readTextRows(t, filepath.Join("testdata", "parity", "text.jsonl")),
		"shared": sharedTextRows(t),
	}
	cases := []parityCase{
		{scorer: "bleu", score: scorefile.Options{Metrics: []string{"bleu"}}},
		{scorer: "bleu", opts: Options{"tokenize": "intl", "lowercase": true, "smooth": "floor", "smooth_value": 0.2, "effective_order": true},
			score: scorefile.Options{Metrics: []string{"bleu"}, Tokenize: "intl", Lowercase: true, Smooth: "floor", SmoothValue: ptr(0.2), EffectiveOrder: ptr(true)}},
		{scorer: "bleu", opts: Options{"tokenize": "char", "smooth": "add-k", "effective_order": false},
			score: scorefile.Options{Metrics: []string{"bleu"}, Tokenize: "char", Smooth: "add-k", EffectiveOrder: ptr(false)}},
		{scorer: "chrf", score: scorefile.Options{Metrics: []string{"chrf"}}},
		{scorer: "chrf", opts: Options{"plus_plus": true}, score: scorefile.Options{Metrics: []string{"chrf++"}}},
		{scorer: "chrf++", score: scorefile.Options{Metrics: []string{"chrf++"}}},
		{scorer: "chrf", opts: Options{"char_order": int64(4), "word_order": int64(1), "beta": int64(3), "whitespace": true, "eps_smoothing": true, "lowercase": true},
			score: scorefile.Options{Metrics: []string{"chrf"}, CharOrder: 4, WordOrder: ptr(1), ChrFBeta: 3, Whitespace: true, EpsSmoothing: true, Lowercase: true}},
		{scorer: "ter", score: scorefile.Options{Metrics: []string{"ter"}}},
		{scorer: "ter", opts: Options{"normalized": true, "no_punct": true, "asian_support": true, "case_sensitive": true},
			score: scorefile.Options{Metrics: []string{"ter"}, TERNormalized: true, TERNoPunct: true, TERAsian: true, TERCaseSensitive: true}},
		{scorer: "rouge1", score: scorefile.Options{Metrics: []string{"rouge1"}}},
		{scorer: "rouge2", opts: Options{"stem": true}, score: scorefile.Options{Metrics: []string{"rouge2"}, Stem: true}},
		{scorer: "rougeL", score: scorefile.Options{Metrics: []string{"rougeL"}}},
		{scorer: "rougeLsum", opts: Options{"stem": true}, score: scorefile.Options{Metrics: []string{"rougeLsum"}, Stem: true}},
		{scorer: "rouge", score: scorefile.Options{Metrics: []string{"rouge1", "rouge2", "rougeL", "rougeLsum"}}},
		{scorer: "rouge", opts: Options{"types": []any{"rouge3", "rougeL"}, "stem": true}, score: scorefile.Options{Metrics: []string{"rouge3", "rougeL"}, Stem: true}},
		{scorer: "token_f1", score: scorefile.Options{Metrics: []string{"token_f1"}}},
		{scorer: "squad_em", score: scorefile.Options{Metrics: []string{"squad_em"}}, scale: 100},
		{scorer: "squad_f1", score: scorefile.Options{Metrics: []string{"squad_f1"}}, scale: 100},
		{scorer: "squad", score: scorefile.Options{Metrics: []string{"squad_em", "squad_f1"}}, scale: 100},
		{scorer: "exact_match", opts: Options{"collapse_whitespace": false}, score: scorefile.Options{Metrics: []string{"exact_match"}}},
		{scorer: "exact_match", opts: Options{"collapse_whitespace": false, "lowercase": true}, score: scorefile.Options{Metrics: []string{"exact_match"}, Lowercase: true}},
		{scorer: "levenshtein", score: scorefile.Options{Metrics: []string{"levenshtein"}}},
		{scorer: "levenshtein_similarity", score: scorefile.Options{Metrics: []string{"levenshtein_similarity"}}},
	}
	for name, rows := range sets {
		inputs := make([]Input, len(rows))
		anyRows := make([]any, len(rows))
		for i, r := range rows {
			inputs[i] = Input{Prediction: r.Prediction, References: r.References, Gold: -1}
			anyRows[i] = r
		}
		t.Run(name, func(t *testing.T) {
			for _, c := range cases {
				checkParity(t, c, inputs, anyRows)
			}
		})
	}
}

// labelItem is one classification item: the model's raw output and the
// reference text.
type labelItem struct{ out, ref string }

func labelInputs(items []labelItem) []Input {
	out := make([]Input, len(items))
	for i, it := range items {
		out[i] = Input{Prediction: it.out, References: []string{it.ref}, Gold: -1}
	}
	return out
}

// Outputs that spell a label exactly (and one other string, "zzz", that sorts
// after every label) are rows `tunecheck score` reads as they are.
func TestClassificationParityWithScore(t *testing.T) {
	items := []labelItem{
		{"pos", "pos"}, {"pos", "pos"}, {"neg", "pos"}, {"neu", "pos"}, {"zzz", "pos"},
		{"neg", "neg"}, {"neg", "neg"}, {"neg", "neg"}, {"pos", "neg"}, {"zzz", "neg"},
		{"neu", "neu"}, {"neg", "neu"}, {"pos", "neu"}, {"neu", "neu"}, {"zzz", "neu"}, {"neu", "pos"},
	}
	rows := make([]any, len(items))
	for i, it := range items {
		rows[i] = textRow{Prediction: it.out, References: []string{it.ref}}
	}
	three := []any{"neg", "neu", "pos"}
	lab := func(o Options) Options {
		out := Options{"labels": three, "strip": false}
		for k, v := range o {
			out[k] = v
		}
		return out
	}
	const labels = `["neg", "neu", "pos"]`
	cases := []parityCase{
		{scorer: "accuracy", opts: Options{"strip": false}, score: scorefile.Options{Metrics: []string{"accuracy"}}},
		{scorer: "accuracy", opts: lab(nil), score: scorefile.Options{Metrics: []string{"accuracy"}}},
		{scorer: "balanced_accuracy", opts: lab(nil), score: scorefile.Options{Metrics: []string{"balanced_accuracy"}}},
		{scorer: "balanced_accuracy", opts: lab(Options{"adjusted": true}), score: scorefile.Options{Metrics: []string{"balanced_accuracy"}, Adjusted: true}},
		{scorer: "mcc", opts: lab(nil), score: scorefile.Options{Metrics: []string{"mcc"}}},
		{scorer: "cohen_kappa", opts: lab(nil), score: scorefile.Options{Metrics: []string{"cohen_kappa"}}},
		{scorer: "cohen_kappa", opts: lab(Options{"weights": "quadratic"}), score: scorefile.Options{Metrics: []string{"cohen_kappa"}, KappaWeights: "quadratic"}},
		{scorer: "cohen_kappa", opts: lab(Options{"weights": "linear"}), score: scorefile.Options{Metrics: []string{"cohen_kappa"}, KappaWeights: "linear"}},
	}
	for _, avg := range []string{"auto", "macro", "micro", "weighted"} {
		for _, m := range []string{"precision", "recall", "f1"} {
			cases = append(cases, parityCase{scorer: m, opts: lab(Options{"average": avg}), score: scorefile.Options{Metrics: []string{m}, Average: avg, Labels: labels}})
		}
	}
	cases = append(cases,
		parityCase{scorer: "f1", opts: lab(Options{"average": "macro", "beta": 2.0, "zero_division": int64(1)}), score: scorefile.Options{Metrics: []string{"f1"}, Average: "macro", Labels: labels, Beta: 2, ZeroDivision: "1"}},
		parityCase{scorer: "precision", opts: lab(Options{"average": "weighted", "zero_division": "0"}), score: scorefile.Options{Metrics: []string{"precision"}, Average: "weighted", Labels: labels, ZeroDivision: "0"}},
	)
	inputs := labelInputs(items)
	for _, c := range cases {
		checkParity(t, c, inputs, rows)
	}
}

// Outputs are mapped to labels by the plan's normalisation; `tunecheck
// score` then gets the mapped labels, each output outside the labels written
// as the one "other" class the plan counts it as, and references outside the
// labels left out (the plan refuses those items).
func TestClassificationMappingParityWithScore(t *testing.T) {
	items := []labelItem{
		{" Positive\n", "positive"}, {"positive", "positive"}, {"NEGATIVE", "positive"}, {"maybe", "positive"},
		{"", "positive"}, {"negative.", "negative"}, {"negative", "negative"}, {" negative ", "negative"},
		{"Positive", "negative"}, {"pos", "negative"}, {"negative", "Negative "}, {"positive", "unknown"},
		{"positive", "positive"},
	}
	opts := Options{"labels": []any{"negative", "positive"}, "lowercase": true}
	const other = "\U0010FFFF"
	norm := func(s string) string { return text.PyLower(strings.TrimFunc(s, text.IsPySpace)) }
	var rows []any
	var inputs []Input
	for _, it := range items {
		ref := norm(it.ref)
		if ref != "negative" && ref != "positive" {
			continue
		}
		out := norm(it.out)
		if out != "negative" && out != "positive" {
			out = other
		}
		rows = append(rows, textRow{Prediction: out, References: []string{ref}})
		inputs = append(inputs, Input{Prediction: it.out, References: []string{it.ref}, Gold: -1})
	}
	with := func(o Options) Options {
		out := Options{}
		for _, m := range []Options{opts, o} {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	const labels = `["negative", "positive"]`
	for _, c := range []parityCase{
		{scorer: "accuracy", opts: opts, score: scorefile.Options{Metrics: []string{"accuracy"}}},
		{scorer: "balanced_accuracy", opts: opts, score: scorefile.Options{Metrics: []string{"balanced_accuracy"}}},
		{scorer: "mcc", opts: opts, score: scorefile.Options{Metrics: []string{"mcc"}}},
		{scorer: "cohen_kappa", opts: opts, score: scorefile.Options{Metrics: []string{"cohen_kappa"}}},
		{scorer: "f1", opts: with(Options{"average": "macro"}), score: scorefile.Options{Metrics: []string{"f1"}, Average: "macro", Labels: labels}},
		{scorer: "recall", opts: with(Options{"average": "weighted"}), score: scorefile.Options{Metrics: []string{"recall"}, Average: "weighted", Labels: labels}},
	} {
		checkParity(t, c, inputs, rows)
	}

	// The item whose reference is no label is refused, not scored.
	s, err := New("f1", with(Options{"average": "macro"}))
	if err != nil {
		t.Fatal(err)
	}
	all := labelInputs(items)
	run := runLikeApp(t, s, all)
	if !slices.Equal(run.failed, []int{11}) {
		t.Errorf("failed items %v, want [11] (reference \"unknown\")", run.failed)
	}
}

// A binary average over two labels with no other outputs is scikit-learn's
// binary average, as score computes it.
func TestBinaryParityWithScore(t *testing.T) {
	items := []labelItem{{"yes", "yes"}, {"yes", "no"}, {"no", "yes"}, {"no", "no"}, {"yes", "yes"}, {"no", "no"}, {"no", "yes"}}
	rows := make([]any, len(items))
	for i, it := range items {
		rows[i] = textRow{Prediction: it.out, References: []string{it.ref}}
	}
	for _, m := range []string{"precision", "recall", "f1"} {
		for _, avg := range []string{"auto", "binary"} {
			checkParity(t, parityCase{scorer: m, opts: Options{"labels": []any{"no", "yes"}, "pos_label": "yes", "average": avg},
				score: scorefile.Options{Metrics: []string{m}, Average: "binary", PosLabel: "yes", Labels: `["no", "yes"]`}}, labelInputs(items), rows)
		}
	}
}

// Numeric labels (ratings): outputs match numerically ("4.0" is 4); an output
// outside the labels is the class one above the greatest label.
func TestNumericLabelParityWithScore(t *testing.T) {
	type pair struct {
		Label float64 `json:"label"`
		Pred  float64 `json:"pred"`
	}
	items := []labelItem{
		{"5", "5"}, {"4.0", "5"}, {"3", "4"}, {"4", "4"}, {" 2 ", "3"}, {"3", "3"}, {"1", "1"}, {"2", "1"},
		{"5", "2"}, {"2", "2"}, {"4", "3"}, {"1", "2"},
	}
	withOther := append(slices.Clone(items), labelItem{"five", "5"}, labelItem{"", "3"}, labelItem{"0", "1"})
	build := func(items []labelItem) ([]Input, []any) {
		var rows []any
		for _, it := range items {
			var l, p float64
			fmt.Sscan(it.ref, &l)
			if _, err := fmt.Sscan(it.out, &p); err != nil || p < 1 || p > 5 {
				p = 6
			}
			rows = append(rows, pair{l, p})
		}
		return labelInputs(items), rows
	}
	five := Options{"labels": []any{int64(1), int64(2), int64(3), int64(4), int64(5)}}
	with := func(o Options) Options {
		out := Options{"labels": five["labels"]}
		for k, v := range o {
			out[k] = v
		}
		return out
	}
	in, rows := build(withOther)
	for _, c := range []parityCase{
		{scorer: "accuracy", opts: five, score: scorefile.Options{Metrics: []string{"accuracy"}}},
		{scorer: "balanced_accuracy", opts: five, score: scorefile.Options{Metrics: []string{"balanced_accuracy"}}},
		{scorer: "mcc", opts: five, score: scorefile.Options{Metrics: []string{"mcc"}}},
		{scorer: "cohen_kappa", opts: with(Options{"weights": "quadratic"}), score: scorefile.Options{Metrics: []string{"cohen_kappa"}, KappaWeights: "quadratic"}},
	} {
		checkParity(t, c, in, rows)
	}
	// score refuses a prediction outside --labels, so precision and recall
	// are compared on outputs that are all labels.
	in, rows = build(items)
	for _, avg := range []string{"macro", "micro", "weighted"} {
		for _, m := range []string{"precision", "recall", "f1"} {
			checkParity(t, parityCase{scorer: m, opts: with(Options{"average": avg}), score: scorefile.Options{Metrics: []string{m}, Average: avg, Labels: "[1, 2, 3, 4, 5]"}}, in, rows)
		}
	}
}

func TestRegressionParityWithScore(t *testing.T) {
	type pair struct {
		Label float64 `json:"label"`
		Pred  float64 `json:"pred"`
	}
	items := []labelItem{
		{" 2.5 ", "3"}, {"0", "-0.5"}, {"2", "2.0"}, {"8", "7"}, {"4", "4.5"}, {"1e2", "98.5"}, {"7.", "7"},
		{".5", "0"}, {"+4", "4"}, {"3", "3"}, {"3", "2"}, {"-1.25e-1", "0.1"},
		// Not numbers: the items are refused.
		{"abc", "1"}, {"", "2"}, {"nan", "3"}, {"inf", "4"}, {"0x10", "16"}, {"1,000", "1000"}, {"5", "five"}, {"12 apples", "12"},
	}
	const scorable = 12
	inputs := labelInputs(items)
	var rows []any
	for _, it := range items[:scorable] {
		x, err := parseNumber("reference", it.ref)
		if err != nil {
			t.Fatal(err)
		}
		y, err := parseNumber("output", it.out)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, pair{x, y})
	}
	wantFailed := make([]int, 0, len(items)-scorable)
	for i := scorable; i < len(items); i++ {
		wantFailed = append(wantFailed, i)
	}
	for _, m := range []string{"mae", "mse", "rmse", "r2", "mape", "pearson", "spearman", "kendall"} {
		s, err := New(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		run := runLikeApp(t, s, inputs)
		if !slices.Equal(run.failed, wantFailed) {
			t.Errorf("%s refused %v, want %v", m, run.failed, wantFailed)
		}
		checkParity(t, parityCase{scorer: m, score: scorefile.Options{Metrics: []string{m}}}, inputs[:scorable], rows)
	}
}

// Without AggregateItems, R² and Pearson from the summed statistics agree
// with score to rounding.
func TestRegressionSumsAgree(t *testing.T) {
	inputs := labelInputs([]labelItem{{"2.5", "3"}, {"-0.5", "0"}, {"2", "2"}, {"7", "8"}, {"4.5", "4"}, {"98.5", "100"}})
	for _, m := range []string{"r2", "pearson"} {
		s, _ := New(m, nil)
		cs := s.(CorpusScorer)
		sum := make([]float64, statsLen)
		var items [][]float64
		for _, in := range inputs {
			st, err := cs.Stats(in)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, st)
			for k, v := range st {
				sum[k] += v
			}
		}
		got, want := cs.Aggregate(sum)[m], s.(ItemAggregator).AggregateItems(items)[m]
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: from sums %.17g, from items %.17g", m, got, want)
		}
	}
	s, _ := New("spearman", nil)
	if v := s.(CorpusScorer).Aggregate(make([]float64, statsLen))["spearman"]; !math.IsNaN(v) {
		t.Errorf("spearman from sums = %v, want NaN (it needs AggregateItems)", v)
	}
}

func TestPassAtKParityWithScore(t *testing.T) {
	type counts struct {
		N int `json:"n"`
		C int `json:"c"`
	}
	items := []struct {
		ref     string
		samples []string
	}{
		{"42", []string{"42", "41", "42", "x", "", "42 ", "42"}},
		{"a b", []string{"a  b", "a b", "b a", "a b", "A B"}},
		{"ok", []string{"no", "no", "no", "no", "no", "no"}},
		{"é", []string{"é", "é", "é", "é", "é"}},
		{"short", []string{"short", "short"}}, // fewer samples than k = 5: refused
	}
	var inputs []Input
	var rows []any
	for i, it := range items {
		inputs = append(inputs, Input{Prediction: it.samples[0], Samples: it.samples, References: []string{it.ref}, Gold: -1})
		if i == len(items)-1 {
			continue
		}
		c := 0
		for _, s := range it.samples {
			if s == it.ref {
				c++
			}
		}
		rows = append(rows, counts{len(it.samples), c})
	}
	opts := Options{"k": []any{int64(1), int64(2), int64(5)}, "check": "exact_match", "check_options": map[string]any{"collapse_whitespace": false}}
	s, err := New("pass_at_k", opts)
	if err != nil {
		t.Fatal(err)
	}
	if run := runLikeApp(t, s, inputs); !slices.Equal(run.failed, []int{len(items) - 1}) {
		t.Errorf("refused %v, want the item with 2 samples", run.failed)
	}
	if _, err := s.Score(inputs[len(items)-1]); err == nil || !strings.Contains(err.Error(), "pass@5 needs at least 5 samples") {
		t.Errorf("too few samples: %v", err)
	}
	checkParity(t, parityCase{scorer: "pass_at_k", opts: opts, score: scorefile.Options{Metrics: []string{"pass@1", "pass@2", "pass@5"}}}, inputs[:len(items)-1], rows)
}
