package lm

import (
	"math"
	"testing"
)

func TestCountWords(t *testing.T) {
	// Expected values are len(re.split(r"\s+", s)) in Python 3.11.
	tests := []struct {
		s    string
		want int
	}{
		{"", 1},
		{"one", 1},
		{"two words", 2},
		{"  leading and trailing  ", 5},
		{"tabs\tand\nnewlines\r\n", 4},
		{"nbsp\u00a0splits", 2},
		{"info\x1fseparator", 2},
		{"zero\u200bwidth", 1},
		{"ideographic\u3000space", 2},
	}
	for _, tt := range tests {
		if got := CountWords(tt.s); got != tt.want {
			t.Errorf("CountWords(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestCountBytes(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"abc", 3},
		{"é", 2},
		{"中文", 6},
		{"\xff", 3},
	}
	for _, tt := range tests {
		if got := CountBytes(tt.s); got != tt.want {
			t.Errorf("CountBytes(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func near(a, b float64) bool {
	if math.IsNaN(b) {
		return math.IsNaN(a)
	}
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b))
}

func TestSummarize(t *testing.T) {
	docs := []Doc{
		{LogLikelihood: -10, Tokens: 4, Words: 3, Bytes: 14},
		{LogLikelihood: -30, Tokens: 16, Words: 7, Bytes: 46},
	}
	s, err := Summarize(docs)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		// Ratios of sums: 40 nats over 20 tokens, 10 words, 60 bytes.
		{"nll", s.NLL, 2},
		{"nll bits", s.NLLBits, 2 / math.Ln2},
		{"perplexity", s.Perplexity, math.Exp(2)},
		{"word perplexity", s.WordPerplexity, math.Exp(4)},
		{"byte perplexity", s.BytePerplexity, math.Exp(40.0 / 60)},
		{"bits per byte", s.BitsPerByte, 40.0 / 60 / math.Ln2},
		// lm-eval "perplexity": exp of minus the mean document log-likelihood.
		{"doc perplexity", s.DocPerplexity, math.Exp(20)},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// A mean of per-document ratios would differ: (10/3 + 30/7)/2 != 4.
	if near(s.WordPerplexity, math.Exp((10.0/3+30.0/7)/2)) {
		t.Error("word perplexity must be a ratio of sums")
	}
}

func TestSummarizeMissingCounts(t *testing.T) {
	s, err := Summarize([]Doc{{LogLikelihood: -3, Tokens: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.Perplexity, math.E) || !math.IsNaN(s.WordPerplexity) || !math.IsNaN(s.BitsPerByte) {
		t.Fatalf("got %+v", s)
	}
}

func TestSummarizeErrors(t *testing.T) {
	tests := []struct {
		name string
		docs []Doc
	}{
		{"empty", nil},
		{"positive", []Doc{{LogLikelihood: 0.5, Tokens: 1}}},
		{"nan", []Doc{{LogLikelihood: math.NaN(), Tokens: 1}}},
		{"negative count", []Doc{{LogLikelihood: -1, Tokens: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Summarize(tt.docs); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestFromTokenLogprobs(t *testing.T) {
	d := FromTokenLogprobs([]float64{-1, -0.5, -0.25}, "Hello world.")
	want := Doc{LogLikelihood: -1.75, Tokens: 3, Words: 2, Bytes: 12}
	if d != want {
		t.Fatalf("got %+v, want %+v", d, want)
	}
}
