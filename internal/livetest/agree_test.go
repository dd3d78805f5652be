package livetest

import "testing"

func TestAgree(t *testing.T) {
	step := func(id int, lp float64, top ...Step) Step {
		s := Step{ID: id, Logprob: lp}
		for _, a := range top {
			s.Top = append(s.Top, struct {
				ID      int     `json:"id"`
				Logprob float64 `json:"logprob"`
			}{a.ID, a.Logprob})
		}
		return s
	}
	// "ab" then EOS; at "b" the byte 'c' is 0.003 nats behind (a near tie),
	// 'd' 0.5 behind; at the end 'x' is 0.001 behind EOS.
	ref := []Step{
		step('a', -0.1, Step{ID: 'a', Logprob: -0.1}, Step{ID: 'z', Logprob: -3}),
		step('b', -1.000, Step{ID: 'b', Logprob: -1.000}, Step{ID: 'c', Logprob: -1.003}, Step{ID: 'd', Logprob: -1.5}),
		step(EOS, -0.7, Step{ID: EOS, Logprob: -0.7}, Step{ID: 'x', Logprob: -0.701}),
	}
	for _, tc := range []struct {
		text string
		n    int
		ok   bool
	}{
		{"ab", 2, true},
		{"ac", 1, true},   // parts at the near tie
		{"acqq", 1, true}, // and anything may follow
		{"abx", 2, true},  // a byte instead of EOS at a near tie
		{"ad", 0, false},  // no tie
		{"zb", 0, false},  // the first token differs, 3 nats apart
		{"a", 0, false},   // ends early where EOS is not near
		{"aby", 0, false}, // a byte that is no tie with EOS
		{"", 0, false},
	} {
		n, err := Agree(tc.text, ref)
		if (err == nil) != tc.ok || n != tc.n {
			t.Errorf("Agree(%q) = %d, %v; want %d, ok %v", tc.text, n, err, tc.n, tc.ok)
		}
	}
	if Greedy(ref) != "ab" {
		t.Errorf("Greedy = %q", Greedy(ref))
	}
}
