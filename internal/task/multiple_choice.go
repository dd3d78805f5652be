package task

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// multipleChoiceType scores a multiple-choice item by one of two protocols,
// recorded with the results and never mixed in one comparison:
//
//   - loglikelihood, as lm-evaluation-harness does: one loglikelihood
//     request per choice, continuation = target delimiter " " + choice,
//     few-shot examples joined by "\n\n"; acc and acc_norm
//     (scorer.ChoiceScorer). It needs echo with prompt logprobs.
//   - generate, for endpoints without prompt logprobs (chat-only APIs,
//     llama.cpp's llama-server): the choices are listed with letters
//     A., B., … after the question, in the layout of lm-evaluation-harness's
//     generative MMLU variants, and the letter is read back from the answer
//     (ExtractChoice); acc only, since there is no likelihood to normalise.
//
// Option protocol picks one (auto, the default, lets the run decide from a
// probe of both models' endpoints); option chat_template sends the generative
// prompt as chat messages, few-shot examples as earlier turns.
//
// Two lm-eval scorings need loglikelihood (mc_scoring.go): option
// continuation names a field holding a continuation shared by all choices,
// which then are contexts (partial evaluation, WinoGrande: prompt + choice,
// then " " + continuation; acc); option mc2_labels names a field of 0/1
// labels, true answers first (TruthfulQA MC2: the normalised probability
// mass of the true answers).
type multipleChoiceType struct{}

// Multiple-choice protocols (option protocol).
const (
	ProtocolAuto          = "auto"
	ProtocolLoglikelihood = "loglikelihood"
	ProtocolGenerate      = "generate"
)

// Stage names of a multiple_choice task, one per protocol.
const (
	StageChoices = "choices"
	StageAnswer  = "answer"
)

// MCProtocol is a multiple_choice spec's protocol option (auto when unset).
func MCProtocol(spec Spec) string {
	if s, ok := spec.Options["protocol"].(string); ok && s != "" {
		return s
	}
	return ProtocolAuto
}

// MCChatTemplate reports whether a multiple_choice spec sends its prompts as
// chat messages, so that the server applies the model's chat template.
func MCChatTemplate(spec Spec) bool {
	b, _ := spec.Options["chat_template"].(bool)
	return b
}

// MCEffectiveProtocol is the protocol Build uses for spec: generate when
// asked for, or when auto meets chat_template (loglikelihood has no chat
// form); loglikelihood otherwise, which the run may turn into generate after
// probing the endpoints (auto).
func MCEffectiveProtocol(spec Spec) string {
	switch p := MCProtocol(spec); {
	case p == ProtocolGenerate, p == ProtocolAuto && MCChatTemplate(spec):
		return ProtocolGenerate
	default:
		return ProtocolLoglikelihood
	}
}

// WithMCOptions returns spec with the protocol and chat_template options
// set, leaving the plan's option map untouched.
func WithMCOptions(spec Spec, protocol string, chatTemplate bool) Spec {
	opts := make(map[string]any, len(spec.Options)+2)
	for k, v := range spec.Options {
		opts[k] = v
	}
	opts["protocol"] = protocol
	opts["chat_template"] = chatTemplate
	spec.Options = opts
	return spec
}

func (multipleChoiceType) Name() string { return MultipleChoice }

func (multipleChoiceType) Doc() string {
	return "log-likelihood of each choice after the prompt (acc, acc_norm as lm-evaluation-harness; needs echo with logprobs), or lettered choices answered by generation (acc); options protocol (auto, loglikelihood, generate) and chat_template"
}

func (multipleChoiceType) Keys() []Key {
	return []Key{
		{Name: "choices", Doc: "field holding the list of choices", Required: true},
		{Name: "answer", Doc: "field holding the correct choice, as an index or a letter A, B, C…", Required: true},
	}
}

func (multipleChoiceType) Check(t *plan.Task, at string, r plan.Reporter) {
	checkTemplate(t, at, r, "the context each choice is scored after")
	if t.Choices == "" {
		r.Missing(at, "choices", "name the field holding the list of choices, e.g. `choices: choices`")
	}
	if t.Answer == "" {
		r.Missing(at, "answer", "name the field holding the correct choice (index or letter), e.g. `answer: label`")
	}
	checkNoScorers(t, at, r, "acc, acc_norm")
	checkNoTurns(t, at, r)
	checkMCOptions(t, at, r)
}

