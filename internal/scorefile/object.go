package scorefile

import (
	"bytes"
	"encoding/json"
	"errors"
)

// kv is one member of a flat JSON object: the key and the raw value.
type kv struct {
	key []byte // aliases the line: no allocation per member
	val json.RawMessage
}

// object is a JSON object's members in order. Scanning a row into it avoids
// a map and a reflection-driven decode per row, which dominates reading the
// million-row score files otherwise.
type object []kv

func (o object) get(k string) (json.RawMessage, bool) {
	for _, m := range o {
		if string(m.key) == k {
			return m.val, true
		}
	}
	return nil, false
}

var errNotObject = errors.New("not a JSON object")

// parseObject splits a JSON object into its members without decoding the
// values. Bare NaN, Infinity and -Infinity (which Python's json module
// writes) are accepted as values, so that they can be rejected by name.
// Keys with escapes, and anything malformed, fall back to encoding/json.
func parseObject(line []byte, dst object) (object, error) {
	dst = dst[:0]
	s := skipWS(line, 0)
	if s >= len(line) || line[s] != '{' {
		return nil, errNotObject
	}
	i := skipWS(line, s+1)
	if i < len(line) && line[i] == '}' {
		return dst, checkTail(line, i+1)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return slowObject(line)
		}
		j := i + 1
		for j < len(line) && line[j] != '"' {
			if line[j] == '\\' {
				return slowObject(line)
			}
			j++
		}
		if j >= len(line) {
			return nil, errNotObject
		}
		key := line[i+1 : j]
		i = skipWS(line, j+1)
		if i >= len(line) || line[i] != ':' {
			return slowObject(line)
		}
		i = skipWS(line, i+1)
		end, ok := skipValue(line, i)
		if !ok {
			return slowObject(line)
		}
		dst = append(dst, kv{key: key, val: line[i:end]})
		i = skipWS(line, end)
		if i < len(line) && line[i] == ',' {
			i = skipWS(line, i+1)
			continue
		}
		if i < len(line) && line[i] == '}' {
			return dst, checkTail(line, i+1)
		}
		return slowObject(line)
	}
}

func checkTail(line []byte, i int) error {
	if skipWS(line, i) != len(line) {
		return errNotObject
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at i.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, true
			}
		}
		return len(b), false
	case '[', '{':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, ok := skipValue(b, j)
				if !ok {
					return e, false
				}
				j = e - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(b), false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return j, j > i
}

func slowObject(line []byte) (object, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(sanitize(line), &m); err != nil {
		return nil, err
	}
	out := make(object, 0, len(m))
	for k, v := range m {
		out = append(out, kv{key: []byte(k), val: v})
	}
	return out, nil
}

// sanitize quotes the bare NaN and Infinity tokens Python's json writes, so
// that a row holding them decodes and the bad value is reported by field.
func sanitize(line []byte) []byte {
	if !bytes.Contains(line, []byte("NaN")) && !bytes.Contains(line, []byte("Infinity")) {
		return line
	}
	var out []byte
	inStr := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inStr {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(line) {
					i++
					out = append(out, line[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		}
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(line[i:], []byte(tok)) {
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok)
				c = 0
				break
			}
		}
		if c != 0 {
			out = append(out, c)
		} else {
			i--
		}
	}
	return out
}
