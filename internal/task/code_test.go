package task

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
)

func codeRow(id string) Row {
	return Row{ID: id, Line: 1, Fields: map[string]any{"task_id": id, "prompt": "def f(x):\n    \"\"\"Twice x.\"\"\"\n",
		"entry_point": "f", "canonical_solution": "    return 2 * x\n", "test": "def check(candidate):\n    assert candidate(2) == 4\n"}}
}

func TestCodeOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		opts map[string]any
		want CodeConfig
		err  string
	}{
		{"defaults", nil, CodeConfig{Prompt: "prompt", EntryPoint: "entry_point", Test: "test", Ks: []int{1}}, ""},
		{"set", map[string]any{"k": []any{1, uint64(10), 100.0}, "test": "tests", "entry_point": "fn", "prompt": "code"},
			CodeConfig{Prompt: "code", EntryPoint: "fn", Test: "tests", Ks: []int{1, 10, 100}}, ""},
		{"k zero", map[string]any{"k": []any{0}}, CodeConfig{}, "at least 1"},
		{"k fraction", map[string]any{"k": []any{1.5}}, CodeConfig{}, "integer"},
		{"k twice", map[string]any{"k": []any{1, 1}}, CodeConfig{}, "listed twice"},
		{"k not a list", map[string]any{"k": 1}, CodeConfig{}, "non-empty list"},
		{"bad field", map[string]any{"test": "a b"}, CodeConfig{}, "options.test must be a field name"},
		{"unknown", map[string]any{"rubric": "x"}, CodeConfig{}, `unknown option "rubric"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := CodeOptions(c.opts)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestCodeCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		task plan.Task
		want string
	}{
		{"scorers", plan.Task{Type: Code, Scorers: []plan.Scorer{{Name: "exact_match"}}}, "tasks[0].scorers"},
		{"few-shot", plan.Task{Type: Code, FewShot: plan.FewShot{K: 2}}, "tasks[0].few_shot"},
		{"n below k", plan.Task{Type: Code, Params: &plan.Params{N: 5}, Options: map[string]any{"k": []any{1, 10}}}, "tasks[0].params.n: pass@10 needs at least 10 samples"},
		{"options", plan.Task{Type: Code, Options: map[string]any{"k": "1"}}, "tasks[0].options"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &collect{}
			codeType{}.Check(&c.task, "tasks[0]", r)
			if !strings.Contains(strings.Join(r.msgs, "\n"), c.want) {
				t.Fatalf("messages %v, want %q", r.msgs, c.want)
			}
		})
	}
	r := &collect{}
	codeType{}.Check(&plan.Task{Type: Code, Params: &plan.Params{N: 10}, Options: map[string]any{"k": []any{1, 10}}}, "tasks[0]", r)
	if len(r.msgs) != 0 {
		t.Fatalf("a valid task is refused: %v", r.msgs)
	}
}

func TestCodeBuild(t *testing.T) {
	items, err := codeType{}.Build(Spec{Name: "he", Type: Code, Source: "he.jsonl"}, []Row{codeRow("HumanEval/0")})
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Request{Type: provider.Generate, ItemID: "HumanEval/0", Prompt: "def f(x):\n    \"\"\"Twice x.\"\"\"\n",
		Params: provider.Params{Stop: []string{"\nclass", "\ndef", "\n#", "\nif", "\nprint"}}}
	if !reflect.DeepEqual(items[0].Requests, []provider.Request{want}) {
		t.Fatalf("requests %+v", items[0].Requests)
	}
	// The task's own stop sequences win.
	items, _ = codeType{}.Build(Spec{Name: "he", Type: Code, Params: provider.Params{Stop: []string{"\n\n"}}}, []Row{codeRow("x")})
	if got := items[0].Requests[0].Params.Stop; !reflect.DeepEqual(got, []string{"\n\n"}) {
		t.Fatalf("stop %q", got)
	}
	for _, c := range []struct {
		name  string
		field string
		value any
		want  string
	}{
		{"no test", "test", nil, `field "test" must be a non-empty string`},
		{"empty prompt", "prompt", " ", `field "prompt" must be a non-empty string`},
		{"entry point not a name", "entry_point", "f(x)", "must name a Python function"},
	} {
		t.Run(c.name, func(t *testing.T) {
			row := codeRow("p")
			row.Fields[c.field] = c.value
			_, err := codeType{}.Build(Spec{Name: "he", Type: Code, Source: "he.jsonl"}, []Row{row})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "he.jsonl line 1") {
				t.Fatalf("err %v, want %q at he.jsonl line 1", err, c.want)
			}
		})
	}
}

// TestCodeProgramAsHumanEval: the program is human-eval's execution.py
// construction — prompt + completion + "\n" + test + "\n" + check(entry) —
// then the pass marker, checked on every HumanEval problem.
func TestCodeProgramAsHumanEval(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", "benchmarks", "humaneval", "HumanEval.jsonl.gz"))
	if err != nil {
		t.Skipf("HumanEval is not here: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	c, _ := CodeOptions(nil)
	n := 0
	for dec.More() {
		var p map[string]any
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		it := &Item{Fields: p}
		comp := p["canonical_solution"].(string)
		want := p["prompt"].(string) + comp + "\n" + p["test"].(string) + "\n" + "check(" + p["entry_point"].(string) + ")"
		got := string(CodeProgram(c, it, comp))
		if got != want+"\nprint(\""+CodePassMarker+"\")\n" {
			t.Fatalf("%s: program differs:\n%s", p["task_id"], got)
		}
		n++
	}
	if n != 164 {
		t.Fatalf("%d problems, want 164", n)
	}
}

func TestCodeInput(t *testing.T) {
	items, _ := codeType{}.Build(Spec{Name: "he", Type: Code}, []Row{codeRow("x")})
	in, out, err := codeType{}.Input(Spec{}, &items[0], [][]provider.Response{{{Text: "", Texts: []string{"", "    return 2 * x\n"}}}})
	if err != nil || out != "" || len(in.Samples) != 2 {
		t.Fatalf("one empty sample among others is run, not empty: %v %q %v", err, out, in.Samples)
	}
	if _, _, err := (codeType{}).Input(Spec{}, &items[0], [][]provider.Response{{{Text: " "}}}); err != ErrEmptyOutput {
		t.Fatalf("all samples empty: %v", err)
	}
}
