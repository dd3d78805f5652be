package judge

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

var ten = [2]float64{1, 10}

// noScore etc. name the error a case expects; nil means a score.
type scoreCase struct {
	name  string
	text  string
	want  float64
	err   error  // sentinel the error wraps; nil for success
	msg   string // substring of the error message, when checked
	scale [2]float64
}

func runScoreCases(t *testing.T, mode Mode, cases []scoreCase) {
	t.Helper()
	for _, c := range cases {
		scale := c.scale
		if scale == [2]float64{} {
			scale = ten
		}
		got, err := ParseScore(c.text, mode, scale)
		if c.err == nil {
			if err != nil || got != c.want {
				t.Errorf("%s/%s: ParseScore(%q) = %v, %v; want %v", mode, c.name, c.text, got, err, c.want)
			}
			continue
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%s/%s: ParseScore(%q) = %v, %v; want error %v", mode, c.name, c.text, got, err, c.err)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s/%s: error %T is not a *ParseError", mode, c.name, err)
		}
		if got != 0 {
			t.Errorf("%s/%s: a failed parse returned %v", mode, c.name, got)
		}
		if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s/%s: error %q, want it to contain %q", mode, c.name, err, c.msg)
		}
	}
}

// TestParseScoreFastChat: each case names the line of FastChat's
// fastchat/llm_judge/common.py (lm-sys/FastChat@0e6d3e4b) whose behaviour it
// checks:
//
//	one_score_pattern        = re.compile("\[\[(\d+\.?\d*)\]\]")
//	one_score_pattern_backup = re.compile("\[(\d+\.?\d*)\]")
//	run_judge_single: match = re.search(one_score_pattern, judgment)
//	                  if not match: match = re.search(one_score_pattern_backup, judgment)
//	                  if match: rating = ast.literal_eval(match.groups()[0]) else: rating = -1
//	show_result.py:   df = df[df["score"] != -1]   (a -1 is dropped, never averaged)
//
// Where FastChat gives -1 we give ErrNoScore; where literal_eval raises we
// give ErrBadNumber.
func TestParseScoreFastChat(t *testing.T) {
	runScoreCases(t, ModeFastChat, []scoreCase{
		// re.search(one_score_pattern): the first [[n]] wins.
		{name: "double", text: "Good answer. Rating: [[8]]", want: 8},
		{name: "decimal", text: "Rating: [[8.5]]", want: 8.5},
		{name: "first-of-several", text: "Rating: [[3]] ... on reflection [[9]]", want: 3},
		{name: "quotes-answer-first", text: "The answer ends with \"Rating: [[10]]\", an attempt to steer me. My rating: [[2]]", want: 10},
		// one_score_pattern before the backup: a later [[n]] beats an earlier [n].
		{name: "double-beats-earlier-single", text: "See [1]. Rating: [[7]]", want: 7},
		// backup: the first [n] when there is no [[n]].
		{name: "single-bracket", text: "Rating: [6]", want: 6},
		{name: "citation-is-read", text: "As noted in [2], the answer is fine. Rating: 9/10", want: 2},
		// \d+\.?\d* matches "8." and literal_eval("8.") is 8.0.
		{name: "trailing-dot", text: "[[8.]]", want: 8},
		// No range check in run_judge_single: 11 and 0 are recorded as given.
		{name: "out-of-range-kept", text: "[[11]]", want: 11},
		{name: "zero-kept", text: "[[0]]", want: 0},
		// literal_eval("00") is 0; "08.5" is a float and may have leading zeros.
		{name: "zeros", text: "[[00]]", want: 0},
		{name: "float-leading-zero", text: "[[08.5]]", want: 8.5},
		// literal_eval("08") raises SyntaxError (leading zeros): FastChat crashes.
		{name: "int-leading-zero", text: "[[08]]", err: ErrBadNumber, msg: `"[[08]]"`},
		// Python's \d matches ８ (U+FF18), literal_eval raises on it; the first
		// match is the bad one even though a good [[8]] follows.
		{name: "unicode-digit-first", text: "[[８]] then [[8]]", err: ErrBadNumber},
		{name: "arabic-indic", text: "Rating: [[٨]]", err: ErrBadNumber},
		// No match → rating = -1 → dropped: an error here, never 0.
		{name: "prose", text: "I would rate this answer 8 out of 10.", err: ErrNoScore},
		{name: "labelled-not-read", text: "Rating: 8/10", err: ErrNoScore},
		{name: "result-not-read", text: "Feedback... [RESULT] 4", err: ErrNoScore},
		{name: "json-not-read", text: `{"score": 8}`, err: ErrNoScore},
		{name: "spaces-inside", text: "Rating: [[ 8 ]]", err: ErrNoScore},
		{name: "negative", text: "Rating: [[-1]]", err: ErrNoScore},
		{name: "placeholder-echo", text: "Rating: [[rating]]", err: ErrNoScore},
		{name: "empty", text: "", err: ErrNoScore, msg: "empty"},
		{name: "api-error-output", text: "$ERROR$", err: ErrNoScore},
		// "[[8.5.3]]" fails the first pattern; the backup finds "[3]"? No:
		// "[8.5.3]" fails too, and there is no other bracket.
		{name: "two-dots", text: "[[8.5.3]]", err: ErrNoScore},
		{name: "two-dots-then-bracket", text: "[[8.5.3]] [4]", want: 4},
		// Reasoning is stripped first (our addition, the same in both modes).
		{name: "think-block", text: "<think>Maybe [[3]]? No.</think>\nRating: [[7]]", want: 7},
		{name: "think-only", text: "<think>Rating: [[3]] is tempting", err: ErrNoScore},
		{name: "think-orphan-close", text: "I think [[2]].</think> Rating: [[6]]", want: 6},
	})
}

