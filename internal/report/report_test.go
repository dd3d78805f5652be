package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fixture() *Report {
	paired := stats.Paired{N: 28, BaselineMean: 0.21, CandidateMean: 0.34, Delta: 0.13, CI: stats.Interval{Low: 0.05, High: 0.2}, CIBCa: stats.Interval{Low: 0.06, High: 0.21},
		Test: "wilcoxon-exact", PValue: 0.002, PAdjusted: 0.004, Wins: 18, Ties: 3, Losses: 7, Effect: &stats.Effect{Name: "cohen_dz", Value: 0.62}, MDE: 0.071}
	flat := stats.Paired{N: 28, BaselineMean: 0.5, CandidateMean: 0.48, Delta: -0.02, CI: stats.Interval{Low: -0.09, High: 0.05}, CIBCa: stats.Interval{Low: -0.1, High: 0.05},
		Test: "mcnemar-exact", PValue: 0.6, PAdjusted: 0.6, Wins: 9, Ties: 8, Losses: 11, Effect: &stats.Effect{Name: "odds_ratio", Value: 0.82, CI: &stats.Interval{Low: 0.31, High: 2.2}}, MDE: 0.19}
	// A slice's groups: Spanish items lost ground, English gained.
	en := stats.Paired{N: 18, Delta: 0.2, CI: stats.Interval{Low: 0.11, High: 0.29}, Test: "wilcoxon-exact", PValue: 0.001, PAdjusted: 0.001}
	es := stats.Paired{N: 10, Delta: -0.05, CI: stats.Interval{Low: -0.14, High: 0.03}, Test: "wilcoxon-exact", PValue: 0.4, PAdjusted: 0.4}
	group := func(value string, items int, mean float64, p stats.Paired) SliceGroup {
		return SliceGroup{Value: value, Items: items,
			PerModel:   []ModelScore{{Model: "tuned", Items: items, Scored: items, Metrics: map[string]stats.Summary{"token_f1": {N: items, Mean: mean, CI: stats.Interval{Low: mean - 0.06, High: mean + 0.06}}}}},
			Comparison: &Comparison{Baseline: "base", Candidate: "tuned", Pairs: p.N, Metrics: map[string]stats.Paired{"token_f1": p}}}
	}
	r := &Report{
		Schema: Schema, ToolVersion: "test", Plan: PlanInfo{Name: "quickstart", Hash: "0123456789abcdef0123456789abcdef"},
		Seed: 1234, Bootstrap: BootstrapInfo{Resamples: 1000, Confidence: 0.95},
		Compare: &CompareInfo{Baseline: "base", Candidate: "tuned"},
		Models: []Model{
			{Name: "base", Provider: "file", Requests: 30, Failed: 2, LatencyP50MS: 0, LatencyP95MS: 0},
			{Name: "tuned", Provider: "openai", Model: "my-lora", Requests: 30, PromptTokens: 1200, CompletionTokens: 3400, LatencyP50MS: 812, LatencyP95MS: 2310},
		},
		Tasks: []Task{{
			Name: "qa", Type: "generate", Items: 30, Metrics: []string{"token_f1", "exact_match"}, Primary: "token_f1",
			Dataset: Dataset{Path: "qa.jsonl", Fingerprint: "sha256:abcdef0123456789abcdef", Rows: 30, Total: 80, Selection: "first 30"},
			PerModel: []ModelScore{
				{Model: "base", Scored: 28, Failed: 2, Metrics: map[string]stats.Summary{"token_f1": {N: 28, Mean: 0.21, CI: stats.Interval{Low: 0.15, High: 0.27}}, "exact_match": {N: 28, Mean: 0.5, CI: stats.Interval{Low: 0.32, High: 0.68}}},
					Errors: []ErrorCount{{Message: "HTTP 500: upstream | overloaded", Count: 2, Items: []string{"7", "9"}}}},
				{Model: "tuned", Scored: 30, Metrics: map[string]stats.Summary{"token_f1": {N: 30, Mean: 0.34, CI: stats.Interval{Low: 0.29, High: 0.4}}, "exact_match": {N: 30, Mean: 0.48, CI: stats.Interval{Low: 0.3, High: 0.66}}}},
			},
			Comparison: &Comparison{Baseline: "base", Candidate: "tuned", Pairs: 28, Excluded: 2, Metrics: map[string]stats.Paired{"token_f1": paired, "exact_match": flat}},
			Worst:      []Example{{ID: "12", Prompt: "Solve x+1=2.\nShow work.", References: []string{"x = 1"}, Baseline: "x = 1", Candidate: "x is 3 | maybe", Metric: "token_f1", BaselineScore: 1, CandidateScore: 0}},
			Flipped: []Example{
				{Kind: "regressed", ID: "4", Prompt: "Capital of France?", References: []string{"Paris", "paris"}, Baseline: "Paris", Candidate: "```\nLyon\n```", Metric: "exact_match", BaselineScore: 1},
				{Kind: "fixed", ID: "21", Prompt: "2+2?", References: []string{"4"}, Baseline: "", Candidate: "4", Metric: "exact_match", CandidateScore: 1},
			},
			Slices: []Slice{{Name: "language", By: "field language",
				Groups:    []SliceGroup{group("en", 20, 0.41, en), group("es", 10, 0.2, es)},
				Disparity: map[string]Disparity{"token_f1": {Worst: "es", Best: "en", Gap: 0.21, Ratio: 0.4878, MinDeltaGroup: "es", MinDelta: &es, DeltaGap: 0.25}},
			}},
			Records: []Record{
				{ID: "4", Outcomes: map[string]Outcome{"base": {Status: StatusOK, Scores: map[string]float64{"token_f1": 1, "exact_match": 1}}, "tuned": {Status: StatusOK, Scores: map[string]float64{"token_f1": 0, "exact_match": 0}}}},
				{ID: "7", Outcomes: map[string]Outcome{"base": {Status: StatusFailed, Error: "HTTP 500: upstream | overloaded"}, "tuned": {Status: StatusOK, Scores: map[string]float64{"token_f1": 0.5, "exact_match": 0}}}},
				{ID: "9", Outcomes: map[string]Outcome{"base": {Status: StatusFailed, Error: "HTTP 500: upstream | overloaded"}, "tuned": {Status: StatusEmpty}}},
			},
		}},
		Warnings: []string{"gate qa.exact_match.delta >= 0: the eval set detects a delta of ±0.19 at best (MDE); a smaller regression passes unseen"},
		Sections: []Section{{Title: "Training curves", Markdown: "verdict: healthy\n"}},
	}
	for _, e := range []string{"qa.token_f1.delta >= 0", "qa.exact_match.delta >= 0", "qa.exact_match.delta.ci_low >= -0.05"} {
		g, err := gate.Parse(e)
		if err != nil {
			panic(err)
		}
		r.Gates = append(r.Gates, gate.Check(g, r.Lookup))
	}
	r.Verdict = gate.Verdict(r.Gates)
	return r
}

