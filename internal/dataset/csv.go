package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
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
			if headerLine == 0 {
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
	return rows, nil
}

func csvError(name, kind string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: name, Line: pe.Line, Column: pe.Column, Msg: fmt.Sprintf("malformed %s: %v", kind, pe.Err), Hint: "a quoted field must end with a quote; double quotes inside quoted fields"}
	}
	return &Error{File: name, Msg: err.Error()}
}
