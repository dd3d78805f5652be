package task

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
)

func rows() []Row {
	return []Row{
		{ID: "a", Line: 1, Fields: map[string]any{"q": "2+2?", "ans": "4", "choices": []any{"3", "4"}, "gold": float64(1)}},
		{ID: "b", Line: 2, Fields: map[string]any{"q": "Capital of France?", "ans": []any{"Paris", "paris"}, "choices": []any{"Paris", "Rome", "Oslo"}, "gold": "A"}},
		{ID: "c", Line: 3, Fields: map[string]any{"q": "Sky colour?", "ans": "blue", "choices": []any{"red", "blue"}, "gold": "1"}},
	}
}

func TestBuildChat(t *testing.T) {
	items, err := Build(Spec{Name: "qa", Type: Generate, Source: "qa.jsonl", System: "Be brief.", Template: "Q: {{ q }}", Chat: true, Reference: "ans"}, rows())
	if err != nil {
		t.Fatal(err)
	}
	got := items[1].Requests[0]
	want := provider.Request{Type: provider.Generate, ItemID: "b", System: "Be brief.", Messages: []provider.Message{{Role: "user", Content: "Q: Capital of France?"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(items[1].References, []string{"Paris", "paris"}) {
		t.Fatalf("refs %v", items[1].References)
	}
}

func TestBuildStrictUndefined(t *testing.T) {
	_, err := Build(Spec{Name: "qa", Type: Generate, Source: "qa.jsonl", Template: "Q: {{ qestion }}", Chat: true}, rows())
	if err == nil || !strings.Contains(err.Error(), "qa.jsonl line 1 (id a)") {
		t.Fatalf("want an error naming file, line and id, got %v", err)
	}
}

func TestBuildMultipleChoice(t *testing.T) {
	items, err := Build(Spec{Name: "mc", Type: MultipleChoice, Source: "mc.jsonl", Template: "Question: {{ q }}\nAnswer:", Choices: "choices", Answer: "gold"}, rows())
	if err != nil {
		t.Fatal(err)
	}
	golds := []int{items[0].Gold, items[1].Gold, items[2].Gold}
	if !reflect.DeepEqual(golds, []int{1, 0, 1}) {
		t.Fatalf("golds %v", golds)
	}
	r := items[1].Requests
	if len(r) != 3 || r[2].ItemID != "b#2" || r[2].Continuation != " Oslo" || r[2].Prompt != "Question: Capital of France?\nAnswer:" || r[2].Type != provider.Loglikelihood {
		t.Fatalf("requests %+v", r)
	}
	bad := rows()
	bad[0].Fields["gold"] = float64(7)
	if _, err := Build(Spec{Name: "mc", Type: MultipleChoice, Source: "mc.jsonl", Template: "{{ q }}", Choices: "choices", Answer: "gold"}, bad); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("want out of range, got %v", err)
	}
}

func TestFewShotDeterministicAndExcludesSelf(t *testing.T) {
	spec := Spec{Name: "qa", Type: Generate, Source: "qa.jsonl", Template: "Q: {{ q }}", Reference: "{{ ans }}", K: 2, FewShotSeed: 7}
	a, err := Build(spec, rows())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Build(spec, rows())
	if !reflect.DeepEqual(a[0].Requests, b[0].Requests) {
		t.Fatal("few-shot not deterministic")
	}
	p := a[0].Requests[0].Prompt
	if strings.Contains(p, "Q: 2+2? ") || !strings.HasSuffix(p, "\n\nQ: 2+2?") || strings.Count(p, "Q: ") != 3 {
		t.Fatalf("prompt %q", p)
	}
	// Removing an unrelated row must not change item a's examples when the pool is fixed.
	spec.Pool = rows()
	x, _ := Build(spec, rows())
	y, _ := Build(spec, rows()[:2])
	if x[0].Requests[0].Prompt != y[0].Requests[0].Prompt {
		t.Fatal("examples depend on other items")
	}
}

func TestPerplexity(t *testing.T) {
	items, err := Build(Spec{Name: "ppl", Type: Perplexity, Source: "t.jsonl", Template: "{{ q }}"}, rows()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if r := items[0].Requests[0]; r.Type != provider.LoglikelihoodRolling || r.Prompt != "2+2?" {
		t.Fatalf("%+v", r)
	}
}

func TestChatAndAlpacaRowsNeedNoTemplate(t *testing.T) {
	chat := []Row{{ID: "c1", Line: 1, Fields: map[string]any{"messages": []any{
		map[string]any{"role": "system", "content": "Be terse."},
		map[string]any{"role": "user", "content": "Hi?"},
		map[string]any{"role": "assistant", "content": "Hello."},
	}}}}
	items, err := Build(Spec{Name: "chat", Type: Generate, Source: "c.jsonl", Shape: dataset.ShapeChat}, chat)
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.Message{{Role: "system", Content: "Be terse."}, {Role: "user", Content: "Hi?"}}
	if !reflect.DeepEqual(items[0].Requests[0].Messages, want) || !reflect.DeepEqual(items[0].References, []string{"Hello."}) {
		t.Fatalf("%+v", items[0])
	}
	alpaca := []Row{{ID: "a1", Line: 1, Fields: map[string]any{"instruction": "Translate.", "input": "chat", "output": "cat"}},
		{ID: "a2", Line: 2, Fields: map[string]any{"instruction": "Say hi.", "input": "", "output": "hi"}}}
	items, err = Build(Spec{Name: "alp", Type: Generate, Source: "a.jsonl", Shape: dataset.ShapeAlpaca, Chat: true}, alpaca)
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Prompt != "Translate.\n\nchat" || items[1].Prompt != "Say hi." || items[0].References[0] != "cat" {
		t.Fatalf("%q %q %v", items[0].Prompt, items[1].Prompt, items[0].References)
	}
	if _, err := Build(Spec{Name: "p", Type: Generate, Source: "p.jsonl"}, rows()); err == nil || !strings.Contains(err.Error(), "prompt.template is missing") {
		t.Fatalf("plain rows without a template: %v", err)
	}
}

// The built-in types read no type options (multiple_choice only protocol and
// chat_template; perplexity and code read their own, tested beside them): a
// plan that gives others is told so at the key, before anything runs.
func TestBuiltInTypesRefuseOptions(t *testing.T) {
	for _, name := range TypeNames() {
		if name == Perplexity || name == Code {
			continue // TestPerplexityOptions, code_test.go
		}
		r := &collect{}
		Types()[name].Check(&plan.Task{Type: name, Options: map[string]any{"rubric": "x"}, Prompt: plan.Prompt{Template: "{{ q }}"}, Choices: "c", Answer: "a"}, "tasks[0]", r)
		want := "tasks[0].options: a " + name + " task takes no options"
		if name == MultipleChoice {
			want = `tasks[0].options.rubric: unknown multiple_choice option "rubric"`
		}
		if !strings.Contains(strings.Join(r.msgs, "\n"), want) {
			t.Errorf("%s: %v", name, r.msgs)
		}
	}
}

type collect struct{ msgs []string }

func (c *collect) Errorf(path, fix, format string, args ...any) {
	c.msgs = append(c.msgs, path+": "+fmt.Sprintf(format, args...))
}
func (c *collect) Missing(parent, key, fix string) {
	c.msgs = append(c.msgs, parent+"."+key+": missing")
}