func TestRenderersGolden(t *testing.T) {
	r := fixture()
	for name, render := range Renderers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := render(&buf, r); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report."+name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from %s; run go test ./internal/report -update and review the diff", name, golden)
			}
			var again bytes.Buffer
			_ = render(&again, r)
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("rendering twice gives different bytes")
			}
		})
	}
}

func TestGatesFromReport(t *testing.T) {
	r := fixture()
	want := []gate.Status{gate.Pass, gate.Inconclusive, gate.Fail}
	for i, g := range r.Gates {
		if g.Status != want[i] {
			t.Errorf("%s: %s (%s), want %s", g.Expr, g.Status, g.Reason, want[i])
		}
	}
	if r.Verdict != gate.Fail {
		t.Errorf("verdict %s", r.Verdict)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	r, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	_ = JSON(&again, r)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("results.json does not round-trip")
	}
	if _, err := Decode([]byte(`{"schema":"other/v9"}`)); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Fatalf("want schema error, got %v", err)
	}
}

// A run stored before pipeline v2 (results v1, the quickstart as it was)
// still decodes and renders, so history survives the upgrade.
func TestDecodeV1(t *testing.T) {
	data, err := os.ReadFile("testdata/results.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Terminal(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "token_f1") || !strings.Contains(b.String(), "verdict: PASS") {
		t.Fatalf("v1 report renders as:\n%s", b.String())
	}
	if _, err := Decode([]byte(`{"schema": "tunecheck.results/v9"}`)); err == nil {
		t.Fatal("an unknown schema must be refused")
	}
}

// results.json writes records one a line and reads back to the same report.
func TestJSONRecordsOneALine(t *testing.T) {
	r := fixture()
	r.Tasks = append(r.Tasks, r.Tasks[0])
	r.Tasks[1].Name = "second"
	r.Tasks[0].Records = []Record{
		{ID: "1", Outcomes: map[string]Outcome{"base": {Status: StatusOK, Scores: map[string]float64{"bleu": 1}, Stats: map[string][]float64{"bleu": {1, 2}}}}},
		{ID: "x\n</script>", Outcomes: map[string]Outcome{"base": {Status: StatusEmpty}}},
	}
	r.Tasks[1].Records = []Record{{ID: "only", Outcomes: map[string]Outcome{"tuned": {Status: StatusFailed, Error: "HTTP 500"}}}}
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b.Bytes()) {
		t.Fatalf("not JSON:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "\n        {\"id\":\"1\",\"outcomes\":{\"base\":{\"status\":\"ok\",\"scores\":{\"bleu\":1},\"stats\":{\"bleu\":[1,2]}}}},\n") {
		t.Fatalf("records are not one a line:\n%s", b.String())
	}
	back, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Tasks, r.Tasks) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back.Tasks, r.Tasks)
	}
}

// A gate that could not be decided is an error in JUnit, never a pass.
func TestJUnitErrorGate(t *testing.T) {
	r := fixture()
	r.Gates = []gate.Result{{Gate: gate.Gate{Expr: "qa.token_f1.value >= 0.5", Task: "qa"}, Status: gate.Error, Reason: "no scored items: 30 of 30 failed"}}
	var b bytes.Buffer
	if err := JUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `errors="1"`) || !strings.Contains(b.String(), `<error message="no scored items: 30 of 30 failed">`) {
		t.Fatalf("junit:\n%s", b.String())
	}
}
