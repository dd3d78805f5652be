package lmeval

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// decodeDoc decodes JSON as internal/dataset does: integers as int64.
func decodeDoc(t testing.TB, raw []byte, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		t.Fatal(err)
	}
}

func fixNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fixNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fixNumbers(x[k])
		}
	}
	return v
}

// TestTemplatesMatchJinja2 renders testdata/templates.json (jinja2 output
// from testdata/gen_templates.py) with our environment.
func TestTemplatesMatchJinja2(t *testing.T) {
	raw, err := os.ReadFile("testdata/templates.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Template, Want, Error string
		Doc                         map[string]any
	}
	decodeDoc(t, raw, &cases)
	j := newJinja()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			tp, err := j.compile(c.Template)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tp.Render(fixNumbers(c.Doc).(map[string]any))
			if c.Error != "" {
				if err == nil {
					t.Fatalf("rendered %q, jinja2 raised %s", got, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.Want {
				t.Fatalf("got  %q\nwant %q", got, c.Want)
			}
		})
	}
}

func TestPyLiteralRoundTrip(t *testing.T) {
	for _, src := range []string{`['A', 'B']`, `["it's", 'say "hi"', 'b\\s', 'tab\there']`, `('x', 1, 2.5, True, None, [])`, `'a' "b"`} {
		v, err := parsePyLiteral(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if l, ok := v.([]any); ok {
			back, err := pyRepr(l)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := parsePyLiteral(back)
			if err != nil || len(v2.([]any)) != len(l) {
				t.Fatalf("%s → %s → %v %v", src, back, v2, err)
			}
		}
	}
	for _, bad := range []string{`['A', 'B'`, `[A]`, `'open`, `['a'] x`} {
		if _, err := parsePyLiteral(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}