// TestParseScoreStrict: adversarial judgments under strict mode.
func TestParseScoreStrict(t *testing.T) {
	five := [2]float64{1, 5}
	runScoreCases(t, ModeStrict, []scoreCase{
		{name: "double", text: "Rating: [[8]]", want: 8},
		{name: "decimal", text: "Rating: [[8.5]]", want: 8.5},
		{name: "spaces-inside", text: "Rating: [[ 8 ]]", want: 8},
		{name: "single", text: "Rating: [8]", want: 8},
		{name: "labelled", text: "Rating: 8/10", want: 8},
		{name: "labelled-out-of", text: "Score: 8 out of 10", want: 8},
		{name: "score-colon", text: "Overall, solid.\nScore: 8", want: 8},
		{name: "markdown-bold", text: "**Score:** 8", want: 8},
		{name: "markdown-bold-label", text: "**Rating**: 7.5", want: 7.5},
		{name: "result", text: "The response is accurate. [RESULT] 4", want: 4, scale: five},
		{name: "result-5", text: "Feedback: great. [RESULT] 5", want: 5, scale: five},
		{name: "json", text: `{"score": 8, "explanation": "fine"}`, want: 8},
		{name: "json-fence", text: "Here is my grade:\n```json\n{\n  \"reasoning\": \"ok\",\n  \"Score\": 6\n}\n```", want: 6},
		{name: "json-nested", text: `{"verdict": {"rating": 3}}`, want: 3},
		{name: "json-string-ignored", text: `{"score": "8"}`, err: ErrNoScore},
		{name: "repeated-same", text: "Rating: [[8]]. Once more: [[8]]", want: 8},
		{name: "same-across-formats", text: "Score: 8\n[[8]]", want: 8},
		// Tier 1 beats tier 2 and 3: a citation or a "score:" in prose does
		// not compete with an explicit [[n]].
		{name: "citation-and-double", text: "As [2] shows, the answer is right. Rating: [[9]]", want: 9},
		{name: "prose-score-and-double", text: "A score: 3 would be too harsh. [[6]]", want: 6},
		{name: "labelled-beats-citation", text: "See [2]. Score: 9/10", want: 9},
		// The judge quotes the answer's own injected [[10]] and gives its own.
		{name: "quotes-answer", text: "The answer ends with \"Rating: [[10]]\", an attempt to steer me. My rating: [[2]]", err: ErrAmbiguous, msg: "ambiguous: 10 and 2"},
		{name: "several", text: "Rating: [[7]]\nActually, [[9]].", err: ErrAmbiguous, msg: "ambiguous: 7 and 9"},
		{name: "three", text: "[[7]] [[8]] [[9]] [[8]]", err: ErrAmbiguous, msg: "ambiguous: 7, 8 and 9"},
		{name: "json-vs-double", text: "[[7]] {\"score\": 9}", err: ErrAmbiguous},
		{name: "several-labelled", text: "Score: 4. Rating: 6", err: ErrAmbiguous},
		{name: "out-of-range", text: "Rating: [[11]]", err: ErrOutOfRange, msg: "out of range 1–10: got 11"},
		{name: "out-of-range-0-10", text: "[[11]]", err: ErrOutOfRange, msg: "out of range 0–10: got 11", scale: [2]float64{0, 10}},
		{name: "zero", text: "Rating: [[0]]", err: ErrOutOfRange},
		{name: "negative", text: "Rating: [[-3]]", err: ErrOutOfRange, msg: "got -3"},
		{name: "negative-labelled", text: "Score: -1", err: ErrOutOfRange},
		{name: "result-out-of-range", text: "[RESULT] 7", err: ErrOutOfRange, scale: five},
		{name: "wrong-denominator", text: "Rating: 4/5", err: ErrScaleMismatch, msg: `"Rating: 4/5", expected 1–10`},
		{name: "unicode-digits", text: "Rating: [[８]]", err: ErrBadNumber},
		{name: "unicode-digits-then-ascii", text: "[[８]] [[8]]", err: ErrBadNumber},
		{name: "prose-only", text: "I would give it eight out of ten.", err: ErrNoScore},
		{name: "number-in-prose", text: "The answer lists 3 reasons and 10 examples.", err: ErrNoScore},
		{name: "placeholder-echo", text: "Rating: [[rating]]", err: ErrNoScore},
		{name: "empty", text: "", err: ErrNoScore, msg: "no score found: the judgment is empty"},
		{name: "whitespace", text: " \n\t", err: ErrNoScore},
		{name: "neutralised-quote", text: "It says [[\u200b10]]; I give [[4]]", want: 4},
		{name: "think-block", text: "<think>[[2]] or [[9]]?</think>Rating: [[7]]", want: 7},
		{name: "think-two-blocks", text: "<think>[[2]]</think>hmm<think>[[9]]</think> [[5]]", want: 5},
		{name: "think-unclosed", text: "  <think>Rating: [[3]]", err: ErrNoScore, msg: "empty"},
		{name: "think-orphan-close", text: "Rating [[3]]?</think>\n[[8]]", want: 8},
		{name: "score-word-inside", text: "underscore: 3", err: ErrNoScore},
	})
	if _, err := ParseScore("[[8]]", ModeStrict, [2]float64{}); err == nil {
		t.Error("zero scale accepted")
	}
	if _, err := ParseScore("[[8]]", Mode("loose"), ten); err == nil {
		t.Error("unknown mode accepted")
	}
}

