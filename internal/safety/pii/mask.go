package pii

import (
	"slices"
	"strings"
)

// Mask replaces every valid match of the given kinds (all kinds when none
// are given) with its Label, e.g. "[EMAIL]", and leaves every other byte as
// it was. Some rules look at a match's neighbours (a phone number glued to
// another digit group is refused), so masking one match can free another:
// Mask repeats until a pass finds nothing, which makes it idempotent,
// Mask(Mask(t)) == Mask(t). Labels hold nothing Find detects.
func Mask(text string, kinds ...Kind) string {
	for range maxMaskPasses {
		next, changed := maskOnce(text, kinds)
		if !changed {
			return text
		}
		text = next
	}
	return text
}

// maxMaskPasses bounds Mask's passes; each pass removes at least one match
// and adds none, and real text settles in two.
const maxMaskPasses = 8

func maskOnce(text string, kinds []Kind) (string, bool) {
	var b strings.Builder
	last, changed := 0, false
	for _, m := range Find(text) {
		if !m.Valid || !wanted(m.Kind, kinds) {
			continue
		}
		if !changed {
			b.Grow(len(text))
			changed = true
		}
		b.WriteString(text[last:m.Start])
		b.WriteString(m.Kind.Label())
		last = m.End
	}
	if !changed {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), true
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
