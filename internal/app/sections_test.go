package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// A plan with `training` gets training-curve, leakage and memorisation
// sections, computed from real files: the LLaMA-Factory log of shared/data and
// a training set with three eval questions planted verbatim, one edited, and
// an 80-word span of one of the candidate's answers.
func TestTrainingSections(t *testing.T) {
	shareddata.Dir(t)
	out := t.TempDir()
	res, err := Run(context.Background(), Options{PlanPath: filepath.Join("testdata", "training", "plan.yaml"), StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: out, ToolVersion: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	for _, s := range res.Report.Sections {
		titles[s.Title] = s.Markdown
	}
	if md := titles["Training curves"]; !strings.Contains(md, "overfitting") || !strings.Contains(md, "training-curves.svg") {
		t.Errorf("training curves section:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(out, "training-curves.svg")); err != nil {
		t.Errorf("plot not written: %v", err)
	}
	leak := titles["Leakage"]
	for _, id := range []string{"101", "102", "103"} {
		if !strings.Contains(leak, id) {
			t.Errorf("leakage section does not name planted item %s:\n%s", id, leak)
		}
	}
	if memo := titles["Memorisation"]; !strings.Contains(memo, "flagged") && !strings.Contains(memo, "Flagged") {
		t.Errorf("memorisation section:\n%s", memo)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"## Training curves", "## Leakage", "## Memorisation"} {
		if !strings.Contains(string(md), h) {
			t.Errorf("report.md lacks %q", h)
		}
	}
}
