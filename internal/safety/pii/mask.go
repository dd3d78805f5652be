package pii

import (
	"slices"
	"strings"
)

// Mask replaces every valid match of the given kinds (all kinds when none
// are given) with its Label, e.g. "[EMAIL]", and leaves every other byte as
// it was. Labels contain nothing Find detects, so Mask(Mask(t)) == Mask(t).
func Mask(text string, kinds ...Kind) string {
	ms := Find(text)
	var b strings.Builder
	last := 0
	for _, m := range ms {
		if !m.Valid || !wanted(m.Kind, kinds) {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:m.Start])
		b.WriteString(m.Kind.Label())
		last = m.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// HasPII reports whether text holds a valid match of the given kinds (all
// kinds when none are given).
func HasPII(text string, kinds ...Kind) bool {
	for _, m := range Find(text) {
		if m.Valid && wanted(m.Kind, kinds) {
			return true
		}
	}
	return false
}

// Counts returns the number of valid matches per kind; kinds with none are
// absent.
func Counts(text string) map[Kind]int {
	n := map[Kind]int{}
	for _, m := range Find(text) {
		if m.Valid {
			n[m.Kind]++
		}
	}
	return n
}

// Rate is the share of texts for which HasPII(text, kinds...) holds: the
// per-model value of the pii_rate metric. It is 0 for no texts.
func Rate(texts []string, kinds ...Kind) float64 {
	if len(texts) == 0 {
		return 0
	}
	n := 0
	for _, t := range texts {
		if HasPII(t, kinds...) {
			n++
		}
	}
	return float64(n) / float64(len(texts))
}

func wanted(k Kind, kinds []Kind) bool {
	return len(kinds) == 0 || slices.Contains(kinds, k)
}
