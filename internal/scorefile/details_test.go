package scorefile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
	"github.com/tunecheck/tunecheck/metrics/classification"
)

// TestBLEUCountsMatchSacrebleu checks the BLEU details, corpus and per
// item, against sacrebleu 2.6.0's BLEUScore fields (counts, totals,
// sys_len, ref_len) in the shared parity vectors.
func TestBLEUCountsMatchSacrebleu(t *testing.T) {
	f, err := os.Open(shareddata.Path(t, "parity", "bleu.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type stats struct {
		Counts, Totals []float64
		SysLen         int `json:"sys_len"`
		RefLen         int `json:"ref_len"`
	}
	cases := map[string]Options{
		"bleu/all-rows-default":               {},
		"bleu/all-rows-add-k-effective-false": {Smooth: "add-k", EffectiveOrder: new(bool)},
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	seen := 0
	for sc.Scan() {
		var c struct {
			ID    string
			Input []struct {
				Prediction string
				References []string
			}
			Expected struct {
				Corpus     stats
				PerExample []stats `json:"per_example"`
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		o, ok := cases[c.ID]
		if !ok {
			continue
		}
		seen++
		in := Input{Kind: KindText, File: "bleu.jsonl"}
		for i, row := range c.Input {
			in.Predictions = append(in.Predictions, row.Prediction)
			in.References = append(in.References, row.References)
			in.Lines = append(in.Lines, i+1)
		}
		o.Metrics = []string{"bleu"}
		rep, err := Score(in, o)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		r := rep.Results[0]
		check := func(where string, ds []Detail, want stats) {
			d := func(k string) any {
				for _, x := range ds {
					if x.Key == k {
						return x.Value
					}
				}
				t.Fatalf("%s %s: no %q in details", c.ID, where, k)
				return nil
			}
			if got := d("counts").([]float64); !slices.Equal(got, want.Counts) {
				t.Errorf("%s %s: counts %v, sacrebleu %v", c.ID, where, got, want.Counts)
			}
			if got := d("totals").([]float64); !slices.Equal(got, want.Totals) {
				t.Errorf("%s %s: totals %v, sacrebleu %v", c.ID, where, got, want.Totals)
			}
			if d("sys_len") != want.SysLen || d("ref_len") != want.RefLen {
				t.Errorf("%s %s: sys_len %v ref_len %v, sacrebleu %d %d", c.ID, where, d("sys_len"), d("ref_len"), want.SysLen, want.RefLen)
			}
		}
		check("corpus", r.Details, c.Expected.Corpus)
		if r.ItemDetails == nil {
			t.Fatalf("%s: no per-item details", c.ID)
		}
		for i, want := range c.Expected.PerExample {
			check("row "+in.Pos(i), r.ItemDetails(i), want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(cases) {
		t.Fatalf("found %d of the %d parity cases", seen, len(cases))
	}
}

// TestPerItemDetails checks that every per-item row carries each metric's
// full detail, under "details", beside the unchanged metric columns.
func TestPerItemDetails(t *testing.T) {
	in, err := Load(Sources{Pred: "testdata/text.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Score(in, Options{Metrics: []string{"bleu", "chrf", "ter", "rougeL", "token_f1"}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WritePerItem(&b, rep); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"bleu":   {"precisions", "bp", "ratio", "sys_len", "ref_len", "counts", "totals"},
		"chrf":   {"hyp_ngrams", "ref_ngrams", "matches"},
		"ter":    {"num_edits", "ref_length"},
		"rougeL": {"precision", "recall", "fmeasure"},
	}
	rows := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	if len(rows) != in.Len() {
		t.Fatalf("%d rows, want %d", len(rows), in.Len())
	}
	// Summed over the rows, the per-item BLEU counts and chrF statistics
	// are the corpus ones: that is what makes them worth carrying.
	sumCounts := make([]float64, 4)
	sumMatches := make([]float64, 6)
	for _, line := range rows {
		var row struct {
			Bleu    *float64
			Details map[string]map[string]json.RawMessage
		}
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatal(err)
		}
		if row.Bleu == nil {
			t.Fatalf("row lost its bleu column: %s", line)
		}
		if _, ok := row.Details["token_f1"]; ok {
			t.Errorf("token_f1 has no details but got some: %s", line)
		}
		for m, keys := range want {
			for _, k := range keys {
				if _, ok := row.Details[m][k]; !ok {
					t.Errorf("row lacks details.%s.%s: %s", m, k, line)
				}
			}
		}
		var counts, matches []float64
		json.Unmarshal(row.Details["bleu"]["counts"], &counts)
		json.Unmarshal(row.Details["chrf"]["matches"], &matches)
		for i := range counts {
			sumCounts[i] += counts[i]
		}
		for i := range matches {
			sumMatches[i] += matches[i]
		}
	}
	for _, r := range rep.Results {
		switch r.Metric {
		case "bleu":
			if got := detail(r, "counts").([]float64); !slices.Equal(got, sumCounts) {
				t.Errorf("corpus BLEU counts %v, per-item sum %v", got, sumCounts)
			}
		case "chrf":
			if got := detail(r, "matches").([]float64); !slices.Equal(got, sumMatches) {
				t.Errorf("corpus chrF matches %v, per-item sum %v", got, sumMatches)
			}
		}
	}
}

// TestAutoAverageKeepsLabels: "auto" picks the binary average only when a
// --labels list holds the positive class and no more than two classes, since
// the binary average ignores the list (scikit-learn 1.2.1 does too; the
// values are the "binary data, macro over [0]" and "micro over [0, 1, 5]"
// cases of testdata/sklearn_labels.json, as macro and micro averages).
func TestAutoAverageKeepsLabels(t *testing.T) {
	ints := func(xs ...int) []classification.Label {
		out := make([]classification.Label, len(xs))
		for i, x := range xs {
			out[i] = classification.Int(x)
		}
		return out
	}
	in := Input{Kind: KindLabels, File: "b.jsonl", Lines: []int{1, 2, 3, 4, 5, 6, 7},
		Labels: ints(0, 1, 1, 0, 1, 0, 1), Preds: ints(0, 1, 0, 0, 1, 0, 1)}
	for _, tc := range []struct {
		labels, average string
		want            float64
	}{
		{"", "binary", 1},       // precision of class 1
		{"[0, 1]", "binary", 1}, // the list holds 1 and two classes
		{"[0]", "macro", 0.75},  // precision of class 0, not of 1
		{"[0, 1, 2]", "macro", 0.5833333333333334},
	} {
		rep, err := Score(in, Options{Metrics: []string{"precision"}, Average: "auto", Labels: tc.labels, ZeroDivision: "0"})
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Results[0]
		if got := detail(r, "average"); got != tc.average || !nearly(r.Value, tc.want) {
			t.Errorf("--labels %q: average %v value %v, want %s %v", tc.labels, got, r.Value, tc.average, tc.want)
		}
	}
}
