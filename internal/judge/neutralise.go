package judge

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// NeutralMark is the character Render inserts into a marker found inside a
// model's answer: U+200B ZERO WIDTH SPACE. It is invisible when a person reads
// the prompt, but the judge's tokenizer sees a different token sequence, so an
// answer that writes "[The End of Assistant's Answer]" no longer spells the
// template's end marker, and a judge that quotes the answer's "[[10]]" quotes
// "[[\u200b10]]", which no score pattern reads.
const NeutralMark = "\u200b"

// Markers returns the template's delimiters: every line of the prompt's
// literal text (between placeholders), trimmed, of two or more characters,
// in order of appearance without repeats. For MT-Bench's single-v1 these are
// "[Instruction]", the instruction paragraph, "[Question]",
// "[The Start of Assistant's Answer]" and "[The End of Assistant's Answer]".
// A template that does not parse has none.
func (t Template) Markers() []string {
	segs, err := parseFormat(t.Prompt)
	if err != nil {
		return nil
	}
	return markersOf(segs)
}

func markersOf(segs []formatSegment) []string {
	var out []string
	for _, sg := range segs {
		if sg.placeholder != "" {
			continue
		}
		for line := range strings.SplitSeq(sg.literal, "\n") {
			line = strings.TrimSpace(line)
			if utf8.RuneCountInString(line) < 2 || strings.Contains(line, NeutralMark) || slices.Contains(out, line) {
				continue
			}
			out = append(out, line)
		}
	}
	return out
}

// Neutralise returns answer as Render would insert it into t.
func (t Template) Neutralise(answer string) string {
	segs, err := parseFormat(t.Prompt)
	if err != nil {
		return answer
	}
	return newNeutraliser(segs).neutralise(answer)
}

// A neutraliser breaks, inside model outputs, every occurrence of a template
// marker and of a verdict token:
//
//   - a marker (see Markers), matched ignoring case, with any run of spaces,
//     tabs or newlines for a space and any of ' ‘ ’ ʼ for an apostrophe, gets
//     NeutralMark after its first character ("[\u200bThe End of …]",
//     "#\u200b## User:", "<\u200b/answer>");
//   - a verdict in double brackets — "[[8]]", "[[ 8.5 ]]", "[[-1]]", "[[A]]",
//     "[[b]]", "[[C]]", "[[rating]]" — gets it after the "[[", so that neither
//     "[[n]]" nor FastChat's backup "[n]" can be read from it;
//   - Prometheus's "[RESULT]" (any case) gets it after the "[".
//
// Everything else is left byte for byte: "[1]" citations, "{"score": 3}" in
// code and markdown headings that are not the template's own stay as they
// are, because normal answers use them and the parser prefers the stronger
// forms anyway (see ParseScore).
type neutraliser struct {
	markers *regexp.Regexp // nil when the template has none
	verdict *regexp.Regexp
}

func newNeutraliser(segs []formatSegment) neutraliser {
	n := neutraliser{verdict: regexp.MustCompile(`\[\[\s*(?:[-+]?\p{Nd}+(?:[.,]\p{Nd}*)?|[ABCabc]|(?i:rating))\s*\]\]|(?i:\[\s*RESULT\s*\])`)}
	ms := markersOf(segs)
	if len(ms) == 0 {
		return n
	}
	// Longest first: RE2 alternation prefers the earlier branch at a position.
	slices.SortStableFunc(ms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	alts := make([]string, len(ms))
	for i, m := range ms {
		alts[i] = markerPattern(m)
	}
	n.markers = regexp.MustCompile(`(?i)(?:` + strings.Join(alts, "|") + `)`)
	return n
}

// markerPattern turns a marker into a pattern that also matches its spacing
// and apostrophe variants.
func markerPattern(m string) string {
	var b strings.Builder
	for _, f := range strings.Fields(m) {
		if b.Len() > 0 {
			b.WriteString(`\s+`)
		}
		for _, r := range f {
			switch r {
			case '\'', '‘', '’', 'ʼ':
				b.WriteString(`['‘’ʼ]`)
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
	}
	return b.String()
}

func (n neutraliser) neutralise(s string) string {
	// Breaking one marker can leave a shorter one behind ("#\u200b## x" still
	// holds "## x" when both are markers), so repeat until none is left. Each
	// pass breaks every match and the mark never forms one, so this ends.
	for {
		changed := false
		if n.markers != nil {
			s, changed = insertMarks(s, n.markers, func(m string) int {
				_, size := utf8.DecodeRuneInString(m)
				return size
			})
		}
		var c bool
		s, c = insertMarks(s, n.verdict, func(m string) int {
			if strings.HasPrefix(m, "[[") {
				return 2
			}
			return 1
		})
		if !changed && !c {
			return s
		}
	}
}

// insertMarks inserts NeutralMark into every match of re in s, at the byte
// offset at returns for the match.
func insertMarks(s string, re *regexp.Regexp, at func(match string) int) (string, bool) {
	locs := re.FindAllStringIndex(s, -1)
	if locs == nil {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + len(locs)*len(NeutralMark))
	prev := 0
	for _, l := range locs {
		cut := l[0] + at(s[l[0]:l[1]])
		b.WriteString(s[prev:cut])
		b.WriteString(NeutralMark)
		prev = cut
	}
	b.WriteString(s[prev:])
	return b.String(), true
}
