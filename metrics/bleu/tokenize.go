package bleu

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

// Tokenizer names one of sacrebleu's BLEU tokenizers.
type Tokenizer string

// The tokenizers sacrebleu 2.6.0 ships without external dependencies.
const (
	// Tok13a is mteval-v13a.pl's tokenizer, sacrebleu's default.
	Tok13a Tokenizer = "13a"
	// TokIntl is mteval-v14.pl's international tokenizer: splits on Unicode
	// punctuation and symbols.
	TokIntl Tokenizer = "intl"
	// TokChar splits every character.
	TokChar Tokenizer = "char"
	// TokNone leaves the text as it is (tokens are whitespace-separated).
	TokNone Tokenizer = "none"
)

// ParseTokenizer checks a tokenizer name; the empty string means 13a.
func ParseTokenizer(name string) (Tokenizer, error) {
	switch Tokenizer(name) {
	case "", Tok13a:
		return Tok13a, nil
	case TokIntl, TokChar, TokNone:
		return Tokenizer(name), nil
	}
	return "", fmt.Errorf("unknown BLEU tokenizer %q: use 13a (default), intl, char or none", name)
}

// Tokenize applies the named tokenizer to one line exactly as sacrebleu's
// tokenizer object does when called (no lower-casing, no stripping: BLEU
// does those before calling it) and returns the tokens joined by single
// spaces.
func Tokenize(line string, tok Tokenizer) (string, error) {
	t, err := ParseTokenizer(string(tok))
	if err != nil {
		return "", err
	}
	return tokenize(line, t), nil
}

func tokenize(line string, tok Tokenizer) string {
	switch tok {
	case TokIntl:
		return tokenizeIntl(line)
	case TokChar:
		return tokenizeChar(line)
	case TokNone:
		return line
	default:
		return tokenize13a(line)
	}
}

// tokenize13a is sacrebleu's Tokenizer13a followed by its TokenizerRegexp.
func tokenize13a(line string) string {
	var ts tokScratch
	return pyJoinFields(ts.tok13a(line))
}

// tokScratch holds the buffers of the byte-level tokenizer passes, reused
// across segments.
type tokScratch struct{ a, b []byte }

// tok13a returns the 13a-tokenized line with its tokens separated by
// whitespace runs (not yet collapsed: callers split it).
func (ts *tokScratch) tok13a(line string) string {
	return string(ts.tok13aBytes(line))
}

