// Package pystr reproduces the CPython 3.11 (Unicode 14) string rules that the
// reference implementations of tunecheck's metrics depend on, where Go's
// standard library chooses differently: str.lower (full SpecialCasing for
// U+0130, the Final_Sigma context), str.isspace (the information separators
// U+001C..U+001F count) and str.split(). It is shared by metrics/bleu,
// metrics/text and metrics/lm so that there is one copy to keep right.
package pystr

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lower lower-cases s as Python's str.lower does. It differs from
// strings.ToLower in two places: U+0130 (İ) becomes "i" + U+0307 (the full
// SpecialCasing mapping, not the simple one), and a capital sigma in
// word-final position becomes ς (the Final_Sigma context).
func Lower(s string) string {
	ascii := true
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if ascii {
		if !upper {
			return s
		}
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + ('a' - 'A')
			}
		}
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(s) + 2)
	for i, r := range s {
		switch r {
		case 0x130:
			sb.WriteString("i\u0307")
		case 0x3A3:
			sb.WriteRune(sigmaLower(s, i))
		default:
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

// sigmaLower decides the lower case of the capital sigma at byte offset i,
// following CPython's handle_capital_sigma: ς when a cased letter precedes it
// (skipping case-ignorable characters) and none follows it.
func sigmaLower(s string, i int) rune {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if isCaseIgnorable(r) {
			continue
		}
		before = isCased(r)
		break
	}
	if !before {
		return 'σ'
	}
	for _, r := range s[i+len("Σ"):] {
		if isCaseIgnorable(r) {
			continue
		}
		if isCased(r) {
			return 'σ'
		}
		break
	}
	return 'ς'
}

// isCased is Unicode's Cased property: Lu, Ll, Lt, Other_Lowercase, Other_Uppercase.
func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable is Unicode's Case_Ignorable property: Mn, Me, Cf, Lm, Sk,
// and the Word_Break classes MidLetter, MidNumLet and Single_Quote (listed
// here because Go has no Word_Break tables).
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// IsSpace reports whether Python's str.isspace is true for r: Go's
// unicode.IsSpace plus the information separators U+001C..U+001F.
func IsSpace(r rune) bool {
	if r < utf8.RuneSelf {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0x1C, 0x1D, 0x1E, 0x1F:
			return true
		}
		return false
	}
	return unicode.IsSpace(r)
}

// Split splits s as Python's str.split() with no argument: on runs of
// Python whitespace, with no empty fields.
func Split(s string) []string {
	return strings.FieldsFunc(s, IsSpace)
}
