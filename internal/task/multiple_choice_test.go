package task

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
)

func TestExtractChoice(t *testing.T) {
	four := []string{"Rome", "Paris", "Oslo", "Madrid"}
	for _, c := range []struct {
		answer string
		want   int // -1: refused
	}{
		{"B", 1},
		{" b ", 1},
		{"b.", 1},
		{"(C)", 2},
		{"D) Madrid", 3},
		{"**A**", 0},
		{"Answer: C", 2},
		{"answer: (d)", 3},
		{"The answer is B.", 1},
		{"The correct answer is (b) because Paris is the capital.", 1},
		{"I think B is right.", 1},
		{"I'd say the answer is B", 1},
		{"Option C", 2},
		{"Paris", 1},
		{"paris.", 1},
		{"It is Oslo, of course", 2},
		{"A or B", -1},
		{"a or b", -1},
		{"Either (A) or (C)", -1},
		{"A/B", -1},
		{"B and C are both plausible", -1},
		{"I am not sure.", -1},
		{"E", -1},                    // no fifth choice
		{"Answer: E", -1},            // likewise
		{"the answer is a city", -1}, // an article, not a letter
		{"Rome or Paris", -1},
		{"", -1},
	} {
		got, err := ExtractChoice(c.answer, four)
		if c.want < 0 {
			if err == nil || !errors.Is(err, ErrNoChoice) {
				t.Errorf("%q: want a refusal wrapping ErrNoChoice, got %d, %v", c.answer, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %d, %v; want %d", c.answer, got, err, c.want)
		}
	}
}

func mcRows() []Row {
	return []Row{
		{ID: "1", Line: 1, Fields: map[string]any{"q": "The capital of France is", "choices": []any{"Rome", "Paris"}, "gold": 1.0}},
		{ID: "2", Line: 2, Fields: map[string]any{"q": "Two plus two is", "choices": []any{"four", "five", "six"}, "gold": "A"}},
	}
}

func mcSpec(opts map[string]any) Spec {
	return Spec{Name: "mc", Type: MultipleChoice, Source: "mc.jsonl", Template: "{{ q }}", Choices: "choices", Answer: "gold", Options: opts}
}

func TestMultipleChoiceLoglikelihoodRequests(t *testing.T) {
	items, err := Build(mcSpec(nil), mcRows())
	if err != nil {
		t.Fatal(err)
	}
	rs := items[1].Requests
	if len(rs) != 3 || rs[0].Type != provider.Loglikelihood || rs[2].ItemID != "2#2" || rs[2].Prompt != "Two plus two is" || rs[2].Continuation != " six" || items[1].Gold != 0 {
		t.Fatalf("%+v", rs)
	}
	if st := (multipleChoiceType{}).Stages(mcSpec(nil), items); !reflect.DeepEqual(st, []string{"choices"}) {
		t.Fatal(st)
	}
}

func TestMultipleChoiceGenerativeCompletion(t *testing.T) {
	spec := mcSpec(map[string]any{"protocol": "generate"})
	spec.K = 1
	spec.Target = "{{ q }}"
	rows := mcRows()
	rows[1].Fields["gold"] = 0.0
	items, err := Build(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	r := items[0].Requests[0]
	want := "The following are multiple choice questions (with answers). Answer with the letter of the correct choice.\n\n" +
		"Two plus two is\nA. four\nB. five\nC. six\nAnswer: A\n\n" +
		"The capital of France is\nA. Rome\nB. Paris\nAnswer:"
	if r.Type != provider.Generate || r.ItemID != "1" || r.Prompt != want || len(r.Messages) != 0 {
		t.Fatalf("prompt\n%q\nwant\n%q", r.Prompt, want)
	}
	if *r.Params.Temperature != 0 || r.Params.MaxTokens != 32 || !reflect.DeepEqual(r.Params.Stop, []string{"\n"}) {
		t.Fatalf("params %+v", r.Params)
	}
	if st := (multipleChoiceType{}).Stages(spec, items); !reflect.DeepEqual(st, []string{"answer"}) {
		t.Fatal(st)
	}
}

// chat_template: few-shot examples become earlier turns.
func TestMultipleChoiceGenerativeChat(t *testing.T) {
	spec := mcSpec(map[string]any{"chat_template": true})
	spec.K = 1
	spec.Target = "{{ q }}"
	spec.System = "Be brief."
	rows := mcRows()
	rows[1].Fields["gold"] = 2.0
	items, err := Build(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	r := items[0].Requests[0]
	want := []provider.Message{
		{Role: "user", Content: "Two plus two is\nA. four\nB. five\nC. six\n\nAnswer with the letter of the correct choice."},
		{Role: "assistant", Content: "C"},
		{Role: "user", Content: "The capital of France is\nA. Rome\nB. Paris\n\nAnswer with the letter of the correct choice."},
	}
	if !reflect.DeepEqual(r.Messages, want) || r.System != "Be brief." || r.Prompt != "" || r.Params.Stop != nil {
		t.Fatalf("%+v", r)
	}
}

func TestMultipleChoiceGenerativeInput(t *testing.T) {
	spec := mcSpec(map[string]any{"protocol": "generate"})
	items, err := Build(spec, mcRows())
	if err != nil {
		t.Fatal(err)
	}
	typ := multipleChoiceType{}
	sc := typ.Scorers(spec)
	if len(sc) != 1 || len(sc[0].Metrics()) != 1 || sc[0].Metrics()[0].Name != "acc" {
		t.Fatalf("generative scorers %+v", sc)
	}
	for _, c := range []struct {
		text string
		acc  float64
		err  error
	}{
		{"B", 1, nil},
		{"Answer: A", 0, nil},
		{"A or B", -1, ErrNoChoice},
		{"  ", -1, ErrEmptyOutput},
	} {
		in, _, err := typ.Input(spec, &items[0], [][]provider.Response{{{Text: c.text}}})
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%q: err %v, want %v", c.text, err, c.err)
			}
			continue
		}
		m, err := sc[0].Score(in)
		if err != nil || m["acc"] != c.acc {
			t.Errorf("%q: %v %v", c.text, m, err)
		}
	}
}

func TestMultipleChoiceOptionsChecked(t *testing.T) {
	for _, c := range []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{"protocol": "generate", "chat_template": true}, ""},
		{map[string]any{"protocol": "auto"}, ""},
		{map[string]any{"protocol": "loglikelihod"}, "unknown multiple-choice protocol"},
		{map[string]any{"chat_template": "yes"}, "chat_template must be true or false"},
		{map[string]any{"protocol": "loglikelihood", "chat_template": true}, "a chat template cannot be applied to loglikelihood scoring"},
	} {
		r := &collect{}
		multipleChoiceType{}.Check(&plan.Task{Type: MultipleChoice, Options: c.opts, Prompt: plan.Prompt{Template: "{{ q }}"}, Choices: "c", Answer: "a"}, "tasks[0]", r)
		got := strings.Join(r.msgs, "\n")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%v: %q, want %q", c.opts, got, c.want)
		}
	}
}

// ExtractChoice never panics, and what it reads names a choice.
func FuzzExtractChoice(f *testing.F) {
	for _, s := range []string{"B", "Answer: (c)", "A or B", "the answer is a cat", "**D**", "Paris", "(Z)", "answer:", "ü B ü"} {
		f.Add(s, 4)
	}
	f.Fuzz(func(t *testing.T, answer string, n int) {
		n = 2 + (n%25+25)%25
		choices := make([]string, n)
		for i := range choices {
			choices[i] = "choice " + Letter(i)
		}
		i, err := ExtractChoice(answer, choices)
		if err == nil && (i < 0 || i >= n) {
			t.Fatalf("%q: index %d of %d choices", answer, i, n)
		}
		if err != nil && !errors.Is(err, ErrNoChoice) {
			t.Fatalf("%q: %v does not wrap ErrNoChoice", answer, err)
		}
	})
}
