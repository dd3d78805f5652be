package lmeval

import (
	"reflect"
	"testing"
)

// FuzzPyLiteral: the parser never panics, and what it accepts survives a
// repr round trip unchanged.
func FuzzPyLiteral(f *testing.F) {
	for _, s := range []string{`['A', 'B']`, `["it's", 'x\ty', '\u00e9']`, `(1, -2.5, True, None)`, `[[], ['a' 'b']]`, `'\x41'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parsePyLiteral(s)
		if err != nil {
			return
		}
		r, err := pyRepr(v)
		if err != nil {
			return
		}
		back, err := parsePyLiteral(r)
		if err != nil {
			t.Fatalf("%q → %v → %q does not parse: %v", s, v, r, err)
		}
		if !reflect.DeepEqual(v, back) {
			if f, ok := v.(float64); ok && f != f {
				return
			}
			t.Fatalf("%q → %#v → %q → %#v", s, v, r, back)
		}
	})
}
