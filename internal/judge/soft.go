package judge

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A TokenLogprob is one entry of the top logprobs an endpoint returns at a
// position of the judge's output (OpenAI's top_logprobs).
type TokenLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
}

// ErrNoVerdictToken: none of the verdict (or score) tokens is among the top
// logprobs at the verdict position, so there is no soft verdict.
var ErrNoVerdictToken = errors.New("no verdict token among the top logprobs")

// PairTokens is the token → verdict map for "A"/"B" verdicts: "A" and " A"
// count for A, "B" and " B" for B (a tokenizer may fold the space before the
// letter into it, as "[RESULT] A" does). Add "C" → "tie" for MT-Bench's
// "[[C]]". Tokens are compared exactly: "a", "A." or "AB" do not count.
func PairTokens() map[string]string {
	return map[string]string{"A": "A", " A": "A", "B": "B", " B": "B"}
}

// SoftChoice is the probability of each verdict at the verdict token, as
// AlpacaEval's weighted annotators compute it: every entry of top whose
// token is a key of tokens adds exp(logprob) to its verdict (entries
// repeating a token, as different token ids decoding to the same text do,
// add up), and the masses are normalised over the verdicts, so with
// PairTokens P(B) = p(B) / (p(A) + p(B)). Mass outside top (tokens the
// endpoint did not return) is unknown and so left out. The result has every
// verdict of tokens, 0 for those absent. An error when none is present
// (ErrNoVerdictToken) or a logprob is NaN.
func SoftChoice(top []TokenLogprob, tokens map[string]string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, v := range tokens {
		out[v] = 0
	}
	lps := map[string][]float64{}
	for _, t := range top {
		v, ok := tokens[t.Token]
		if !ok {
			continue
		}
		if math.IsNaN(t.Logprob) {
			return nil, fmt.Errorf("token %q: logprob is NaN", t.Token)
		}
		lps[v] = append(lps[v], t.Logprob)
	}
	mass, err := normalise(lps)
	if err != nil {
		return nil, err
	}
	for v, p := range mass {
		out[v] = p
	}
	return out, nil
}

// SoftScore is G-Eval's score: the expectation Σ p(s)·s over the score
// tokens among the top logprobs, with their probabilities renormalised to
// sum to 1. A score token is one whose text, without surrounding white
// space, is a whole number in ASCII digits without a sign or leading zeros
// (" 8", "8", "10") inside scale. A score the tokenizer splits ("1" "0" for
// 10) is read as its first token; with tokenizers that keep numbers up to
// three digits whole (cl100k, o200k, Llama 3) 1–10 is safe. An error when no
// score token is present (ErrNoVerdictToken) or a logprob is NaN.
func SoftScore(top []TokenLogprob, scale [2]float64) (float64, error) {
	if !(scale[0] < scale[1]) {
		return 0, fmt.Errorf("judge score scale %v: want low < high", scale)
	}
	lps := map[string][]float64{}
	for _, t := range top {
		s := strings.TrimSpace(t.Token)
		if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < scale[0] || v > scale[1] {
			continue
		}
		if math.IsNaN(t.Logprob) {
			return 0, fmt.Errorf("token %q: logprob is NaN", t.Token)
		}
		key := strconv.FormatFloat(v, 'f', -1, 64)
		lps[key] = append(lps[key], t.Logprob)
	}
	mass, err := normalise(lps)
	if err != nil {
		return 0, err
	}
	keys := make([]string, 0, len(mass))
	for k := range mass {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a fixed summation order: the same input gives the same bits
	var e float64
	for _, k := range keys {
		v, _ := strconv.ParseFloat(k, 64)
		e += mass[k] * v
	}
	return e, nil
}

// normalise turns groups of logprobs into probabilities per group summing
// to 1, computed as exp(lp − max) so that very negative logprobs do not
// underflow to a zero total.
func normalise(lps map[string][]float64) (map[string]float64, error) {
	hi := math.Inf(-1)
	for _, g := range lps {
		for _, lp := range g {
			hi = max(hi, lp)
		}
	}
	if len(lps) == 0 || math.IsInf(hi, -1) {
		return nil, ErrNoVerdictToken
	}
	if math.IsInf(hi, 1) {
		return nil, errors.New("a logprob is +Inf")
	}
	keys := make([]string, 0, len(lps))
	for k := range lps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]float64, len(lps))
	var total float64
	for _, k := range keys {
		var m float64
		for _, lp := range lps[k] {
			m += math.Exp(lp - hi)
		}
		out[k] = m
		total += m
	}
	for k := range out {
		out[k] /= total
	}
	return out, nil
}
