package scorefile

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/metrics/classification"
	"github.com/tunecheck/tunecheck/metrics/code"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update refreshes it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// goldenCases score every input shape with every format.
var goldenCases = []struct {
	name string
	src  Sources
	opts Options
}{
	{"text", Sources{Pred: "testdata/text.jsonl"}, Options{Metrics: []string{"bleu", "chrf", "chrf++", "ter", "rouge1", "rouge2", "rougeL", "rougeLsum", "token_f1", "squad_em", "squad_f1", "exact_match"}, Confidence: 0.95, Resamples: 200, Seed: 7}},
	{"text-options", Sources{Pred: "testdata/text.jsonl"}, Options{Metrics: []string{"bleu", "rouge1"}, Lowercase: true, Tokenize: "intl", Smooth: "floor", Stem: true}},
	{"text-diversity", Sources{Pred: "testdata/text.jsonl"}, Options{Metrics: []string{"levenshtein", "levenshtein_similarity", "distinct_1", "distinct_2", "self_bleu"}, Confidence: 0.95, Resamples: 100, Seed: 5}},
	{"parallel", Sources{Pred: "testdata/hyp.txt", Refs: []string{"testdata/ref.txt", "testdata/ref2.txt"}}, Options{}},
	{"labels", Sources{Pred: "testdata/labels.jsonl"}, Options{Metrics: []string{"accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "cohen_kappa", "confusion_matrix"}, Confidence: 0.9, Resamples: 200, Seed: 1}},
	{"labels-none", Sources{Pred: "testdata/labels.jsonl"}, Options{Metrics: []string{"f1"}, Average: "none"}},
	{"binary", Sources{Pred: "testdata/binary.jsonl"}, Options{Metrics: []string{"precision", "recall", "f1", "cohen_kappa"}, KappaWeights: "quadratic"}},
	{"scores", Sources{Pred: "testdata/scores.jsonl"}, Options{Metrics: []string{"roc_auc", "average_precision", "brier", "log_loss", "ece", "pearson", "spearman", "kendall"}, Confidence: 0.95, Resamples: 200, Seed: 3}},
	{"probs", Sources{Pred: "testdata/probs.jsonl"}, Options{PosLabel: `"yes"`, Bins: 4}},
	{"probs3", Sources{Pred: "testdata/probs3.jsonl"}, Options{Metrics: []string{"roc_auc", "average_precision", "log_loss"}, MultiClass: "ovo", AUCAverage: "weighted"}},
	{"regression", Sources{Pred: "testdata/regression.jsonl"}, Options{Metrics: []string{"mae", "mse", "rmse", "r2", "mape", "pearson", "spearman", "kendall"}}},
	{"counts", Sources{Pred: "testdata/counts.jsonl"}, Options{K: []int{1, 5, 20}}},
	{"loglik", Sources{Pred: "testdata/loglik.jsonl"}, Options{Metrics: []string{"nll", "nll_bits", "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "doc_perplexity"}}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Load(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Score(in, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct{ format, ext string }{{"table", "txt"}, {"json", "json"}, {"markdown", "md"}} {
				var b bytes.Buffer
				if err := Render(&b, rep, f.format); err != nil {
					t.Fatal(err)
				}
				golden(t, tc.name+"."+f.ext, b.Bytes())
			}
			var b bytes.Buffer
			err = WritePerItem(&b, rep)
			hasPer := false
			for _, r := range rep.Results {
				hasPer = hasPer || r.PerItem != nil
			}
			if hasPer != (err == nil) {
				t.Fatalf("per-item: %v", err)
			}
			if err == nil {
				golden(t, tc.name+".items.jsonl", b.Bytes())
			}
		})
	}
}

// TestValuesMatchLibraries checks that the command reports what the metric
// packages compute (their parity with the references is tested there).
func TestValuesMatchLibraries(t *testing.T) {
	value := func(src Sources, o Options) float64 {
		t.Helper()
		in, err := Load(src)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Score(in, o)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Results[0].Value
	}
	got := value(Sources{Pred: "testdata/scores.jsonl"}, Options{Metrics: []string{"roc_auc"}})
	y := []classification.Label{classification.Int(1), classification.Int(0), classification.Int(1), classification.Int(0), classification.Int(1), classification.Int(0), classification.Int(1), classification.Int(0), classification.Int(0), classification.Int(1)}
	want, err := classification.ROCAUC(y, []float64{0.9, 0.8, 0.7, 0.3, 0.3, 0.2, 0.65, 0.1, 0.45, 0.55}, 0)
	if err != nil || got != want {
		t.Errorf("roc_auc: got %v, want %v (%v)", got, want, err)
	}
	got = value(Sources{Pred: "testdata/counts.jsonl"}, Options{Metrics: []string{"pass@5"}})
	want, _, _ = code.MeanPassAtK([]code.Sample{{N: 10, C: 3}, {N: 10}, {N: 10, C: 10}, {N: 10, C: 2}}, 5)
	if got != want {
		t.Errorf("pass@5: got %v, want %v", got, want)
	}
}

func TestBootstrapIsSeeded(t *testing.T) {
	in, err := Load(Sources{Pred: "testdata/text.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	run := func(seed uint64) Result {
		rep, err := Score(in, Options{Metrics: []string{"chrf"}, Confidence: 0.95, Resamples: 100, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Results[0]
	}
	a, b, c := run(1), run(1), run(2)
	if *a.CI != *b.CI {
		t.Errorf("same seed, different intervals: %v %v", a.CI, b.CI)
	}
	if *a.CI == *c.CI {
		t.Errorf("different seeds, same interval %v", a.CI)
	}
	if !(a.CI.Low <= a.Value && a.Value <= a.CI.High) {
		t.Errorf("value %v outside its interval %v", a.Value, a.CI)
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadInput checks that every bad input is an error naming the file,
// line and field, and what to do.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		refs    []string
		metrics []string
		opts    Options
		want    []string // substrings of the error
	}{
		{"nan probability", "p.jsonl", "{\"label\": 1, \"prob\": 0.5}\n{\"label\": 0, \"prob\": NaN}\n", nil, nil, Options{}, []string{"p.jsonl:2", `"prob"`, "not a finite number"}},
		{"infinite score", "p.jsonl", "{\"label\": 1, \"score\": Infinity}\n", nil, nil, Options{}, []string{"p.jsonl:1", `"score"`, "not a finite number"}},
		{"nan in list", "p.jsonl", "{\"label\": 1, \"prob\": [0.5, NaN]}\n", nil, nil, Options{}, []string{"p.jsonl:1", `"prob[1]"`, "not a finite number"}},
		{"probability above one", "p.jsonl", "{\"label\": 1, \"prob\": 0.2}\n{\"label\": 0, \"prob\": 1.5}\n", nil, nil, Options{}, []string{"p.jsonl:2", `"prob"`, "outside [0, 1]"}},
		{"negative probability in list", "p.jsonl", "{\"label\": 1, \"prob\": [-0.1, 1.1]}\n", nil, nil, Options{}, []string{"p.jsonl:1", `"prob[0]"`, "outside [0, 1]"}},
		{"ragged probability lists", "p.jsonl", "{\"label\": 1, \"prob\": [0.5, 0.5]}\n{\"label\": 0, \"prob\": [0.2, 0.3, 0.5]}\n", nil, nil, Options{}, []string{"p.jsonl:2", "first row has 2"}},
		{"mixed probability forms", "p.jsonl", "{\"label\": 1, \"prob\": 0.5}\n{\"label\": 0, \"prob\": [0.2, 0.8]}\n", nil, nil, Options{}, []string{"p.jsonl:2", "list of probabilities", "single probability"}},
		// precision/recall/f1 accept a subset of the labels (scikit-learn
		// does; TestLabelsMatchSklearn); log_loss needs every label.
		{"label missing from log_loss labels", "p.jsonl", "{\"label\": 0, \"prob\": 0.3}\n{\"label\": 2, \"prob\": 0.6}\n", nil, []string{"log_loss"}, Options{Labels: "[0, 1]"}, []string{"p.jsonl:2", `"label"`, "not in --labels", "log_loss needs every class"}},
		{"several references as a class", "t.jsonl", "{\"prediction\": \"yes\", \"references\": [\"yes\"]}\n{\"prediction\": \"a cat\", \"references\": [\"the cat\", \"a cat\"]}\n", nil, []string{"accuracy"}, Options{}, []string{"t.jsonl:2", `"references"`, "2 references", "accuracy compares the prediction with one true class", "exact_match"}},
		// confusion_matrix([0, 1], [0, 1], labels=[5]) raises in scikit-learn 1.2.1.
		{"confusion matrix labels absent from y_true", "l.jsonl", "{\"label\": 0, \"pred\": 0}\n{\"label\": 1, \"pred\": 1}\n", nil, []string{"confusion_matrix"}, Options{Labels: "[5]"}, []string{"none of the labels (5) occurs in y_true"}},
		{"several references for f1", "t.jsonl", "{\"prediction\": \"yes\", \"references\": [\"yes\", \"y\"]}\n", nil, []string{"f1"}, Options{}, []string{"t.jsonl:1", "f1 compares"}},
		{"empty file", "e.jsonl", "\n\n", nil, nil, Options{}, []string{"e.jsonl", "no rows", "undefined"}},
		{"mixed shapes", "m.jsonl", "{\"label\": 0, \"pred\": 1}\n{\"label\": 0, \"score\": 0.1}\n", nil, nil, Options{}, []string{"m.jsonl:2", "one row shape per file"}},
		{"not json", "x.jsonl", "{\"label\": 0, \"pred\": 1}\nlabel=0\n", nil, nil, Options{}, []string{"x.jsonl:2", "not a JSON object"}},
		{"missing references", "t.jsonl", "{\"prediction\": \"a\"}\n", nil, nil, Options{}, []string{"t.jsonl:1", `"references"`, "at least one reference"}},
		{"unknown metric", "t.jsonl", "{\"prediction\": \"a\", \"references\": [\"a\"]}\n", nil, []string{"blue"}, Options{}, []string{"unknown metric \"blue\"", "bleu"}},
		{"metric for other rows", "t.jsonl", "{\"prediction\": \"a\", \"references\": [\"a\"]}\n", nil, []string{"roc_auc"}, Options{}, []string{"roc_auc needs scores or probs rows", "text rows"}},
		{"one class auc", "s.jsonl", "{\"label\": 0, \"score\": 0.1}\n{\"label\": 0, \"score\": 0.4}\n", nil, []string{"roc_auc"}, Options{}, []string{"only one class", "undefined"}},
		{"string regression", "r.jsonl", "{\"label\": \"a\", \"pred\": \"b\"}\n", nil, []string{"mae"}, Options{}, []string{"r.jsonl:1", `"label"`, "not a number"}},
		{"positive log-likelihood", "l.jsonl", "{\"loglikelihood\": 0.5, \"tokens\": 2}\n", nil, nil, Options{}, []string{"l.jsonl:1", "<= 0"}},
		{"c above n", "c.jsonl", "{\"n\": 3, \"c\": 4}\n", nil, nil, Options{}, []string{"c.jsonl:1", `"c"`, "between 0 and n"}},
		{"bad pass@k", "c.jsonl", "{\"n\": 3, \"c\": 1}\n", nil, []string{"pass@zero"}, Options{}, []string{"pass@K"}},
		{"score outside [0,1] for brier", "s.jsonl", "{\"label\": 1, \"score\": 2.5}\n{\"label\": 0, \"score\": 0.5}\n", nil, []string{"brier"}, Options{}, []string{"s.jsonl:1", `"score"`, "outside [0, 1]"}},
		{"mismatched lengths", "h.txt", "a\nb\nc\n", []string{"two lines\nonly\n"}, []string{"bleu"}, Options{}, []string{"has 2 rows", "has 3", "one reference per prediction"}},
		{"binary average on three classes", "l.jsonl", "{\"label\": 0, \"pred\": 1}\n{\"label\": 2, \"pred\": 1}\n", nil, []string{"f1"}, Options{Average: "binary"}, []string{"at most two classes"}},
		{"bad confidence", "l.jsonl", "{\"label\": 0, \"pred\": 1}\n", nil, []string{"accuracy"}, Options{Confidence: 95}, []string{"between 0 and 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Sources{Pred: write(t, tt.file, tt.content)}
			for i, r := range tt.refs {
				src.Refs = append(src.Refs, write(t, "ref"+string(rune('0'+i))+".txt", r))
			}
			tt.opts.Metrics = tt.metrics
			in, err := Load(src)
			if err == nil {
				_, err = Score(in, tt.opts)
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDiversityWithoutReferences(t *testing.T) {
	in, err := Load(Sources{Pred: write(t, "p.jsonl", "{\"prediction\": \"a b a b\"}\n{\"prediction\": \"a b c\"}\n")})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Score(in, Options{Metrics: []string{"distinct_1", "distinct_2"}})
	if err != nil {
		t.Fatal(err)
	}
	// Unigrams: a b a b a b c -> 3 distinct of 7; bigrams: ab ba ab ab bc -> 3 of 5.
	if rep.Results[0].Value != 3.0/7 || rep.Results[1].Value != 3.0/5 {
		t.Fatalf("got %v and %v", rep.Results[0].Value, rep.Results[1].Value)
	}
	for _, m := range []string{"bleu", "accuracy", "rougeL"} {
		if _, err := Score(in, Options{Metrics: []string{m}}); err == nil || !strings.Contains(err.Error(), "p.jsonl:1") {
			t.Fatalf("%s without references: got %v, want an error naming p.jsonl:1", m, err)
		}
	}
}

func TestParseObject(t *testing.T) {
	tests := []struct {
		line string
		keys []string
	}{
		{`{"a": 1, "b": "x,}", "c": [1, [2, 3]], "d": {"e": "}"}}`, []string{"a", "b", "c", "d"}},
		{`{}`, nil},
		{`  {"k\"ey": 2}  `, []string{`k"ey`}},
		{`{"p": NaN, "q": -Infinity}`, []string{"p", "q"}},
	}
	for _, tt := range tests {
		o, err := parseObject([]byte(tt.line), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		for _, k := range tt.keys {
			if _, ok := o.get(k); !ok {
				t.Errorf("%s: key %q missing", tt.line, k)
			}
		}
		if len(o) != len(tt.keys) {
			t.Errorf("%s: %d members, want %d", tt.line, len(o), len(tt.keys))
		}
	}
	for _, bad := range []string{`[1]`, `{"a": 1`, `{"a" 1}`, `{"a": 1} x`} {
		if _, err := parseObject([]byte(bad), nil); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestJSONFloat(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{{math.NaN(), `"NaN"`}, {math.Inf(1), `"Infinity"`}, {math.Inf(-1), `"-Infinity"`}, {0.1, `0.1`}, {1e21, `1e+21`}} {
		b, _ := jf(tt.v).MarshalJSON()
		if string(b) != tt.want {
			t.Errorf("%v: got %s, want %s", tt.v, b, tt.want)
		}
	}
}

// TestPerItemMeansToValue checks that per-item values of mean metrics
// average to the reported value.
func TestPerItemMeansToValue(t *testing.T) {
	cases := []struct {
		file    string
		metrics []string
	}{
		{"testdata/scores.jsonl", []string{"brier", "log_loss"}},
		{"testdata/probs.jsonl", []string{"brier", "log_loss"}},
		{"testdata/probs3.jsonl", []string{"log_loss"}},
		{"testdata/labels.jsonl", []string{"accuracy"}},
		{"testdata/regression.jsonl", []string{"mae", "mse"}},
		{"testdata/text.jsonl", []string{"token_f1", "rougeL", "levenshtein"}},
	}
	for _, c := range cases {
		in, err := Load(Sources{Pred: c.file})
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Metrics: c.metrics}
		if c.file == "testdata/probs.jsonl" {
			o.PosLabel = `"yes"`
		}
		rep, err := Score(in, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			s := 0.0
			for _, v := range r.PerItem {
				s += v
			}
			if len(r.PerItem) != in.Len() || math.Abs(s/float64(in.Len())-r.Value) > 1e-12 {
				t.Errorf("%s %s: per-item mean %v, value %v", c.file, r.Metric, s/float64(len(r.PerItem)), r.Value)
			}
		}
	}
}

// TestParallelJSONLFields reads predictions and references from JSONL files
// with named fields, and a reference file holding lists.
func TestParallelJSONLFields(t *testing.T) {
	pred := write(t, "out.jsonl", "{\"id\": 1, \"answer\": \"the cat\"}\n\n{\"id\": 2, \"answer\": \"a dog\"}\n")
	ref := write(t, "gold.jsonl", "{\"gold\": [\"the cat\", \"a cat\"]}\n{\"gold\": \"the dog\"}\n")
	in, err := Load(Sources{Pred: pred, Refs: []string{ref}, PredField: "answer", RefField: "gold"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Len() != 2 || in.Lines[1] != 3 || len(in.References[0]) != 2 || in.References[1][0] != "the dog" {
		t.Fatalf("got %+v", in)
	}
	rep, err := Score(in, Options{Metrics: []string{"exact_match"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Results[0].Value != 0.5 {
		t.Fatalf("exact_match %v, want 0.5", rep.Results[0].Value)
	}
	if _, err := Load(Sources{Pred: pred, Refs: []string{ref}, PredField: "missing"}); err == nil || !strings.Contains(err.Error(), "out.jsonl:1") {
		t.Fatalf("missing field: got %v", err)
	}
}