// checkMCOptions validates protocol and chat_template.
func checkMCOptions(t *plan.Task, at string, r plan.Reporter) {
	proto := ProtocolAuto
	for k, v := range t.Options {
		switch k {
		case "protocol":
			s, ok := v.(string)
			if !ok || (s != ProtocolAuto && s != ProtocolLoglikelihood && s != ProtocolGenerate) {
				r.Errorf(at+".options.protocol", "write `protocol: auto`, `protocol: loglikelihood` or `protocol: generate`", "unknown multiple-choice protocol %v", v)
				continue
			}
			proto = s
		case "chat_template":
			if _, ok := v.(bool); !ok {
				r.Errorf(at+".options.chat_template", "write `chat_template: true` or `chat_template: false`", "chat_template must be true or false, got %v", v)
			}
		case optContinuation, optMC2Labels:
			if s, ok := v.(string); !ok || !fieldName.MatchString(s) {
				r.Errorf(at+".options."+k, "name a row field, e.g. `"+k+": "+k+"`", "%s must be a field name, got %v", k, v)
			}
		default:
			r.Errorf(at+".options."+k, "a multiple_choice task reads options protocol, chat_template, continuation and mc2_labels (docs/plan.md)", "unknown multiple_choice option %q", k)
		}
	}
	if mcScoring(t.Options) != "" && proto != ProtocolLoglikelihood {
		r.Errorf(at+".options.protocol", "add `protocol: loglikelihood`",
			"options continuation and mc2_labels score choices by their log-likelihoods; they need `protocol: loglikelihood`")
	}
	if t.Options[optContinuation] != nil && t.Options[optMC2Labels] != nil {
		r.Errorf(at+".options", "keep one of the two", "continuation (partial evaluation) and mc2_labels cannot be combined")
	}
	if ct, _ := t.Options["chat_template"].(bool); ct && proto == ProtocolLoglikelihood {
		r.Errorf(at+".options.chat_template", "use `protocol: generate` (or auto) with chat_template, or remove chat_template",
			"a chat template cannot be applied to loglikelihood scoring: /v1/completions with echo scores the raw prompt text, and chat routes return no prompt logprobs")
	}
}

// checkTemplate requires prompt.template for types that cannot do without.
func checkTemplate(t *plan.Task, at string, r plan.Reporter, what string) {
	if t.Prompt.Template == "" {
		r.Missing(at+".prompt", "template", fmt.Sprintf("write a Jinja template for %s, e.g. `prompt: {template: \"{{ question }}\"}`", what))
	}
}

func checkNoScorers(t *plan.Task, at string, r plan.Reporter, own string) {
	if len(t.Scorers) > 0 {
		r.Errorf(at+".scorers", "remove the scorers, or make the task type generate",
			"scorers apply to generate tasks; a %s task is scored by its type (%s)", t.Type, own)
	}
}

// checkNoOptions refuses type options for a type that reads none.
func checkNoOptions(t *plan.Task, at string, r plan.Reporter) {
	if len(t.Options) > 0 {
		r.Errorf(at+".options", "remove options: the keys this type reads are documented in docs/plan.md (Task types)", "a %s task takes no options", t.Type)
	}
}

// checkNoChoices refuses multiple-choice keys on another type.
func checkNoChoices(t *plan.Task, at string, r plan.Reporter) {
	if t.Choices != "" || t.Answer != "" {
		r.Errorf(at+".type", "set `type: multiple_choice`, or remove choices and answer", "choices and answer apply to multiple_choice tasks, not %s", t.Type)
	}
}

func checkNoTurns(t *plan.Task, at string, r plan.Reporter) {
	if t.Turns != "" {
		r.Errorf(at+".turns", "remove turns, or make the task type generate", "turns apply to generate tasks")
	}
}

func (multipleChoiceType) Stages(spec Spec, _ []Item) []string {
	if MCEffectiveProtocol(spec) == ProtocolGenerate {
		return []string{StageAnswer}
	}
	return []string{StageChoices}
}

// rowChoices reads a row's choices and the index of the correct one.
func rowChoices(spec Spec, r Row) ([]string, int, error) {
	raw, ok := r.Fields[spec.Choices]
	if !ok {
		return nil, -1, fmt.Errorf("field %q (choices) is missing", spec.Choices)
	}
	list, ok := raw.([]any)
	if !ok || len(list) < 2 {
		return nil, -1, fmt.Errorf("field %q (choices) must be a list of at least two choices, got %s", spec.Choices, describe(raw))
	}
	if len(list) > 26 {
		return nil, -1, fmt.Errorf("field %q (choices) has %d choices; at most 26 can be lettered A–Z", spec.Choices, len(list))
	}
	choices := make([]string, 0, len(list))
	for _, c := range list {
		choices = append(choices, stringify(c))
	}
	gold, err := goldIndex(r.Fields[spec.Answer], len(choices))
	if err != nil {
		return nil, -1, fmt.Errorf("field %q (answer): %w", spec.Answer, err)
	}
	return choices, gold, nil
}

