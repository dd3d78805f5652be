package judge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WinRateAnnotation is one record of an AlpacaEval annotations.json: the
// baseline's output (output_1), the evaluated model's (output_2) and the judge's
// raw API response. The stored preference is read only so tests can compare
// with it; WinRatePreference recomputes it from RawCompletion.
type WinRateAnnotation struct {
	Instruction   string          `json:"instruction"`
	Output1       string          `json:"output_1"`
	Output2       string          `json:"output_2"`
	Generator1    string          `json:"generator_1"`
	Generator2    string          `json:"generator_2"`
	Annotator     string          `json:"annotator"`
	Preference    *float64        `json:"preference"`
	RawCompletion json.RawMessage `json:"raw_completion"`
}

// WinRateOptions are the settings of AlpacaEval's weighted_alpaca_eval_gpt4_turbo
// annotator that decide how a completion becomes a preference.
type WinRateOptions struct {
	// FirstToken is the verdict token naming the output shown first ("m"),
	// SecondToken the one naming the output shown second ("M").
	FirstToken, SecondToken string
	// Seed is the annotator's seed: it enters the per-instruction decision to
	// show the two outputs swapped (AlpacaEval's default is 0).
	Seed int
	// Decimals rounds each preference as AlpacaEval's annotation cache does
	// (pandas to_json, double_precision=10); the published leaderboard was
	// computed from the cached values. Negative: no rounding.
	Decimals int
}

// WinRateAlpacaEval are the options of weighted_alpaca_eval_gpt4_turbo.
func WinRateAlpacaEval() WinRateOptions {
	return WinRateOptions{FirstToken: "m", SecondToken: "M", Seed: 0, Decimals: 10}
}

// ReadWinRateAnnotations reads an annotations.json file (a JSON array).
func ReadWinRateAnnotations(path string) ([]WinRateAnnotation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeWinRateAnnotations(f, path)
}

// DecodeWinRateAnnotations decodes a JSON array of annotations; name labels errors.
func DecodeWinRateAnnotations(r io.Reader, name string) ([]WinRateAnnotation, error) {
	var as []WinRateAnnotation
	if err := json.NewDecoder(r).Decode(&as); err != nil {
		return nil, fmt.Errorf("%s: not an AlpacaEval annotations file (a JSON array of records): %w", name, err)
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("%s: no annotations", name)
	}
	return as, nil
}

// winRateCompletion is the part of an OpenAI chat completion choice the parser reads.
type winRateCompletion struct {
	Logprobs *struct {
		Content []struct {
			Token       string `json:"token"`
			TopLogprobs []struct {
				Token   string  `json:"token"`
				Logprob float64 `json:"logprob"`
			} `json:"top_logprobs"`
		} `json:"content"`
	} `json:"logprobs"`
}

// errWinRateNoVerdict marks a completion whose top logprobs hold neither verdict token.
var errWinRateNoVerdict = errors.New("neither verdict token is among the top logprobs")

