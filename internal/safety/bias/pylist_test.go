package bias

import (
	"reflect"
	"testing"
)

func TestParsePyList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []any
	}{
		{"[]", []any{}},
		{" [ ] ", []any{}},
		{"['a', \"b\"]", []any{"a", "b"}},
		{"[['race-color'], [], ['age', 'gender']]", []any{[]any{"race-color"}, []any{}, []any{"age", "gender"}}},
		{`['it\'s', "say \"hi\"", 'a\\b', 'x\qy']`, []any{"it's", `say "hi"`, `a\b`, `x\qy`}},
		{"['a',]", []any{"a"}}, // Python allows a trailing comma
	} {
		got, err := parsePyList(c.in)
		if err != nil {
			t.Errorf("parsePyList(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("parsePyList(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "[", "['a'", "['a' 'b']", "[1]", "[None]", "['a'] x", "'a'", "[,]"} {
		if _, err := parsePyList(bad); err == nil {
			t.Errorf("parsePyList(%q): no error", bad)
		}
	}
}

func FuzzParsePyList(f *testing.F) {
	for _, s := range []string{"[]", "[['race-color'], []]", `['it\'s', "b"]`, "[[[", "['a',]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parsePyList(s)
		if err != nil {
			return
		}
		var walk func([]any)
		walk = func(l []any) {
			for _, e := range l {
				switch e := e.(type) {
				case string:
				case []any:
					walk(e)
				default:
					t.Fatalf("%q: element %#v is neither string nor list", s, e)
				}
			}
		}
		walk(v)
	})
}
