package scorefile

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzParseObject checks the fast row scanner against encoding/json: on any
// line that encoding/json reads as an object, the scanner must find the same
// members with the same raw values.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{
		`{"label": 1, "score": 0.5}`,
		`{"prediction": "a, \"b\"}", "references": ["x", "y]"]}`,
		`{"label": "yes", "prob": [0.2, 0.8], "meta": {"k": [1, {"z": "}"}]}}`,
		`{}`, ` { "a" : true , "b" : null } `, `{"k\u00e9y": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		// encoding/json turns invalid UTF-8 in keys into U+FFFD; such keys
		// can never name a row field, so they are out of scope here.
		if !utf8.Valid(line) {
			return
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(line, &want) != nil || want == nil {
			return
		}
		got, err := parseObject(line, nil)
		if err != nil {
			t.Fatalf("%q: encoding/json reads it but parseObject fails: %v", line, err)
		}
		for _, m := range got {
			if _, ok := want[string(m.key)]; !ok {
				t.Fatalf("%q: key %q not found by encoding/json", line, m.key)
			}
		}
		for k, w := range want {
			v, ok := got.get(k)
			if !ok {
				t.Fatalf("%q: key %q missing", line, k)
			}
			// With duplicate keys encoding/json keeps the last and get
			// returns the first; rows never repeat a key, so only check
			// unique ones.
			if !bytes.Equal(bytes.TrimSpace(v), bytes.TrimSpace(w)) && !hasDuplicate(got, k) {
				t.Fatalf("%q: key %q: got %s, want %s", line, k, v, w)
			}
		}
	})
}

func hasDuplicate(o object, k string) bool {
	n := 0
	for _, m := range o {
		if string(m.key) == k {
			n++
		}
	}
	return n > 1
}
