package bleu

import "strings"

// TEROptions are TER's options, which are those of its tercom tokenizer.
// The zero value is sacrebleu's default: lower-cased, punctuation kept, no
// normalisation.
type TEROptions struct {
	// Normalized applies Tercom's normaliser: joins hyphenated line breaks,
	// unescapes &quot; &amp; &lt; &gt;, and splits punctuation as mteval
	// does (and splits CJK characters when AsianSupport is set).
	Normalized bool
	// NoPunct removes . , ? : ; ! " ( ) (and CJK / full-width punctuation
	// when AsianSupport is set).
	NoPunct bool
	// AsianSupport extends Normalized and NoPunct to CJK text.
	AsianSupport bool
	// CaseSensitive keeps case; by default TER lower-cases.
	CaseSensitive bool
}

// TokenizeTercom is sacrebleu's TercomTokenizer: it returns the tokens of
// sent joined by single spaces.
func TokenizeTercom(sent string, o TEROptions) string {
	return pyJoinFields(tercom(sent, o))
}

// tercom is TokenizeTercom without the final whitespace collapse (callers
// that split the result do not need it).
func tercom(sent string, o TEROptions) string {
	if sent == "" {
		return ""
	}
	if !o.CaseSensitive {
		sent = PyLower(sent)
	}
	if o.Normalized {
		sent = normalizeGeneralAndWestern(sent)
		if o.AsianSupport {
			sent = normalizeAsian(sent)
		}
	}
	if o.NoPunct {
		sent = strings.Map(func(r rune) rune {
			switch r {
			case '.', ',', '?', ':', ';', '!', '"', '(', ')':
				return -1
			}
			if o.AsianSupport && (isAsianPunct(r) || isFullWidthPunct(r)) {
				return -1
			}
			return r
		}, sent)
	}
	return sent
}

func normalizeGeneralAndWestern(sent string) string {
	sent = strings.ReplaceAll(sent, "\n-", "")
	sent = strings.ReplaceAll(sent, "\n", " ")
	sent = strings.ReplaceAll(sent, "&quot;", "\"")
	sent = strings.ReplaceAll(sent, "&amp;", "&")
	sent = strings.ReplaceAll(sent, "&lt;", "<")
	sent = strings.ReplaceAll(sent, "&gt;", ">")
	sent = " " + sent + " "
	// Tercom handles possessives between the punctuation pass and the
	// period/comma passes.
	b := appendWesternPunct(make([]byte, 0, 2*len(sent)), sent)
	sent = strings.ReplaceAll(string(b), "'s ", " 's ")
	if strings.HasSuffix(sent, "'s") {
		sent = sent[:len(sent)-2] + " 's"
	}
	out, _ := periodCommaDash([]byte(sent), nil)
	return string(out)
}

// isAsianPunct is TercomTokenizer.ASIAN_PUNCT.
func isAsianPunct(r rune) bool {
	return r == 0x3001 || r == 0x3002 || (0x3008 <= r && r <= 0x3011) ||
		(0x3014 <= r && r <= 0x301f) || (0xff61 <= r && r <= 0xff65) || r == 0x30fb
}

// isFullWidthPunct is TercomTokenizer.FULL_WIDTH_PUNCT.
func isFullWidthPunct(r rune) bool {
	switch r {
	case 0xff0e, 0xff0c, 0xff1f, 0xff1a, 0xff1b, 0xff01, 0xff02, 0xff08, 0xff09:
		return true
	}
	return false
}

// isAsianSplit is the union of the character classes that _normalize_asian
// surrounds with spaces. Its hiragana / katakana rules are anchored at the
// start of the string with ^ (no MULTILINE), and the normalised string always
// starts with a space, so they never match and are left out.
func isAsianSplit(r rune) bool {
	return (0x4e00 <= r && r <= 0x9fff) || (0x3400 <= r && r <= 0x4dbf) ||
		(0x31c0 <= r && r <= 0x31ef) || (0x2e80 <= r && r <= 0x2eff) ||
		(0x3300 <= r && r <= 0x33ff) || (0xf900 <= r && r <= 0xfaff) ||
		(0xfe30 <= r && r <= 0xfe4f) || (0x3200 <= r && r <= 0x3f22) ||
		isAsianPunct(r) || isFullWidthPunct(r)
}

func normalizeAsian(sent string) string {
	var b strings.Builder
	b.Grow(len(sent) + len(sent)/2)
	for _, r := range sent {
		if isAsianSplit(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