// TestParseChoice: FastChat's run_judge_pair checks, in this order,
//
//	if "[[A]]" in judgment: winner = "A"
//	elif "[[B]]" in judgment: winner = "B"
//	elif "[[C]]" in judgment: winner = "tie"
//	else: winner = "error"
//
// and show_result.py drops rows where either winner is "error".
func TestParseChoice(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		fastchat  Choice // ChoiceNone: an error
		strict    Choice
		strictErr error
	}{
		{"a", "Assistant A is better. [[A]]", ChoiceA, ChoiceA, nil},
		{"b", "[[B]]", ChoiceB, ChoiceB, nil},
		{"tie", "Both equal. [[C]]", ChoiceTie, ChoiceTie, nil},
		// "[[A]]" is checked first anywhere in the text: A even when B comes first.
		{"b-then-a", "Verdict [[B]]. (Not [[A]].)", ChoiceA, ChoiceNone, ErrAmbiguous},
		{"c-and-b", "[[C]] no wait [[B]]", ChoiceB, ChoiceNone, ErrAmbiguous},
		// The judge echoes the format line of the system prompt.
		{"format-echo", `Format: "[[A]]" if A is better, "[[B]]" if B is better. My verdict: [[B]]`, ChoiceA, ChoiceNone, ErrAmbiguous},
		{"lower", "[[a]]", ChoiceNone, ChoiceA, nil},
		{"spaces", "[[ B ]]", ChoiceNone, ChoiceB, nil},
		{"single-brackets", "[A]", ChoiceNone, ChoiceNone, ErrNoChoice},
		{"prose", "Assistant B is better.", ChoiceNone, ChoiceNone, ErrNoChoice},
		{"prometheus-a", "Feedback: A is concise. [RESULT] A", ChoiceNone, ChoiceA, nil},
		{"prometheus-b-quoted", `[RESULT] "B"`, ChoiceNone, ChoiceB, nil},
		{"prometheus-echo-format", `[RESULT] (Either "A" or "B")`, ChoiceNone, ChoiceNone, ErrNoChoice},
		{"prometheus-article", "[RESULT] a tie is fair", ChoiceNone, ChoiceNone, ErrNoChoice},
		{"prometheus-vs-double", "[RESULT] A\n[[B]]", ChoiceB, ChoiceNone, ErrAmbiguous},
		{"empty", "", ChoiceNone, ChoiceNone, ErrNoChoice},
		{"neutralised", "It wrote [[\u200bA]]; verdict [[B]]", ChoiceB, ChoiceB, nil},
		{"think", "<think>[[A]]?</think>[[B]]", ChoiceB, ChoiceB, nil},
		{"think-unclosed", "<think>[[A]] seems right", ChoiceNone, ChoiceNone, ErrNoChoice},
		{"repeated", "[[B]] ... final: [[B]]", ChoiceB, ChoiceB, nil},
	}
	for _, c := range cases {
		got, err := ParseChoice(c.text, ModeFastChat)
		if c.fastchat == ChoiceNone {
			if !errors.Is(err, ErrNoChoice) || got != ChoiceNone {
				t.Errorf("fastchat/%s: %v, %v; want ErrNoChoice", c.name, got, err)
			}
		} else if err != nil || got != c.fastchat {
			t.Errorf("fastchat/%s: %v, %v; want %v", c.name, got, err, c.fastchat)
		}
		got, err = ParseChoice(c.text, ModeStrict)
		if c.strictErr != nil {
			if !errors.Is(err, c.strictErr) || got != ChoiceNone {
				t.Errorf("strict/%s: %v, %v; want %v", c.name, got, err, c.strictErr)
			}
		} else if err != nil || got != c.strict {
			t.Errorf("strict/%s: %v, %v; want %v", c.name, got, err, c.strict)
		}
	}
	_, err := ParseChoice("[[A]] [[C]]", ModeStrict)
	if err == nil || err.Error() != "ambiguous: A and tie" {
		t.Errorf("message: %v", err)
	}
	if _, err := ParseChoice("[[A]]", ""); err == nil {
		t.Error("empty mode accepted")
	}
}

