// Package task turns dataset rows into items and the requests sent for them:
// Jinja prompt templates (gonja v2, strict undefined), chat or completion
// form, k-shot examples drawn with a recorded seed, references, and the
// request shapes of the task types (generate, multiple_choice, perplexity,
// and the bias benchmarks crows_pairs and bbq; see Types). Multiple choice
// follows lm-evaluation-harness: one
// loglikelihood request per choice, continuation = target delimiter " " +
// choice, few-shot examples joined by "\n\n".
package task

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"

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
	// Options are the plan's type options (tasks[].options), for the type to read.
	Options map[string]any
	// Turns names a field holding the user turns of a multi-turn
	// conversation (generate): each turn is a stage that sees the model's
	// own earlier answers.
	Turns string
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
	Gold int `json:"gold"`
	// Requests are the first stage's requests; later stages' are built by
	// the type's Next from each model's earlier answers.
	Requests []provider.Request `json:"-"`
	// Turns are the user turns of a multi-turn item (one stage each).
	Turns []string `json:"turns,omitempty"`
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

// Build renders every row into an item with its first stage's requests,
// by the task type spec.Type names.
func Build(spec Spec, rows []Row) ([]Item, error) {
	t, ok := Types()[spec.Type]
	if !ok {
		return nil, fmt.Errorf("task %s: unknown task type %q (known: %s)", spec.Name, spec.Type, strings.Join(TypeNames(), ", "))
	}
	return t.Build(spec, rows)
}

// compiled holds a spec's templates, compiled once.
type compiled struct {
	spec                  Spec
	tpl, sys, ref, target *Template
}

// compile parses the spec's templates; the prompt template is required.
func compile(spec Spec) (*compiled, error) {
	b := &compiled{spec: spec}
	var err error
	if b.tpl, err = Compile(spec.Template); err != nil {
		return nil, fmt.Errorf("task %s: prompt.template: %w", spec.Name, err)
	}
	if spec.System != "" {
		if b.sys, err = Compile(spec.System); err != nil {
			return nil, fmt.Errorf("task %s: prompt.system: %w", spec.Name, err)
		}
	}
	if b.ref, err = compileReference(spec); err != nil {
		return nil, err
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
		if b.target, err = Compile(t); err != nil {
			return nil, fmt.Errorf("task %s: few_shot.target: %w", spec.Name, err)
		}
	}
	return b, nil
}

func compileReference(spec Spec) (*Template, error) {
	if spec.Reference == "" || fieldName.MatchString(spec.Reference) {
		return nil, nil
	}
	ref, err := Compile(spec.Reference)
	if err != nil {
		return nil, fmt.Errorf("task %s: reference: %w", spec.Name, err)
	}
	return ref, nil
}

// rendered is what every template-based type renders from a row.
type rendered struct {
	item   Item
	system string
	shots  [][2]string
}

// render fills an item's prompt and references and draws its examples.
func (b *compiled) render(r Row, all []Row) (rendered, error) {
	out := rendered{item: Item{ID: r.ID, Line: r.Line, Fields: r.Fields, Gold: -1}}
	prompt, err := b.tpl.Render(r.Fields)
	if err != nil {
		return out, fmt.Errorf("prompt.template: %w", err)
	}
	out.item.Prompt = prompt
	if out.item.References, err = b.references(r); err != nil {
		return out, err
	}
	if b.sys != nil {
		if out.system, err = b.sys.Render(r.Fields); err != nil {
			return out, fmt.Errorf("prompt.system: %w", err)
		}
	}
	out.shots, err = b.fewShot(r, all)
	return out, err
}

// renderRows compiles the spec's templates and builds one item per row with
// f from what the templates render (the template-based task types).
func renderRows(spec Spec, rows []Row, f func(r Row, rd rendered) (Item, error)) ([]Item, error) {
	b, err := compile(spec)
	if err != nil {
		return nil, err
	}
	return eachRow(spec, rows, func(r Row) (Item, error) {
		rd, err := b.render(r, rows)
		if err != nil {
			return Item{}, err
		}
		return f(r, rd)
	})
}

// eachRow builds one item per row with f, naming the row in errors.
func eachRow(spec Spec, rows []Row, f func(r Row) (Item, error)) ([]Item, error) {
	items := make([]Item, 0, len(rows))
	for _, r := range rows {
		it, err := f(r)
		if err != nil {
			return nil, fmt.Errorf("%s line %d (id %s): %w", spec.Source, r.Line, r.ID, err)
		}
		items = append(items, it)
	}
	return items, nil
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

// references gives the row's reference answers. A null, empty or absent
// value is no reference (nil), never the reference "": an item without one
// is counted as such and left out of reference-based metrics, not scored 0.
// Empty entries of a list are dropped.
func (b *compiled) references(r Row) ([]string, error) {
	switch {
	case b.spec.Reference == "":
		return nil, nil
	case b.ref == nil:
		return fieldReferences(r.Fields[b.spec.Reference]), nil
	default:
		s, err := b.ref.Render(r.Fields)
		if err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		return nonEmpty([]string{s}), nil
	}
}

func fieldReferences(v any) []string {
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for _, x := range list {
			if x != nil {
				out = append(out, stringify(x))
			}
		}
		return nonEmpty(out)
	}
	if v == nil {
		return nil
	}
	return nonEmpty([]string{stringify(v)})
}

func nonEmpty(refs []string) []string {
	out := refs[:0]
	for _, r := range refs {
		if strings.TrimSpace(r) != "" {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// checkReferenceField refuses a reference field that no row has: that is a
// typo in the plan, not a dataset with some references missing.
func checkReferenceField(spec Spec, rows []Row) error {
	if spec.Reference == "" || !fieldName.MatchString(spec.Reference) || len(rows) == 0 {
		return nil
	}
	for _, r := range rows {
		if _, ok := r.Fields[spec.Reference]; ok {
			return nil
		}
	}
	var names []string
	for k := range rows[0].Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return fmt.Errorf("task %s: reference field %q is in no row of %s (fields: %s)", spec.Name, spec.Reference, spec.Source, strings.Join(names, ", "))
}

// fewShot draws K examples for row r. Each item gets its own stream, seeded by
// the task seed and the item id, so adding or removing other items does not
// change an item's examples.
func (b *compiled) fewShot(r Row, all []Row) ([][2]string, error) {
	exs, err := b.drawShots(r, all)
	if err != nil || exs == nil {
		return nil, err
	}
	out := make([][2]string, 0, len(exs))
	for _, ex := range exs {
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

// drawShots draws the K example rows of row r (nil when K is 0).
func (b *compiled) drawShots(r Row, all []Row) ([]Row, error) {
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
	out := make([]Row, 0, b.spec.K)
	for _, i := range cands[:b.spec.K] {
		out = append(out, pool[i])
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
