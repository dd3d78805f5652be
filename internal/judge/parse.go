package judge

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Mode says how a judgment is read.
type Mode string

const (
	// ModeFastChat reads a judgment exactly as FastChat's
	// fastchat/llm_judge/common.py does for MT-Bench (run_judge_single,
	// run_judge_pair): the score is the first "[[n]]", else the first "[n]",
	// n matching Python's \d+\.?\d* and read by ast.literal_eval, with no
	// range check; the choice is "[[A]]" if the text contains it, else
	// "[[B]]", else "[[C]]" (tie). Where FastChat records -1 or "error", or
	// raises (literal_eval on "08" or on non-ASCII digits), we return an
	// error: no score is ever made up.
	ModeFastChat Mode = "fastchat"
	// ModeStrict knows more formats and refuses anything doubtful: a score
	// out of the scale, several different scores or verdicts, a number it
	// cannot read. The caller may retry once with RepairPrompt.
	ModeStrict Mode = "strict"
)

// ParseMode returns the Mode named s ("fastchat" or "strict").
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeFastChat, ModeStrict:
		return Mode(s), nil
	}
	return "", fmt.Errorf("judge parse mode %q: want %q or %q", s, ModeFastChat, ModeStrict)
}

// Why a judgment could not be read; a *ParseError wraps one of them, so
// errors.Is(err, ErrNoScore) works.
var (
	ErrNoScore       = errors.New("no score found")
	ErrNoChoice      = errors.New("no verdict found")
	ErrOutOfRange    = errors.New("score out of range")
	ErrScaleMismatch = errors.New("score given on another scale")
	ErrAmbiguous     = errors.New("ambiguous")
	ErrBadNumber     = errors.New("unreadable number")
	// ErrTruncated is for the caller: a judgment cut off by max_tokens
	// (finish_reason "length") is a failure, whatever it holds so far.
	ErrTruncated = errors.New("judgment truncated (max_tokens reached)")
)

// A ParseError says why a judgment gave no score or verdict.
type ParseError struct {
	Reason  error      // ErrNoScore, ErrNoChoice, ErrOutOfRange, ErrScaleMismatch, ErrAmbiguous or ErrBadNumber
	Mode    Mode       // the mode that read it
	Scores  []float64  // ErrOutOfRange: the score; ErrAmbiguous: the different scores in order of appearance
	Choices []Choice   // ErrAmbiguous (choices): the different verdicts in order of appearance
	Scale   [2]float64 // ErrOutOfRange, ErrScaleMismatch: the expected scale
	Match   string     // the text read, when one match is at fault
	Empty   bool       // the judgment was empty (after StripReasoning)
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Reason.Error())
	switch {
	case e.Empty:
		b.WriteString(": the judgment is empty")
	case errors.Is(e.Reason, ErrOutOfRange) && len(e.Scores) > 0:
		fmt.Fprintf(&b, " %s–%s: got %s", formatNumber(e.Scale[0]), formatNumber(e.Scale[1]), formatNumber(e.Scores[0]))
	case errors.Is(e.Reason, ErrScaleMismatch):
		fmt.Fprintf(&b, ": %q, expected %s–%s", e.Match, formatNumber(e.Scale[0]), formatNumber(e.Scale[1]))
	case errors.Is(e.Reason, ErrAmbiguous) && len(e.Scores) > 0:
		parts := make([]string, len(e.Scores))
		for i, s := range e.Scores {
			parts[i] = formatNumber(s)
		}
		b.WriteString(": " + joinAnd(parts))
	case errors.Is(e.Reason, ErrAmbiguous) && len(e.Choices) > 0:
		parts := make([]string, len(e.Choices))
		for i, c := range e.Choices {
			parts[i] = c.String()
		}
		b.WriteString(": " + joinAnd(parts))
	case e.Match != "":
		fmt.Fprintf(&b, ": %q", e.Match)
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Reason }

// joinAnd writes "7 and 9", "7, 8 and 9".
func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// A Choice is one pairwise judgment's verdict. The zero value, ChoiceNone, is
// a failed judgment.
type Choice int

