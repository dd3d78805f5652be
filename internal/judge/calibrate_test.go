package judge

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// calibrateExpected is testdata/calibrate_expected.json, written by
// testdata/calibrate_gen.py with sklearn, scipy and statsmodels.
type calibrateExpected struct {
	HHH map[string]struct {
		Pairs           int     `json:"pairs"`
		Agreement       float64 `json:"agreement"`
		AgreementNoTies float64 `json:"agreement_without_ties"`
		PairsNoTies     int     `json:"pairs_without_ties"`
		Kappa           float64 `json:"cohen_kappa"`
	} `json:"hhh"`
	Scores struct {
		Pairs          int     `json:"pairs"`
		Agreement      float64 `json:"agreement"`
		Kappa          float64 `json:"cohen_kappa"`
		KappaQuadratic float64 `json:"cohen_kappa_quadratic"`
		Spearman       float64 `json:"spearman"`
		Kendall        float64 `json:"kendall_tau_b"`
		MeanAbsDiff    float64 `json:"mean_abs_diff"`
		RetestAllAgree int     `json:"retest_all_agree"`
		RetestFleiss   float64 `json:"retest_fleiss_kappa"`
	} `json:"scores"`
	MTBench calibratePrometheus `json:"mt_bench_eval"`
	Vicuna  calibratePrometheus `json:"vicuna_eval"`
}

type calibratePrometheus struct {
	Items    int     `json:"items"`
	AllAgree int     `json:"all_agree"`
	Fleiss   float64 `json:"fleiss_kappa"`
}

func readCalibrateExpected(t *testing.T) calibrateExpected {
	t.Helper()
	b, err := os.ReadFile("testdata/calibrate_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e calibrateExpected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func calibrateClose(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-12 {
		t.Errorf("%s = %v, reference %.17g", what, calibrationFmt(got), want)
	}
}

