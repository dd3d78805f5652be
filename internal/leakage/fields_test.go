package leakage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func jsonlAny(t *testing.T, rows []map[string]any) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// alpacaPlanted builds an Alpaca training set of 200 real GSM8K questions
// with their answers, plus 10 rows that carry a test prompt verbatim: 7 in
// instruction, 3 in input under a generic instruction that many unrelated
// rows share. The planted rows' outputs are answers written for training,
// not the test set's (another item's), so only the prompt field matches. It returns the training set
// and the indexes of the planted test items among items[:40].
func alpacaPlanted(t *testing.T) (train string, planted []int) {
	items := mustLoad(t, "gsm8k")
	var rows []map[string]any
	for i, it := range items[100:300] {
		r := map[string]any{"id": fmt.Sprintf("r%d", i), "instruction": it.Question, "input": "", "output": it.Answer}
		if i%3 == 0 {
			// The same generic instruction as the planted input rows.
			r = map[string]any{"id": fmt.Sprintf("r%d", i), "instruction": "Solve the following math problem.", "input": it.Question, "output": it.Answer}
		}
		rows = append(rows, r)
	}
	planted = []int{1, 4, 7, 10, 13, 16, 19, 22, 25, 28}
	for k, ti := range planted {
		q, a := items[ti].Question, items[ti+50].Answer
		r := map[string]any{"id": fmt.Sprintf("planted%d", k), "instruction": q, "input": "", "output": a}
		if k >= 7 {
			r = map[string]any{"id": fmt.Sprintf("planted%d", k), "instruction": "Solve the following math problem.", "input": q, "output": a}
		}
		// Spread the planted rows through the file.
		at := 20 * k
		rows = slices.Insert(rows, at, r)
	}
	return jsonlAny(t, rows), planted
}

// TestDefaultFieldsAlpacaTrain is the check that a test prompt copied
// verbatim into one field of an Alpaca training row is found with the
// default fields, whatever the test set's shape, by exact and by MinHash
// each on its own, and that nothing else is.
func TestDefaultFieldsAlpacaTrain(t *testing.T) {
	items := mustLoad(t, "gsm8k")
	train, planted := alpacaPlanted(t)
	var wantIDs []string
	for _, ti := range planted {
		wantIDs = append(wantIDs, fmt.Sprintf("t%02d", ti))
	}
	shapes := []struct {
		name         string
		row          func(i int) map[string]any
		fields       []string
		promptFields []string
	}{
		{"question/answer", func(i int) map[string]any {
			return map[string]any{"id": fmt.Sprintf("t%02d", i), "question": items[i].Question, "answer": items[i].Answer}
		}, []string{"question", "answer"}, []string{"question"}},
		{"prompt/completion", func(i int) map[string]any {
			return map[string]any{"id": fmt.Sprintf("t%02d", i), "prompt": items[i].Question, "completion": items[i].Answer}
		}, []string{"prompt", "completion"}, []string{"prompt"}},
		{"chat", func(i int) map[string]any {
			return map[string]any{"id": fmt.Sprintf("t%02d", i), "messages": []map[string]string{
				{"role": "system", "content": "You are a careful math tutor."},
				{"role": "user", "content": items[i].Question}, {"role": "assistant", "content": items[i].Answer}}}
		}, []string{"messages:assistant", "messages:system", "messages:user"}, []string{"messages:user"}},
		{"text", func(i int) map[string]any {
			return map[string]any{"id": fmt.Sprintf("t%02d", i), "text": items[i].Question}
		}, []string{"text"}, []string{"text"}},
	}
	for _, sh := range shapes {
		var rows []map[string]any
		for i := range 40 {
			rows = append(rows, sh.row(i))
		}
		test := StringSource("test.jsonl", jsonlAny(t, rows), ReadOptions{})
		for _, methods := range [][]string{{MethodExact}, {MethodMinHash}, nil} {
			t.Run(fmt.Sprintf("%s/%v", sh.name, methods), func(t *testing.T) {
				rep, err := Check(context.Background(), StringSource("train.jsonl", train, ReadOptions{}), &test, Options{Methods: methods, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rep.LeakedTestIDs, wantIDs) {
					t.Errorf("leaked %v, want %v", rep.LeakedTestIDs, wantIDs)
				}
				if got := rep.Train.Fields; !slices.Equal(got, []string{"instruction", "input", "output"}) {
					t.Errorf("train fields %v", got)
				}
				if !slices.Equal(rep.Test.Fields, sh.fields) || !slices.Equal(rep.Test.PromptFields, sh.promptFields) {
					t.Errorf("test fields %v, prompt %v; want %v, %v", rep.Test.Fields, rep.Test.PromptFields, sh.fields, sh.promptFields)
				}
				for _, p := range rep.Pairs {
					if p.Scope == ScopeCross && !strings.HasPrefix(p.A.ID, "planted") {
						t.Errorf("false pair %s %s ~ %s (%.3f)", p.Kind, p.A.ID, p.B.ID, p.Similarity)
					}
				}
			})
		}
	}
}

// TestReportNamesFields checks that every output format names the fields
// compared on each side.
func TestReportNamesFields(t *testing.T) {
	train, _ := alpacaPlanted(t)
	test := StringSource("test.jsonl", `{"question":"What is two plus two?","answer":"4"}`+"\n", ReadOptions{})
	rep, err := Check(context.Background(), StringSource("train.jsonl", train, ReadOptions{}), &test, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var txt, md strings.Builder
	if err := WriteText(&txt, rep, 10); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(rep)
	for name, want := range map[string][2]string{
		"text":     {txt.String(), "fields: train instruction, input, output (whole row, and each field alone); test question, answer (whole row, and prompt part: question)"},
		"markdown": {md.String(), "Fields compared: train `instruction`, `input`, `output` (whole row, and each field alone); test `question`, `answer` (whole row, and prompt part: `question`)."},
		"json":     {string(j), `"fields":["question","answer"],"prompt_fields":["question"]`},
	} {
		if !strings.Contains(want[0], want[1]) {
			t.Errorf("%s lacks %q:\n%s", name, want[1], want[0])
		}
	}
	if !strings.Contains(string(j), `"fields":["instruction","input","output"]`) {
		t.Errorf("json lacks the training fields: %s", j)
	}
}

func TestReadDocsParts(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []Part
	}{
		{"alpaca", `{"instruction":"Add","input":"2 and 3","output":"5","category":"math"}`,
			[]Part{{"instruction", "Add", true}, {"input", "2 and 3", true}, {"output", "5", false}}},
		{"dolly", `{"instruction":"Sum up","context":"A long text","response":"Short","category":"summarization"}`,
			[]Part{{"instruction", "Sum up", true}, {"context", "A long text", true}, {"response", "Short", false}}},
		{"question/answer", `{"question":"Why?","answer":"Because"}`,
			[]Part{{"question", "Why?", true}, {"answer", "Because", false}}},
		{"sharegpt", `{"conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello"}]}`,
			[]Part{{"conversations:human", "Hi", true}, {"conversations:gpt", "Hello", false}}},
		{"plain text", "just a line", []Part{{PlainField, "just a line", true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := readAll(t, tc.data, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(docs[0].Parts, tc.want) {
				t.Errorf("parts %+v, want %+v", docs[0].Parts, tc.want)
			}
		})
	}
}