const (
	ChoiceNone Choice = iota // no verdict: the judgment failed
	ChoiceA                  // the answer shown first (A) is better
	ChoiceB                  // the answer shown second (B) is better
	ChoiceTie                // [[C]]
)

func (c Choice) String() string {
	switch c {
	case ChoiceA:
		return "A"
	case ChoiceB:
		return "B"
	case ChoiceTie:
		return "tie"
	}
	return "none"
}

const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// StripReasoning removes reasoning blocks before a judgment is parsed, so a
// score a reasoning model considered and dropped is never read:
//   - every "<think>…</think>" block;
//   - an unclosed "<think>" at the start (after white space, and after
//     the closed blocks are gone): the model ran out of tokens while
//     thinking, and nothing is left;
//   - everything up to a "</think>" with no opening tag, as servers print
//     when the chat template opened the block in the prompt (DeepSeek-R1).
//
// Tags are matched exactly (lower case). An unclosed "<think>" later in the
// text is left alone: a judge may quote one from the answer.
func StripReasoning(text string) string {
	var b strings.Builder
	rest := text
	for {
		i := strings.Index(rest, thinkOpen)
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], thinkClose)
		if j < 0 {
			break
		}
		b.WriteString(rest[:i])
		rest = rest[i+j+len(thinkClose):]
	}
	b.WriteString(rest)
	out := b.String()
	if k := strings.LastIndex(out, thinkClose); k >= 0 {
		out = out[k+len(thinkClose):]
	}
	// What is left holds no "</think>", so a leading "<think>" is unclosed.
	if strings.HasPrefix(strings.TrimLeft(out, " \t\r\n"), thinkOpen) {
		return ""
	}
	return out
}

// FastChat's patterns: Python's \d matches any Unicode decimal digit, as
// \p{Nd} does here, so "[[８]]" is found (and then refused, as literal_eval
// refuses it) exactly where FastChat finds it.
var (
	fastChatScore       = regexp.MustCompile(`\[\[(\p{Nd}+\.?\p{Nd}*)\]\]`)
	fastChatScoreBackup = regexp.MustCompile(`\[(\p{Nd}+\.?\p{Nd}*)\]`)
)

// ParseScore reads a single-answer judgment's score after StripReasoning.
//
// ModeFastChat: the first "[[n]]", else the first "[n]" (FastChat's
// one_score_pattern and its backup), read as ast.literal_eval reads it
// ("8." is 8, "08" and non-ASCII digits are ErrBadNumber); scale is not
// checked, as FastChat does not (it records 11 if the judge writes [[11]]).
//
// ModeStrict reads, in three tiers, and uses the first tier that has any:
//  1. "[[n]]" (spaces inside allowed), "[RESULT] n" (Prometheus), and a JSON
//     object with a number under "score" or "rating" (any case), also inside
//     a ```json fence;
//  2. "Rating: n", "Score: n" (any case, markdown bold allowed, "= n" too),
//     optionally "n/d" or "n out of d" where d must be the scale's top;
//  3. "[n]".
//
// Numbers may have a sign and a decimal part. Within the tier the scores must
// all be equal (ErrAmbiguous otherwise, naming them), written in ASCII
// digits (ErrBadNumber) and within scale (ErrOutOfRange); none at all is
// ErrNoScore. scale must have low < high.
func ParseScore(text string, mode Mode, scale [2]float64) (float64, error) {
	text = StripReasoning(text)
	switch mode {
	case ModeFastChat:
		return parseScoreFastChat(text)
	case ModeStrict:
		if !(scale[0] < scale[1]) {
			return 0, fmt.Errorf("judge score scale %v: want low < high", scale)
		}
		return parseScoreStrict(text, scale)
	}
	return 0, fmt.Errorf("judge parse mode %q: want %q or %q", mode, ModeFastChat, ModeStrict)
}