// TestCalibratePrometheusRetest: the three GPT-4 samples per item of
// Prometheus' MT-Bench and Vicuna sets agree exactly on 141/320 and 199/320
// items (mt_bench's figure is the one its SOURCE.md states), and Fleiss' kappa
// across samples equals statsmodels'.
func TestCalibratePrometheusRetest(t *testing.T) {
	e := readCalibrateExpected(t)
	for _, c := range []struct {
		file string
		want calibratePrometheus
	}{{"mt_bench_eval.json", e.MTBench}, {"vicuna_eval.json", e.Vicuna}} {
		t.Run(c.file, func(t *testing.T) {
			js, ls, err := CalibrationFromPrometheus(shareddata.Path(t, "prometheus", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if ls != nil {
				t.Fatalf("%d labels from a judgments file", len(ls))
			}
			rs, err := Calibrate(js, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || rs[0].Retest == nil || rs[0].Human != nil {
				t.Fatalf("reports %+v", rs)
			}
			r := rs[0].Retest
			if rs[0].Items != c.want.Items || r.Items != c.want.Items || r.AllAgree != c.want.AllAgree || r.Samples != 3 {
				t.Errorf("items %d, retest items %d, all agree %d, samples %d; want %d items, %d agree, 3 samples",
					rs[0].Items, r.Items, r.AllAgree, r.Samples, c.want.Items, c.want.AllAgree)
			}
			calibrateClose(t, "Fleiss' kappa", r.FleissKappa, c.want.Fleiss)
			// Nominal alpha and Fleiss' kappa differ only by alpha's small-sample correction.
			if r.AlphaNominal == nil || math.Abs(*r.AlphaNominal-c.want.Fleiss) > 0.01 {
				t.Errorf("nominal alpha %v, Fleiss %v", calibrationFmt(r.AlphaNominal), c.want.Fleiss)
			}
			if r.AlphaInterval == nil || *r.AlphaInterval < *r.AlphaNominal {
				t.Errorf("interval alpha %v should exceed nominal %v on a 1-5 scale", calibrationFmt(r.AlphaInterval), calibrationFmt(r.AlphaNominal))
			}
		})
	}
}

// TestCalibrateHHHVerdicts: the two model-free judges of
// testdata/calibrate_hhh_verdicts.jsonl against the human preferences of
// hhh_alignment_eval.json; "always-A" has kappa 0 (pure position bias).
func TestCalibrateHHHVerdicts(t *testing.T) {
	e := readCalibrateExpected(t)
	_, ls, err := CalibrationFromPrometheus(shareddata.Path(t, "prometheus", "hhh_alignment_eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 221 {
		t.Fatalf("%d labels, want 221", len(ls))
	}
	js, err := ReadCalibrationJudgments("testdata/calibrate_hhh_verdicts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Calibrate(js, ls)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d reports, want 2", len(rs))
	}
	for _, r := range rs {
		want, ok := e.HHH[r.Judge]
		if !ok {
			t.Fatalf("judge %q", r.Judge)
		}
		h := r.Human
		if h.Pairs != want.Pairs || h.PairsNoTies != want.PairsNoTies || h.Unjudged != 221-40 || h.Unlabelled != 0 {
			t.Errorf("%s: pairs %d, without ties %d, unjudged %d, unlabelled %d", r.Judge, h.Pairs, h.PairsNoTies, h.Unjudged, h.Unlabelled)
		}
		calibrateClose(t, r.Judge+" agreement", h.Agreement, want.Agreement)
		calibrateClose(t, r.Judge+" agreement without ties", h.AgreementNoTies, want.AgreementNoTies)
		calibrateClose(t, r.Judge+" kappa", h.Kappa, want.Kappa)
		if r.Retest != nil {
			t.Errorf("%s: test-retest from one sample per item", r.Judge)
		}
		total := 0
		for _, row := range h.Confusion.Counts {
			for _, n := range row {
				total += n
			}
		}
		if total != h.Pairs {
			t.Errorf("%s: confusion sums to %d, pairs %d", r.Judge, total, h.Pairs)
		}
	}
	if got := rs[1].Human.Confusion.Counts; got[0][0] != 20 || got[1][0] != 20 || got[0][1] != 0 {
		t.Errorf("always-A confusion %v, want A→A 20, B→A 20", got)
	}
}

// TestCalibrateScores: a 1-10 judge graded twice against two annotators, with
// sklearn's and scipy's figures for the same (label, first sample) pairs.
func TestCalibrateScores(t *testing.T) {
	e := readCalibrateExpected(t).Scores
	js, err := ReadCalibrationJudgments("testdata/calibrate_scores_judgments.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	ls, err := ReadCalibrationLabels("testdata/calibrate_scores_labels.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Calibrate(js, ls)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Judge != "judge-x" || rs[0].Kind != "score" {
		t.Fatalf("reports %+v", rs)
	}
	h := rs[0].Human
	if h.Pairs != e.Pairs || h.Annotators != 2 || h.HumanItems != 15 || h.HumanAlpha == nil {
		t.Errorf("pairs %d annotators %d human items %d", h.Pairs, h.Annotators, h.HumanItems)
	}
	calibrateClose(t, "agreement", h.Agreement, e.Agreement)
	calibrateClose(t, "kappa", h.Kappa, e.Kappa)
	calibrateClose(t, "quadratic kappa", h.KappaQuadratic, e.KappaQuadratic)
	calibrateClose(t, "spearman", h.Spearman, e.Spearman)
	calibrateClose(t, "kendall", h.Kendall, e.Kendall)
	calibrateClose(t, "mean abs diff", h.MeanAbsDiff, e.MeanAbsDiff)
	r := rs[0].Retest
	if r == nil || r.AllAgree != e.RetestAllAgree || r.Items != 30 || r.Samples != 2 {
		t.Fatalf("retest %+v, want %d of 30 agreeing", r, e.RetestAllAgree)
	}
	calibrateClose(t, "retest Fleiss", r.FleissKappa, e.RetestFleiss)
	var buf bytes.Buffer
	for _, f := range CalibrationFormats {
		buf.Reset()
		if err := WriteCalibration(&buf, rs, f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "judge-x") {
			t.Errorf("%s output has no judge name:\n%s", f, buf.String())
		}
	}
}

// TestCalibrationBadInput: errors name the file, the line and the field.
func TestCalibrationBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, body, want string
		labels           bool
	}{
		{"no id", `{"score": 3}`, `line 1: no "id"`, false},
		{"bad id", "\n{\"id\": 1.5, \"score\": 3}", `line 2: field "id": want a non-empty string or an integer, got 1.5`, false},
		{"score string", `{"id": "a", "score": "7"}`, `line 1: field "score": want a number, got "7"`, false},
		{"bad choice", `{"id": "a", "choice": "C"}`, `line 1: field "choice": want "A", "B" or "tie", got "C"`, false},
		{"both", `{"id": "a", "choice": "A", "score": 1}`, `both "score" and "choice"`, false},
		{"neither", `{"id": "a"}`, `no "score"`, false},
		{"duplicate sample", "{\"id\": \"a\", \"score\": 1, \"sample\": 0}\n{\"id\": \"a\", \"score\": 2, \"sample\": 0}", `line 2: item "a" sample 0 of judge "" is already on line 1`, false},
		{"bad sample", `{"id": "a", "score": 1, "sample": "x"}`, `field "sample": want an integer`, false},
		{"not json", `{"id": `, `line 1: not a JSON object`, false},
		{"empty", "\n\n", `no lines`, false},
		{"judge not string", `{"id": "a", "score": 1, "judge": 3}`, `field "judge": want a string, got 3`, false},
		{"label missing", `{"id": "a", "annotator": "x"}`, `line 1: no "label"`, true},
		{"label bool", `{"id": "a", "label": true}`, `line 1: field "label": want a number or "A", "B" or "tie", got true`, true},
		{"annotator number", `{"id": "a", "label": 1, "annotator": 2}`, `field "annotator": want a string`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".jsonl")
			if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			if c.labels {
				_, err = ReadCalibrationLabels(p)
			} else {
				_, err = ReadCalibrationJudgments(p)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %v, want %q naming %s", err, c.want, p)
			}
		})
	}
}

