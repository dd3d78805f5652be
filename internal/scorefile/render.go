package scorefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/metrics/classification"
)

// Formats lists the report formats Render accepts.
var Formats = []string{"table", "json", "markdown"}

// Render writes the report in format: "table" (aligned text), "json" or
// "markdown".
func Render(w io.Writer, rep Report, format string) error {
	switch format {
	case "", "table":
		return renderTable(w, rep, false)
	case "markdown", "md":
		return renderTable(w, rep, true)
	case "json":
		return renderJSON(w, rep)
	}
	return fmt.Errorf("unknown format %q: use table, json or markdown", format)
}

// num formats a value for tables: up to 4 decimals, NaN spelled out.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func renderTable(w io.Writer, rep Report, md bool) error {
	head := []string{"metric", "value"}
	if rep.Confidence > 0 {
		head = append(head, fmt.Sprintf("%g%% CI", rep.Confidence*100))
	}
	head = append(head, "n", "notes")
	rows := [][]string{head}
	for _, r := range rep.Results {
		row := []string{r.Metric, num(r.Value)}
		if rep.Confidence > 0 {
			ci := "-"
			if r.CI != nil {
				ci = "[" + num(r.CI.Low) + ", " + num(r.CI.High) + "]"
			}
			row = append(row, ci)
		}
		row = append(row, strconv.Itoa(rep.Rows), strings.Join(notes(r), "; "))
		rows = append(rows, row)
	}
	var b bytes.Buffer
	if md {
		for i, row := range rows {
			b.WriteString("| " + strings.Join(escapeMD(row), " | ") + " |\n")
			if i == 0 {
				seps := make([]string, len(row))
				for j := range seps {
					seps[j] = "---"
					if j > 0 && j < len(row)-1 {
						seps[j] = "---:"
					}
				}
				b.WriteString("|" + strings.Join(seps, "|") + "|\n")
			}
		}
	} else {
		widths := make([]int, len(head))
		for _, row := range rows {
			for j, cell := range row {
				widths[j] = max(widths[j], len([]rune(cell)))
			}
		}
		for _, row := range rows {
			var line strings.Builder
			for j, cell := range row {
				if j > 0 {
					line.WriteString("  ")
				}
				pad := strings.Repeat(" ", widths[j]-len([]rune(cell)))
				if j > 0 && j < len(row)-1 {
					line.WriteString(pad + cell)
				} else {
					line.WriteString(cell + pad)
				}
			}
			b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
		}
	}
	if rep.Confidence > 0 {
		fmt.Fprintf(&b, "\nCI: percentile bootstrap, %d resamples of the rows, seed %d.\n", rep.Resamples, rep.Seed)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func escapeMD(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return out
}

// notes are the short extras shown in the table: signatures, averaging, and
// warnings.
func notes(r Result) []string {
	var out []string
	var labels []string
	for _, d := range r.Details {
		switch d.Key {
		case "signature", "average", "pos_label", "weights", "bins", "strategy", "max_fpr", "multi_class":
			out = append(out, fmt.Sprintf("%s=%v", d.Key, d.Value))
		case "adjusted":
			if d.Value == true {
				out = append(out, "adjusted")
			}
		case "labels":
			labels = labelStrings(d.Value)
			if r.Metric == "confusion_matrix" {
				out = append(out, "rows=true, columns=predicted: "+strings.Join(labels, " "))
			}
		case "matrix":
			out = append(out, fmt.Sprint(d.Value))
		case "per_class":
			per := d.Value.([]float64)
			cells := make([]string, len(per))
			for i, v := range per {
				cells[i] = num(v)
				if i < len(labels) {
					cells[i] = labels[i] + "=" + cells[i]
				}
			}
			out = append(out, "per class: "+strings.Join(cells, " "))
		}
	}
	for _, w := range r.Warnings {
		out = append(out, "warning: "+w)
	}
	return out
}

// jf is a float that writes NaN and infinities as strings (JSON has no
// literal for them), as the parity files do.
type jf float64

func (f jf) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// jsonValue converts detail values so that floats inside survive NaN.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		return jf(x)
	case []float64:
		out := make([]jf, len(x))
		for i, f := range x {
			out[i] = jf(f)
		}
		return out
	}
	return v
}

// orderedObject marshals its members in the given order.
type orderedObject []Detail

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, d := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(d.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(jsonValue(d.Value))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Key, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func renderJSON(w io.Writer, rep Report) error {
	metrics := make([]orderedObject, 0, len(rep.Results))
	for _, r := range rep.Results {
		m := orderedObject{{"metric", r.Metric}, {"value", r.Value}}
		if r.CI != nil {
			m = append(m, Detail{"ci", orderedObject{{"low", r.CI.Low}, {"high", r.CI.High}}})
		}
		if len(r.Details) > 0 {
			m = append(m, Detail{"details", orderedObject(r.Details)})
		}
		if len(r.Warnings) > 0 {
			m = append(m, Detail{"warnings", r.Warnings})
		}
		metrics = append(metrics, m)
	}
	doc := orderedObject{{"kind", string(rep.Kind)}, {"rows", rep.Rows}}
	if rep.Confidence > 0 {
		doc = append(doc, Detail{"bootstrap", orderedObject{{"confidence", rep.Confidence}, {"resamples", rep.Resamples}, {"seed", rep.Seed}}})
	}
	doc = append(doc, Detail{"metrics", metrics})
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	_, err = w.Write(out)
	return err
}

// WritePerItem writes one JSON object per input row: its file position,
// every per-item value the metrics have (corpus-only metrics such as
// ROC-AUC have none) and, under "details", each metric's per-row details.
func WritePerItem(w io.Writer, rep Report) error {
	var cols []Result
	for _, r := range rep.Results {
		if r.PerItem != nil {
			cols = append(cols, r)
		}
	}
	if len(cols) == 0 {
		return fmt.Errorf("none of the metrics has per-item values (roc_auc, f1, r2 and the like exist only for the whole set); drop --per-item or add a metric such as accuracy")
	}
	var b bytes.Buffer
	for i, line := range rep.Input.Lines {
		o := orderedObject{{"row", i + 1}, {"line", line}}
		var details orderedObject
		for _, c := range cols {
			o = append(o, Detail{c.Metric, c.PerItem[i]})
			if c.ItemDetails != nil {
				details = append(details, Detail{c.Metric, orderedObject(c.ItemDetails(i))})
			}
		}
		if details != nil {
			// Each metric's full per-row detail (BLEU counts and totals,
			// TER edits, ROUGE precision and recall, ...), under one key so
			// the metric columns above keep their names.
			o = append(o, Detail{"details", details})
		}
		line, err := json.Marshal(o)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
		if b.Len() > 1<<16 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func labelStrings(v any) []string {
	ls, ok := v.([]classification.Label)
	if !ok {
		return nil
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.String()
	}
	return out
}
