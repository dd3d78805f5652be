package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readJSONL reads one JSON object per line. Blank lines carry no data and are
// allowed (editors add them at the end); anything else that is not an object
// is an error.
func readJSONL(name string, data []byte) ([]Row, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var rows []Row
	for lineNo := 1; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		row, err := decodeObjectLine(line)
		if err != nil {
			var le *lineError
			if errors.As(err, &le) {
				return nil, &Error{File: name, Line: lineNo, Column: le.off + 1, Field: le.field, Msg: le.msg, Hint: le.hint}
			}
			return nil, &Error{File: name, Line: lineNo, Msg: err.Error()}
		}
		row.Line = lineNo
		rows = append(rows, row)
	}
	return rows, nil
}

// lineError is a problem inside one JSON value, positioned by byte column.
type lineError struct {
	off       int // 0-based byte offset of the problem in the decoded input
	field     string
	msg, hint string
}

func (e *lineError) Error() string { return e.msg }

// decodeObjectLine decodes one JSON object, keeping its top-level key order.
func decodeObjectLine(line []byte) (Row, error) {
	if !utf8.Valid(line) {
		return Row{}, &lineError{off: invalidUTF8At(line), msg: "invalid UTF-8", hint: "re-encode the file as UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	row, err := decodeObject(dec, line)
	if err != nil {
		return Row{}, jsonError(err, len(line))
	}
	next := skipSpace(line, int(dec.InputOffset()))
	if _, err := dec.Token(); err != io.EOF {
		return Row{}, &lineError{off: next, msg: "more than one JSON value on the line", hint: "JSONL holds exactly one object per line"}
	}
	return row, nil
}

// decodeObject reads the next value from dec, which must be an object; src is
// dec's whole input, used to turn decoder offsets into the positions of tokens.
func decodeObject(dec *json.Decoder, src []byte) (Row, error) {
	start := skipSpace(src, int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return Row{}, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Row{}, &lineError{off: start, msg: fmt.Sprintf("the row is %s, not an object", describeToken(tok)), hint: "each row must be a JSON object of field names to values"}
	}
	row := Row{Fields: map[string]any{}}
	for dec.More() {
		keyOff := skipSpace(src, int(dec.InputOffset()))
		tok, err := dec.Token()
		if err != nil {
			return Row{}, err
		}
		key := tok.(string) // json.Decoder only yields strings in key position
		var v any
		if err := dec.Decode(&v); err != nil {
			return Row{}, err
		}
		if _, dup := row.Fields[key]; dup {
			return Row{}, &lineError{off: keyOff, field: key, msg: "duplicate key in the same row", hint: "keep one value per key"}
		}
		row.Fields[key] = normalize(v)
		row.Keys = append(row.Keys, key)
	}
	if _, err := dec.Token(); err != nil {
		return Row{}, err
	}
	return row, nil
}

func describeToken(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// jsonError turns a decoder error into a positioned lineError; end is the
// offset to blame when the input ran out or the decoder gave no position.
func jsonError(err error, end int) error {
	var le *lineError
	if errors.As(err, &le) {
		return le
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &lineError{off: int(se.Offset), msg: "malformed JSON: " + se.Error(), hint: "fix the JSON syntax at this column"}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &lineError{off: end, msg: "malformed JSON: the value ends early", hint: "close every string, object and array on the same line"}
	}
	return &lineError{off: end, msg: "malformed JSON: " + err.Error()}
}

// invalidUTF8At is the byte offset of the first invalid UTF-8 sequence in b.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
