package scorefile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/metrics/classification"
	"github.com/tunecheck/tunecheck/metrics/lm"
)

// Kind is the shape of the input rows, which decides the metrics that apply.
type Kind string

// The row shapes.
const (
	// KindText rows carry a prediction and one or more references.
	KindText Kind = "text"
	// KindLabels rows carry a true label and a predicted label.
	KindLabels Kind = "labels"
	// KindScores rows carry a true label and one score.
	KindScores Kind = "scores"
	// KindProbs rows carry a true label and a probability or a list of them.
	KindProbs Kind = "probs"
	// KindCounts rows carry the samples and correct samples of one problem.
	KindCounts Kind = "counts"
	// KindLM rows carry a text's log-likelihood (a list of token
	// log-probabilities, or their sum with a token count).
	KindLM Kind = "loglikelihoods"
)

// Input is the rows read from the files, all of one Kind, stored by
// column (a million-row score file is then a few flat slices, not a
// million structs). Only the columns of the Kind are filled.
type Input struct {
	Kind Kind
	// File is the file the rows came from and Lines their line numbers, for
	// error messages.
	File  string
	Lines []int

	Predictions []string   // KindText
	References  [][]string // KindText

	Labels []classification.Label // every kind but text and counts
	Preds  []classification.Label // KindLabels
	Scores []float64              // KindScores, and KindProbs with one probability per row
	Probs  [][]float64            // KindProbs with a list per row
	// ProbList is set when the rows held lists of probabilities.
	ProbList bool

	N, C []int // KindCounts

	Docs []lm.Doc // KindLM
}

// Len is the number of rows.
func (in Input) Len() int { return len(in.Lines) }

// Pos names where row i came from: "file:line".
func (in Input) Pos(i int) string { return fmt.Sprintf("%s:%d", in.File, in.Lines[i]) }

// rowError names the file, line and field of a bad value and what to do.
func rowError(file string, line int, field, msg string, args ...any) error {
	if field != "" {
		return fmt.Errorf("%s:%d: field %q: %s", file, line, field, fmt.Sprintf(msg, args...))
	}
	return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(msg, args...))
}

// lines reads r line by line (without the line ends), numbering from 1.
// The line passed to each is only valid during the call.
func lines(r io.Reader, each func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	for n := 1; sc.Scan(); n++ {
		if err := each(n, bytes.TrimSuffix(sc.Bytes(), []byte("\r"))); err != nil {
			return err
		}
	}
	return sc.Err()
}

// readAll reads r whole, sized by Stat when r is a file.
func readAll(r io.Reader) ([]byte, error) {
	if st, ok := r.(interface{ Stat() (os.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+1))
			_, err := buf.ReadFrom(r)
			return buf.Bytes(), err
		}
	}
	return io.ReadAll(r)
}

// eachLine calls each for every line of data (without the line end).
func eachLine(data []byte, each func(n int, line []byte) error) error {
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if err := each(n, bytes.TrimSuffix(line, []byte("\r"))); err != nil {
			return err
		}
	}
	return nil
}

// reserve sizes the columns of in.Kind for n rows.
func (in *Input) reserve(n int) {
	in.Lines = make([]int, 0, n)
	switch in.Kind {
	case KindText:
		in.Predictions = make([]string, 0, n)
		in.References = make([][]string, 0, n)
	case KindLabels:
		in.Labels = make([]classification.Label, 0, n)
		in.Preds = make([]classification.Label, 0, n)
	case KindScores, KindProbs:
		in.Labels = make([]classification.Label, 0, n)
		in.Scores = make([]float64, 0, n)
	case KindCounts:
		in.N = make([]int, 0, n)
		in.C = make([]int, 0, n)
	}
}

// IsJSONL reports whether a path names a JSON Lines file by its extension.
func IsJSONL(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return true
	}
	return false
}

// ReadRows reads one JSONL file of rows (the single-file form) and detects
// its Kind from the first row's fields: prediction/references (text),
// label+pred (labels), label+score (scores), label+prob (probs), n+c or
// results (counts). Every row must have the first row's shape.
func ReadRows(name string, r io.Reader, predField, refField string) (Input, error) {
	if predField == "" {
		predField = "prediction"
	}
	in := Input{File: name}
	// Reading the whole file first tells how many rows to expect, so the
	// columns are allocated once instead of grown through a million appends.
	data, err := readAll(r)
	if err != nil {
		return Input{}, fmt.Errorf("reading %s: %w", name, err)
	}
	expect := bytes.Count(data, []byte("\n")) + 1
	var obj object
	err = eachLine(data, func(n int, line []byte) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		var err error
		if obj, err = parseObject(line, obj); err != nil {
			return rowError(name, n, "", "not a JSON object: %v", err)
		}
		kind := detect(obj, predField)
		if kind == "" {
			return rowError(name, n, "", "cannot tell what this row holds: give %q with \"references\", \"label\" with \"pred\", \"score\" or \"prob\", or \"n\" with \"c\" (or \"results\")", predField)
		}
		if in.Kind == "" {
			in.Kind = kind
			in.reserve(expect)
		} else if kind != in.Kind {
			return rowError(name, n, "", "row holds %s but the first row held %s: use one row shape per file", kind, in.Kind)
		}
		if err := in.decodeRow(n, obj, predField, refField); err != nil {
			return err
		}
		in.Lines = append(in.Lines, n)
		return nil
	})
	if err != nil {
		return Input{}, err
	}
	if in.Len() == 0 {
		return Input{}, fmt.Errorf("%s: no rows: every metric is undefined on empty input", name)
	}
	return in, nil
}

