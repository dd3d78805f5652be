package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"unicode/utf8"
)

// readJSONArray reads a file holding one JSON array of objects, the layout
// of most exported eval sets (TruthfulQA mc_task.json, AlpacaEval annotations).
func readJSONArray(name string, data []byte) ([]Row, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	lines := newLineIndex(data)
	fail := func(err error, n int) error {
		var le *lineError
		errors.As(jsonError(err, n), &le)
		line, col := lines.at(le.off)
		return &Error{File: name, Line: line, Column: col, Field: le.field, Msg: le.msg, Hint: le.hint}
	}
	if !utf8.Valid(data) {
		return nil, fail(&lineError{off: invalidUTF8At(data), msg: "invalid UTF-8", hint: "re-encode the file as UTF-8"}, len(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	start := skipSpace(data, 0)
	tok, err := dec.Token()
	if err != nil {
		return nil, fail(err, len(data))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fail(&lineError{off: start, msg: "the file is " + describeToken(tok) + ", not an array of rows", hint: "a .json dataset is one array of objects; for one object per line name the file .jsonl"}, len(data))
	}
	var rows []Row
	for dec.More() {
		at := skipSpace(data, int(dec.InputOffset()))
		row, err := decodeObject(dec, data)
		if err != nil {
			// The decoder's offsets are absolute in the file, as the index expects.
			return nil, fail(err, int(dec.InputOffset()))
		}
		row.Line, _ = lines.at(at)
		rows = append(rows, row)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(err, len(data))
	}
	next := skipSpace(data, int(dec.InputOffset()))
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(&lineError{off: next, msg: "data after the closing ]", hint: "a .json dataset is exactly one array"}, len(data))
	}
	return rows, nil
}

// skipSpace returns the offset of the first byte at or after off that is not
// JSON whitespace or a comma (the separator the decoder has not consumed yet).
func skipSpace(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}

// lineIndex maps byte offsets to 1-based line and column.
type lineIndex []int // offsets of line starts

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range data {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) at(off int) (line, col int) {
	i := sort.Search(len(l), func(i int) bool { return l[i] > off }) - 1
	return i + 1, off - l[i] + 1
}
