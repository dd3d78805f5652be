package dataset

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzJSONL: the reader never panics, every failure is a positioned *Error,
// and a file rewritten from its own canonical rows reads back with the same
// fingerprint and ids (canonicalisation is idempotent).
// Run: go test ./internal/dataset -fuzz FuzzJSONL -fuzztime 60s
func FuzzJSONL(f *testing.F) {
	for _, seed := range []string{
		"{\"a\":1}\n{\"a\":2}\n",
		"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
		"{\"instruction\":\"x\",\"input\":\"\",\"output\":\"y\"}\r\n",
		"\ufeff{\"n\":1e400,\"m\":-0.0,\"k\":12345678901234567890}",
		"{\"a\":1,}",
		"[1]\n",
		"{\"a\":\"\xff\"}",
		"{\"a\":{\"b\":[1,2,{\"c\":null}]}} {}",
		"\n\n{\"u\":\"\\u2028\\ud800\"}\n\n",
		"{\"a\\\"b\":{\"x\":\"}\"},\"c\":[\"]\",{}] ,\"d\" : -1.5e3 }",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode("f.jsonl", data, Options{})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.File != "f.jsonl" || de.Line < 0 || de.Column < 0 {
				t.Fatalf("error %v (%T) is not a positioned *dataset.Error", err, err)
			}
			return
		}
		var b bytes.Buffer
		for _, r := range d.Rows {
			// Keys must list exactly the fields, once each.
			if len(r.Keys) != len(r.Fields) {
				t.Fatalf("line %d: keys %q for %d fields", r.Line, r.Keys, len(r.Fields))
			}
			for _, k := range r.Keys {
				if _, ok := r.Fields[k]; !ok {
					t.Fatalf("line %d: key %q not among the fields", r.Line, k)
				}
			}
			b.Write(CanonicalJSON(r.Fields))
			b.WriteByte('\n')
		}
		again, err := Decode("g.jsonl", b.Bytes(), Options{})
		if err != nil {
			t.Fatalf("canonical rows do not read back: %v\n%s", err, b.Bytes())
		}
		if again.Fingerprint != d.Fingerprint || again.Shape != d.Shape || len(again.Rows) != len(d.Rows) {
			t.Fatalf("round trip changed the dataset:\n%s", b.Bytes())
		}
		for i := range d.Rows {
			if again.Rows[i].ID != d.Rows[i].ID {
				t.Fatalf("row %d id %s became %s", i, d.Rows[i].ID, again.Rows[i].ID)
			}
		}
	})
}