func (multipleChoiceType) Build(spec Spec, rows []Row) ([]Item, error) {
	if MCEffectiveProtocol(spec) == ProtocolGenerate {
		if sc := mcScoring(spec.Options); sc != "" {
			return nil, fmt.Errorf("task %s: %s scoring needs log-likelihoods; the endpoints cannot give them (generate protocol)", spec.Name, sc)
		}
		return buildGenerativeMC(spec, rows)
	}
	return renderRows(spec, rows, func(r Row, rd rendered) (Item, error) {
		it := rd.item
		var err error
		if it.Choices, it.Gold, err = rowChoices(spec, r); err != nil {
			return it, err
		}
		ctx := completionPrompt(rd.system, rd.shots, it.Prompt)
		if field, ok := spec.Options[optContinuation].(string); ok {
			return partialRequests(it, r, ctx, field)
		}
		if field, ok := spec.Options[optMC2Labels].(string); ok {
			if _, err := mc2Split(r.Fields[field], len(it.Choices)); err != nil {
				return it, fmt.Errorf("field %q (mc2_labels): %w", field, err)
			}
		}
		for i, c := range it.Choices {
			it.Requests = append(it.Requests, provider.Request{
				Type:         provider.Loglikelihood,
				ItemID:       RequestID(r.ID, i, len(it.Choices)),
				Prompt:       ctx,
				Continuation: " " + c,
			})
		}
		return it, nil
	})
}

func (multipleChoiceType) Next(Spec, int, *Item, [][]provider.Response) ([]provider.Request, error) {
	return nil, nil
}

func (multipleChoiceType) Scorers(spec Spec) []scorer.Scorer {
	if MCEffectiveProtocol(spec) == ProtocolGenerate {
		return []scorer.Scorer{letterScorer{}}
	}
	switch mcScoring(spec.Options) {
	case optContinuation:
		return []scorer.Scorer{partialScorer{}}
	case optMC2Labels:
		return []scorer.Scorer{mc2Scorer{field: spec.Options[optMC2Labels].(string)}}
	}
	return []scorer.Scorer{scorer.ChoiceScorer}
}

func (multipleChoiceType) Input(spec Spec, it *Item, resps [][]provider.Response) (scorer.Input, string, error) {
	if MCEffectiveProtocol(spec) == ProtocolGenerate {
		return generativeInput(it, resps)
	}
	rs := resps[0]
	in := scorer.Input{Fields: it.Fields, Choices: it.Choices, Gold: it.Gold,
		ChoiceLogLikelihoods: make([]float64, len(rs)), ChoiceGreedy: make([]bool, len(rs))}
	best := 0
	for i, r := range rs {
		in.ChoiceLogLikelihoods[i] = r.LogLikelihood
		in.ChoiceGreedy[i] = r.IsGreedy
		if r.LogLikelihood > rs[best].LogLikelihood {
			best = i
		}
	}
	in.Prediction = it.Choices[best]
	return in, it.Choices[best], nil
}

// mcInstruction is what the generative protocol asks; the layout around it
// (question, "A. choice" lines, "Answer:") is that of lm-evaluation-harness's
// generative MMLU variants, so a base model continues it with a letter.
const (
	mcInstruction = "Answer with the letter of the correct choice."
	mcPreamble    = "The following are multiple choice questions (with answers). " + mcInstruction
	// mcMaxTokens bounds a generative answer: a letter, or a short sentence
	// around one. Task params may raise it (reasoning models).
	mcMaxTokens = 32
)

// Letter is the label of choice i: A, B, C…
func Letter(i int) string { return string(rune('A' + i)) }

// lettered lays out a question and its choices, one "A. choice" per line.
func lettered(question string, choices []string) string {
	var sb strings.Builder
	sb.WriteString(question)
	for i, c := range choices {
		sb.WriteString("\n")
		sb.WriteString(Letter(i))
		sb.WriteString(". ")
		sb.WriteString(c)
	}
	return sb.String()
}