func TestCalibrateKindMismatch(t *testing.T) {
	js := []CalibrationJudgment{{ID: "a", Value: CalibrationValue{Score: 3, IsScore: true}, Line: 1}}
	ls := []CalibrationLabel{{ID: "a", Value: CalibrationValue{Choice: "A"}, Line: 4}}
	if _, err := Calibrate(js, ls); err == nil || !strings.Contains(err.Error(), "labels line 4: label A is a choice, but the judgments are scores") {
		t.Errorf("error %v", err)
	}
	js = append(js, CalibrationJudgment{ID: "b", Value: CalibrationValue{Choice: "B"}, Line: 2})
	if _, err := Calibrate(js, nil); err == nil || !strings.Contains(err.Error(), "judgments line 2") {
		t.Errorf("error %v", err)
	}
}

// FuzzCalibrationReaders: any bytes give judgments and labels or an error
// naming the file; never a panic, never a value of the wrong kind.
func FuzzCalibrationReaders(f *testing.F) {
	for _, s := range []string{
		`{"id": "q1", "score": 7}`,
		`{"id": 3, "choice": "tie", "judge": "j", "sample": 2}`,
		`{"id": "q1", "label": "A", "annotator": "x"}`,
		"{\"id\": \"a\", \"score\": 1}\n{\"id\": \"a\", \"score\": 2}\n",
		`{"id": null, "score": 1e400}`,
		`[1, 2]`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.jsonl")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		js, err := ReadCalibrationJudgments(p)
		if err != nil && !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name the file", err)
		}
		for _, j := range js {
			if j.ID == "" || (!j.Value.IsScore && !slices.Contains(calibrationChoices, j.Value.Choice)) {
				t.Errorf("judgment %+v", j)
			}
		}
		if err == nil {
			if _, err := Calibrate(js, nil); err != nil && !strings.Contains(err.Error(), "line") {
				t.Errorf("calibrate error %q names no line", err)
			}
		}
		ls, err := ReadCalibrationLabels(p)
		if err != nil && !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name the file", err)
		}
		for _, l := range ls {
			if l.ID == "" || (!l.Value.IsScore && !slices.Contains(calibrationChoices, l.Value.Choice)) {
				t.Errorf("label %+v", l)
			}
		}
	})
}
