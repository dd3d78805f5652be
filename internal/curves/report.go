package curves

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// num formats a loss or metric value with five significant digits, enough
// to tell evaluations apart without printing float noise.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 5, 64) }

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// Headline is the verdict in a few words, e.g. "overfitting since step 4500".
func (a *Analysis) Headline() string {
	if a.Verdict == VerdictOverfitting || a.Verdict == VerdictDiverged {
		return fmt.Sprintf("%s since %s", a.Verdict, a.at(a.Since))
	}
	return a.Verdict
}

// WriteText writes the terminal summary of every run.
func WriteText(w io.Writer, as []Analysis) error {
	ew := &errWriter{w: w}
	if len(as) > 1 {
		width := len("run")
		for _, a := range as {
			width = max(width, len(a.Name))
		}
		ew.printf("%-*s  %-32s  %s\n", width, "run", "verdict", "best eval loss")
		for _, a := range as {
			best := "-"
			if a.BestEval != nil {
				best = fmt.Sprintf("%s at %s", num(a.BestEval.Value), a.at(a.BestEval.Step))
			}
			ew.printf("%-*s  %-32s  %s\n", width, a.Name, a.Headline(), best)
		}
		ew.printf("\n")
	}
	for i, a := range as {
		if i > 0 {
			ew.printf("\n")
		}
		writeRunText(ew, &a)
	}
	return ew.err
}

func writeRunText(ew *errWriter, a *Analysis) {
	ew.printf("%s  (%s, %ss %d-%d, %d train / %d eval points)\n", a.Name, a.Format, a.StepUnit, a.FirstStep, a.LastStep, len(a.Train), len(a.Eval))
	row := func(label, format string, args ...any) {
		ew.printf("  %-12s %s\n", label, fmt.Sprintf(format, args...))
	}
	row("verdict", "%s", a.Headline())
	row("why", "%s", a.Reason)
	if b := a.BestEval; b != nil {
		ck := ""
		if b.Checkpoint != "" {
			ck = " -> " + b.Checkpoint
		}
		row("best eval", "%s at %s%s", num(b.Value), a.at(b.Step), ck)
	}
	if len(a.Gap) > 1 {
		g0, gl := a.Gap[0], a.Gap[len(a.Gap)-1]
		mid := ""
		if b := a.BestEval; b != nil && b.Step != g0.Step && b.Step != gl.Step {
			for _, g := range a.Gap {
				if g.Step == b.Step {
					mid = fmt.Sprintf(", %s at the minimum (%s)", num(g.Gap), a.at(g.Step))
				}
			}
		}
		row("gap", "eval - smoothed train: %s at %s%s, %s at %s", num(g0.Gap), a.at(g0.Step), mid, num(gl.Gap), a.at(gl.Step))
	}
	for i, m := range a.Metrics {
		label := ""
		if i == 0 {
			label = "metrics"
		}
		dir := "lower is better"
		if m.GreaterIsBetter {
			dir = "higher is better"
		}
		row(label, "%s best %s at %s, last %s (%s)", m.Name, num(m.Value), a.at(m.Step), num(m.Last), dir)
	}
	if es := a.EarlyStopping; es != nil {
		row("early stop", "%s", replayLine(a, "Hugging Face", fmt.Sprintf("patience %d, threshold %s", es.Patience, num(es.Threshold)), es.HF))
		kargs := fmt.Sprintf("patience %d, min_delta %s, restore_best_weights=%t", es.Patience, num(es.Threshold), es.RestoreBestWeights)
		if es.StartFromEpoch > 0 {
			kargs += fmt.Sprintf(", start_from_epoch=%d", es.StartFromEpoch)
		}
		row("", "%s", replayLine(a, "Keras", kargs, es.Keras))
		if es.Metric != a.EvalKey {
			row("", "replayed on %s (greater is better: %t)", es.Metric, es.GreaterIsBetter)
		}
	}
	if in := a.Instability; len(in.Spikes) > 0 {
		row("instability", "%d train-loss spikes, at steps %s", len(in.Spikes), stepList(in.Spikes))
	}
	if len(a.Restarts) > 0 {
		row("restarts", "the log goes back to %s %s (a resumed run; later values kept)", a.StepUnit, stepList(a.Restarts))
	}
	for i, d := range a.Damage {
		label := ""
		if i == 0 {
			label = "damage"
		}
		row(label, "%s", d)
	}
	for i, n := range a.Notes {
		label := ""
		if i == 0 {
			label = "note"
		}
		row(label, "%s", n)
	}
}

func replayLine(a *Analysis, rule, args string, r Replay) string {
	if !r.Stopped {
		return fmt.Sprintf("%s (%s): would not stop; best %s", rule, args, a.at(r.BestStep))
	}
	kept := a.at(r.KeptStep)
	if r.KeptCheckpoint != "" {
		kept = r.KeptCheckpoint
	}
	saved := pct(r.SavedFraction)
	if r.SavedSeconds > 0 {
		saved += fmt.Sprintf(", about %s of %s", duration(r.SavedSeconds), duration(a.TrainSeconds))
	}
	return fmt.Sprintf("%s (%s): stops at %s, keeps %s, saves %d %ss (%s)%s", rule, args, a.at(r.StopStep), kept, r.SavedSteps, a.StepUnit, saved, stopCost(a, r))
}

