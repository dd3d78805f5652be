package leakage

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestNormalize(t *testing.T) {
	all := DefaultNormalize()
	tests := []struct {
		name string
		n    Normalize
		in   string
		want string
	}{
		{"none", Normalize{}, "  Hello,  World! ", "  Hello,  World! "},
		{"case", Normalize{Case: true}, "HeLLo ÉTÉ", "hello été"},
		{"whitespace", Normalize{Whitespace: true}, " a \t b\n\nc ", "a b c"},
		{"punct", Normalize{Punctuation: true, Whitespace: true}, "end.Start, (x)!", "end Start x"},
		{"nfkc ligature and full-width", Normalize{NFKC: true}, "ﬁle ＡＢＣ", "file ABC"},
		{"all", all, "  The ﬁle's   NAME: “Ａ”. ", "the file s name a"},
		{"symbols", all, "$5 + 3 = 8", "5 3 8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.n.Apply(tc.in); got != tc.want {
				t.Errorf("Apply(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseNormalize(t *testing.T) {
	n, err := ParseNormalize("case, punct")
	if err != nil || n != (Normalize{Case: true, Punctuation: true}) {
		t.Fatalf("got %+v, %v", n, err)
	}
	if n, _ := ParseNormalize("all"); n != DefaultNormalize() {
		t.Fatalf("all = %+v", n)
	}
	if _, err := ParseNormalize("case,stem"); err == nil || !strings.Contains(err.Error(), `"stem"`) {
		t.Fatalf("want error naming stem, got %v", err)
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hello, World!", []string{"hello", "world"}},
		{"Janet’s ducks lay 16 eggs", []string{"janet", "s", "ducks", "lay", "16", "eggs"}},
		{"Ünïcode café-au-lait", []string{"ünïcode", "café", "au", "lait"}},
		{"x^2+3x", []string{"x", "2", "3x"}},
	}
	for _, tc := range tests {
		got := Tokens(tc.in, nil)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// referenceApply is the plain rune-by-rune definition of Normalize.Apply
// (after NFKC), written with the unicode package only.
func referenceApply(n Normalize, s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if n.Punctuation && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
			r = ' '
		}
		if n.Whitespace && unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
		}
		if n.Case {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestApplyMatchesReference checks the table-driven loop against the
// reference on every ASCII character, mixed scripts, and every combination
// of options.
func TestApplyMatchesReference(t *testing.T) {
	var all []byte
	for c := 0; c < 128; c++ {
		all = append(all, byte(c), 'a', ' ')
	}
	inputs := []string{string(all), "  Hello,\tWorld!!  x ", "", "   ", "a.b-c_d",
		"Ünïcode — “quotes”\u00a0and\u2003spaces × ÷ ½ ΑΒΓ café.", "Janet’s ducks: 16 eggs; $2 each\u3000日本語。"}
	for mask := range 8 {
		n := Normalize{Case: mask&1 != 0, Whitespace: mask&2 != 0, Punctuation: mask&4 != 0}
		for _, in := range inputs {
			if got, want := n.Apply(in), referenceApply(n, in); got != want {
				t.Errorf("%+v %q: got %q, want %q", n, in, got, want)
			}
		}
	}
}
