package classify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// WordList is the offline baseline: a text is flagged when it contains a
// term of a user-supplied list as a whole word (or whole phrase),
// case-insensitively. It knows nothing of context, negation, spelling
// variants or meaning, so it misses most toxic text and flags some benign
// text: a crude lower bound, and every Result says so in Note.
//
// We recommend the English list of LDNOOBW ("List of Dirty, Naughty, Obscene,
// and Otherwise Bad Words", CC-BY-4.0,
// https://github.com/LDNOOBW/List-of-Dirty-Naughty-Obscene-and-Otherwise-Bad-Words);
// docs/safety.md says how to fetch it. No list ships with tunecheck.
type WordList struct {
	name  string
	terms []string // lower-cased, whitespace collapsed, sorted, distinct
}

// WordListNote is the caveat on every word-list Result.
const WordListNote = "word-list baseline: a crude lower bound on toxicity, not a classifier"

// ReadWordList reads one term per line; blank lines and lines starting with
// "#" are skipped. name (the file) is used in errors and in Raw.
func ReadWordList(r io.Reader, name string) (*WordList, error) {
	w := &WordList{name: name}
	sc := bufio.NewScanner(r)
	seen := map[string]bool{}
	for line := 1; sc.Scan(); line++ {
		t := normalise(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if !seen[t] {
			seen[t] = true
			w.terms = append(w.terms, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("word list %s: %w", name, err)
	}
	if len(w.terms) == 0 {
		return nil, fmt.Errorf("word list %s: no terms; expected one term per line", name)
	}
	slices.Sort(w.terms)
	return w, nil
}

// Len is the number of distinct terms.
func (w *WordList) Len() int { return len(w.terms) }

// normalise lower-cases s and collapses runs of white space to one space.
func normalise(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// Matches returns the terms found in text as whole words, sorted.
func (w *WordList) Matches(text string) []string {
	t := normalise(text)
	var out []string
	for _, term := range w.terms {
		if containsWord(t, term) {
			out = append(out, term)
		}
	}
	return out
}

// containsWord reports whether term occurs in t with no word character
// directly before or after it.
func containsWord(t, term string) bool {
	for from := 0; from <= len(t)-len(term); {
		i := strings.Index(t[from:], term)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(term)
		before := i == 0 || !wordRune(lastRune(t[:i]))
		after := end == len(t) || !wordRune(firstRune(t[end:]))
		if before && after {
			return true
		}
		_, n := utf8.DecodeRuneInString(t[i:])
		from = i + n
	}
	return false
}

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

func lastRune(s string) rune { r, _ := utf8.DecodeLastRuneInString(s); return r }

// Classify flags in.Text() when it contains a listed term. Scores has
// "wordlist" 1 or 0; Categories lists the matched terms.
func (w *WordList) Classify(_ context.Context, in Input) (Result, error) {
	m := w.Matches(in.Text())
	res := Result{Flagged: len(m) > 0, Scores: map[string]float64{"wordlist": 0}, Categories: m, Note: WordListNote}
	if res.Flagged {
		res.Scores["wordlist"] = 1
	}
	res.Raw = fmt.Sprintf("%s (%s, %d terms): %d matched", WordListNote, w.name, len(w.terms), len(m))
	return res, nil
}