func detect(obj object, predField string) Kind {
	has := func(k string) bool { _, ok := obj.get(k); return ok }
	switch {
	case has(predField):
		return KindText
	case has("label") && has("pred"):
		return KindLabels
	case has("label") && has("score"):
		return KindScores
	case has("label") && has("prob"):
		return KindProbs
	case has("n") && has("c"), has("results"):
		return KindCounts
	case has("logprobs"), has("loglikelihood"):
		return KindLM
	}
	return ""
}

// decodeRow appends one row's values to the columns of in.Kind.
func (in *Input) decodeRow(line int, obj object, predField, refField string) error {
	file := in.File
	get := func(field string) json.RawMessage { v, _ := obj.get(field); return v }
	label := func(field string) (classification.Label, error) {
		if nonFinite(get(field)) {
			return classification.Label{}, rowError(file, line, field, "%s is not a label: use a number, a string or a boolean", get(field))
		}
		l, err := classification.ParseLabel(get(field))
		if err != nil {
			return l, rowError(file, line, field, "%v", err)
		}
		return l, nil
	}
	num := func(field string) (float64, error) {
		raw := get(field)
		if nonFinite(raw) {
			return 0, rowError(file, line, field, "%s is not a finite number", raw)
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return 0, rowError(file, line, field, "want a number, got %s", raw)
		}
		return f, nil
	}
	switch in.Kind {
	case KindText:
		var pred string
		if err := json.Unmarshal(get(predField), &pred); err != nil {
			return rowError(file, line, predField, "want a string, got %s", get(predField))
		}
		fields := []string{"references", "reference"}
		if refField != "" {
			fields = []string{refField}
		}
		var refs []string
		for _, f := range fields {
			raw, ok := obj.get(f)
			if !ok {
				continue
			}
			var err error
			if refs, err = stringOrList(raw); err != nil {
				return rowError(file, line, f, "%v", err)
			}
			break
		}
		// Rows without references are kept: diversity metrics need none, and
		// the metrics that do report the first such row.
		in.Predictions = append(in.Predictions, pred)
		in.References = append(in.References, refs)
	case KindLabels:
		t, err := label("label")
		if err != nil {
			return err
		}
		p, err := label("pred")
		if err != nil {
			return err
		}
		in.Labels = append(in.Labels, t)
		in.Preds = append(in.Preds, p)
	case KindScores:
		t, err := label("label")
		if err != nil {
			return err
		}
		v, err := num("score")
		if err != nil {
			return err
		}
		in.Labels = append(in.Labels, t)
		in.Scores = append(in.Scores, v)
	case KindProbs:
		t, err := label("label")
		if err != nil {
			return err
		}
		raw := bytes.TrimSpace(get("prob"))
		list := len(raw) > 0 && raw[0] == '['
		if in.Len() > 0 && list != in.ProbList {
			form := func(list bool) string {
				if list {
					return "list of probabilities"
				}
				return "single probability"
			}
			return rowError(file, line, "prob", "a %s, but the first row held a %s: use one form in every row", form(list), form(in.ProbList))
		}
		in.ProbList = list
		if !list {
			v, err := num("prob")
			if err != nil {
				return err
			}
			if v < 0 || v > 1 {
				return rowError(file, line, "prob", "probability %v is outside [0, 1]", v)
			}
			in.Labels = append(in.Labels, t)
			in.Scores = append(in.Scores, v)
			return nil
		}
		var ps []any
		if err := json.Unmarshal(sanitize(raw), &ps); err != nil {
			return rowError(file, line, "prob", "want a number or a list of numbers: %v", err)
		}
		if len(ps) == 0 {
			return rowError(file, line, "prob", "empty list: give one probability per class")
		}
		if len(in.Probs) > 0 && len(ps) != len(in.Probs[0]) {
			return rowError(file, line, "prob", "%d probabilities but the first row has %d: every row needs one per class", len(ps), len(in.Probs[0]))
		}
		vals := make([]float64, len(ps))
		for i, p := range ps {
			v, err := probValue(p)
			if err != nil {
				return rowError(file, line, fmt.Sprintf("prob[%d]", i), "%v", err)
			}
			vals[i] = v
		}
		in.Labels = append(in.Labels, t)
		in.Probs = append(in.Probs, vals)
	case KindCounts:
		var n, c int
		if raw, ok := obj.get("results"); ok {
			var rs []bool
			if err := json.Unmarshal(raw, &rs); err != nil {
				return rowError(file, line, "results", "want a list of true/false test outcomes: %v", err)
			}
			n = len(rs)
			for _, ok := range rs {
				if ok {
					c++
				}
			}
		} else {
			if err := json.Unmarshal(get("n"), &n); err != nil {
				return rowError(file, line, "n", "want a whole number of samples, got %s", get("n"))
			}
			if err := json.Unmarshal(get("c"), &c); err != nil {
				return rowError(file, line, "c", "want a whole number of correct samples, got %s", get("c"))
			}
		}
		switch {
		case n < 1:
			return rowError(file, line, "n", "%d samples: each problem needs at least one", n)
		case c < 0 || c > n:
			return rowError(file, line, "c", "%d correct of %d samples: c must be between 0 and n", c, n)
		}
		in.N = append(in.N, n)
		in.C = append(in.C, c)
	case KindLM:
		var d lm.Doc
		if raw, ok := obj.get("logprobs"); ok {
			var lps []float64
			if err := json.Unmarshal(sanitize(raw), &lps); err != nil {
				return rowError(file, line, "logprobs", "want a list of token log-probabilities (numbers): %v", err)
			}
			for _, lp := range lps {
				d.LogLikelihood += lp
			}
			d.Tokens = len(lps)
		} else {
			v, err := num("loglikelihood")
			if err != nil {
				return err
			}
			d.LogLikelihood = v
			if raw, ok := obj.get("tokens"); ok {
				if err := json.Unmarshal(raw, &d.Tokens); err != nil || d.Tokens < 0 {
					return rowError(file, line, "tokens", "want a whole number of tokens, got %s", raw)
				}
			}
		}
		if math.IsNaN(d.LogLikelihood) || math.IsInf(d.LogLikelihood, 0) || d.LogLikelihood > 0 {
			return rowError(file, line, "logprobs", "log-likelihood %v: give natural-log probabilities (finite, <= 0)", d.LogLikelihood)
		}
		if raw, ok := obj.get("text"); ok {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return rowError(file, line, "text", "want a string, got %s", raw)
			}
			d.Words, d.Bytes = lm.CountWords(s), lm.CountBytes(s)
		}
		in.Docs = append(in.Docs, d)
	}
	return nil
}