// WinRatePreference recomputes AlpacaEval's soft preference of one record, in
// [1, 2]: 1 = the baseline (output_1) is better, 2 = the model (output_2).
//
// As alpaca_eval's logprob_parser (is_binarize=false) with its
// RandomSwitchTwoColumnsProcessor: the judge saw the outputs swapped when
// winRateSwitched(instruction, seed) says so; in the order it saw them,
// p = P(first) / (P(first) + P(second)) from the first generated token's top
// logprobs (a token absent from the top list has probability 0), the
// preference is 2 − p, and 3 − that when swapped. Identical outputs are a
// draw, 1.5, without a judge call. A completion with neither verdict token is
// an error wrapping errWinRateNoVerdict (AlpacaEval drops it as NaN).
func WinRatePreference(a WinRateAnnotation, o WinRateOptions) (float64, error) {
	if a.Output1 == a.Output2 {
		return 1.5, nil
	}
	if len(a.RawCompletion) == 0 || string(a.RawCompletion) == "null" {
		return 0, errors.New("raw_completion: missing (outputs differ, so the judge was asked)")
	}
	var c winRateCompletion
	if err := json.Unmarshal(a.RawCompletion, &c); err != nil {
		return 0, fmt.Errorf("raw_completion: %w", err)
	}
	if c.Logprobs == nil || len(c.Logprobs.Content) == 0 {
		return 0, errors.New("raw_completion.logprobs.content: missing (the judge must be asked for top logprobs)")
	}
	first, second := math.Inf(-1), math.Inf(-1)
	found := false
	// Later entries win, as a Python dict comprehension over the list does.
	for _, t := range c.Logprobs.Content[0].TopLogprobs {
		switch t.Token {
		case o.FirstToken:
			first, found = t.Logprob, true
		case o.SecondToken:
			second, found = t.Logprob, true
		}
	}
	if !found {
		return 0, fmt.Errorf("raw_completion.logprobs.content[0].top_logprobs: %w (%q, %q)", errWinRateNoVerdict, o.FirstToken, o.SecondToken)
	}
	// scipy.special.logsumexp of the two, then exp(first − lse).
	m := math.Max(first, second)
	lse := m + math.Log(math.Exp(first-m)+math.Exp(second-m))
	pref := 2 - math.Exp(first-lse)
	if winRateSwitched(a.Instruction, o.Seed) {
		pref = 3 - pref
	}
	if o.Decimals >= 0 {
		pref, _ = strconv.ParseFloat(strconv.FormatFloat(pref, 'f', o.Decimals, 64), 64)
	}
	return pref, nil
}

// WinRateResult holds AlpacaEval's head-to-head metrics of one model against
// the baseline, with keys named as the leaderboard CSV's columns.
type WinRateResult struct {
	Model     string `json:"model"`
	Baseline  string `json:"baseline"`
	Annotator string `json:"annotator,omitempty"`
	// WinRate is the mean soft preference for the model, ×100.
	WinRate float64 `json:"win_rate"`
	// StandardError is the standard error of that mean (ddof 1), ×100.
	StandardError float64 `json:"standard_error"`
	NWins         int     `json:"n_wins"`
	NWinsBase     int     `json:"n_wins_base"`
	NDraws        int     `json:"n_draws"`
	NTotal        int     `json:"n_total"`
	// DiscreteWinRate counts each preference as a win, loss or draw (exactly 1.5).
	DiscreteWinRate float64 `json:"discrete_win_rate"`
	// AvgLength is the model's mean output length in characters (code points), truncated.
	AvgLength int `json:"avg_length"`
	// AvgLengthBaseline is the baseline's, likewise.
	AvgLengthBaseline int `json:"avg_length_baseline"`
	// NoVerdict counts records dropped because the judge's top logprobs held neither token.
	NoVerdict int `json:"n_no_verdict"`
	// LengthControlledWinRate and LCStandardError come from LCWinRate (see lc.go).
	LengthControlledWinRate float64 `json:"length_controlled_winrate"`
	LCStandardError         float64 `json:"lc_standard_error"`
	LC                      *LCFit  `json:"lc_model,omitempty"`
}

