package provider

import (
	"reflect"
	"testing"
)

// The expected windows follow lm-evaluation-harness's
// get_rolling_token_windows(tokens, prefix_token=0, max_seq_len, context_len=1)
// mapped through make_disjoint_window, worked out by hand from its definition.
// RollingWindows was also compared, window by window, with those two functions
// as lm-evaluation-harness 4e7e0d47 defines them (lm_eval/utils.py) on nine
// shapes from 3 tokens to 3×2046+5 with window lengths 1 to 2046: no difference.
func TestRollingWindows(t *testing.T) {
	seq := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i + 1
		}
		return s
	}
	w := func(ctx, scored []int) TokenWindow { return TokenWindow{Context: ctx, Scored: scored} }
	for _, tc := range []struct {
		name   string
		tokens []int
		seqLen int
		want   []TokenWindow
	}{
		{"empty", nil, 4, nil},
		{"shorter than a window", seq(3), 4, []TokenWindow{w([]int{0}, []int{1, 2, 3})}},
		{"exactly one window", seq(4), 4, []TokenWindow{w([]int{0}, []int{1, 2, 3, 4})}},
		{"one token over: last window has full context", seq(5), 4, []TokenWindow{
			w([]int{0}, []int{1, 2, 3, 4}), w([]int{1, 2, 3, 4}, []int{5})}},
		{"two full windows", seq(8), 4, []TokenWindow{
			w([]int{0}, []int{1, 2, 3, 4}), w([]int{4}, []int{5, 6, 7, 8})}},
		{"last window overlaps", seq(10), 4, []TokenWindow{
			w([]int{0}, []int{1, 2, 3, 4}), w([]int{4}, []int{5, 6, 7, 8}), w([]int{6, 7, 8}, []int{9, 10})}},
		{"window of one", seq(3), 1, []TokenWindow{
			w([]int{0}, []int{1}), w([]int{1}, []int{2}), w([]int{2}, []int{3})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RollingWindows(tc.tokens, 0, tc.seqLen)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			// Every token is scored exactly once, in order, and no call
			// sends more than seqLen+1 tokens.
			var all []int
			for _, x := range got {
				all = append(all, x.Scored...)
				if len(x.Context)+len(x.Scored) > tc.seqLen+1 {
					t.Errorf("window %v sends more than %d tokens", x, tc.seqLen+1)
				}
			}
			if len(tc.tokens) > 0 && !reflect.DeepEqual(all, tc.tokens) {
				t.Errorf("scored %v, want every token once: %v", all, tc.tokens)
			}
		})
	}
}

func TestSeqLen(t *testing.T) {
	if n, err := SeqLen(2048); err != nil || n != 2046 {
		t.Fatalf("SeqLen(2048) = %d, %v; want 2046 (lm-eval's max_length-1, minus one context token)", n, err)
	}
	if _, err := SeqLen(2); err == nil {
		t.Fatal("SeqLen(2) must be refused")
	}
}

func BenchmarkRollingWindows(b *testing.B) {
	toks := make([]int, 100_000)
	for b.Loop() {
		RollingWindows(toks, 1, 2046)
	}
}
