package bleu

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

func TestPyLower(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"already lower", "already lower"},
		{"MiXeD Case", "mixed case"},
		// Python maps İ to i + combining dot above; strings.ToLower gives "i̇"
		// only through the special-casing table it does not use.
		{"İstanbul", "i\u0307stanbul"},
		// Final sigma at the end of a word, medial sigma inside it.
		{"ΟΔΟΣ", "οδος"},
		{"ΣΑΣ ΣΑΣ", "σας σας"},
		{"Σ", "σ"},               // no cased letter before: not final
		{"AΣ.", "aς."},           // '.' is case-ignorable, then end: final
		{"AΣ'B", "aσ'b"},         // a cased letter follows the ignorable quote
		{"A\u0301Σ", "a\u0301ς"}, // combining mark skipped backwards
		// The Kelvin sign and other letters with simple mappings.
		{"\u212a", "k"},
		{"ÀÉÎ", "àéî"},
		{"ＡＢＣ", "ａｂｃ"},
	}
	for _, tt := range tests {
		if got := PyLower(tt.in); got != tt.want {
			t.Errorf("PyLower(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPyFields(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{" a  b ", []string{"a", "b"}},
		{"a\tb\nc\rd\ve\ff", []string{"a", "b", "c", "d", "e", "f"}},
		// Information separators split in Python, not in Go's unicode.IsSpace.
		{"a\x1cb\x1dc\x1ed\x1fe", []string{"a", "b", "c", "d", "e"}},
		// Unicode spaces split; zero-width space and BOM do not.
		{"a\u00a0b\u2003c\u3000d\u0085e", []string{"a", "b", "c", "d", "e"}},
		{"a\u200bb\ufeffc", []string{"a\u200bb\ufeffc"}},
	}
	for _, tt := range tests {
		if got := pyFields(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("pyFields(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPyRStrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a \n", "a"},
		{" a", " a"},
		{"a\x1f\u3000", "a"},
		{"a\u200b", "a\u200b"},
	}
	for _, tt := range tests {
		if got := pyRStrip(tt.in); got != tt.want {
			t.Errorf("pyRStrip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPyLowerEveryCodePoint compares PyLower with Python's str.lower() on
// every code point, one at a time (testdata/pylower.tsv, made by
// testdata/gen_pylower.py, Python 3.11.7 with Unicode 14; Go's tables are
// Unicode 15, which added no case mappings).
func TestPyLowerEveryCodePoint(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "pylower.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[rune]string{}
	for n, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		cp, lo, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("testdata/pylower.tsv line %d: no tab", n+1)
		}
		r, err := strconv.ParseInt(cp, 16, 32)
		if err != nil {
			t.Fatalf("testdata/pylower.tsv line %d: %v", n+1, err)
		}
		var sb strings.Builder
		for _, h := range strings.Fields(lo) {
			x, err := strconv.ParseInt(h, 16, 32)
			if err != nil {
				t.Fatalf("testdata/pylower.tsv line %d: %v", n+1, err)
			}
			sb.WriteRune(rune(x))
		}
		want[rune(r)] = sb.String()
	}
	if len(want) < 1400 {
		t.Fatalf("testdata/pylower.tsv has %d mappings, want about 1430", len(want))
	}
	diff := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if 0xd800 <= r && r <= 0xdfff {
			continue
		}
		w, ok := want[r]
		if !ok {
			w = string(r)
		}
		if got := PyLower(string(r)); got != w {
			diff++
			if diff <= 20 {
				t.Errorf("PyLower(U+%04X) = %q, Python %q", r, got, w)
			}
		}
	}
	if diff > 20 {
		t.Errorf("%d code points differ", diff)
	}
}