// WinRateMetrics computes AlpacaEval's metrics from preferences in [1, 2] as
// its AbsoluteScoringRule.describe_head2head and ZeroOneScoringRule do:
// win_rate = mean(p − 1)·100, standard_error = sem(p − 1)·100 (ddof 1),
// n_wins / n_wins_base count p − 1 above / below ½, n_draws counts p = 1.5
// exactly, and discrete_win_rate scores each item 1, 0 or ½ (a draw). NaN
// preferences are dropped. Sums are numpy's pairwise sums, so the figures
// agree with pandas to the last bits.
func WinRateMetrics(prefs []float64) WinRateResult {
	var x, disc []float64
	var r WinRateResult
	for _, p := range prefs {
		if math.IsNaN(p) {
			continue
		}
		if p == 1.5 {
			r.NDraws++
		}
		d := p - 1
		x = append(x, d)
		switch {
		case d > 0.5:
			r.NWins++
		case d < 0.5:
			r.NWinsBase++
		}
		switch {
		case p == 1.5:
			disc = append(disc, 0.5)
		case p > 1.5:
			disc = append(disc, 1)
		default:
			disc = append(disc, 0)
		}
	}
	r.NTotal = len(x)
	if r.NTotal == 0 {
		r.WinRate, r.StandardError, r.DiscreteWinRate = math.NaN(), math.NaN(), math.NaN()
		return r
	}
	n := float64(r.NTotal)
	mean := winRatePairwiseSum(x) / n
	r.WinRate = mean * 100
	r.DiscreteWinRate = winRatePairwiseSum(disc) / n * 100
	r.StandardError = math.NaN()
	if r.NTotal > 1 {
		sq := make([]float64, len(x))
		for i, v := range x {
			sq[i] = (mean - v) * (mean - v)
		}
		variance := winRatePairwiseSum(sq) / (n - 1)
		r.StandardError = math.Sqrt(variance) / math.Sqrt(n) * 100
	}
	return r
}

// winRatePairwiseSum is numpy's pairwise summation (the float64 add.reduce
// pandas uses for mean and var): blocks of up to 128 summed with eight
// accumulators, halves summed recursively.
func winRatePairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range 8 {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return winRatePairwiseSum(a[:n2]) + winRatePairwiseSum(a[n2:])
	}
}

// WinRate computes one model's metrics from its annotations: the preferences
// recomputed from the judge's logprobs, AlpacaEval's metrics, mean lengths and
// the length-controlled win rate. name labels errors (the file).
func WinRate(name string, as []WinRateAnnotation, o WinRateOptions) (WinRateResult, error) {
	prefs := make([]float64, 0, len(as))
	var len1, len2 []float64
	var lcPrefs []float64
	noVerdict := 0
	var sum1, sum2 int
	for i, a := range as {
		if i > 0 && (a.Generator2 != as[0].Generator2 || a.Generator1 != as[0].Generator1) {
			return WinRateResult{}, fmt.Errorf("%s: record %d: generator_1/generator_2 %q/%q, but record 0 has %q/%q: one model against one baseline per file",
				name, i, a.Generator1, a.Generator2, as[0].Generator1, as[0].Generator2)
		}
		l1, l2 := utf8.RuneCountInString(a.Output1), utf8.RuneCountInString(a.Output2)
		sum1 += l1
		sum2 += l2
		p, err := WinRatePreference(a, o)
		if errors.Is(err, errWinRateNoVerdict) {
			noVerdict++
			prefs = append(prefs, math.NaN())
			continue
		}
		if err != nil {
			return WinRateResult{}, fmt.Errorf("%s: record %d (instruction %q): %w", name, i, winRateClip(a.Instruction), err)
		}
		prefs = append(prefs, p)
		len1 = append(len1, float64(l1))
		len2 = append(len2, float64(l2))
		lcPrefs = append(lcPrefs, p-1)
	}
	r := WinRateMetrics(prefs)
	r.Model, r.Baseline, r.Annotator = as[0].Generator2, as[0].Generator1, as[0].Annotator
	if r.Model == "" {
		r.Model = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	r.NoVerdict = noVerdict
	r.AvgLength = sum2 / len(as)
	r.AvgLengthBaseline = sum1 / len(as)
	fit, err := LCWinRate(len1, len2, lcPrefs)
	if err != nil {
		return r, fmt.Errorf("%s: length-controlled win rate: %w", name, err)
	}
	r.LengthControlledWinRate, r.LCStandardError, r.LC = fit.WinRate, fit.StandardError, &fit
	return r, nil
}

func winRateClip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	return string([]rune(s)[:60]) + "…"
}