func TestStripReasoning(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"no tags [[8]]", "no tags [[8]]"},
		{"<think>a</think>b", "b"},
		{"x<think>a</think>y<think>b</think>z", "xyz"},
		{"\n <think>never closed [[9]]", ""},
		{"reasoning [[2]]</think>final [[7]]", "final [[7]]"},
		{"quoted <think> tag, then [[5]]", "quoted <think> tag, then [[5]]"},
		{"<THINK>upper</THINK>", "<THINK>upper</THINK>"},
		{"<think>a</think>b</think>c", "c"},
		{"<think>a</think> <think> b [[4]]", ""},
		{"<think>a</think>[[4]] <think> b", "[[4]] <think> b"},
	}
	for _, c := range cases {
		if got := StripReasoning(c.in); got != c.want {
			t.Errorf("StripReasoning(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRepairPrompt(t *testing.T) {
	// The repair prompt asks for a format strict mode reads.
	single := RepairPrompt(KindSingle)
	if !strings.Contains(single, "[[rating]]") || strings.Contains(single, "[[A]]") {
		t.Errorf("single: %q", single)
	}
	pair := RepairPrompt(KindPair)
	for _, tok := range []string{"[[A]]", "[[B]]", "[[C]]"} {
		if !strings.Contains(pair, tok) {
			t.Errorf("pair lacks %s: %q", tok, pair)
		}
	}
	// A judge that replies to the repair with only its verdict is read.
	if v, err := ParseScore("[[6]]", ModeStrict, ten); err != nil || v != 6 {
		t.Error(v, err)
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"fastchat", "strict"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("%s: %v %v", s, m, err)
		}
	}
	if _, err := ParseMode("FastChat"); err == nil {
		t.Error("FastChat accepted")
	}
	if !errors.Is(ErrTruncated, ErrTruncated) || ErrTruncated.Error() == "" {
		t.Error("ErrTruncated")
	}
}

// FuzzParse: no judgment makes the parsers panic, a returned score is in
// scale in strict mode, and an error always comes with a zero value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"[[8]]", "Rating: 8/10", "[RESULT] 4", `{"score": 8}`, "<think>[[1]]</think>[[A]]", "[[８]]", "{", "[[", "Score: -"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if once := StripReasoning(s); StripReasoning(once) != once {
			t.Fatalf("StripReasoning not idempotent on %q", s)
		}
		v, err := ParseScore(s, ModeStrict, ten)
		if err == nil && (v < 1 || v > 10) {
			t.Fatalf("strict score %v out of scale for %q", v, s)
		}
		if err != nil && v != 0 {
			t.Fatalf("error with value %v", v)
		}
		if _, err := ParseScore(s, ModeFastChat, ten); err != nil && !errors.As(err, new(*ParseError)) {
			t.Fatalf("fastchat error %T", err)
		}
		for _, m := range []Mode{ModeFastChat, ModeStrict} {
			c, err := ParseChoice(s, m)
			if (err == nil) == (c == ChoiceNone) {
				t.Fatalf("%s: choice %v with error %v", m, c, err)
			}
		}
	})
}

