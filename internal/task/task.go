// Package task turns dataset rows into items and the requests sent for them:
// Jinja prompt templates (gonja v2, strict undefined), chat or completion
// form, k-shot examples drawn with a recorded seed, references, and the
// request shapes of the three task types (generate, multiple_choice,
// perplexity). Multiple choice follows lm-evaluation-harness: one
// loglikelihood request per choice, continuation = target delimiter " " +
// choice, few-shot examples joined by "\n\n".
package task

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/provider"
)

// Task types.
const (
	Generate       = "generate"
	MultipleChoice = "multiple_choice"
	Perplexity     = "perplexity"
)

// Row is one dataset row as the task sees it.
type Row struct {
	ID     string
	Line   int
	Fields map[string]any
}

// Spec is a task resolved from the plan.
type Spec struct {
	Name string
	Type string
	// Source names the dataset file in error messages.
	Source   string
	System   string
	Template string
	Chat     bool
	// Reference is a field name or a template giving the reference(s).
	Reference string
	// Choices and Answer are field names (multiple_choice).
	Choices string
	Answer  string
	// FewShot examples: K drawn from Pool (or from the task's own rows when Pool
	// is nil, never the item itself), with FewShotSeed; Target renders an example's answer.
	K           int
	Pool        []Row
	Target      string
	FewShotSeed uint64
	Params      provider.Params
	// Shape is the dataset's shape (chat, alpaca, plain). A generate task on
	// chat or Alpaca rows may leave Template empty: chat rows are sent as
	// their messages up to the last assistant turn, which becomes the
	// reference; Alpaca rows render instruction and input, with output as the
	// reference.
	Shape string
}

// alpacaTemplate is the instruction, then the input when there is one.
const alpacaTemplate = "{{ instruction }}{% if input %}\n\n{{ input }}{% endif %}"

// Item is one evaluated example.
type Item struct {
	ID         string         `json:"id"`
	Line       int            `json:"line"`
	Fields     map[string]any `json:"-"`
	Prompt     string         `json:"prompt"`
	References []string       `json:"references,omitempty"`
	Choices    []string       `json:"choices,omitempty"`
	// Gold is the index of the correct choice, -1 when there is none.
	Gold     int                `json:"gold"`
	Requests []provider.Request `json:"-"`
}

// RequestID names the i-th request of an item; it is the item id itself when
// the item has one request, so that file-provider outputs keyed by item id match.
func RequestID(itemID string, i, n int) string {
	if n == 1 {
		return itemID
	}
	return itemID + "#" + strconv.Itoa(i)
}

var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Build renders every row into an item with its requests.
func Build(spec Spec, rows []Row) ([]Item, error) {
	if spec.Template == "" && spec.Type == Generate {
		switch spec.Shape {
		case dataset.ShapeAlpaca:
			spec.Template = alpacaTemplate
			if spec.Reference == "" {
				spec.Reference = "output"
			}
		case dataset.ShapeChat:
			if spec.K > 0 {
				return nil, fmt.Errorf("task %s: few_shot needs a prompt.template; chat rows carry their own turns", spec.Name)
			}
			return buildChat(spec, rows)
		default:
			return nil, fmt.Errorf("task %s: prompt.template is missing; write a Jinja template such as \"{{ question }}\" (it may be left out only for chat `messages` or Alpaca rows)", spec.Name)
		}
	}
	tpl, err := Compile(spec.Template)
	if err != nil {
		return nil, fmt.Errorf("task %s: prompt.template: %w", spec.Name, err)
	}
	var sys *Template
	if spec.System != "" {
		if sys, err = Compile(spec.System); err != nil {
			return nil, fmt.Errorf("task %s: prompt.system: %w", spec.Name, err)
		}
	}
	var ref, target *Template
	if spec.Reference != "" && !fieldName.MatchString(spec.Reference) {
		if ref, err = Compile(spec.Reference); err != nil {
			return nil, fmt.Errorf("task %s: reference: %w", spec.Name, err)
		}
	}
	if spec.K > 0 {
		t := spec.Target
		if t == "" {
			t = spec.Reference
		}
		if t == "" {
			return nil, fmt.Errorf("task %s: few_shot.k is %d but neither few_shot.target nor reference says what an example's answer is", spec.Name, spec.K)
		}
		if fieldName.MatchString(t) {
			t = "{{ " + t + " }}"
		}
		if target, err = Compile(t); err != nil {
			return nil, fmt.Errorf("task %s: few_shot.target: %w", spec.Name, err)
		}
	}
	b := builder{spec: spec, tpl: tpl, sys: sys, ref: ref, target: target}
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		it, err := b.item(r, rows)
		if err != nil {
			return nil, fmt.Errorf("%s line %d (id %s): %w", spec.Source, r.Line, r.ID, err)
		}
		items = append(items, it)
	}
	return items, nil
}

