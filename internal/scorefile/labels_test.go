package scorefile

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/metrics/classification"
)

// TestLabelsMatchSklearn checks precision, recall and F1 with --labels
// against scikit-learn 1.2.1: a subset of the classes, listed classes that
// never occur, every zero_division, and the binary average (which ignores
// the list). testdata/sklearn_labels.json comes from
//
//	/usr/bin/python3 internal/scorefile/testdata/sklearn_labels.py > internal/scorefile/testdata/sklearn_labels.json
//
// with Debian's python3-sklearn 1.2.1.
func TestLabelsMatchSklearn(t *testing.T) {
	raw, err := os.ReadFile("testdata/sklearn_labels.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name         string
			Label, Pred  []json.RawMessage
			Labels       json.RawMessage
			Average      string
			ZeroDivision string          `json:"zero_division"`
			PosLabel     json.RawMessage `json:"pos_label"`
			Precision    *float64
			Recall       *float64
			F1           *float64
			PerClass     map[string][]float64 `json:"per_class"`
			Warns        bool
			Error        string
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			in := Input{Kind: KindLabels, File: "rows.jsonl"}
			for i := range tc.Label {
				l, err := classification.ParseLabel(tc.Label[i])
				if err != nil {
					t.Fatal(err)
				}
				p, err := classification.ParseLabel(tc.Pred[i])
				if err != nil {
					t.Fatal(err)
				}
				in.Labels, in.Preds, in.Lines = append(in.Labels, l), append(in.Preds, p), append(in.Lines, i+1)
			}
			o := Options{Metrics: []string{"precision", "recall", "f1"}, Average: tc.Average, Labels: string(tc.Labels), ZeroDivision: tc.ZeroDivision}
			if tc.PosLabel != nil {
				o.PosLabel = string(tc.PosLabel)
			}
			rep, err := Score(in, o)
			if tc.Error != "" {
				if err == nil {
					t.Fatalf("no error; scikit-learn raises %q", tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v; scikit-learn gives precision %v recall %v f1 %v", err, tc.Precision, tc.Recall, tc.F1)
			}
			for i, want := range []*float64{tc.Precision, tc.Recall, tc.F1} {
				r := rep.Results[i]
				if tc.PerClass != nil {
					got, _ := detail(r, "per_class").([]float64)
					w := tc.PerClass[r.Metric]
					if len(got) != len(w) {
						t.Fatalf("%s per class %v, scikit-learn %v", r.Metric, got, w)
					}
					for k := range w {
						if !nearly(got[k], w[k]) {
							t.Errorf("%s per class %v, scikit-learn %v", r.Metric, got, w)
						}
					}
				} else if !nearly(r.Value, *want) {
					t.Errorf("%s = %v, scikit-learn %v", r.Metric, r.Value, *want)
				}
				if warned := len(r.Warnings) > 0; warned != tc.Warns {
					t.Errorf("%s warnings %q, scikit-learn warns: %v", r.Metric, r.Warnings, tc.Warns)
				}
			}
		})
	}
}

func nearly(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func detail(r Result, key string) any {
	for _, d := range r.Details {
		if d.Key == key {
			return d.Value
		}
	}
	return nil
}

// log_loss alone needs every class of the rows in --labels (its probability
// columns); the error names the row.
func TestLogLossNeedsEveryLabel(t *testing.T) {
	in := Input{Kind: KindProbs, File: "p.jsonl", Lines: []int{1, 2, 4},
		Labels: []classification.Label{classification.Int(0), classification.Int(1), classification.Int(2)},
		Scores: []float64{0.2, 0.7, 0.6}}
	_, err := Score(in, Options{Metrics: []string{"log_loss"}, Labels: "[0, 1]"})
	if err == nil || !strings.Contains(err.Error(), "p.jsonl:4: field \"label\": 2 is not in --labels") {
		t.Fatalf("error %v, want one naming p.jsonl:4", err)
	}
}

// Text rows are classes only when each has one reference naming the class:
// short answers score as scikit-learn would score the strings, free text
// gets a warning (it used to give a silent, near-0 accuracy), and rows with
// several references are an error (TestBadInput).
func TestTextRowsAsClasses(t *testing.T) {
	text := func(pairs ...string) Input {
		in := Input{Kind: KindText, File: "t.jsonl"}
		for i := 0; i < len(pairs); i += 2 {
			in.Predictions = append(in.Predictions, pairs[i])
			in.References = append(in.References, []string{pairs[i+1]})
			in.Lines = append(in.Lines, i/2+1)
		}
		return in
	}
	tests := []struct {
		name string
		in   Input
		want float64
		warn string
	}{
		{"class names", text("pos", "pos", "neg", "pos", "neg", "neg", "pos", "neg", "neg", "neg"), 0.6, ""},
		{"free text", text(
			"The cat sat on the mat.", "The cat is sitting on the mat.",
			"Paris", "Paris",
			"It rained all day", "Rain fell for the whole day.",
			"He left early", "He went home before noon."), 0.25, "4 distinct references"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Score(tt.in, Options{Metrics: []string{"accuracy"}})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if r.Value != tt.want {
				t.Errorf("accuracy %v, want %v", r.Value, tt.want)
			}
			got := strings.Join(r.Warnings, "; ")
			if tt.warn == "" && got != "" || !strings.Contains(got, tt.warn) {
				t.Errorf("warnings %q, want %q", got, tt.warn)
			}
		})
	}
}
