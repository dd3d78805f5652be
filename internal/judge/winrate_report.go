package judge

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WinRateFormats are the renderings WriteWinRates knows.
var WinRateFormats = []string{"text", "md", "json"}

// WriteWinRates renders win-rate results in format (text, md or json).
func WriteWinRates(w io.Writer, rs []WinRateResult, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	case "md":
		return writeWinRateMarkdown(w, rs)
	case "text":
		return writeWinRateText(w, rs)
	}
	return fmt.Errorf("format %q: use %s", format, strings.Join(WinRateFormats, ", "))
}

func winRateBaselines(rs []WinRateResult) string {
	var bs []string
	for _, r := range rs {
		if !slices.Contains(bs, r.Baseline) {
			bs = append(bs, r.Baseline)
		}
	}
	return strings.Join(bs, ", ")
}

func writeWinRateText(w io.Writer, rs []WinRateResult) error {
	fmt.Fprintf(w, "win rates against %s (soft preferences from the judge's logprobs)\n\n", winRateBaselines(rs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\twin rate\tSE\tLC win rate\tLC SE\tdiscrete\twins\tbase wins\tdraws\ttotal\tavg length\tbaseline length")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t%d\t%d\n",
			r.Model, r.WinRate, r.StandardError, r.LengthControlledWinRate, r.LCStandardError, r.DiscreteWinRate,
			r.NWins, r.NWinsBase, r.NDraws, r.NTotal, r.AvgLength, r.AvgLengthBaseline)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := winRateNoVerdictLines(w, rs); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nLC win rate: logit P(model preferred) = a + b·tanh(Δlen/SD(Δlen)), predicted at Δlen = 0 (docs/judge.md)")
	return err
}

func writeWinRateMarkdown(w io.Writer, rs []WinRateResult) error {
	fmt.Fprintf(w, "Win rates against `%s`, from the judge's soft preferences.\n\n", winRateBaselines(rs))
	fmt.Fprintln(w, "| model | win rate | LC win rate | discrete win rate | wins / base wins / draws | avg length | baseline length | length slope |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		slope := "–"
		if r.LC != nil {
			slope = fmt.Sprintf("%.2f ± %.2f", r.LC.Slope, r.LC.SlopeSE)
		}
		fmt.Fprintf(w, "| %s | %.2f ± %.2f | %.2f ± %.2f | %.2f | %d / %d / %d | %d | %d | %s |\n",
			r.Model, r.WinRate, r.StandardError, r.LengthControlledWinRate, r.LCStandardError, r.DiscreteWinRate,
			r.NWins, r.NWinsBase, r.NDraws, r.AvgLength, r.AvgLengthBaseline, slope)
	}
	if err := winRateNoVerdictLines(w, rs); err != nil {
		return err
	}
	_, err := fmt.Fprint(w, "\n± is one standard error. LC win rate: a logistic regression of the preference on "+
		"tanh(Δlen/SD(Δlen)), Δlen = baseline − model length in characters, predicted at Δlen = 0; "+
		"the length slope is its coefficient (negative: the judge prefers the longer output).\n")
	return err
}

func winRateNoVerdictLines(w io.Writer, rs []WinRateResult) error {
	for _, r := range rs {
		if r.NoVerdict > 0 {
			if _, err := fmt.Fprintf(w, "%s: %d judgments without a verdict token among the top logprobs, left out\n", r.Model, r.NoVerdict); err != nil {
				return err
			}
		}
	}
	return nil
}