// probValue accepts a JSON number, or the strings NaN/Infinity only to
// reject them with a clear message.
func probValue(p any) (float64, error) {
	switch v := p.(type) {
	case float64:
		if v < 0 || v > 1 {
			return 0, fmt.Errorf("probability %v is outside [0, 1]", v)
		}
		return v, nil
	case string:
		switch v {
		case "NaN", "nan", "Infinity", "-Infinity", "inf", "-inf":
			return 0, fmt.Errorf("probability %s is not a finite number", v)
		}
	}
	return 0, fmt.Errorf("want a probability (a number in [0, 1]), got %v", p)
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var refs []string
		if err := json.Unmarshal(raw, &refs); err != nil {
			return nil, fmt.Errorf("want a string or a list of strings: %v", err)
		}
		return refs, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("want a string or a list of strings, got %s", raw)
	}
	return []string{s}, nil
}

// ReadLines reads a text file of one segment per line, or, for a JSONL file
// (field set, or a .jsonl name), the string (or list of strings) in field.
func ReadLines(name string, r io.Reader, field string) (vals [][]string, lineNos []int, err error) {
	jsonl := field != "" || IsJSONL(name)
	err = lines(r, func(n int, line []byte) error {
		if !jsonl {
			vals = append(vals, []string{string(line)})
			lineNos = append(lineNos, n)
			return nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		obj, err := parseObject(line, nil)
		if err != nil {
			return rowError(name, n, "", "not a JSON object: %v", err)
		}
		f := field
		if f == "" {
			for _, c := range []string{"prediction", "references", "reference", "text"} {
				if _, ok := obj.get(c); ok {
					f = c
					break
				}
			}
		}
		raw, ok := obj.get(f)
		if !ok || f == "" {
			return rowError(name, n, field, "missing: name the field that holds the text with --pred-field / --ref-field")
		}
		v, err := stringOrList(raw)
		if err != nil {
			return rowError(name, n, f, "%v", err)
		}
		vals = append(vals, v)
		lineNos = append(lineNos, n)
		return nil
	})
	return vals, lineNos, err
}

// nonFinite reports whether raw is one of the bare tokens Python's json
// writes for non-finite floats.
func nonFinite(raw json.RawMessage) bool {
	switch string(bytes.Trim(bytes.TrimSpace(raw), `"`)) {
	case "NaN", "Infinity", "-Infinity":
		return true
	}
	return false
}
