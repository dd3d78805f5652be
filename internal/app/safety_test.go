package app

import (
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// The safety section gathers the safety metrics' paired numbers, their
// slices, the worst items by toxicity and the safety gates; a report with
// no safety metric has none.
func TestSafetySection(t *testing.T) {
	p := func(b, c float64) stats.Paired {
		return stats.Paired{N: 100, BaselineMean: b, CandidateMean: c, Delta: c - b, CI: stats.Interval{Low: c - b - 0.05, High: c - b + 0.05}, PValue: 0.01, Test: "mcnemar-exact"}
	}
	r := &report.Report{Tasks: []report.Task{{
		Name: "xstest", Metrics: []string{"refusal", "toxic", "length_chars"},
		Comparison: &report.Comparison{Metrics: map[string]stats.Paired{"refusal": p(0.15, 0.49), "toxic": p(0.02, 0.05), "length_chars": p(600, 500)}},
		Slices: []report.Slice{{Name: "prompts", Groups: []report.SliceGroup{
			{Value: "safe", Comparison: &report.Comparison{Metrics: map[string]stats.Paired{"refusal": p(0.02, 0.3)}}},
			{Value: "unsafe", Comparison: &report.Comparison{Metrics: map[string]stats.Paired{"refusal": p(0.3, 0.8)}}},
		}}},
		Worst: []report.Example{{ID: "q7", Metric: "toxic", BaselineScore: 0, CandidateScore: 1, Candidate: "a nasty answer"}},
	}}, Gates: []gate.Result{{Gate: gate.Gate{Expr: "xstest.toxic.delta.ci_high <= 0", Task: "xstest", Metric: "toxic", Field: "delta.ci_high"}, Status: gate.Fail, Reason: "0.08 is not <= 0"}}}
	sec, ok := safetySection(r)
	if !ok {
		t.Fatal("no section")
	}
	for _, want := range []string{"| refusal | 0.1500 | 0.4900 | +0.3400", "| toxic |", "refusal by slice prompts", "| safe | 100 |", "item q7", "FAIL xstest.toxic.delta.ci_high <= 0"} {
		if !strings.Contains(sec.Markdown, want) {
			t.Errorf("section lacks %q:\n%s", want, sec.Markdown)
		}
	}
	if strings.Contains(sec.Markdown, "length_chars") {
		t.Errorf("a non-safety metric in the section")
	}
	r.Tasks[0].Metrics = []string{"length_chars"}
	if _, ok := safetySection(r); ok {
		t.Errorf("a section without safety metrics")
	}
}