func parseScoreFastChat(text string) (float64, error) {
	m := fastChatScore.FindStringSubmatch(text)
	if m == nil {
		m = fastChatScoreBackup.FindStringSubmatch(text)
	}
	if m == nil {
		return 0, &ParseError{Reason: ErrNoScore, Mode: ModeFastChat, Empty: strings.TrimSpace(text) == ""}
	}
	v, err := pythonLiteral(m[1])
	if err != nil {
		return 0, &ParseError{Reason: ErrBadNumber, Mode: ModeFastChat, Match: m[0]}
	}
	return v, nil
}

// pythonLiteral reads s (digits, at most one '.') as ast.literal_eval does:
// only ASCII digits; an integer may not have leading zeros unless it is all
// zeros; a float may.
func pythonLiteral(s string) (float64, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' {
			return 0, ErrBadNumber
		}
	}
	if !strings.Contains(s, ".") && len(s) > 1 && s[0] == '0' && strings.Trim(s, "0") != "" {
		return 0, ErrBadNumber
	}
	return strconv.ParseFloat(s, 64)
}

const strictNumber = `([-+]?\p{Nd}+(?:\.\p{Nd}+)?)`

var (
	strictDoubleBracket = regexp.MustCompile(`\[\[\s*` + strictNumber + `\s*\]\]`)
	strictResult        = regexp.MustCompile(`(?i:\[RESULT\])\s*\(?\s*` + strictNumber)
	strictLabelled      = regexp.MustCompile(`(?i)\b(?:rating|score)\**\s*[:=]\s*\**\s*` + strictNumber + `(?:\s*(?:/|out\s+of)\s*` + strictNumber + `)?`)
	strictSingleBracket = regexp.MustCompile(`\[\s*` + strictNumber + `\s*\]`)
	strictChoice        = regexp.MustCompile(`\[\[\s*([ABCabc])\s*\]\]|(?i:\[RESULT\])\s*[("'*]*\s*([AB])\b`)
)

// A scoreMatch is one score found in a judgment.
type scoreMatch struct {
	text  string // the matched text
	num   string // the number as written
	denom string // "n/d": d as written
	pos   int
}

func parseScoreStrict(text string, scale [2]float64) (float64, error) {
	if strings.TrimSpace(text) == "" {
		return 0, &ParseError{Reason: ErrNoScore, Mode: ModeStrict, Empty: true}
	}
	tiers := [][]scoreMatch{
		append(append(findScores(text, strictDoubleBracket), findScores(text, strictResult)...), findJSONScores(text)...),
		findScores(text, strictLabelled),
		findScores(text, strictSingleBracket),
	}
	for _, ms := range tiers {
		if len(ms) == 0 {
			continue
		}
		slices.SortStableFunc(ms, func(a, b scoreMatch) int { return a.pos - b.pos })
		var distinct []float64
		for _, m := range ms {
			v, err := asciiNumber(m.num)
			if err != nil {
				return 0, &ParseError{Reason: ErrBadNumber, Mode: ModeStrict, Match: m.text}
			}
			if m.denom != "" {
				d, err := asciiNumber(m.denom)
				if err != nil {
					return 0, &ParseError{Reason: ErrBadNumber, Mode: ModeStrict, Match: m.text}
				}
				if d != scale[1] {
					return 0, &ParseError{Reason: ErrScaleMismatch, Mode: ModeStrict, Match: m.text, Scale: scale}
				}
			}
			if !slices.Contains(distinct, v) {
				distinct = append(distinct, v)
			}
		}
		if len(distinct) > 1 {
			return 0, &ParseError{Reason: ErrAmbiguous, Mode: ModeStrict, Scores: distinct}
		}
		v := distinct[0]
		if v < scale[0] || v > scale[1] {
			return 0, &ParseError{Reason: ErrOutOfRange, Mode: ModeStrict, Scores: []float64{v}, Scale: scale}
		}
		return v, nil
	}
	return 0, &ParseError{Reason: ErrNoScore, Mode: ModeStrict}
}

func findScores(text string, re *regexp.Regexp) []scoreMatch {
	var out []scoreMatch
	for _, ix := range re.FindAllStringSubmatchIndex(text, -1) {
		m := scoreMatch{text: text[ix[0]:ix[1]], num: text[ix[2]:ix[3]], pos: ix[0]}
		if len(ix) >= 6 && ix[4] >= 0 {
			m.denom = text[ix[4]:ix[5]]
		}
		out = append(out, m)
	}
	return out
}

