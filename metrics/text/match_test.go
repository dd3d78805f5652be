package text

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

func TestPyLower(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Hello WORLD", "hello world"},
		{"already lower", "already lower"},
		{"İstanbul", "i\u0307stanbul"},
		{"ΟΔΟΣ", "οδος"},
		{"ΟΔΟΣ ΜΑΣ", "οδος μας"},
		{"Σ", "σ"},
		{"ΑΣ'Α", "ασ'α"},
		{"Α.Σ.", "α.ς."},
		{"\u212a", "k"},
	} {
		if got := PyLower(tc.in); got != tc.want {
			t.Errorf("PyLower(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPySplit(t *testing.T) {
	got := PySplit(" a\x1cb\u2003c\u200bd\u0085e ")
	want := []string{"a", "b", "c\u200bd", "e"}
	if len(got) != len(want) {
		t.Fatalf("PySplit = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("PySplit = %q, want %q", got, want)
		}
	}
}

func TestExactMatchAndContains(t *testing.T) {
	all := Normalization{NFKC: true, Lowercase: true, StripPunctuation: true, RemoveArticles: true, CollapseWhitespace: true}
	for _, tc := range []struct {
		name       string
		pred       string
		refs       []string
		n          Normalization
		em, contns float64
	}{
		{"verbatim", "Paris", []string{"Paris"}, Normalization{}, 1, 1},
		{"case differs, no normalisation", "paris", []string{"Paris"}, Normalization{}, 0, 0},
		{"case folded", "PARIS", []string{"Paris"}, Normalization{Lowercase: true}, 1, 1},
		{"second reference", "Lyon", []string{"Paris", "lyon"}, Normalization{Lowercase: true}, 1, 1},
		{"punctuation", "Paris!", []string{"Paris"}, Normalization{StripPunctuation: true}, 1, 1},
		{"unicode punctuation", "«Paris»", []string{"Paris"}, Normalization{StripPunctuation: true}, 1, 1},
		{"articles", "the Eiffel tower", []string{"Eiffel  tower"}, SquadNormalization(), 1, 1},
		{"full-width with NFKC", "ＰＡＲＩＳ", []string{"paris"}, all, 1, 1},
		{"full-width without NFKC", "ＰＡＲＩＳ", []string{"paris"}, SquadNormalization(), 0, 0},
		{"contained only", "It is Paris, France.", []string{"paris"}, all, 0, 1},
		{"whitespace", " a\tb\n", []string{"a b"}, Normalization{CollapseWhitespace: true}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			em, err := ExactMatch(tc.pred, tc.refs, tc.n)
			if err != nil || em != tc.em {
				t.Errorf("ExactMatch = %v, %v; want %v", em, err, tc.em)
			}
			c, err := Contains(tc.pred, tc.refs, tc.n)
			if err != nil || c != tc.contns {
				t.Errorf("Contains = %v, %v; want %v", c, err, tc.contns)
			}
		})
	}
	if _, err := ExactMatch("x", nil, Normalization{}); err == nil {
		t.Error("ExactMatch with no references: want an error")
	}
}

func TestRegex(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		full    bool
		in      string
		want    float64
	}{
		{`\d+`, false, "answer: 42", 1},
		{`\d+`, true, "answer: 42", 0},
		{`\d+`, true, "42", 1},
		{`a|b`, true, "ab", 0},
		{`^yes$`, false, "yes", 1},
	} {
		re, err := CompileRegex(tc.pattern, tc.full)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.Match(tc.in); got != tc.want {
			t.Errorf("%q full=%v on %q = %v, want %v", tc.pattern, tc.full, tc.in, got, tc.want)
		}
	}
	if _, err := CompileRegex(`(a`, false); err == nil {
		t.Error("bad pattern: want an error")
	}
}

func TestJSONValidity(t *testing.T) {
	for _, tc := range []struct {
		in       string
		keys     []string
		fence    bool
		valid    bool
		isObject bool
		missing  int
	}{
		{`{"a": 1}`, nil, false, true, true, 0},
		{` [1, 2] `, nil, false, true, false, 0},
		{`{"a": 1} x`, nil, false, false, false, 0},
		{`{"a": 1}{}`, nil, false, false, false, 0},
		{`{"a": 1`, nil, false, false, false, 0},
		{`{"a": 1}`, []string{"a", "b"}, false, true, true, 1},
		{`[1]`, []string{"a"}, false, true, false, 1},
		{"```json\n{\"a\": 1}\n```", []string{"a"}, true, true, true, 0},
		{"```json\n{\"a\": 1}\n```", nil, false, false, false, 0},
		{"", nil, false, false, false, 0},
	} {
		c := JSONValidity(tc.in, tc.keys, tc.fence)
		if c.Valid != tc.valid || c.IsObject != tc.isObject || len(c.Missing) != tc.missing {
			t.Errorf("JSONValidity(%q, %q) = %+v", tc.in, tc.keys, c)
		}
		if c.Valid == (c.Err != nil) {
			t.Errorf("JSONValidity(%q): Valid %v but Err %v", tc.in, c.Valid, c.Err)
		}
	}
}

// TestPyLowerEveryCodePoint compares PyLower on each code point alone with
// Python 3.11's str.lower (testdata/pylower.tsv lists the ones that change).
func TestPyLowerEveryCodePoint(t *testing.T) {
	want := map[rune]string{}
	data, err := os.ReadFile("testdata/pylower.tsv")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		from, to, ok := strings.Cut(line, "\t")
		c, err1 := strconv.ParseUint(from, 16, 32)
		if !ok || err1 != nil {
			t.Fatalf("testdata/pylower.tsv:%d: bad line %q", i+1, line)
		}
		var out []rune
		for _, h := range strings.Fields(to) {
			r, err := strconv.ParseUint(h, 16, 32)
			if err != nil {
				t.Fatalf("testdata/pylower.tsv:%d: %v", i+1, err)
			}
			out = append(out, rune(r))
		}
		want[rune(c)] = string(out)
	}
	bad := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		w, ok := want[r]
		if !ok {
			w = string(r)
		}
		if got := PyLower(string(r)); got != w {
			bad++
			if bad <= 10 {
				t.Errorf("PyLower(%U) = %q, want %q", r, got, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d code points differ", bad)
	}
}