// buildGenerativeMC renders each row as one generate request: the question
// with lettered choices, after K examples answered with their letters —
// a completion prompt, or (chat_template) chat messages with each example
// as a user turn and an assistant turn.
func buildGenerativeMC(spec Spec, rows []Row) ([]Item, error) {
	b, err := compile(spec)
	if err != nil {
		return nil, err
	}
	chat := MCChatTemplate(spec)
	params := spec.Params
	if params.Temperature == nil {
		zero := 0.0
		params.Temperature = &zero
	}
	if params.MaxTokens == 0 {
		params.MaxTokens = mcMaxTokens
	}
	if !chat && params.Stop == nil {
		// A completion model would go on to write the next question; the
		// answer is the rest of the "Answer:" line, as lm-evaluation-harness
		// reads it.
		params.Stop = []string{"\n"}
	}
	return eachRow(spec, rows, func(r Row) (Item, error) {
		rd, err := b.render(r, rows)
		if err != nil {
			return Item{}, err
		}
		it := rd.item
		if it.Choices, it.Gold, err = rowChoices(spec, r); err != nil {
			return it, err
		}
		exs, err := b.drawShots(r, rows)
		if err != nil {
			return it, err
		}
		req := provider.Request{Type: provider.Generate, ItemID: RequestID(r.ID, 0, 1), Params: params}
		var sb strings.Builder
		if !chat {
			if rd.system != "" {
				sb.WriteString(rd.system)
				sb.WriteString("\n\n")
			}
			sb.WriteString(mcPreamble)
			sb.WriteString("\n\n")
		} else {
			req.System = rd.system
		}
		for _, ex := range exs {
			q, err := b.tpl.Render(ex.Fields)
			if err != nil {
				return it, fmt.Errorf("few-shot example %s: prompt.template: %w", ex.ID, err)
			}
			cs, g, err := rowChoices(spec, ex)
			if err != nil {
				return it, fmt.Errorf("few-shot example %s: %w", ex.ID, err)
			}
			if chat {
				req.Messages = append(req.Messages,
					provider.Message{Role: "user", Content: lettered(q, cs) + "\n\n" + mcInstruction},
					provider.Message{Role: "assistant", Content: Letter(g)})
				continue
			}
			sb.WriteString(lettered(q, cs))
			sb.WriteString("\nAnswer: ")
			sb.WriteString(Letter(g))
			sb.WriteString("\n\n")
		}
		if chat {
			req.Messages = append(req.Messages, provider.Message{Role: "user", Content: lettered(it.Prompt, it.Choices) + "\n\n" + mcInstruction})
		} else {
			sb.WriteString(lettered(it.Prompt, it.Choices))
			sb.WriteString("\nAnswer:")
			req.Prompt = sb.String()
		}
		it.Requests = []provider.Request{req}
		return it, nil
	})
}

// ErrNoChoice marks a generative answer from which no choice can be read:
// the item is counted as failed (shown and gateable), never scored 0.
var ErrNoChoice = errors.New("no choice could be read from the answer")

// generativeInput reads the chosen letter from the model's answer.
func generativeInput(it *Item, resps [][]provider.Response) (scorer.Input, string, error) {
	r := resps[0][0]
	in := scorer.Input{Fields: it.Fields, Choices: it.Choices, Gold: it.Gold, Prediction: r.Text, Response: &r}
	if strings.TrimSpace(r.Text) == "" {
		return in, r.Text, ErrEmptyOutput
	}
	idx, err := ExtractChoice(r.Text, it.Choices)
	if err != nil {
		return in, r.Text, err
	}
	// Scorers see the chosen choice as the log-likelihood winner: 0 for it,
	// -Inf for the others, so no score ever depends on a made-up number.
	in.Prediction = it.Choices[idx]
	in.ChoiceLogLikelihoods = make([]float64, len(it.Choices))
	for i := range in.ChoiceLogLikelihoods {
		if i != idx {
			in.ChoiceLogLikelihoods[i] = math.Inf(-1)
		}
	}
	return in, r.Text, nil
}

// letterScorer scores a generative multiple-choice answer: acc is 1 when
// the extracted choice is the gold one. acc_norm does not apply (no
// likelihoods to normalise by length).
type letterScorer struct{}

func (letterScorer) Metrics() []scorer.Metric {
	return []scorer.Metric{{Name: "acc", Direction: scorer.Higher, Test: scorer.TestMcNemar, Binary: true}}
}

