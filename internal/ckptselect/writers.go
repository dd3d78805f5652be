package ckptselect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/report"
)

// JSON writes the report as indented JSON with the field names of Report
// (schema tunecheck.ckptselect/v1, documented in docs/continuous.md).
func JSON(w io.Writer, r Report) error {
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// term makes data safe for a terminal: escape sequences and control
// characters dropped (report.PlainText), line breaks folded to spaces.
func term(s string) string {
	return strings.NewReplacer("\n", " ", "\t", " ").Replace(report.PlainText(s))
}

// lossCell writes a matched loss, with the step it comes from when that is
// not the row's own.
func lossCell(l *LossAt, step int64) string {
	switch {
	case l == nil:
		return "—"
	case l.Step != step:
		return fmt.Sprintf("%s @%d", num(l.Value), l.Step)
	}
	return num(l.Value)
}

func ciCell(mean float64, lo, hi float64) string {
	return fmt.Sprintf("%s [%s, %s]", num(mean), num(lo), num(hi))
}

func pct(c float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", 100*c), ".0") + "%" }

// headline, logLine, pickLines, diffLine and stopLines are the sentences
// the text and Markdown writers share; esc makes data safe for the medium.
func headline(r Report, esc func(string) string) string {
	return fmt.Sprintf("checkpoint choice by %s (%s is better), %s intervals", esc(r.Metric), dirWord(r.HigherIsBetter), pct(r.Confidence))
}

func logLine(r Report, esc func(string) string) string {
	if r.Log == nil {
		return "trainer log: none found"
	}
	keys := []string{}
	if r.Log.TrainKey != "" {
		keys = append(keys, "train loss from “"+esc(r.Log.TrainKey)+"”")
	}
	if r.Log.EvalKey != "" {
		keys = append(keys, "eval loss from “"+esc(r.Log.EvalKey)+"”")
	}
	if len(keys) == 0 {
		keys = append(keys, "no loss series")
	}
	return fmt.Sprintf("trainer log: %s (%s): %s; each loss is the value logged at the step or, marked @STEP, the nearest logged step before it",
		esc(r.Log.Path), esc(r.Log.Format), strings.Join(keys, ", "))
}

func pickLines(r Report, esc func(string) string) []string {
	m := r.BestByMetric
	out := []string{fmt.Sprintf("best by %s: step %d (run %s): %s%s", esc(r.Metric), m.Step, esc(m.RunID), ciCell(m.Mean, m.CI.Low, m.CI.High), ckpt(m, esc))}
	if l := r.BestByEvalLoss; l != nil {
		out = append(out, fmt.Sprintf("best by eval loss: step %d (run %s): eval loss %s, %s %s%s", l.Step, esc(l.RunID), lossCell(l.EvalLoss, l.Step), esc(r.Metric), ciCell(l.Mean, l.CI.Low, l.CI.High), ckpt(*l, esc)))
	} else {
		out = append(out, "best by eval loss: none (no eval loss at or before any evaluated step)")
	}
	return out
}

func ckpt(p Pick, esc func(string) string) string {
	if p.Checkpoint == "" {
		return ""
	}
	return " · " + esc(p.Checkpoint)
}

func diffLine(r Report) string {
	switch {
	case r.SamePick:
		return "difference: none; both pick the same checkpoint"
	case r.Difference == nil:
		return "difference: not measured (no eval-loss pick)"
	}
	d := r.Difference
	p := d.Paired
	if p.N == 0 {
		return fmt.Sprintf("difference (step %d − step %d): no common scored item", d.From, d.Against)
	}
	return fmt.Sprintf("difference (step %d − step %d): %s [%s, %s] on %d paired items, p %.4g (%s), MDE %s: %s",
		d.From, d.Against, signed(p.Delta), signed(p.CI.Low), signed(p.CI.High), p.N, p.PValue, p.Test, num(p.MDE), betterWord(d.Better))
}

func betterWord(b string) string {
	switch b {
	case "better":
		return "the metric's pick is better"
	case "worse":
		return "the metric's pick is worse"
	}
	return "not distinguishable"
}

func replayLine(name string, rp curves.Replay) string {
	if rp.Stopped {
		return fmt.Sprintf("on %s: stops at step %d, best step by then %d (%s)", name, rp.StopStep, rp.BestStep, num(float64(rp.BestValue)))
	}
	return fmt.Sprintf("on %s: never stops, best step %d (%s)", name, rp.BestStep, num(float64(rp.BestValue)))
}

func stopLines(r Report, esc func(string) string) []string {
	es := r.EarlyStop
	out := []string{fmt.Sprintf("early stopping (EarlyStoppingCallback rule, patience %d in evaluations, min delta %v):", es.Patience, es.MinDelta),
		replayLine(esc(r.Metric), es.Metric)}
	if es.EvalLoss != nil {
		out = append(out, replayLine("eval loss", *es.EvalLoss))
	}
	return out
}

// Text writes the report for a terminal: a table per step and the picks.
func Text(w io.Writer, r Report) error {
	var b bytes.Buffer
	fmt.Fprintln(&b, headline(r, term))
	fmt.Fprintln(&b, logLine(r, term))
	fmt.Fprintln(&b)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "step\trun\t%s [CI]\tn\tfailed\ttrain loss\teval loss\tpick\n", term(r.Metric))
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", row.Step, term(row.RunID), ciCell(row.Mean, row.CI.Low, row.CI.High), row.N, row.Failed,
			lossCell(row.TrainLoss, row.Step), lossCell(row.EvalLoss, row.Step), pickMark(r, row.Step))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(&b)
	for _, l := range pickLines(r, term) {
		fmt.Fprintln(&b, l)
	}
	fmt.Fprintln(&b, diffLine(r))
	for i, l := range stopLines(r, term) {
		if i > 0 {
			l = "  " + l
		}
		fmt.Fprintln(&b, l)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(&b, "warnings:")
		for _, wr := range r.Warnings {
			fmt.Fprintf(&b, "  - %s\n", term(wr))
		}
	}
	// tabwriter pads the last column too; trailing blanks are noise.
	lines := strings.Split(b.String(), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

func pickMark(r Report, step int64) string {
	var m []string
	if r.BestByMetric.Step == step {
		m = append(m, "metric")
	}
	if r.BestByEvalLoss != nil && r.BestByEvalLoss.Step == step {
		m = append(m, "eval loss")
	}
	return strings.Join(m, ", ")
}

// md makes data safe for Markdown text and table cells: plain text with the
// characters that start markup or end a cell escaped.
func md(s string) string {
	return mdEscaper.Replace(term(s))
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "#", `\#`)

// Markdown writes the report as a Markdown section.
func Markdown(w io.Writer, r Report) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", headline(r, md), logLine(r, md))
	fmt.Fprintf(&b, "| step | run | %s [CI] | n | failed | train loss | eval loss | pick |\n|---:|---|---|---:|---:|---:|---:|---|\n", md(r.Metric))
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %d | %s | %s | %s |\n", row.Step, md(row.RunID), ciCell(row.Mean, row.CI.Low, row.CI.High), row.N, row.Failed,
			lossCell(row.TrainLoss, row.Step), lossCell(row.EvalLoss, row.Step), pickMark(r, row.Step))
	}
	fmt.Fprintln(&b)
	for _, l := range pickLines(r, md) {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintf(&b, "- %s\n", diffLine(r))
	for i, l := range stopLines(r, md) {
		if i > 0 {
			fmt.Fprintf(&b, "  - %s\n", l)
		} else {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "\n**Warnings**\n\n")
		for _, wr := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", md(wr))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}
