package rouge

import (
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/text"
)

// This file is a hand port of nltk.stem.porter.PorterStemmer from NLTK 3.8 in
// its default NLTK_EXTENSIONS mode, which is what rouge_score calls. That mode
// is neither Porter's published algorithm nor Snowball: it adds an irregular
// form table, the "ies"/"ied" rules for four-letter words, a different step 1c
// condition, "alli" handled before the other step 2 rules, and "fulli" and
// "logi" rules. Each step keeps NLTK's rule order, because a matching suffix
// whose condition fails stops the step.

// irregular is NLTK's pool of irregular forms, looked up with the word as
// given (before lower-casing).
var irregular = map[string]string{
	"sky": "sky", "skies": "sky",
	"dying": "die", "lying": "lie", "tying": "tie",
	"news":    "news",
	"innings": "inning", "inning": "inning",
	"outings": "outing", "outing": "outing",
	"cannings": "canning", "canning": "canning",
	"howe":    "howe",
	"proceed": "proceed", "exceed": "exceed", "succeed": "succeed",
}

// Stem returns NLTK 3.8's PorterStemmer().stem(word): word lower-cased with
// Python's str.lower, then stemmed. Words of one or two characters are only
// lower-cased. Non-ASCII letters count as consonants, as in NLTK.
func Stem(word string) string {
	lower := text.PyLower(word)
	if s, ok := irregular[word]; ok {
		// NLTK looks the pool up with the original word but indexes it with
		// the lower-cased one; the two differ only for words that are not in
		// the pool in lower case, which then raise KeyError in NLTK. Only
		// lower-case words are in the pool, so they coincide.
		return s
	}
	if utf8.RuneCountInString(word) <= 2 {
		return lower
	}
	for i := 0; i < len(lower); i++ {
		if lower[i] >= utf8.RuneSelf {
			return string(stemLetters([]rune(lower)))
		}
	}
	return string(stemLetters([]byte(lower)))
}

// stemASCII stems a lower-case ASCII word, as rouge_score's tokenizer
// produces; it skips the lower-casing and rune handling of Stem.
func stemASCII(word string) string {
	if s, ok := irregular[word]; ok {
		return s
	}
	if len(word) <= 2 {
		return word
	}
	return string(stemLetters([]byte(word)))
}

// letter is the element type of a word being stemmed: bytes for ASCII words,
// runes otherwise, so that lengths and positions count characters as Python
// does.
type letter interface{ ~byte | ~rune }

// stemLetters runs steps 1a to 5b on w, which it may modify in place.
func stemLetters[E letter](w []E) []E {
	w = step1a(w)
	w = step1b(w)
	w = step1c(w)
	w = step2(w)
	w = step3(w)
	w = step4(w)
	w = step5a(w)
	w = step5b(w)
	return w
}

func isVowel[E letter](c E) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'
}

// isConsonant: a letter other than a, e, i, o, u, and other than a y that
// follows a consonant.
func isConsonant[E letter](w []E, i int) bool {
	if isVowel(w[i]) {
		return false
	}
	if w[i] == 'y' {
		if i == 0 {
			return true
		}
		return !isConsonant(w, i-1)
	}
	return true
}

// measure is m in [C](VC){m}[V]: the number of vowel-to-consonant changes.
func measure[E letter](w []E) int {
	m := 0
	prevVowel := false
	for i := range w {
		c := isConsonant(w, i)
		if c && prevVowel {
			m++
		}
		prevVowel = !c
	}
	return m
}

func containsVowel[E letter](w []E) bool {
	for i := range w {
		if !isConsonant(w, i) {
			return true
		}
	}
	return false
}

// endsDoubleConsonant is condition *d.
func endsDoubleConsonant[E letter](w []E) bool {
	n := len(w)
	return n >= 2 && w[n-1] == w[n-2] && isConsonant(w, n-1)
}

// endsCVC is condition *o, with NLTK's extension that a two-letter word
// vowel-consonant also qualifies.
func endsCVC[E letter](w []E) bool {
	n := len(w)
	if n >= 3 && isConsonant(w, n-3) && !isConsonant(w, n-2) && isConsonant(w, n-1) &&
		w[n-1] != 'w' && w[n-1] != 'x' && w[n-1] != 'y' {
		return true
	}
	return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1)
}

func hasSuffix[E letter](w []E, suffix string) bool {
	if len(suffix) > len(w) {
		return false
	}
	off := len(w) - len(suffix)
	for i := 0; i < len(suffix); i++ {
		if w[off+i] != E(suffix[i]) {
			return false
		}
	}
	return true
}

// withSuffix returns stem followed by add, reusing stem's storage.
func withSuffix[E letter](stem []E, add string) []E {
	for i := 0; i < len(add); i++ {
		stem = append(stem, E(add[i]))
	}
	return stem
}

// condition names the rule conditions NLTK attaches to suffix rules; they
// are evaluated on the word without the suffix (the stem).
type condition uint8

const (
	always   condition = iota
	mGT0               // m(stem) > 0
	mGT1               // m(stem) > 1
	mGT1ST             // m(stem) > 1 and the stem ends in s or t (step 4 "ion")
	logiStem           // m(stem + "l") > 0 (step 2 "logi": the l stays with the stem)
	yToI               // the stem is longer than one letter and ends in a consonant (step 1c)
)

type rule struct {
	suffix, repl string
	cond         condition
}

