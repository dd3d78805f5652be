// Package lm computes language-modelling metrics from log-likelihoods:
// mean negative log-likelihood per token in nats and bits, token perplexity,
// and the corpus-level ratios of EleutherAI's lm-evaluation-harness:
// word_perplexity and byte_perplexity (exp of minus the summed
// log-likelihood over the summed word or byte count), bits_per_byte (the same
// ratio over ln 2) and its document-level "perplexity" (exp of minus the mean
// document log-likelihood). Words and bytes are counted as the harness counts
// them: len(re.split(r"\s+", text)) and len(text.encode("utf-8")).
package lm

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/internal/pystr"
)

// Doc is one scored text: the sum of its tokens' log-probabilities (natural
// log, as APIs return them) and its size in tokens, words and bytes. A count
// of 0 means "not known"; the metrics that need it are then NaN.
type Doc struct {
	LogLikelihood float64
	Tokens        int
	Words         int
	Bytes         int
}

// CountWords counts words as lm-evaluation-harness does, len(re.split(r"\s+",
// s)) in Python: one more than the number of whitespace runs, so leading or
// trailing whitespace adds an empty "word" and "" counts as 1.
func CountWords(s string) int {
	n := 1
	inSpace := false
	for _, r := range s {
		if isPySpace(r) {
			if !inSpace {
				n++
			}
			inSpace = true
		} else {
			inSpace = false
		}
	}
	return n
}

// isPySpace is Python's \s for str patterns (str.isspace).
func isPySpace(r rune) bool { return pystr.IsSpace(r) }

// CountBytes is the UTF-8 length of s, as len(s.encode("utf-8")); invalid
// UTF-8 is counted as Python would after decoding with replacement (3 bytes
// per bad byte).
func CountBytes(s string) int {
	if utf8.ValidString(s) {
		return len(s)
	}
	n := 0
	for _, r := range s {
		n += utf8.RuneLen(r)
	}
	return n
}

// Summary holds every metric over a set of documents.
type Summary struct {
	Docs                 int
	Tokens, Words, Bytes int
	LogLikelihood        float64 // summed over documents

	NLL            float64 // mean negative log-likelihood per token, nats
	NLLBits        float64 // the same in bits
	Perplexity     float64 // token perplexity, exp(NLL)
	WordPerplexity float64 // lm-eval word_perplexity
	BytePerplexity float64 // lm-eval byte_perplexity
	BitsPerByte    float64 // lm-eval bits_per_byte
	DocPerplexity  float64 // lm-eval perplexity: exp(-mean document log-likelihood)
}

// Summarize computes the corpus-level metrics. Ratios are of sums, not means
// of per-document ratios, as the harness aggregates them.
func Summarize(docs []Doc) (Summary, error) {
	if len(docs) == 0 {
		return Summary{}, fmt.Errorf("no documents: the metrics are undefined on empty input")
	}
	var s Summary
	s.Docs = len(docs)
	for i, d := range docs {
		if math.IsNaN(d.LogLikelihood) || math.IsInf(d.LogLikelihood, 0) {
			return Summary{}, fmt.Errorf("document %d: log-likelihood %v is not a finite number", i+1, d.LogLikelihood)
		}
		if d.LogLikelihood > 0 {
			return Summary{}, fmt.Errorf("document %d: log-likelihood %v is positive; give the sum of natural-log token probabilities (<= 0)", i+1, d.LogLikelihood)
		}
		if d.Tokens < 0 || d.Words < 0 || d.Bytes < 0 {
			return Summary{}, fmt.Errorf("document %d: negative count", i+1)
		}
		s.LogLikelihood += d.LogLikelihood
		s.Tokens += d.Tokens
		s.Words += d.Words
		s.Bytes += d.Bytes
	}
	ratio := func(count int) float64 {
		if count == 0 {
			return math.NaN()
		}
		return -s.LogLikelihood / float64(count)
	}
	s.NLL = ratio(s.Tokens)
	s.NLLBits = s.NLL / math.Ln2
	s.Perplexity = math.Exp(s.NLL)
	s.WordPerplexity = math.Exp(ratio(s.Words))
	s.BytePerplexity = math.Exp(ratio(s.Bytes))
	s.BitsPerByte = ratio(s.Bytes) / math.Ln2
	s.DocPerplexity = math.Exp(-s.LogLikelihood / float64(len(docs)))
	return s, nil
}

// FromTokenLogprobs builds a Doc from per-token log-probabilities and the
// document text; a nil or empty-text document leaves words and bytes 0.
func FromTokenLogprobs(logprobs []float64, text string) Doc {
	d := Doc{Tokens: len(logprobs)}
	for _, lp := range logprobs {
		d.LogLikelihood += lp
	}
	if text != "" {
		d.Words = CountWords(text)
		d.Bytes = CountBytes(text)
	}
	return d
}
