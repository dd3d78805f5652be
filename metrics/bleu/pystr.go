package bleu

import (
	"strings"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/internal/pystr"
)

// isPySpace is Python's str.isspace (see metrics/internal/pystr).
func isPySpace(r rune) bool { return pystr.IsSpace(r) }

// pyFields splits s as Python's str.split() with no argument does: on runs
// of Python whitespace, dropping empty fields. The fields share s's memory.
func pyFields(s string) []string {
	return appendPyFields(nil, s)
}

// appendPyFields is pyFields appending to dst, so hot loops can reuse it.
func appendPyFields(dst []string, s string) []string {
	start := -1
	for i := 0; i < len(s); {
		c := s[i]
		if c > ' ' && c < utf8.RuneSelf {
			// Printable ASCII: never whitespace.
			if start < 0 {
				start = i
			}
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if isPySpace(r) {
			if start >= 0 {
				dst = append(dst, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}

// pyJoinFields is ' '.join(s.split()): whitespace runs collapsed to one
// space, no leading or trailing space.
func pyJoinFields(s string) string {
	return strings.Join(pyFields(s), " ")
}

// pyRStrip is Python's str.rstrip() with no argument.
func pyRStrip(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if !isPySpace(r) {
			break
		}
		s = s[:len(s)-size]
	}
	return s
}

// PyLower lower-cases s as Python 3's str.lower() does, which differs from
// strings.ToLower in two places that change scores: U+0130 (capital I with
// dot above) becomes "i" followed by U+0307, and a capital sigma at the end
// of a word becomes the final form ς (U+03C2) instead of σ.
func PyLower(s string) string { return pystr.Lower(s) }
