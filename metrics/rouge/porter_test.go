package rouge

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// TestStemNLTKTable checks every word of porter_nltk38.tsv, NLTK 3.8's stems
// of the wamerican word list plus probe words.
func TestStemNLTKTable(t *testing.T) {
	path := shareddata.Path(t, "parity", "porter_nltk38.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, bad := 0, 0
	for line := 1; sc.Scan(); line++ {
		word, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s:%d: no tab in %q", path, line, sc.Text())
		}
		n++
		if got := Stem(word); got != want {
			bad++
			if bad <= 20 {
				t.Errorf("%s:%d: Stem(%q) = %q, want %q", path, line, word, got, want)
			}
		}
		if got := stemASCII(word); got != want {
			t.Errorf("%s:%d: stemASCII(%q) = %q, want %q", path, line, word, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 73463 {
		t.Errorf("read %d words, want 73463", n)
	}
	if bad > 0 {
		t.Errorf("%d of %d stems differ", bad, n)
	}
}

// TestStemCases pins NLTK 3.8 outputs (Debian python3-nltk 3.8-1) for
// inputs outside the table: mixed case and non-ASCII letters.
func TestStemCases(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Skies", "ski"}, // the irregular table is looked up before lower-casing
		{"skies", "sky"},
		{"DYING", "dy"},
		{"dying", "die"},
		{"AT", "at"},
		{"caresses", "caress"},
		{"İs", "i̇s"}, // two characters before lower-casing, so not stemmed
		{"naïvely", "naïv"},
		{"İstanbulization", "i̇stanbul"},
		{"yyyying", "yyyi"},
		{"ΣΑΣ", "σας"},
	} {
		if got := Stem(tc.in); got != tc.want {
			t.Errorf("Stem(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