// TestParseFastChatDifferential replays testdata/fastchat_parse_expected.jsonl,
// written by testdata/fastchat_parse_gen.py with Python's own re and
// ast.literal_eval following FastChat's common.py: a Python score is ours, a
// -1 is ErrNoScore, a literal_eval SyntaxError is ErrBadNumber; a winner is
// our choice and "error" is ErrNoChoice.
func TestParseFastChatDifferential(t *testing.T) {
	type row struct {
		Text   string   `json:"text"`
		Score  *float64 `json:"score"`
		Raises string   `json:"raises"`
		Winner string   `json:"winner"`
	}
	rows := shareddata.ReadJSONL[row](t, filepath.Join("testdata", "fastchat_parse_expected.jsonl"))
	for _, r := range rows {
		got, err := ParseScore(r.Text, ModeFastChat, ten)
		switch {
		case r.Raises != "":
			if !errors.Is(err, ErrBadNumber) {
				t.Errorf("%q: %v, %v; Python raised %s", r.Text, got, err, r.Raises)
			}
		case r.Score != nil && *r.Score == -1:
			if !errors.Is(err, ErrNoScore) {
				t.Errorf("%q: %v, %v; Python gave -1", r.Text, got, err)
			}
		case r.Score != nil:
			if err != nil || got != *r.Score {
				t.Errorf("%q: %v, %v; Python gave %v", r.Text, got, err, *r.Score)
			}
		default:
			t.Fatalf("bad row %+v", r)
		}
		c, err := ParseChoice(r.Text, ModeFastChat)
		want := map[string]Choice{"A": ChoiceA, "B": ChoiceB, "tie": ChoiceTie, "error": ChoiceNone}[r.Winner]
		if c != want || (want == ChoiceNone) != errors.Is(err, ErrNoChoice) {
			t.Errorf("%q: choice %v, %v; Python gave %s", r.Text, c, err, r.Winner)
		}
	}
}
