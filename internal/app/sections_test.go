package app

import (
	"bytes"

	"context"
	"github.com/tunecheck/tunecheck/internal/report"
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
	kinds := map[string]report.Section{}
	for _, s := range res.Report.Sections {
		titles[s.Title] = s.Markdown
		kinds[s.Kind] = s
	}
	if md := titles["Training curves"]; !strings.Contains(md, "overfitting") {
		t.Errorf("training curves section:\n%s", md)
	}
	// Structured findings travel with the section, and the plot is inline
	// for the HTML report, which then needs no file beside it.
	curves := kinds["training_curves"]
	if !strings.Contains(string(curves.Data), `"verdict"`) || !strings.HasPrefix(curves.SVG, "<?xml") || curves.SVGFile != "training-curves.svg" {
		t.Errorf("training curves section carries no data or plot: data %.80s svg %.40q file %q", curves.Data, curves.SVG, curves.SVGFile)
	}
	if len(kinds["leakage"].Data) == 0 || len(kinds["memorisation"].Data) == 0 {
		t.Error("leakage and memorisation sections carry no structured data")
	}
	var page bytes.Buffer
	if err := report.HTML(&page, res.Report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `src="data:image/svg&#43;xml;base64,`) || strings.Contains(page.String(), `src="training-curves.svg"`) {
		i := strings.Index(page.String(), "<img")
		t.Errorf("the HTML report does not embed the training plot: %.200s", page.String()[max(i, 0):])
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
