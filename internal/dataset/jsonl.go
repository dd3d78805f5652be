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
// dec's whole input, used to turn decoder offsets into positions and to read
// the object's key order (a Go map forgets it). Decoding the value in one call
// and scanning the keys separately is several times faster than walking the
// decoder's token stream.
func decodeObject(dec *json.Decoder, src []byte) (Row, error) {
	start := skipSpace(src, int(dec.InputOffset()))
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// The decoder's offset is relative to its buffer; Unmarshal's counts
			// from start up to and including the offending byte.
			var probe any
			if err2 := json.Unmarshal(src[start:], &probe); errors.As(err2, &se) {
				return Row{}, &lineError{off: start + int(se.Offset) - 1, msg: "malformed JSON: " + se.Error(), hint: "fix the JSON syntax at this column"}
			}
		}
		return Row{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Row{}, &lineError{off: start, msg: fmt.Sprintf("the row is %s, not an object", describeValue(v)), hint: "each row must be a JSON object of field names to values"}
	}
	keys, offs := objectKeys(src[start:int(dec.InputOffset())])
	if len(keys) != len(m) {
		seen := make(map[string]bool, len(keys))
		for i, k := range keys {
			if seen[k] {
				return Row{}, &lineError{off: start + offs[i], field: k, msg: "duplicate key in the same row", hint: "keep one value per key"}
			}
			seen[k] = true
		}
	}
	for k, e := range m {
		m[k] = normalize(e)
	}
	return Row{Fields: m, Keys: keys}, nil
}

// objectKeys lists the top-level keys of the JSON object raw, which the
// decoder has already validated, with each key's byte offset in raw.
func objectKeys(raw []byte) (keys []string, offs []int) {
	i := skipWS(raw, 0) + 1 // past '{'
	for {
		i = skipWS(raw, i)
		if i >= len(raw) || raw[i] == '}' {
			return keys, offs
		}
		end := stringEnd(raw, i)
		key := raw[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			_ = json.Unmarshal(raw[i:end], &s) // valid JSON: cannot fail
			keys = append(keys, s)
		} else {
			keys = append(keys, string(key))
		}
		offs = append(offs, i)
		i = skipWS(raw, end) + 1 // past ':'
		i = valueEnd(raw, skipWS(raw, i))
		i = skipWS(raw, i)
		if i < len(raw) && raw[i] == ',' {
			i++
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset just past the JSON string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the offset just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

func describeValue(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
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
