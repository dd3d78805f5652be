package bench

import (
	"testing"
	"testing/fstest"
)

// FuzzOriginalReaders: no input makes a reader of the original formats
// panic; bad rows are errors.
func FuzzOriginalReaders(f *testing.F) {
	f.Add("arc_easy", `{"id": "x", "question": {"stem": "Q?", "choices": [{"text": "a", "label": "A"}]}, "answerKey": "A"}`)
	f.Add("arc_easy", `{"query": "Question: Q?", "choices": ["a", "b"], "gold": 1}`)
	f.Add("winogrande", `{"sentence": "A _ b.", "option1": "x", "option2": "y", "answer": "2"}`)
	f.Add("winogrande", `{"context_options": ["a", "b"], "continuation": "c", "gold": 0}`)
	f.Add("hellaswag", "Label: ctx\n1\na\nb\nc\nd\n")
	f.Add("truthfulqa_mc1", `[{"question": "q", "mc1_targets": {"a": 1, "b": 0}, "mc2_targets": {"a": 1}}]`)
	f.Add("mmlu_anatomy", "q,a,b,c,d,A\n")
	f.Add("gsm8k", `{"question": "q", "answer": "x\n#### 1"}`)
	f.Add("humaneval", `{"task_id": "t", "prompt": "p", "canonical_solution": "s", "test": "t", "entry_point": "f"}`)
	f.Fuzz(func(t *testing.T, task, content string) {
		names := map[string]string{"arc_easy": "a.jsonl", "winogrande": "w.jsonl", "hellaswag": "h.txt", "truthfulqa_mc1": "m.json",
			"mmlu_anatomy": "m.csv", "gsm8k": "g.jsonl", "humaneval": "h.jsonl"}
		name, ok := names[task]
		if !ok {
			return
		}
		docs, err := readOriginal(fstest.MapFS{name: {Data: []byte(content)}}, task, name)
		if err == nil && task == "winogrande" {
			for _, d := range docs {
				if _, _, _, err := winograndePartial(d); err != nil {
					t.Fatalf("a row the reader accepted cannot be scored: %v", err)
				}
			}
		}
	})
}

func TestWinoGrandeRowWithBothSchemas(t *testing.T) {
	d := map[string]any{"sentence": "A _ b.", "option1": "x", "option2": "y", "answer": "1", "context_options": []any{int64(1)}}
	ctx, cont, gold, err := winograndePartial(d)
	if err != nil || ctx[0] != "A x" || cont != "b." || gold != 0 {
		t.Fatalf("%v %q %d %v", ctx, cont, gold, err)
	}
}
