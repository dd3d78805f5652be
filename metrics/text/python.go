package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/internal/pystr"
)

// The reference implementations this package and metrics/rouge match are
// Python programs, and their results depend on Python's own string rules in
// places where Go's standard library chooses differently. The functions in
// this file reproduce CPython 3.11 (Unicode 14) exactly where it matters.

// PyLower lower-cases s as Python's str.lower does. It differs from
// strings.ToLower in two places: U+0130 (İ) becomes "i" + U+0307 (the full
// SpecialCasing mapping, not the simple one), and a capital sigma in
// word-final position becomes ς (the Final_Sigma context).
func PyLower(s string) string { return pystr.Lower(s) }

// IsPySpace reports whether Python's str.isspace is true for r: Go's
// unicode.IsSpace plus the information separators U+001C..U+001F.
func IsPySpace(r rune) bool { return pystr.IsSpace(r) }

// PySplit splits s as Python's str.split() with no argument: on runs of
// Python whitespace, with no empty fields.
func PySplit(s string) []string { return pystr.Split(s) }

// isPyWord reports whether r matches \w in a Python 3 str regular expression:
// letters and numbers of any script, and the underscore. (Python's isalnum is
// exactly the Unicode categories L* and N*; Go's RE2 \w is ASCII only.)
func isPyWord(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isPyPunct reports whether b is in Python's string.punctuation, which is
// ASCII only.
func isPyPunct(r rune) bool {
	return r < utf8.RuneSelf && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", byte(r)) >= 0
}
