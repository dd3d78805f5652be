package task

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
)

func TestPerplexityOptions(t *testing.T) {
	check := func(opts map[string]any) string {
		r := &collect{}
		Types()[Perplexity].Check(&plan.Task{Name: "held", Type: Perplexity, Options: opts, Prompt: plan.Prompt{Template: "{{ text }}"}}, "tasks[0]", r)
		return strings.Join(r.msgs, "\n")
	}
	if got := check(map[string]any{"max_length": 2048, "prefix_token_id": 0, "train_task": "train"}); got != "" {
		t.Fatalf("valid options refused: %s", got)
	}
	if got := check(map[string]any{"max_length": float64(4096)}); got != "" {
		t.Fatalf("a JSON number refused: %s", got)
	}
	for opts, want := range map[*map[string]any]string{
		{"max_length": 2}:          "tasks[0].options.max_length: max_length must be a whole number of at least 3",
		{"max_length": "2k"}:       "tasks[0].options.max_length",
		{"prefix_token_id": -1}:    "tasks[0].options.prefix_token_id",
		{"train_task": "held"}:     "tasks[0].options.train_task: train_task must name another task",
		{"rubric": "x"}:            `tasks[0].options.rubric: unknown option "rubric"`,
		{"max_length": 1024.5}:     "tasks[0].options.max_length",
		{"prefix_token_id": "bos"}: "tasks[0].options.prefix_token_id",
	} {
		if got := check(*opts); !strings.Contains(got, want) {
			t.Errorf("%v: got %q, want %q", *opts, got, want)
		}
	}
}

func TestPerplexityRequestsWindows(t *testing.T) {
	items, err := Build(Spec{Name: "ppl", Type: Perplexity, Source: "t.jsonl", Template: "{{ q }}", Options: map[string]any{"max_length": 512, "prefix_token_id": 2}}, rows()[:1])
	if err != nil {
		t.Fatal(err)
	}
	two := 2
	if got := items[0].Requests[0].Window; !reflect.DeepEqual(got, &provider.Window{MaxLength: 512, PrefixToken: &two}) {
		t.Fatalf("window %+v", got)
	}
	items, err = Build(Spec{Name: "ppl", Type: Perplexity, Source: "t.jsonl", Template: "{{ q }}"}, rows()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if got := items[0].Requests[0].Window; got == nil || *got != (provider.Window{}) {
		t.Fatalf("without options the window takes the server's settings: %+v", got)
	}
}