// findJSONScores decodes a JSON object at every "{" and keeps those with a
// number under "score" or "rating" (any case) at their top level. Numbers in
// strings ("8") are not read.
func findJSONScores(text string) []scoreMatch {
	var out []scoreMatch
	for i := 0; i < len(text); i++ {
		if text[i] != '{' {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text[i:]))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			continue
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if lk := strings.ToLower(k); lk != "score" && lk != "rating" {
				continue
			}
			if n, ok := obj[k].(json.Number); ok {
				end := i + int(dec.InputOffset())
				out = append(out, scoreMatch{text: text[i:end], num: n.String(), pos: i})
			}
		}
	}
	return out
}

// asciiNumber reads a signed decimal written in ASCII digits; JSON numbers
// with exponents are read too.
func asciiNumber(s string) (float64, error) {
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return 0, ErrBadNumber
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, ErrBadNumber
	}
	return v, nil
}

// ParseChoice reads a pairwise judgment's verdict after StripReasoning.
//
// ModeFastChat: "[[A]]" anywhere → ChoiceA, else "[[B]]" → ChoiceB, else
// "[[C]]" → ChoiceTie, else ErrNoChoice (FastChat's "error"); so a text with
// both "[[B]]" and "[[A]]" is A, as in FastChat.
//
// ModeStrict: "[[A]]", "[[B]]", "[[C]]" (any case, spaces inside allowed)
// and Prometheus's "[RESULT] A" / "[RESULT] B"; every verdict found must be
// the same (ErrAmbiguous otherwise, naming them).
func ParseChoice(text string, mode Mode) (Choice, error) {
	text = StripReasoning(text)
	empty := strings.TrimSpace(text) == ""
	switch mode {
	case ModeFastChat:
		switch {
		case strings.Contains(text, "[[A]]"):
			return ChoiceA, nil
		case strings.Contains(text, "[[B]]"):
			return ChoiceB, nil
		case strings.Contains(text, "[[C]]"):
			return ChoiceTie, nil
		}
		return ChoiceNone, &ParseError{Reason: ErrNoChoice, Mode: mode, Empty: empty}
	case ModeStrict:
		var distinct []Choice
		for _, m := range strictChoice.FindAllStringSubmatch(text, -1) {
			var c Choice
			switch strings.ToUpper(m[1] + m[2]) {
			case "A":
				c = ChoiceA
			case "B":
				c = ChoiceB
			default:
				c = ChoiceTie
			}
			if !slices.Contains(distinct, c) {
				distinct = append(distinct, c)
			}
		}
		switch len(distinct) {
		case 0:
			return ChoiceNone, &ParseError{Reason: ErrNoChoice, Mode: mode, Empty: empty}
		case 1:
			return distinct[0], nil
		}
		return ChoiceNone, &ParseError{Reason: ErrAmbiguous, Mode: mode, Choices: distinct}
	}
	return ChoiceNone, fmt.Errorf("judge parse mode %q: want %q or %q", mode, ModeFastChat, ModeStrict)
}

// RepairPrompt is the follow-up user message for strict mode's one retry,
// sent after the judge's unreadable reply in the same conversation. kind is
// KindSingle or KindPair. It asks for the "[[…]]" form, which strict mode
// reads for every template, Prometheus's included.
func RepairPrompt(kind string) string {
	if kind == KindPair {
		return "Your reply did not end with exactly one verdict in the required format. " +
			"Do not repeat your explanation. Reply with only your final verdict, strictly in this format: " +
			"\"[[A]]\" if assistant A is better, \"[[B]]\" if assistant B is better, and \"[[C]]\" for a tie."
	}
	return "Your reply did not end with exactly one rating in the required format and range. " +
		"Do not repeat your explanation. Reply with only your final rating, on the scale the instructions give, " +
		"strictly in this format: \"[[rating]]\", for example: \"Rating: [[5]]\"."
}
