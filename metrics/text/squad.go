package text

import (
	"errors"
	"strings"
)

// ErrNoReferences is returned by the max-over-references metrics when a row
// has no reference: the maximum of nothing is undefined (the reference
// implementations raise ValueError).
var ErrNoReferences = errors.New("no references: every row needs at least one reference answer")

// SquadNormalize is normalize_answer of the SQuAD v1.1 evaluation script (as
// HF evaluate 0.4.6 metrics/squad ships it): Python str.lower, remove ASCII
// punctuation, replace the words a, an, the (Unicode word boundaries, as
// Python's re) by a space, then collapse whitespace to single spaces.
func SquadNormalize(s string) string {
	s = PyLower(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !isPyPunct(r) {
			b.WriteRune(r)
		}
	}
	s = removeArticles(b.String())
	return strings.Join(PySplit(s), " ")
}

// removeArticles replaces every match of the Python pattern
// \b(a|an|the)\b by a space. \b is Unicode-aware in Python, so "ça" keeps
// its "a" while RE2's ASCII \b would remove it.
func removeArticles(s string) string {
	var b strings.Builder
	prevWord := false // whether the rune before offset i is a word character
	last := 0         // start of the text not yet copied to b
	for i := 0; i < len(s); {
		if !prevWord {
			if n := articleAt(s, i); n > 0 {
				b.WriteString(s[last:i])
				b.WriteByte(' ')
				i += n
				last = i
				prevWord = true // the article's last letter
				continue
			}
		}
		r, size := decodeRune(s, i)
		prevWord = isPyWord(r)
		i += size
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// articleAt returns the byte length of the article a, an or the starting at
// offset i and followed by a word boundary, or 0. The three alternatives
// exclude one another, so the pattern's order does not matter.
func articleAt(s string, i int) int {
	for _, a := range [...]string{"a", "an", "the"} {
		if strings.HasPrefix(s[i:], a) && endsWord(s, i+len(a)) {
			return len(a)
		}
	}
	return 0
}

// endsWord reports whether a \b holds at byte offset i after a word character.
func endsWord(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := decodeRune(s, i)
	return !isPyWord(r)
}

// SquadExactMatch is 1 when the normalised prediction equals the normalised
// form of any reference, else 0 (SQuAD v1.1 exact_match_score, max over
// ground truths).
func SquadExactMatch(prediction string, references []string) (float64, error) {
	if len(references) == 0 {
		return 0, ErrNoReferences
	}
	p := SquadNormalize(prediction)
	for _, ref := range references {
		if SquadNormalize(ref) == p {
			return 1, nil
		}
	}
	return 0, nil
}

// SquadF1 is the SQuAD v1.1 token F1 between the normalised prediction and
// each reference (bag-of-tokens overlap), maximised over the references. Its
// scale is 0..1; 0 when nothing overlaps, including when either side is empty.
func SquadF1(prediction string, references []string) (float64, error) {
	if len(references) == 0 {
		return 0, ErrNoReferences
	}
	p := strings.Fields(SquadNormalize(prediction))
	best := 0.0
	for i, ref := range references {
		f := tokenF1(p, strings.Fields(SquadNormalize(ref)))
		if i == 0 || f > best {
			best = f
		}
	}
	return best, nil
}

// tokenF1 computes f1_score of the SQuAD script on already split tokens, with
// its operation order, so that the last bits agree.
func tokenF1(pred, ref []string) float64 {
	if len(pred) == 0 || len(ref) == 0 {
		return 0
	}
	counts := make(map[string]int, len(ref))
	for _, t := range ref {
		counts[t]++
	}
	same := 0
	for _, t := range pred {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	precision := float64(same) / float64(len(pred))
	recall := float64(same) / float64(len(ref))
	return (2 * precision * recall) / (precision + recall)
}

// SquadResult is the corpus value of the SQuAD metric, in percent as the
// reference reports it.
type SquadResult struct {
	ExactMatch float64 // 100 × mean exact match
	F1         float64 // 100 × mean token F1
	// PerExample holds each row's exact match (0 or 1) and F1 (0..1).
	PerExample []SquadRow
}

// SquadRow is one row's SQuAD scores.
type SquadRow struct {
	ExactMatch float64
	F1         float64
}

// Squad scores a whole set as compute_score of HF evaluate's metrics/squad.
// predictions[i] is scored against references[i].
func Squad(predictions []string, references [][]string) (SquadResult, error) {
	if len(predictions) != len(references) {
		return SquadResult{}, &LengthError{Predictions: len(predictions), References: len(references)}
	}
	res := SquadResult{PerExample: make([]SquadRow, len(predictions))}
	var em, f1 float64
	for i, p := range predictions {
		e, err := SquadExactMatch(p, references[i])
		if err != nil {
			return SquadResult{}, &RowError{Row: i, Err: err}
		}
		f, _ := SquadF1(p, references[i])
		res.PerExample[i] = SquadRow{ExactMatch: e, F1: f}
		em += e
		f1 += f
	}
	if n := float64(len(predictions)); n > 0 {
		// 100.0 * total / n, in this order, as the reference computes it.
		res.ExactMatch = 100 * em / n
		res.F1 = 100 * f1 / n
	}
	return res, nil
}
