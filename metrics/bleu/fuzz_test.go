package bleu

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzIdentity checks invariants every input must keep: tokenizer output is
// single-space separated with no outer spaces, and a hypothesis equal to its
// reference scores BLEU 100, chrF 100 and TER 0 (when it has a token).
func FuzzIdentity(f *testing.F) {
	for _, s := range []string{"", "Hello, world.", "1,000.5 - 2-3", "&amp; <skipped> x-\ny", "İΣ ΟΔΟΣ", "日本語です。", "a\x1cb\u00a0c\u200bd", "((x))", "'s 's"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("Python strings are valid Unicode")
		}
		for _, tok := range []Tokenizer{Tok13a, TokIntl, TokChar} {
			out, err := Tokenize(s, tok)
			if err != nil {
				t.Fatal(err)
			}
			if out != strings.Join(pyFields(out), " ") && tok != TokChar {
				t.Errorf("Tokenize(%q, %s) = %q: not single-space separated", s, tok, out)
			}
		}
		for _, o := range []TEROptions{{}, {Normalized: true, AsianSupport: true, NoPunct: true}} {
			if out := TokenizeTercom(s, o); out != strings.Join(pyFields(out), " ") {
				t.Errorf("TokenizeTercom(%q) = %q: not single-space separated", s, out)
			}
		}
		b, err := SentenceBLEU(s, []string{s}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b.SysLen > 0 && !closeTo(b.Score, 100) {
			t.Errorf("BLEU(%q, itself) = %v", s, b.Score)
		}
		c, err := SentenceChrF(s, []string{s}, ChrFOptions{WordOrder: 2})
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimFunc(s, isPySpace) != "" && !closeTo(c.Score, 100) {
			t.Errorf("chrF++(%q, itself) = %v", s, c.Score)
		}
		ter, err := SentenceTER(s, []string{s}, TEROptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ter.Score != 0 || ter.NumEdits != 0 {
			t.Errorf("TER(%q, itself) = %+v", s, ter)
		}
	})
}
