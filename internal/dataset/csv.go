package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// readCSV reads CSV (comma) or TSV (tab) with a header row, or without one
// when columns names the fields. Values stay strings: CSV has no types, and
// guessing them would make "007" and "7" the same id. A UTF-8 byte order
// mark (TruthfulQA's CSV has one) is stripped.
func readCSV(name string, data []byte, comma rune, columns []string) ([]Row, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1 // counted here, to name the line and both counts
	if comma == '\t' {
		// TSV writers rarely quote; a stray quote inside a field is text.
		r.LazyQuotes = true
	}
	kind := "CSV"
	if comma == '\t' {
		kind = "TSV"
	}
	header, headerLine := columns, 0
	if header == nil {
		var err error
		if header, err = r.Read(); err != nil {
			return nil, csvError(name, kind, err)
		}
		headerLine = 1
	}
	// An empty name is allowed: pandas writes its index column that way.
	seen := map[string]int{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, &Error{File: name, Line: headerLine, Field: fmt.Sprintf("column %d", i+1), Msg: "invalid UTF-8 in the header", Hint: "re-encode the file as UTF-8"}
		}
		if j, dup := seen[h]; dup {
			where := "give every column a distinct name"
			if headerLine == 1 && (len(header) == 6 && isAnswerLetter(header[5]) || headerLooksLikeData(header, nil) != "") {
				// MMLU's layout, whose answer options repeat ("True, True").
				where = "the first line looks like data, not a header; if the file has no header row, name its columns: " + columnsFix(header)
			} else if headerLine == 0 {
				where = "give every entry of columns a distinct name"
			}
			return nil, &Error{File: name, Line: headerLine, Field: h, Msg: fmt.Sprintf("column name repeated (columns %d and %d)", j+1, i+1), Hint: where}
		}
		seen[h] = i
	}
	var rows []Row
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, kind, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			has := "the header has"
			if headerLine == 0 {
				has = "columns names"
			}
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("%d fields, but %s %d", len(rec), has, len(header)), Hint: "quote values that contain the separator, or fix the row so it has one value per column"}
		}
		row := Row{Line: line, Fields: make(map[string]any, len(rec)), Keys: header}
		for i, v := range rec {
			if !utf8.ValidString(v) {
				return nil, &Error{File: name, Line: line, Field: header[i], Msg: "invalid UTF-8", Hint: "re-encode the file as UTF-8"}
			}
			row.Fields[header[i]] = v
		}
		rows = append(rows, row)
	}
	if headerLine == 1 {
		if why := headerLooksLikeData(header, rows); why != "" {
			return nil, &Error{File: name, Line: 1, Msg: "the first line looks like data, not a header: " + why,
				Hint: "if the file has no header row, name its columns: " + columnsFix(header)}
		}
	}
	return rows, nil
}

// headerLooksLikeData says why the header row reads as a row of data, or ""
// when it reads as column names. MMLU's files have no header, and taking their
// first question as column names would silently drop it and name the columns
// after it. Two signs, each one that column names do not give:
//   - a column whose values are all answer letters (A–J) or all numbers has a
//     header of the same kind;
//   - a header cell is a sentence (ten words or more, or over 100 characters).
func headerLooksLikeData(header []string, rows []Row) string {
	for i, h := range header {
		for _, kind := range []struct {
			name string
			is   func(string) bool
		}{{"an answer letter", isAnswerLetter}, {"a number", isNumber}} {
			if !kind.is(h) {
				continue
			}
			all := len(rows) > 0
			for _, r := range rows {
				if v, _ := r.Fields[h].(string); !kind.is(v) {
					all = false
					break
				}
			}
			if all {
				return fmt.Sprintf("column %d's name %q is %s, like every value under it", i+1, h, kind.name)
			}
		}
	}
	for i, h := range header {
		if words := len(strings.Fields(h)); words >= 10 || len(h) > 100 {
			return fmt.Sprintf("column %d's name is a sentence (%q)", i+1, clip(h, 40))
		}
	}
	return ""
}

func isAnswerLetter(s string) bool { return len(s) == 1 && s[0] >= 'A' && s[0] <= 'J' }

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// columnsFix is the flag (and plan key) that reads a header-less file,
// with MMLU's names when the row has MMLU's layout.
func columnsFix(first []string) string {
	names := "question,A,B,C,D,answer"
	if len(first) != 6 || !isAnswerLetter(first[5]) {
		n := make([]string, len(first))
		for i := range n {
			n[i] = fmt.Sprintf("col%d", i+1)
		}
		names = strings.Join(n, ",")
	}
	return fmt.Sprintf("--columns %s (dataset.columns: [%s] in a plan)", names, strings.ReplaceAll(names, ",", ", "))
}

func csvError(name, kind string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: name, Line: pe.Line, Column: pe.Column, Msg: fmt.Sprintf("malformed %s: %v", kind, pe.Err), Hint: "a quoted field must end with a quote; double quotes inside quoted fields"}
	}
	return &Error{File: name, Msg: err.Error()}
}