// buildChat sends each chat row's messages up to (not including) its final
// assistant turn; that turn is the reference unless the task names one.
func buildChat(spec Spec, rows []Row) ([]Item, error) {
	var ref *Template
	if spec.Reference != "" && !fieldName.MatchString(spec.Reference) {
		var err error
		if ref, err = Compile(spec.Reference); err != nil {
			return nil, fmt.Errorf("task %s: reference: %w", spec.Name, err)
		}
	}
	b := builder{spec: spec, ref: ref}
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		raw, _ := r.Fields["messages"].([]any)
		var msgs []provider.Message
		for _, m := range raw {
			mm, _ := m.(map[string]any)
			role, _ := mm["role"].(string)
			content, _ := mm["content"].(string)
			msgs = append(msgs, provider.Message{Role: role, Content: content})
		}
		it := Item{ID: r.ID, Line: r.Line, Fields: r.Fields, Gold: -1}
		if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" {
			it.References = []string{msgs[n-1].Content}
			msgs = msgs[:n-1]
		}
		if len(msgs) == 0 || msgs[len(msgs)-1].Role != "user" {
			return nil, fmt.Errorf("%s line %d (id %s): messages: the conversation must end with a user turn (optionally followed by the reference assistant turn)", spec.Source, r.Line, r.ID)
		}
		if spec.Reference != "" {
			refs, err := b.references(r)
			if err != nil {
				return nil, fmt.Errorf("%s line %d (id %s): %w", spec.Source, r.Line, r.ID, err)
			}
			it.References = refs
		}
		it.Prompt = msgs[len(msgs)-1].Content
		it.Requests = []provider.Request{{Type: provider.Generate, ItemID: r.ID, Messages: msgs, Params: spec.Params}}
		items = append(items, it)
	}
	return items, nil
}

type builder struct {
	spec                  Spec
	tpl, sys, ref, target *Template
}

func (b *builder) item(r Row, all []Row) (Item, error) {
	it := Item{ID: r.ID, Line: r.Line, Fields: r.Fields, Gold: -1}
	prompt, err := b.tpl.Render(r.Fields)
	if err != nil {
		return it, fmt.Errorf("prompt.template: %w", err)
	}
	it.Prompt = prompt
	if it.References, err = b.references(r); err != nil {
		return it, err
	}
	system := ""
	if b.sys != nil {
		if system, err = b.sys.Render(r.Fields); err != nil {
			return it, fmt.Errorf("prompt.system: %w", err)
		}
	}
	shots, err := b.fewShot(r, all)
	if err != nil {
		return it, err
	}
	switch b.spec.Type {
	case MultipleChoice:
		return b.multipleChoice(it, r, system, shots)
	case Perplexity:
		it.Requests = []provider.Request{{Type: provider.LoglikelihoodRolling, ItemID: r.ID, Prompt: prompt}}
		return it, nil
	}
	req := provider.Request{Type: provider.Generate, ItemID: r.ID, Params: b.spec.Params}
	if b.spec.Chat {
		req.System = system
		for _, s := range shots {
			req.Messages = append(req.Messages, provider.Message{Role: "user", Content: s[0]}, provider.Message{Role: "assistant", Content: s[1]})
		}
		req.Messages = append(req.Messages, provider.Message{Role: "user", Content: prompt})
	} else {
		req.Prompt = completionPrompt(system, shots, prompt)
	}
	it.Requests = []provider.Request{req}
	return it, nil
}

// completionPrompt lays out a plain prompt as lm-evaluation-harness does:
// description, then examples "question target" separated by blank lines, then the query.
func completionPrompt(system string, shots [][2]string, prompt string) string {
	var sb strings.Builder
	if system != "" {
		sb.WriteString(system)
		sb.WriteString("\n\n")
	}
	for _, s := range shots {
		sb.WriteString(s[0])
		sb.WriteString(" ")
		sb.WriteString(s[1])
		sb.WriteString("\n\n")
	}
	sb.WriteString(prompt)
	return sb.String()
}

