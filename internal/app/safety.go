package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tunecheck/tunecheck/internal/report"
)

// safetyMetrics are the metrics a safety section gathers: the refusal and
// PII scorers', the classifier stage's and the bias tasks'.
var safetyMetrics = []string{"refusal", "over_refusal", "under_refusal", "pii", "toxicity", "toxic", "max_toxicity", "toxic_any",
	"stereotyped", "likelihood_diff", "bias_disambig", "bias_ambig"}

// safetySection gathers, for every task with a safety metric, the paired
// base→candidate numbers, the gates on them, each slice's groups and the
// worst items by toxicity, so that a reader finds the safety picture in one
// place. It reads only the report: run and compare give the same section.
func safetySection(r *report.Report) (report.Section, bool) {
	var b strings.Builder
	type row struct {
		Task, Metric                          string
		Baseline, Candidate, Delta, Low, High float64
		P                                     float64
		Test                                  string
		N                                     int
	}
	var rows []row
	for _, t := range r.Tasks {
		var ms []string
		for _, m := range t.Metrics {
			if slices.Contains(safetyMetrics, m) {
				ms = append(ms, m)
			}
		}
		if len(ms) == 0 {
			continue
		}
		fmt.Fprintf(&b, "**%s**\n\n", t.Name)
		if t.Comparison != nil {
			b.WriteString("| metric | baseline | candidate | delta [CI] | p (test) | n |\n|---|---|---|---|---|---|\n")
			for _, m := range ms {
				p, ok := t.Comparison.Metrics[m]
				if !ok || p.N == 0 {
					continue
				}
				fmt.Fprintf(&b, "| %s | %.4f | %.4f | %+.4f [%+.4f, %+.4f] | %.3g (%s) | %d |\n", m, p.BaselineMean, p.CandidateMean, p.Delta, p.CI.Low, p.CI.High, p.PValue, p.Test, p.N)
				rows = append(rows, row{t.Name, m, p.BaselineMean, p.CandidateMean, p.Delta, p.CI.Low, p.CI.High, p.PValue, p.Test, p.N})
			}
			b.WriteString("\n")
		} else {
			for _, ms1 := range t.PerModel {
				for _, m := range ms {
					if s, ok := ms1.Metrics[m]; ok && s.N > 0 {
						fmt.Fprintf(&b, "- %s %s: %.4f [%.4f, %.4f], n %d\n", ms1.Model, m, s.Mean, s.CI.Low, s.CI.High, s.N)
					}
				}
			}
			b.WriteString("\n")
		}
		for _, s := range t.Slices {
			for _, m := range ms {
				var lines []string
				moved := false // a table of zeros says nothing: left out
				for _, g := range s.Groups {
					if g.Comparison == nil {
						continue
					}
					if p, ok := g.Comparison.Metrics[m]; ok && p.N > 0 {
						lines = append(lines, fmt.Sprintf("| %s | %d | %.4f | %.4f | %+.4f [%+.4f, %+.4f] |", g.Value, p.N, p.BaselineMean, p.CandidateMean, p.Delta, p.CI.Low, p.CI.High))
						moved = moved || p.BaselineMean != 0 || p.CandidateMean != 0
					}
				}
				if len(lines) < 2 || !moved {
					continue
				}
				fmt.Fprintf(&b, "%s by slice %s:\n\n| group | n | baseline | candidate | delta [CI] |\n|---|---|---|---|---|\n%s\n\n", m, s.Name, strings.Join(lines, "\n"))
			}
		}
		var worst []string
		for _, e := range t.Worst {
			// Ids and scores only: the texts are in the worst items, whole,
			// where --mask-pii masks them before anything clips them.
			if e.Metric == "toxicity" || e.Metric == "toxic" {
				worst = append(worst, fmt.Sprintf("- item %s: %s %.3g → %.3g", e.ID, e.Metric, e.BaselineScore, e.CandidateScore))
			}
		}
		if len(worst) > 0 {
			fmt.Fprintf(&b, "Where the candidate became most toxic (the answers are under the worst items):\n\n%s\n\n", strings.Join(worst, "\n"))
		}
	}
	if len(rows) == 0 && b.Len() == 0 {
		return report.Section{}, false
	}
	var gates []string
	for _, g := range r.Gates {
		if slices.Contains(safetyMetrics, g.Metric) {
			gates = append(gates, fmt.Sprintf("- %s %s — %s", strings.ToUpper(string(g.Status)), g.Expr, g.Reason))
		}
	}
	if len(gates) > 0 {
		b.WriteString("Safety gates:\n\n" + strings.Join(gates, "\n") + "\n")
	}
	data, _ := json.Marshal(rows)
	return report.Section{Title: "Safety", Kind: "safety", Markdown: b.String(), Data: data}, true
}
