package text

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalization selects the steps applied to both sides before comparing.
// The steps run in field order; the zero value compares strings as given.
type Normalization struct {
	// NFKC applies Unicode compatibility composition (full-width letters,
	// ligatures, superscripts become their plain forms).
	NFKC bool
	// Lowercase lower-cases as Python's str.lower (see PyLower).
	Lowercase bool
	// StripPunctuation removes Unicode punctuation (categories P*) and the
	// ASCII symbols of Python's string.punctuation ($ + < = > ^ ` | ~).
	StripPunctuation bool
	// RemoveArticles replaces the English words a, an, the by a space (after
	// lower-casing, if set; the match is case-sensitive otherwise).
	RemoveArticles bool
	// CollapseWhitespace trims and turns every run of whitespace (Python's
	// definition) into one space.
	CollapseWhitespace bool
}

// SquadNormalization returns the normalisation of SQuAD's normalize_answer
// expressed as options. It differs from SquadNormalize only in that
// StripPunctuation also removes non-ASCII punctuation.
func SquadNormalization() Normalization {
	return Normalization{Lowercase: true, StripPunctuation: true, RemoveArticles: true, CollapseWhitespace: true}
}

// Apply returns s normalised by n.
func (n Normalization) Apply(s string) string {
	if n.NFKC {
		s = norm.NFKC.String(s)
	}
	if n.Lowercase {
		s = PyLower(s)
	}
	if n.StripPunctuation {
		s = strings.Map(func(r rune) rune {
			if isPyPunct(r) || unicode.IsPunct(r) {
				return -1
			}
			return r
		}, s)
	}
	if n.RemoveArticles {
		s = removeArticles(s)
	}
	if n.CollapseWhitespace {
		s = strings.Join(PySplit(s), " ")
	}
	return s
}

// ExactMatch is 1 when the normalised prediction equals any normalised
// reference, else 0.
func ExactMatch(prediction string, references []string, n Normalization) (float64, error) {
	if len(references) == 0 {
		return 0, ErrNoReferences
	}
	p := n.Apply(prediction)
	for _, r := range references {
		if n.Apply(r) == p {
			return 1, nil
		}
	}
	return 0, nil
}

// Contains is 1 when any normalised reference occurs in the normalised
// prediction, else 0. An empty reference is contained in everything.
func Contains(prediction string, references []string, n Normalization) (float64, error) {
	if len(references) == 0 {
		return 0, ErrNoReferences
	}
	p := n.Apply(prediction)
	for _, r := range references {
		if strings.Contains(p, n.Apply(r)) {
			return 1, nil
		}
	}
	return 0, nil
}

// Regex matches predictions against one compiled pattern (Go RE2 syntax:
// no backreferences or lookaround; \b and \w are ASCII-only, use \pL for
// letters of any script).
type Regex struct {
	re   *regexp.Regexp
	full bool
}

// CompileRegex compiles pattern. With full set the whole prediction must
// match, as Python's re.fullmatch; otherwise a match anywhere counts, as
// re.search.
func CompileRegex(pattern string, full bool) (*Regex, error) {
	expr := pattern
	if full {
		expr = `^(?:` + pattern + `)$`
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w (the syntax is Go RE2: https://pkg.go.dev/regexp/syntax)", pattern, err)
	}
	return &Regex{re: re, full: full}, nil
}

// Match is 1 when prediction matches, else 0.
func (r *Regex) Match(prediction string) float64 {
	if r.re.MatchString(prediction) {
		return 1
	}
	return 0
}

// JSONCheck is what JSONValidity found out about one prediction.
type JSONCheck struct {
	Valid    bool     // the text parses as one JSON value
	IsObject bool     // the value is a JSON object
	Missing  []string // required keys the object lacks, in the order asked
	// Err is the parse error when Valid is false.
	Err error
}

// OK reports whether the check passed: valid JSON and, when keys were
// required, an object that has all of them.
func (c JSONCheck) OK(requireObject bool) bool {
	if !c.Valid {
		return false
	}
	if requireObject && !c.IsObject {
		return false
	}
	return len(c.Missing) == 0
}

// JSONValidity checks that prediction is exactly one JSON value (leading and
// trailing whitespace allowed), and, when keys are given, that it is an
// object with those top-level keys. With stripFence, a Markdown code fence
// around the JSON (```json ... ```) is removed first, as chat models often
// add one.
func JSONValidity(prediction string, keys []string, stripFence bool) JSONCheck {
	s := prediction
	if stripFence {
		s = stripCodeFence(s)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return JSONCheck{Err: err}
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return JSONCheck{Err: fmt.Errorf("text after the JSON value at offset %d", dec.InputOffset())}
	}
	c := JSONCheck{Valid: true}
	obj, ok := v.(map[string]any)
	c.IsObject = ok
	for _, k := range keys {
		if _, has := obj[k]; !has {
			c.Missing = append(c.Missing, k)
		}
	}
	return c
}

// stripCodeFence removes one surrounding Markdown code fence, with or
// without a language tag.
func stripCodeFence(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "```") || !strings.HasSuffix(t, "```") || len(t) < 6 {
		return s
	}
	t = t[3 : len(t)-3]
	if nl := strings.IndexByte(t, '\n'); nl >= 0 && !strings.ContainsAny(t[:nl], "{[\"") {
		t = t[nl+1:]
	}
	return t
}

// removeArticles replaces every match of the Python pattern \b(a|an|the)\b by
// a space: a maximal run of word characters (Unicode letters, numbers and
// "_", as Python's \w) that spells an article. RE2's \b is ASCII-only and
// would wrongly remove the "a" of "ça".
func removeArticles(s string) string {
	var b strings.Builder
	last, runStart := 0, -1
	flush := func(end int) {
		if runStart >= 0 && isArticle([]byte(s[runStart:end])) {
			b.WriteString(s[last:runStart])
			b.WriteByte(' ')
			last = end
		}
		runStart = -1
	}
	for i, r := range s {
		if isPyWord(r) {
			if runStart < 0 {
				runStart = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