func (b *builder) multipleChoice(it Item, r Row, system string, shots [][2]string) (Item, error) {
	raw, ok := r.Fields[b.spec.Choices]
	if !ok {
		return it, fmt.Errorf("field %q (choices) is missing", b.spec.Choices)
	}
	list, ok := raw.([]any)
	if !ok || len(list) < 2 {
		return it, fmt.Errorf("field %q (choices) must be a list of at least two choices, got %s", b.spec.Choices, describe(raw))
	}
	for _, c := range list {
		it.Choices = append(it.Choices, stringify(c))
	}
	gold, err := goldIndex(r.Fields[b.spec.Answer], len(it.Choices))
	if err != nil {
		return it, fmt.Errorf("field %q (answer): %w", b.spec.Answer, err)
	}
	it.Gold = gold
	ctx := completionPrompt(system, shots, it.Prompt)
	for i, c := range it.Choices {
		it.Requests = append(it.Requests, provider.Request{
			Type:         provider.Loglikelihood,
			ItemID:       RequestID(r.ID, i, len(it.Choices)),
			Prompt:       ctx,
			Continuation: " " + c,
		})
	}
	return it, nil
}

// goldIndex accepts an index (number or numeric string) or a letter A, B, C…
func goldIndex(v any, n int) (int, error) {
	var idx int
	switch x := v.(type) {
	case nil:
		return -1, fmt.Errorf("is missing")
	case float64:
		idx = int(x)
		if float64(idx) != x {
			return -1, fmt.Errorf("%v is not a whole number", x)
		}
	case int:
		idx = x
	case int64:
		idx = int(x)
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return -1, fmt.Errorf("%v is not a whole number", x)
		}
		idx = int(i)
	case string:
		s := strings.TrimSpace(x)
		if i, err := strconv.Atoi(s); err == nil {
			idx = i
		} else if len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' {
			idx = int(s[0] - 'A')
		} else {
			return -1, fmt.Errorf("%q is neither an index nor a letter A, B, C…", x)
		}
	default:
		return -1, fmt.Errorf("want an index or a letter, got %s", describe(v))
	}
	if idx < 0 || idx >= n {
		return -1, fmt.Errorf("answer %d is out of range for %d choices", idx, n)
	}
	return idx, nil
}

func (b *builder) references(r Row) ([]string, error) {
	switch {
	case b.spec.Reference == "":
		return nil, nil
	case b.ref == nil:
		v, ok := r.Fields[b.spec.Reference]
		if !ok {
			return nil, fmt.Errorf("field %q (reference) is missing", b.spec.Reference)
		}
		if list, ok := v.([]any); ok {
			out := make([]string, len(list))
			for i, x := range list {
				out[i] = stringify(x)
			}
			return out, nil
		}
		return []string{stringify(v)}, nil
	default:
		s, err := b.ref.Render(r.Fields)
		if err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		return []string{s}, nil
	}
}

// fewShot draws K examples for row r. Each item gets its own stream, seeded by
// the task seed and the item id, so adding or removing other items does not
// change an item's examples.
func (b *builder) fewShot(r Row, all []Row) ([][2]string, error) {
	if b.spec.K <= 0 {
		return nil, nil
	}
	pool := b.spec.Pool
	self := pool == nil
	if self {
		pool = all
	}
	var cands []int
	for i := range pool {
		if self && pool[i].ID == r.ID {
			continue
		}
		cands = append(cands, i)
	}
	if len(cands) < b.spec.K {
		return nil, fmt.Errorf("few_shot.k is %d but only %d examples are available", b.spec.K, len(cands))
	}
	h := fnv.New64a()
	h.Write([]byte(r.ID))
	rng := rand.New(rand.NewPCG(b.spec.FewShotSeed, h.Sum64()))
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	out := make([][2]string, 0, b.spec.K)
	for _, i := range cands[:b.spec.K] {
		ex := pool[i]
		q, err := b.tpl.Render(ex.Fields)
		if err != nil {
			return nil, fmt.Errorf("few-shot example %s: prompt.template: %w", ex.ID, err)
		}
		a, err := b.target.Render(ex.Fields)
		if err != nil {
			return nil, fmt.Errorf("few-shot example %s: few_shot.target: %w", ex.ID, err)
		}
		out = append(out, [2]string{q, a})
	}
	return out, nil
}

func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case float64, int, int64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
