package judge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Template kinds.
const (
	KindSingle = "single" // grades one answer with a score
	KindPair   = "pair"   // compares two answers, A / B / tie
)

// DefaultScale is the score scale of single-answer templates unless one is
// configured: MT-Bench's 1 to 10.
func DefaultScale() [2]float64 { return [2]float64{1, 10} }

// A Template is a judge prompt: a system message and a user message with
// Python str.format placeholders ({question}, {answer}, …; see Vars).
type Template struct {
	Name           string
	Kind           string // KindSingle or KindPair
	System         string
	Prompt         string
	NeedsReference bool       // uses a reference answer placeholder
	MultiTurn      bool       // shows a two-turn conversation (MT-Bench turn 2)
	Scale          [2]float64 // lowest and highest score; single templates only
	OutputFormat   string     // what the judge is told to write: "[[rating]]", "[[A]]", "[RESULT] n", "[RESULT] A"
	Source         string     // where the text comes from, with commit and licence
}

// Vars are the values a template's placeholders take. Which placeholder reads
// which field:
//
//	{question} {question_1} {instruction}   Question
//	{question_2}                             Question2
//	{answer} {response}                      Answer
//	{answer_1}                               Answer1, else Answer
//	{answer_2}                               Answer2
//	{answer_a} {response_A}                  AnswerA
//	{answer_b} {response_B}                  AnswerB
//	{answer_a_1} {answer_a_2}                AnswerA1 (else AnswerA), AnswerA2
//	{answer_b_1} {answer_b_2}                AnswerB1 (else AnswerB), AnswerB2
//	{reference} {reference_answer}           Reference
//	{ref_answer_1}                           Reference1, else Reference
//	{ref_answer_2}                           Reference2
//	{rubric}                                 Rubric
//	{relevant_context} {context}             Context
//
// Questions, references, rubrics and contexts come from the plan and are
// trusted: an empty one that the template uses is an error. Answers are model
// outputs: they may be empty (a model can return nothing, and the judge
// should grade that), and they are neutralised (see Neutralise) so that they
// cannot close the delimiters around them.
type Vars struct {
	Question, Answer, Reference string
	Question2                   string // multi-turn: the second user turn
	Answer1, Answer2            string // multi-turn: the model's two turns
	Reference1, Reference2      string // multi-turn references (MT-Bench ref_answer_1/2)
	AnswerA, AnswerB            string // pair
	AnswerA1, AnswerA2          string // pair, multi-turn
	AnswerB1, AnswerB2          string
	Rubric                      string // Prometheus score rubric
	Context                     string // Prometheus RAG: the relevant context
}

// placeholderSpec describes one known placeholder.
type placeholderSpec struct {
	field  string // the Vars field(s) it reads, for error messages
	answer bool   // a model output: may be empty, is neutralised
	get    func(Vars) string
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lookupPlaceholder returns the spec of a known placeholder name.
func lookupPlaceholder(name string) (placeholderSpec, bool) {
	switch name {
	case "question", "question_1", "instruction":
		return placeholderSpec{"Question", false, func(v Vars) string { return v.Question }}, true
	case "question_2":
		return placeholderSpec{"Question2", false, func(v Vars) string { return v.Question2 }}, true
	case "answer", "response":
		return placeholderSpec{"Answer", true, func(v Vars) string { return v.Answer }}, true
	case "answer_1":
		return placeholderSpec{"Answer1 or Answer", true, func(v Vars) string { return firstNonEmpty(v.Answer1, v.Answer) }}, true
	case "answer_2":
		return placeholderSpec{"Answer2", true, func(v Vars) string { return v.Answer2 }}, true
	case "answer_a", "response_A":
		return placeholderSpec{"AnswerA", true, func(v Vars) string { return v.AnswerA }}, true
	case "answer_b", "response_B":
		return placeholderSpec{"AnswerB", true, func(v Vars) string { return v.AnswerB }}, true
	case "answer_a_1":
		return placeholderSpec{"AnswerA1 or AnswerA", true, func(v Vars) string { return firstNonEmpty(v.AnswerA1, v.AnswerA) }}, true
	case "answer_a_2":
		return placeholderSpec{"AnswerA2", true, func(v Vars) string { return v.AnswerA2 }}, true
	case "answer_b_1":
		return placeholderSpec{"AnswerB1 or AnswerB", true, func(v Vars) string { return firstNonEmpty(v.AnswerB1, v.AnswerB) }}, true
	case "answer_b_2":
		return placeholderSpec{"AnswerB2", true, func(v Vars) string { return v.AnswerB2 }}, true
	case "reference", "reference_answer":
		return placeholderSpec{"Reference", false, func(v Vars) string { return v.Reference }}, true
	case "ref_answer_1":
		return placeholderSpec{"Reference1 or Reference", false, func(v Vars) string { return firstNonEmpty(v.Reference1, v.Reference) }}, true
	case "ref_answer_2":
		return placeholderSpec{"Reference2", false, func(v Vars) string { return v.Reference2 }}, true
	case "rubric":
		return placeholderSpec{"Rubric", false, func(v Vars) string { return v.Rubric }}, true
	case "relevant_context", "context":
		return placeholderSpec{"Context", false, func(v Vars) string { return v.Context }}, true
	}
	return placeholderSpec{}, false
}

// PlaceholderNames lists every placeholder a template may use, sorted.
func PlaceholderNames() []string {
	return []string{
		"answer", "answer_1", "answer_2", "answer_a", "answer_a_1", "answer_a_2",
		"answer_b", "answer_b_1", "answer_b_2", "context", "instruction", "question",
		"question_1", "question_2", "ref_answer_1", "ref_answer_2", "reference",
		"reference_answer", "relevant_context", "response", "response_A", "response_B", "rubric",
	}
}

// Custom builds a template from a plan's (system, user) strings. kind is
// KindSingle or KindPair. Every placeholder must be one of PlaceholderNames
// (the error names the first unknown one); a pair template must show both
// answers and a single template one. NeedsReference and MultiTurn follow from
// the placeholders used; Scale is DefaultScale for single templates (set it
// to the scale the prompt asks for).
func Custom(name, kind, system, prompt string) (Template, error) {
	t := Template{Name: name, Kind: kind, System: system, Prompt: prompt, Source: "custom"}
	if kind != KindSingle && kind != KindPair {
		return Template{}, fmt.Errorf("template %s: kind %q: want %q or %q", name, kind, KindSingle, KindPair)
	}
	used := map[string]bool{}
	for _, part := range []struct{ what, text string }{{"system", system}, {"prompt", prompt}} {
		segs, err := parseFormat(part.text)
		if err != nil {
			return Template{}, fmt.Errorf("template %s: %s: %w", name, part.what, err)
		}
		for _, p := range placeholders(segs) {
			if _, ok := lookupPlaceholder(p); !ok {
				return Template{}, fmt.Errorf("template %s: %s: unknown placeholder {%s} (known: %s)", name, part.what, p, strings.Join(PlaceholderNames(), ", "))
			}
			used[p] = true
		}
	}
	has := func(names ...string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return used[n] })
	}
	t.NeedsReference = has("reference", "reference_answer", "ref_answer_1", "ref_answer_2")
	t.MultiTurn = has("question_2", "answer_2", "answer_a_2", "answer_b_2", "ref_answer_2")
	switch kind {
	case KindSingle:
		if has("answer_a", "answer_b", "response_A", "response_B", "answer_a_1", "answer_a_2", "answer_b_1", "answer_b_2") {
			return Template{}, fmt.Errorf("template %s: a single template cannot use the pair placeholders ({answer_a}, {answer_b}, …)", name)
		}
		if !has("answer", "response", "answer_1", "answer_2") {
			return Template{}, fmt.Errorf("template %s: a single template must show the answer: use {answer}", name)
		}
		t.Scale = DefaultScale()
		t.OutputFormat = "[[rating]]"
	case KindPair:
		if has("answer", "response", "answer_1", "answer_2") {
			return Template{}, fmt.Errorf("template %s: a pair template cannot use {answer}: use {answer_a} and {answer_b}", name)
		}
		if !has("answer_a", "response_A", "answer_a_1", "answer_a_2") || !has("answer_b", "response_B", "answer_b_1", "answer_b_2") {
			return Template{}, fmt.Errorf("template %s: a pair template must show both answers: use {answer_a} and {answer_b}", name)
		}
		t.OutputFormat = "[[A]]"
	}
	return t, nil
}