// stopCost says what stopping early costs in eval loss: the best eval loss
// seen by the stop against the run's best.
func stopCost(a *Analysis, r Replay) string {
	if !r.Stopped || a.BestEval == nil || r.EvalLossByStop == 0 && r.EvalLossCost == 0 {
		return ""
	}
	var s string
	if r.EvalLossCost <= 0 {
		s = fmt.Sprintf(", at no eval-loss cost (the run's best, %s at %s, was reached by the stop)", num(a.BestEval.Value), a.at(a.BestEval.Step))
	} else {
		s = fmt.Sprintf(", costing +%s eval loss (best %s by the stop vs the run's best %s at %s)", num(r.EvalLossCost), num(float64(r.EvalLossByStop)), num(a.BestEval.Value), a.at(a.BestEval.Step))
	}
	if k := float64(r.KeptEvalLoss); k != 0 && k > float64(r.EvalLossByStop) {
		// Keras without restore_best_weights, or a min_delta that held an
		// earlier best: the weights kept are not the best seen.
		s += fmt.Sprintf("; the %s it keeps has %s", a.at(r.KeptStep), num(k))
	}
	return s
}

// stepList prints up to eight steps, then how many more.
func stepList(steps []int64) string {
	parts := make([]string, 0, 9)
	for i, s := range steps {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(steps)-8))
			break
		}
		parts = append(parts, strconv.FormatInt(s, 10))
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes every analysis, points included, as one JSON document.
func WriteJSON(w io.Writer, as []Analysis) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Runs []jsonAnalysis `json:"runs"`
	}{Runs: toJSON(as)})
}

// jsonAnalysis replaces non-finite floats, which JSON cannot carry, by null.
type jsonAnalysis struct {
	Analysis
	Train         []jsonPoint `json:"train"`
	TrainSmoothed []jsonPoint `json:"train_smoothed"`
	Eval          []jsonPoint `json:"eval"`
}

type jsonPoint struct {
	Step  int64    `json:"step"`
	Value *float64 `json:"value"`
}

func toJSON(as []Analysis) []jsonAnalysis {
	out := make([]jsonAnalysis, len(as))
	conv := func(ps []Point) []jsonPoint {
		js := make([]jsonPoint, len(ps))
		for i, p := range ps {
			js[i].Step = p.Step
			if finite(p.Value) {
				v := p.Value
				js[i].Value = &v
			}
		}
		return js
	}
	for i, a := range as {
		out[i] = jsonAnalysis{Analysis: a, Train: conv(a.Train), TrainSmoothed: conv(a.TrainSmoothed), Eval: conv(a.Eval)}
	}
	return out
}

// MarkdownTitle is the heading a report gives the WriteMarkdown section.
const MarkdownTitle = "Training curves"

// WriteMarkdown writes the body of the MarkdownTitle section of a run report
// (the caller writes the "##" heading): a table of verdicts, then each run's
// details under "###" headings. plotPath, when not empty, is linked as an
// image; pass it relative to the report.
func WriteMarkdown(w io.Writer, as []Analysis, plotPath string) error {
	ew := &errWriter{w: w}
	if plotPath != "" {
		ew.printf("![Train and eval loss](%s)\n\n", plotPath)
	}
	ew.printf("| run | verdict | best eval loss | early stop (HF) |\n|---|---|---|---|\n")
	for _, a := range as {
		best, stop := "-", "-"
		if a.BestEval != nil {
			best = fmt.Sprintf("%s at %s", num(a.BestEval.Value), a.at(a.BestEval.Step))
		}
		if es := a.EarlyStopping; es != nil {
			if es.HF.Stopped {
				stop = fmt.Sprintf("%s %d, keeps %d, saves %s (patience %d)", a.StepUnit, es.HF.StopStep, es.HF.KeptStep, pct(es.HF.SavedFraction), es.Patience)
				if a.BestEval != nil && es.HF.EvalLossCost > 0 {
					stop += fmt.Sprintf(", costs +%s eval loss", num(es.HF.EvalLossCost))
				} else if a.BestEval != nil {
					stop += ", no eval-loss cost"
				}
			} else {
				stop = fmt.Sprintf("would not stop (patience %d)", es.Patience)
			}
		}
		ew.printf("| %s | **%s** | %s | %s |\n", mdEscape(a.Name), a.Headline(), best, stop)
	}
	for _, a := range as {
		ew.printf("\n### %s\n\n", mdEscape(a.Name))
		ew.printf("%s: %s.\n", capitalize(a.Headline()), mdEscape(a.Reason))
		if b := a.BestEval; b != nil && b.Checkpoint != "" {
			ew.printf("\nBest checkpoint: `%s`.\n", b.Checkpoint)
		}
		var extra []string
		for _, m := range a.Metrics {
			extra = append(extra, fmt.Sprintf("- %s: best %s at %s, last %s", mdEscape(m.Name), num(m.Value), a.at(m.Step), num(m.Last)))
		}
		if in := a.Instability; len(in.Spikes) > 0 {
			extra = append(extra, fmt.Sprintf("- train-loss spikes at steps %s", stepList(in.Spikes)))
		}
		for _, d := range a.Damage {
			extra = append(extra, "- damage: "+mdEscape(d))
		}
		for _, n := range a.Notes {
			extra = append(extra, "- note: "+mdEscape(n))
		}
		if len(extra) > 0 {
			ew.printf("\n%s\n", strings.Join(extra, "\n"))
		}
	}
	return ew.err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`).Replace(s)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// errWriter keeps the first write error so report code reads straight.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

// duration prints seconds as "3h05m", "41m", "52s".
func duration(sec float64) string {
	d := int64(math.Round(sec))
	switch {
	case d >= 3600:
		return fmt.Sprintf("%dh%02dm", d/3600, d%3600/60)
	case d >= 60:
		return fmt.Sprintf("%dm", d/60)
	}
	return fmt.Sprintf("%ds", d)
}