// tok13aBytes is tok13a into the scratch buffers: the result is valid
// until the next call.
func (ts *tokScratch) tok13aBytes(line string) []byte {
	if strings.Contains(line, "<skipped>") {
		line = strings.ReplaceAll(line, "<skipped>", "")
	}
	if strings.IndexByte(line, '\n') >= 0 {
		line = strings.ReplaceAll(line, "-\n", "")
		line = strings.ReplaceAll(line, "\n", " ")
	}
	if strings.IndexByte(line, '&') >= 0 {
		line = strings.ReplaceAll(line, "&quot;", "\"")
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	a := append(ts.a[:0], ' ')
	a = appendWesternPunct(a, line)
	a = append(a, ' ')
	out, spare := periodCommaDash(a, ts.b)
	ts.a, ts.b = out, spare
	return out
}

// isWesternPunct is the class [\{-\~\[-\` -\&\(-\+\:-\@\/] of mteval's
// tokenizer: ASCII punctuation except the apostrophe, comma, hyphen, period
// and digits. The class is a 128-bit mask: bit c set for each member c.
func isWesternPunct(c byte) bool {
	const (
		lo = 1<<' ' | 1<<'!' | 1<<'"' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' |
			1<<'(' | 1<<')' | 1<<'*' | 1<<'+' | 1<<'/' |
			1<<':' | 1<<';' | 1<<'<' | 1<<'=' | 1<<'>' | 1<<'?'
		hi = 1<<('@'-64) | 1<<('['-64) | 1<<('\\'-64) | 1<<(']'-64) | 1<<('^'-64) |
			1<<('_'-64) | 1<<('`'-64) | 1<<('{'-64) | 1<<('|'-64) | 1<<('}'-64) | 1<<('~'-64)
	)
	if c < 64 {
		return uint64(lo)>>c&1 != 0
	}
	if c < 128 {
		return uint64(hi)>>(c-64)&1 != 0
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// appendWesternPunct is the first substitution shared by 13a and tercom's
// normaliser, ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 ". Runs without
// punctuation are copied in one piece.
func appendWesternPunct(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; isWesternPunct(c) {
			dst = append(dst, s[last:i]...)
			dst = append(dst, ' ', c, ' ')
			last = i + 1
		}
	}
	return append(dst, s[last:]...)
}

// periodCommaDash runs the other three substitutions, each a left-to-right
// non-overlapping pass like re.sub:
//
//	([^0-9])([\.,])  ->  "\1 \2 "
//	([\.,])([^0-9])  ->  " \1 \2"
//	([0-9])(-)       ->  "\1 \2 "
//
// The classes are ASCII and [^0-9] can be tested on the last (or first) byte
// of a multi-byte character, so the passes run on bytes and give the same
// text as on code points. A match consumes both characters, so a character
// can take part in at most one match per pass: `free` is the first index not
// consumed yet. It ping-pongs between s and spare and returns the result and
// the other buffer.
func periodCommaDash(s, spare []byte) (out, other []byte) {
	if bytes.IndexByte(s, '.') >= 0 || bytes.IndexByte(s, ',') >= 0 {
		d := spare[:0]
		last, free := 0, 0
		for k := 1; k < len(s); k++ {
			if c := s[k]; (c == '.' || c == ',') && k-1 >= free && !isDigit(s[k-1]) {
				d = append(d, s[last:k]...)
				d = append(d, ' ', c, ' ')
				last, free = k+1, k+1
			}
		}
		d = append(d, s[last:]...)
		s, spare = d, s
		d = spare[:0]
		last, free = 0, 0
		for i := 0; i+1 < len(s); i++ {
			if c := s[i]; (c == '.' || c == ',') && i >= free && !isDigit(s[i+1]) {
				// The second group is a whole code point in Python; copying
				// its first byte here and the rest with the next run is the
				// same text.
				d = append(d, s[last:i]...)
				d = append(d, ' ', c, ' ', s[i+1])
				last, free = i+2, i+2
			}
		}
		d = append(d, s[last:]...)
		s, spare = d, s
	}
	if bytes.IndexByte(s, '-') >= 0 {
		d := spare[:0]
		last := 0
		for k := 1; k < len(s); k++ {
			// A dash never is the first group, so no match can consume the
			// digit a later match needs.
			if s[k] == '-' && isDigit(s[k-1]) {
				d = append(d, s[last:k]...)
				d = append(d, ' ', '-', ' ')
				last = k + 1
			}
		}
		d = append(d, s[last:]...)
		s, spare = d, s
	}
	return s, spare
}

// tokenizeIntl is sacrebleu's TokenizerV14International:
//
//	(\P{N})(\p{P})  ->  "\1 \2 "
//	(\p{P})(\P{N})  ->  " \1 \2"
//	(\p{S})         ->  " \1 "
//
// with the regex module's Unicode general categories, which Go's unicode
// tables (Unicode 15.0, as regex 2022.10.31) match.
func tokenizeIntl(line string) string {
	rs := []rune(line)
	out := make([]rune, 0, len(rs)*2)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if !unicode.IsNumber(r) && i+1 < len(rs) && unicode.IsPunct(rs[i+1]) {
			out = append(out, r, ' ', rs[i+1], ' ')
			i++
			continue
		}
		out = append(out, r)
	}
	rs, out = out, make([]rune, 0, len(out)+len(out)/2)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if unicode.IsPunct(r) && i+1 < len(rs) && !unicode.IsNumber(rs[i+1]) {
			out = append(out, ' ', r, ' ', rs[i+1])
			i++
			continue
		}
		out = append(out, r)
	}
	var b strings.Builder
	b.Grow(len(line) * 2)
	for _, r := range out {
		if unicode.IsSymbol(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return pyJoinFields(b.String())
}

// tokenizeChar is sacrebleu's TokenizerChar: " ".join(line), one code point
// per token (whitespace code points end up as separators once split).
func tokenizeChar(line string) string {
	var b strings.Builder
	b.Grow(len(line) * 2)
	for i, r := range line {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
