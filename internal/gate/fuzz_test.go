package gate

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseRoundTrip checks Parse on any input (FuzzParse in gate_test.go
// covers the same ground with a smaller corpus; this one seeds every error
// Parse can give and checks the error's position and the canonical form
// more closely):
//   - Parse never panics;
//   - an error is an *ExprError for the trimmed input, with its Offset
//     inside it (len(Expr) when something is missing at the end), and its
//     caret line points at that character;
//   - a gate's String() parses back to the same gate, and is a fixed point:
//     its String() is itself.
//
// Run it with: go test ./internal/gate -run XXX -fuzz FuzzParseRoundTrip -fuzztime 60s
func FuzzParseRoundTrip(f *testing.F) {
	for _, s := range []string{
		// valid
		"qa.token_f1.delta >= 0",
		"qa.token_f1.delta.ci_low>=-0.02",
		"mmlu.acc.candidate > 0.6",
		"code.pass@1.p_adjusted <= 0.05",
		"  qa.exact_match.value   <  1  ",
		"qa.exact_match.value.ci_high == 1",
		"qa.bleu.baseline.ci_low != 0",
		"qa.bleu.p_value < 1e-3",
		"qa.rouge.L.delta.ci_high <= 0.1",
		"qa.delta.delta >= 0",
		"qa.failed == 0",
		"qa.failed_rate <= 0.01",
		"qa.empty<3",
		"qa.no_reference == 0",
		"qa.token_f1.delta >= -0",
		"qa.token_f1.delta >= 0x1p-3",
		"qa.token_f1.delta >= 1_000",
		"qa.token_f1.mde <= 1.7976931348623157e308",
		"t.m.value > 5e-324",
		"qa.é.value > 0.5",
		"qa.token_f1.slice(language=de).delta.ci_low >= -0.05",
		"qa.token_f1.slice(category).min_delta.ci_low > -0.05",
		"qa.token_f1.slice(length).gap <= 0.1",
		"qa.token_f1.slice(length).ratio >= 0.8",
		"qa.token_f1.slice(q=≥40).value > 0.3",
		// invalid
		"qa.token_f1.slice(language=).delta >= 0",
		"qa.token_f1.slice(=de).delta >= 0",
		"qa.token_f1.slice(language.delta >= 0",
		"qa.token_f1.slice(a=b=c).gap <= 0.1",
		"qa.token_f1.slice(x).delta >= 0",
		"qa.token_f1.slice(x=y).gap >= 0",
		"qa.slice(x).gap < 1",
		"qa.token_f1.slice().gap < 1",
		"qa.token_f1.slice(a b).gap < 1",
		"",
		"   ",
		"qa.exact_match.delta",
		"qa.exact_match.delta => 0",
		"qa.exact_match.delta =< 0",
		"qa.exact_match.delta = 0",
		"qa.exact_match.delta ! 0",
		">= 0",
		"qa token_f1.delta >= 0",
		"qa >= 0",
		".token_f1.delta >= 0",
		"qa. >= 0",
		"qa.delta >= 0",
		"qa..delta >= 0",
		"qa.token_f1.delat >= 0",
		"qa.token_f1 >= 0",
		"qa.token_f1. >= 0",
		"qa.token_f1.failed >= 0",
		"qa.token_f1.ci_low >= 0",
		"qa.token_f1.delt.ci_low >= 0",
		"qa.token_f1.delta >=",
		"qa.token_f1.delta >= NaN",
		"qa.token_f1.delta >= Inf",
		"qa.token_f1.delta >= 1e999",
		"qa.failed_rate <= 5%",
		"qa.token_f1.delta >= ½",
		"qa.faild == 0",
		"\xff.m.value > 0",
		"q\ta.m.value > 0",
		". . .",
		"=>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := Parse(s)
		if err != nil {
			var e *ExprError
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): error %T, want *ExprError", s, err)
			}
			if e.Expr != strings.TrimSpace(s) {
				t.Fatalf("Parse(%q): error for %q, want the trimmed input", s, e.Expr)
			}
			if e.Offset < 0 || e.Offset > len(e.Expr) {
				t.Fatalf("Parse(%q): offset %d outside [0, %d]", s, e.Offset, len(e.Expr))
			}
			if e.Msg == "" {
				t.Fatalf("Parse(%q): error without a message", s)
			}
			// The caret sits under the character at fault: Error() is the
			// expression, a newline, then one space per rune before Offset.
			caret := strings.TrimPrefix(e.Error(), e.Expr+"\n")
			pad := strings.Repeat(" ", utf8.RuneCountInString(e.Expr[:e.Offset]))
			if !strings.HasPrefix(caret, pad+"^ ") {
				t.Fatalf("Parse(%q): caret misplaced in\n%s", s, e.Error())
			}
			return
		}
		if g.Expr != strings.TrimSpace(s) {
			t.Fatalf("Parse(%q).Expr = %q, want the trimmed input", s, g.Expr)
		}
		canon := g.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v; its canonical form %q does not parse: %v", s, g, canon, err)
		}
		if again.Expr != canon {
			t.Fatalf("Parse(%q).Expr = %q", canon, again.Expr)
		}
		if again.String() != canon {
			t.Fatalf("canonical form %q is not a fixed point: %q", canon, again.String())
		}
		again.Expr = g.Expr
		if again != g {
			t.Fatalf("Parse(%q) = %+v; its canonical form %q reads as %+v", s, g, canon, again)
		}
	})
}