func holds[E letter](c condition, stem []E) bool {
	switch c {
	case mGT0:
		return measure(stem) > 0
	case mGT1:
		return measure(stem) > 1
	case mGT1ST:
		n := len(stem)
		return measure(stem) > 1 && n > 0 && (stem[n-1] == 's' || stem[n-1] == 't')
	case logiStem:
		return measure(stem[:len(stem)+1]) > 0
	case yToI:
		return len(stem) > 1 && isConsonant(stem, len(stem)-1)
	}
	return true
}

// applyRules applies the first rule whose suffix matches; when its condition
// fails the word is returned unchanged and no later rule is tried.
func applyRules[E letter](w []E, rules []rule) []E {
	for _, r := range rules {
		if hasSuffix(w, r.suffix) {
			stem := w[:len(w)-len(r.suffix)]
			if holds(r.cond, stem) {
				return withSuffix(stem, r.repl)
			}
			return w
		}
	}
	return w
}

var step1aRules = []rule{
	{"sses", "ss", always},
	{"ies", "i", always},
	{"ss", "ss", always},
	{"s", "", always},
}

func step1a[E letter](w []E) []E {
	if len(w) == 4 && hasSuffix(w, "ies") {
		return withSuffix(w[:1], "ie")
	}
	return applyRules(w, step1aRules)
}

func step1b[E letter](w []E) []E {
	if hasSuffix(w, "ied") {
		if len(w) == 4 {
			return withSuffix(w[:1], "ie")
		}
		return withSuffix(w[:len(w)-3], "i")
	}
	if hasSuffix(w, "eed") {
		stem := w[:len(w)-3]
		if measure(stem) > 0 {
			return withSuffix(stem, "ee")
		}
		return w
	}
	var stem []E
	switch {
	case hasSuffix(w, "ed") && containsVowel(w[:len(w)-2]):
		stem = w[:len(w)-2]
	case hasSuffix(w, "ing") && containsVowel(w[:len(w)-3]):
		stem = w[:len(w)-3]
	default:
		return w
	}
	switch {
	case hasSuffix(stem, "at"):
		return withSuffix(stem, "e")
	case hasSuffix(stem, "bl"):
		return withSuffix(stem, "e")
	case hasSuffix(stem, "iz"):
		return withSuffix(stem, "e")
	case endsDoubleConsonant(stem):
		last := stem[len(stem)-1]
		if last != 'l' && last != 's' && last != 'z' {
			return stem[:len(stem)-1]
		}
		return stem
	case measure(stem) == 1 && endsCVC(stem):
		return withSuffix(stem, "e")
	}
	return stem
}

var step1cRules = []rule{{"y", "i", yToI}}

func step1c[E letter](w []E) []E { return applyRules(w, step1cRules) }

var step2Rules = []rule{
	{"ational", "ate", mGT0},
	{"tional", "tion", mGT0},
	{"enci", "ence", mGT0},
	{"anci", "ance", mGT0},
	{"izer", "ize", mGT0},
	{"bli", "ble", mGT0},
	{"alli", "al", mGT0},
	{"entli", "ent", mGT0},
	{"eli", "e", mGT0},
	{"ousli", "ous", mGT0},
	{"ization", "ize", mGT0},
	{"ation", "ate", mGT0},
	{"ator", "ate", mGT0},
	{"alism", "al", mGT0},
	{"iveness", "ive", mGT0},
	{"fulness", "ful", mGT0},
	{"ousness", "ous", mGT0},
	{"aliti", "al", mGT0},
	{"iviti", "ive", mGT0},
	{"biliti", "ble", mGT0},
	{"fulli", "ful", mGT0},
	{"logi", "log", logiStem},
}

func step2[E letter](w []E) []E {
	// NLTK applies "alli" -> "al" first and runs step 2 again on the result.
	if hasSuffix(w, "alli") && measure(w[:len(w)-4]) > 0 {
		return step2(withSuffix(w[:len(w)-4], "al"))
	}
	return applyRules(w, step2Rules)
}

var step3Rules = []rule{
	{"icate", "ic", mGT0},
	{"ative", "", mGT0},
	{"alize", "al", mGT0},
	{"iciti", "ic", mGT0},
	{"ical", "ic", mGT0},
	{"ful", "", mGT0},
	{"ness", "", mGT0},
}

func step3[E letter](w []E) []E { return applyRules(w, step3Rules) }

var step4Rules = []rule{
	{"al", "", mGT1},
	{"ance", "", mGT1},
	{"ence", "", mGT1},
	{"er", "", mGT1},
	{"ic", "", mGT1},
	{"able", "", mGT1},
	{"ible", "", mGT1},
	{"ant", "", mGT1},
	{"ement", "", mGT1},
	{"ment", "", mGT1},
	{"ent", "", mGT1},
	{"ion", "", mGT1ST},
	{"ou", "", mGT1},
	{"ism", "", mGT1},
	{"ate", "", mGT1},
	{"iti", "", mGT1},
	{"ous", "", mGT1},
	{"ive", "", mGT1},
	{"ize", "", mGT1},
}

func step4[E letter](w []E) []E { return applyRules(w, step4Rules) }

// step5a tries both of its rules (m>1, then m=1 and not *o), unlike the
// other steps where the first matching suffix decides.
func step5a[E letter](w []E) []E {
	if !hasSuffix(w, "e") {
		return w
	}
	stem := w[:len(w)-1]
	m := measure(stem)
	if m > 1 || m == 1 && !endsCVC(stem) {
		return stem
	}
	return w
}

func step5b[E letter](w []E) []E {
	if hasSuffix(w, "ll") && measure(w[:len(w)-1]) > 1 {
		return w[:len(w)-1]
	}
	return w
}