// Render fills the template's placeholders as Python's str.format does
// (FastChat calls prompt_template.format(question=…, answer=…)): each
// placeholder is replaced by its value once, values are never re-read as
// templates, and "{{" / "}}" become literal braces. System and prompt are
// both filled (the built-in system prompts have no placeholders, so they come
// back unchanged). Answers are neutralised against the prompt's markers (see
// Neutralise); text without markers is inserted byte for byte. A placeholder
// whose trusted value is empty (a reference-needing template without a
// reference, say) is an error naming the Vars field.
func (t Template) Render(v Vars) (system, user string, err error) {
	userSegs, err := parseFormat(t.Prompt)
	if err != nil {
		return "", "", fmt.Errorf("template %s: prompt: %w", t.Name, err)
	}
	sysSegs, err := parseFormat(t.System)
	if err != nil {
		return "", "", fmt.Errorf("template %s: system: %w", t.Name, err)
	}
	n := newNeutraliser(userSegs)
	fill := func(segs []formatSegment) (string, error) {
		var b strings.Builder
		for _, sg := range segs {
			if sg.placeholder == "" {
				b.WriteString(sg.literal)
				continue
			}
			spec, ok := lookupPlaceholder(sg.placeholder)
			if !ok {
				return "", fmt.Errorf("template %s: unknown placeholder {%s}", t.Name, sg.placeholder)
			}
			val := spec.get(v)
			if spec.answer {
				val = n.neutralise(val)
			} else if val == "" {
				return "", fmt.Errorf("template %s: {%s} needs Vars.%s, which is empty", t.Name, sg.placeholder, spec.field)
			}
			b.WriteString(val)
		}
		return b.String(), nil
	}
	if system, err = fill(sysSegs); err != nil {
		return "", "", err
	}
	if user, err = fill(userSegs); err != nil {
		return "", "", err
	}
	return system, user, nil
}

// Placeholders lists the distinct placeholders of the system and the prompt,
// in order of first appearance (system first). A template that does not
// parse has none.
func (t Template) Placeholders() []string {
	var names []string
	for _, s := range []string{t.System, t.Prompt} {
		segs, err := parseFormat(s)
		if err != nil {
			return nil
		}
		for _, p := range placeholders(segs) {
			if !slices.Contains(names, p) {
				names = append(names, p)
			}
		}
	}
	return names
}

// Hash identifies the template's text in runs: the hex sha256 of kind,
// system and prompt joined by NUL bytes (NUL keeps "ab"+"c" apart from
// "a"+"bc"). The name, scale and source are not hashed: the same text under
// another name is the same judge prompt.
func (t Template) Hash() string {
	h := sha256.New()
	h.Write([]byte(t.Kind))
	h.Write([]byte{0})
	h.Write([]byte(t.System))
	h.Write([]byte{0})
	h.Write([]byte(t.Prompt))
	return hex.EncodeToString(h.Sum(nil))
}
