package curves

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Mapping names the columns (CSV) or fields (JSONL) of a generic log. Empty
// fields are detected from the usual names.
type Mapping struct {
	Step  string `json:"step,omitempty"`
	Train string `json:"train,omitempty"`
	Eval  string `json:"eval,omitempty"`
}

// csvStepKeys lists, per CSV flavour, the step columns in order of preference.
var csvStepKeys = map[string][]string{
	FormatLightningCSV: {"step"},
	FormatKerasCSV:     {"epoch"},
	FormatOpenAICSV:    {"step"},
	FormatWandbCSV:     {"train/global_step", "trainer/global_step", "global_step", "_step", "step"},
	FormatCSV:          {"step", "global_step", "train/global_step", "trainer/global_step", "_step", "iteration", "iter", "epoch"},
}

// readCSV reads a CSV (or TSV) logger file. Empty cells are missing values, as
// Lightning writes train and validation metrics on separate sparse rows.
// W&B chart exports name columns "<run> - <metric>" with __MIN/__MAX
// companions; the run prefix is dropped and the companions ignored.
func readCSV(path, format string, m Mapping) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if dec, ok := decodeBase64CSV(data); ok {
		data = dec
	}
	r := csv.NewReader(bytes.NewReader(data))
	if strings.HasSuffix(strings.ToLower(path), ".tsv") {
		r.Comma = '\t'
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: cannot read the CSV header: %w", path, err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = csvColumnName(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	keys := csvStepKeys[format]
	if m.Step != "" {
		keys = []string{m.Step}
	}
	stepCol := -1
	for _, k := range keys {
		for i, c := range cols {
			if strings.EqualFold(c, k) {
				stepCol = i
				break
			}
		}
		if stepCol >= 0 {
			break
		}
	}
	if stepCol < 0 && m.Step != "" {
		return nil, fmt.Errorf("%s:1: no column %q for the step (columns: %s)", path, m.Step, strings.Join(cols, ", "))
	}
	run := &Run{Path: path, Format: format}
	b := newSeriesBuilder()
	line, bad := 1, 0
	vals := make(map[string]float64, len(cols))
	for {
		rec, err := r.Read()
		line++
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad++
			if bad <= 5 {
				run.Damage = append(run.Damage, fmt.Sprintf("%s:%d: skipped an unreadable row: %v", path, line, err))
			}
			continue
		}
		step := int64(line - 1)
		if stepCol >= 0 {
			if stepCol >= len(rec) {
				continue
			}
			s, err := strconv.ParseFloat(strings.TrimSpace(rec[stepCol]), 64)
			if err != nil || !finite(s) {
				continue
			}
			step = int64(math.Round(s))
		}
		clear(vals)
		for i, cell := range rec {
			if i >= len(cols) || i == stepCol || cols[i] == "" {
				continue
			}
			cell = strings.TrimSpace(cell)
			if cell == "" {
				continue
			}
			v, err := parseCSVFloat(cell)
			if err != nil {
				continue
			}
			vals[cols[i]] = v
		}
		if len(vals) > 0 {
			b.row(step, vals)
		}
	}
	if bad > 5 {
		run.Damage = append(run.Damage, fmt.Sprintf("%s: %d more unreadable rows skipped", path, bad-5))
	}
	run.Series = b.series
	run.Restarts = b.restarts
	return run, nil
}

// csvColumnName normalises a W&B chart-export header; other headers pass.
func csvColumnName(h string) string {
	if strings.HasSuffix(h, "__MIN") || strings.HasSuffix(h, "__MAX") {
		return ""
	}
	if i := strings.LastIndex(h, " - "); i >= 0 {
		return strings.TrimSpace(h[i+3:])
	}
	return h
}

// parseCSVFloat accepts Python's and pandas' spellings of non-finite values.
func parseCSVFloat(s string) (float64, error) {
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), nil
	case "inf", "infinity", "+inf":
		return math.Inf(1), nil
	case "-inf", "-infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// decodeBase64CSV recognises an OpenAI fine-tuning results file saved as the
// Files API returns it, base64-encoded, and decodes it.
func decodeBase64CSV(data []byte) ([]byte, bool) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) < 8 || bytes.ContainsAny(trimmed[:min(len(trimmed), 256)], ",\t ") {
		return nil, false
	}
	dec, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(trimmed), nil)))
	if err != nil {
		return nil, false
	}
	line, _, _ := bytes.Cut(dec, []byte("\n"))
	if !bytes.Contains(line, []byte(",")) {
		return nil, false
	}
	return dec, true
}
