package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/report"
)

// summaryReport is a compared run with n long worst examples.
func summaryReport(n int) *report.Report {
	r := &report.Report{
		Schema: report.Schema, ToolVersion: "test", Plan: report.PlanInfo{Name: "ci", Hash: "0123456789abcdef"},
		Bootstrap: report.BootstrapInfo{Resamples: 100, Confidence: 0.95},
		Compare:   &report.CompareInfo{Baseline: "base", Candidate: "tuned"},
		Verdict:   gate.Pass,
		Warnings:  []string{"a warning"},
		Tasks:     []report.Task{{Name: "qa", Type: "generate", Items: n, Metrics: []string{"token_f1"}, Primary: "token_f1"}},
	}
	long := strings.Repeat("lorem ipsum ", 300)
	for i := range n {
		r.Tasks[0].Worst = append(r.Tasks[0].Worst, report.Example{Kind: "worst", ID: fmt.Sprint(i), Metric: "token_f1",
			Prompt: long, References: []string{long}, Baseline: long, Candidate: long, BaselineScore: 1})
	}
	return r
}

// With GITHUB_STEP_SUMMARY set, WriteReports appends report.md to that file
// (creating it when missing), within GitHub's limit, after what other
// steps wrote.
func TestWriteReportsStepSummary(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary", "step_summary.md")
	if err := os.MkdirAll(filepath.Dir(summary), 0o755); err != nil {
		t.Fatal(err)
	}
	stepSummary := summary

	// Missing: created.
	if _, err := WriteReports(filepath.Join(dir, "a"), summaryReport(1), []string{"json"}, stepSummary); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("step summary not created: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "a", "results.json"))
	if err != nil || len(md) == 0 {
		t.Fatalf("results.json not written: %v", err)
	}
	if !strings.HasPrefix(string(first), "# ci\n\n**Verdict: PASS**") || !strings.Contains(string(first), "a warning") {
		t.Fatalf("step summary:\n%s", first)
	}

	// Present: appended after a blank line, the earlier content kept; a
	// 2,000-example report is cut to the limit.
	if err := os.WriteFile(summary, []byte("## lint\n\nok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteReports(filepath.Join(dir, "b"), summaryReport(2000), []string{"md"}, stepSummary); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	added, ok := strings.CutPrefix(string(got), "## lint\n\nok\n\n")
	if !ok || !strings.HasPrefix(added, "# ci\n") {
		t.Fatalf("not appended after the earlier content:\n%.300s", got)
	}
	if n := report.Length(added); n > report.GitHubLimit {
		t.Errorf("step summary adds %d characters, over GitHub's %d", n, report.GitHubLimit)
	}
	if !strings.Contains(added, "examples left out to fit GitHub's 65,536-character limit") {
		t.Errorf("no note of what was left out in:\n%.1000s", added)
	}
	// report.md is the same document.
	file, err := os.ReadFile(filepath.Join(dir, "b", "report.md"))
	if err != nil || string(file) != added {
		t.Errorf("report.md differs from the step summary (%v)", err)
	}
}

// Without GITHUB_STEP_SUMMARY nothing else is written; with an unwritable
// one WriteReports says which file it could not write.
func TestWriteReportsNoStepSummary(t *testing.T) {
	dir := t.TempDir()
	stepSummary := ""
	files, err := WriteReports(filepath.Join(dir, "out"), summaryReport(1), []string{"md"}, stepSummary)
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, err %v", files, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("wrote %d entries beside the output directory", len(entries))
	}

	bad := filepath.Join(dir, "missing-dir", "summary.md")
	stepSummary = bad
	if _, err := WriteReports(filepath.Join(dir, "out"), summaryReport(1), []string{"md"}, stepSummary); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY="+bad) {
		t.Errorf("err = %v, want one naming the step summary file", err)
	}
}