func (letterScorer) Score(in scorer.Input) (map[string]float64, error) {
	if in.Gold < 0 || in.Gold >= len(in.Choices) || len(in.ChoiceLogLikelihoods) != len(in.Choices) {
		return nil, fmt.Errorf("multiple choice: no extracted choice for %d choices", len(in.Choices))
	}
	acc := 0.0
	if in.ChoiceLogLikelihoods[in.Gold] == 0 {
		acc = 1
	}
	return map[string]float64{"acc": acc}, nil
}

var (
	// "A or B", "A and B", "A/B", "A, B": the model hedged between letters.
	mcHedge = regexp.MustCompile(`(?i)(?:^|[^A-Za-z])\(?([A-Z])\)?\s*(?:or|and|/|,|&)\s*\(?([A-Z])\)?(?:[^A-Za-z]|$)`)
	// "Answer: B", "the answer is (b)", "Correct answer: C.", "Option D"
	mcAnswerIs = regexp.MustCompile(`(?i)(?:answer|option)\s*(?:is|:|=|-)?\s*(?:is\s*)?[:\s]*\(?\**([A-Z])\**\)?(?:[^A-Za-z]|$)`)
	// The answer opens with a letter: "B", "b.", "(C)", "D) …", "**A**".
	mcLeading = regexp.MustCompile(`(?i)^[\s*"'\[]*\(?([A-Z])(?:[)\].:*"']|$)`)
	// "(C)" anywhere.
	mcParen = regexp.MustCompile(`\(([A-Z])\)`)
	// A standalone capital letter: "I think B is right".
	mcStandalone = regexp.MustCompile(`(?:^|[^A-Za-z0-9'’])([A-Z])(?:[^A-Za-z0-9'’]|$)`)
)

// ExtractChoice reads which choice a generative answer picked. Rules, first
// match wins: an answer that hedges between letters ("A or B") is refused;
// "Answer: X" / "the answer is X" / "option X"; a leading letter ("B", "b.", "(C)");
// a single distinct "(X)"; a single distinct standalone capital letter;
// the text of exactly one choice. Letters are case-insensitive except for
// a standalone one ("a" is an article), and only letters naming a choice
// count. Anything else is an error wrapping ErrNoChoice.
func ExtractChoice(answer string, choices []string) (int, error) {
	n := len(choices)
	in := func(s string) (int, bool) {
		i := int(strings.ToUpper(s)[0] - 'A')
		return i, i >= 0 && i < n
	}
	text := strings.TrimSpace(answer)
	for _, m := range mcHedge.FindAllStringSubmatch(text, -1) {
		a, okA := in(m[1])
		b, okB := in(m[2])
		if okA && okB && a != b && (isUpper(m[1]) && isUpper(m[2]) || len(text) <= 8) {
			return -1, fmt.Errorf("%w: %q names more than one choice (%s and %s)", ErrNoChoice, excerpt(text), Letter(a), Letter(b))
		}
	}
	if m := mcAnswerIs.FindStringSubmatchIndex(text); m != nil {
		letter, rest := text[m[2]:m[3]], text[m[3]:]
		// "the answer is a cat": a lowercase a before a word is an article.
		article := !isUpper(letter) && len(rest) > 1 && rest[0] == ' ' && isLetter(rest[1])
		if i, ok := in(letter); ok && !article {
			return i, nil
		}
	}
	if m := mcLeading.FindStringSubmatch(text); m != nil {
		if i, ok := in(m[1]); ok {
			return i, nil
		}
	}
	for _, re := range []*regexp.Regexp{mcParen, mcStandalone} {
		found := -1
		many := false
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if i, ok := in(m[1]); ok {
				if found >= 0 && found != i {
					many = true
				}
				if found < 0 {
					found = i
				}
			}
		}
		if many {
			return -1, fmt.Errorf("%w: %q names more than one choice letter", ErrNoChoice, excerpt(text))
		}
		if found >= 0 {
			return found, nil
		}
	}
	low := strings.ToLower(strings.Trim(text, " \t\n.!\"'*"))
	hit := -1
	for i, c := range choices {
		lc := strings.ToLower(strings.TrimSpace(c))
		if lc == "" {
			continue
		}
		if low == lc {
			return i, nil
		}
		if strings.Contains(low, lc) {
			if hit >= 0 {
				return -1, fmt.Errorf("%w: %q contains the text of more than one choice", ErrNoChoice, excerpt(text))
			}
			hit = i
		}
	}
	if hit >= 0 {
		return hit, nil
	}
	return -1, fmt.Errorf("%w: %q has no choice letter A–%s and no choice's text", ErrNoChoice, excerpt(text), Letter(n-1))
}

func isUpper(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// excerpt shortens an answer for an error message.
func excerpt(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}
