// Package leakage owns tunecheck's data-hygiene checks: exact duplicates after
// configurable normalisation, near duplicates by MinHash-LSH (banding chosen
// the way datasketch chooses it: minimum weighted false-positive plus
// false-negative probability), benchmark contamination by n-gram overlap
// (GPT-3 style 13-grams and the Llama 2 contaminated-token fraction), semantic
// near duplicates over embeddings, verbatim memorisation of training rows in
// model outputs, and leak-free splitting. Readers stream, so a training set of
// millions of rows is never held whole; only the smaller side (the test set,
// the benchmark items, the outputs) is indexed in memory.
package leakage

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize says which differences do not count when comparing texts.
type Normalize struct {
	NFKC        bool `json:"nfkc"`        // Unicode compatibility composition (ﬁ → fi, full-width → ASCII)
	Case        bool `json:"case"`        // fold case
	Whitespace  bool `json:"whitespace"`  // collapse runs of whitespace, trim the ends
	Punctuation bool `json:"punctuation"` // drop Unicode punctuation and symbols
}

// DefaultNormalize turns every normalisation on: two rows that differ only in
// case, spacing, punctuation or Unicode form are the same row to a model.
func DefaultNormalize() Normalize {
	return Normalize{NFKC: true, Case: true, Whitespace: true, Punctuation: true}
}

// ParseNormalize reads a comma list such as "nfkc,case,whitespace,punct", or
// "none" / "all".
func ParseNormalize(s string) (Normalize, error) {
	var n Normalize
	for _, f := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "", "none":
		case "all":
			n = DefaultNormalize()
		case "nfkc":
			n.NFKC = true
		case "case":
			n.Case = true
		case "whitespace", "space":
			n.Whitespace = true
		case "punct", "punctuation":
			n.Punctuation = true
		default:
			return n, errorf("unknown normalisation %q (use nfkc, case, whitespace, punct, all or none)", f)
		}
	}
	return n, nil
}

// Apply returns s normalised.
func (n Normalize) Apply(s string) string {
	if n.NFKC && !isASCII(s) {
		s = norm.NFKC.String(s)
	}
	if !n.Case && !n.Whitespace && !n.Punctuation {
		return s
	}
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); {
		// ASCII bytes are classified by table, other runes by the unicode
		// package: most text is mostly ASCII even when not all of it is.
		var r rune
		var isSpace, isPunct bool
		if c := s[i]; c < utf8.RuneSelf {
			r = rune(c)
			cl := asciiClass[c]
			isSpace, isPunct = cl&classSpace != 0, cl&classPunct != 0
			i++
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			isSpace = unicode.IsSpace(r)
			isPunct = unicode.IsPunct(r) || unicode.IsSymbol(r)
			i += size
		}
		if n.Punctuation && isPunct {
			// A dropped mark separates words ("end.Start" → "end Start").
			r, isSpace = ' ', true
		}
		if n.Whitespace && isSpace {
			space = true
			continue
		}
		if space {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			space = false
		}
		if n.Case {
			r = foldRune(r)
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// ASCII character classes, as unicode.IsSpace, IsPunct and IsSymbol say.
const (
	classSpace = 1 << iota
	classPunct
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		if unicode.IsSpace(rune(c)) {
			t[c] |= classSpace
		}
		if unicode.IsPunct(rune(c)) || unicode.IsSymbol(rune(c)) {
			t[c] |= classPunct
		}
	}
	return t
}()

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Tokens splits s into lower-case word tokens: maximal runs of letters and
// digits. This is the tokenisation of the n-gram and memorisation checks
// (GPT-3's contamination study also compared lower-cased words without
// punctuation), and it allocates only the slice of tokens.
func Tokens(s string, dst []string) []string {
	dst = dst[:0]
	start := -1
	lowerNeeded := false
	flush := func(end int) {
		w := s[start:end]
		if lowerNeeded {
			w = strings.ToLower(w)
		}
		dst = append(dst, w)
		start = -1
		lowerNeeded = false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			word := ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z')
			if word {
				if start < 0 {
					start = i
				}
				if 'A' <= c && c <= 'Z' {
					lowerNeeded = true
				}
			} else if start >= 0 {
				flush(i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			lowerNeeded = true
		} else if start >= 0 {
			flush(i)
		}
		i += size
	}
	if start >= 0 {
		flush(len(s))
	}
	return dst
}
