package lmeval

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type golden struct {
	Task       string
	File       string
	Limit      int
	NumFewshot int `json:"num_fewshot"`
	Instances  []struct {
		Doc           int
		Fewshot       []int
		Context       string
		Choices       []string
		Continuations []string
		Gold          int
		Targets       []string
	}
}

// TestPromptsMatchReference builds each fixture task and compares every
// prompt byte, few-shot choice, continuation and gold with
// testdata/golden/<task>.json, which testdata/gen_prompts.py writes with
// jinja2, random.Random(1234).sample and ast.literal_eval.
func TestPromptsMatchReference(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.json")
	if err != nil || len(files) < 6 {
		t.Fatalf("golden files: %v %v", files, err)
	}
	l := NewLoader()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		t.Run(g.Task, func(t *testing.T) {
			set, err := l.LoadFile(filepath.Join("testdata/tasks", g.File))
			if err != nil {
				t.Fatal(err)
			}
			task, ok := set.Task(g.Task)
			if !ok {
				t.Fatalf("%s does not define %s", g.File, g.Task)
			}
			n := g.NumFewshot
			o := BuildOptions{NumFewshot: &n, Limit: g.Limit}
			splits, err := task.LoadSplits("testdata/data", o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := task.Build(splits, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(g.Instances) {
				t.Fatalf("%d instances, want %d", len(got), len(g.Instances))
			}
			for i, w := range g.Instances {
				in := got[i]
				if in.Context != w.Context {
					t.Errorf("doc %d context:\n got %q\nwant %q", i, in.Context, w.Context)
				}
				if !slices.Equal(in.Fewshot, w.Fewshot) && !(len(in.Fewshot) == 0 && len(w.Fewshot) == 0) {
					t.Errorf("doc %d few-shot docs %v, want %v", i, in.Fewshot, w.Fewshot)
				}
				if task.OutputType == MultipleChoice {
					if !slices.Equal(in.Continuations, w.Continuations) || in.Gold != w.Gold || !slices.Equal(in.Choices, w.Choices) {
						t.Errorf("doc %d: continuations %q gold %d, want %q gold %d", i, in.Continuations, in.Gold, w.Continuations, w.Gold)
					}
				} else if !slices.Equal(in.Targets, w.Targets) {
					t.Errorf("doc %d targets %q, want %q", i, in.Targets, w.Targets)
				}
			}
		})
	}
}

func TestLoadDirAndGroups(t *testing.T) {
	set, err := NewLoader().LoadDir("testdata/tasks")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tk := range set.Tasks {
		names = append(names, tk.Name)
	}
	want := []string{"arc_challenge", "arc_easy", "gsm8k", "gsm8k_cot", "hellaswag", "mmlu_anatomy"}
	if !slices.Equal(names, want) {
		t.Fatalf("tasks %v, want %v", names, want)
	}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"tc_reasoning", []string{"arc_easy", "arc_challenge", "hellaswag"}},
		{"mmlu_stem", []string{"mmlu_anatomy"}},
		{"ai2_arc", []string{"arc_challenge", "arc_easy"}},
	} {
		ts, err := set.Expand(c.name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tk := range ts {
			got = append(got, tk.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s expands to %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := set.Expand("nope"); err == nil || !strings.Contains(err.Error(), "arc_easy") {
		t.Errorf("unknown name: %v", err)
	}
	arc, _ := set.Task("arc_challenge")
	if arc.DatasetName != "ARC-Challenge" || arc.DatasetPath != "allenai/ai2_arc" || arc.Version != "1.0" || len(arc.Metrics) != 2 {
		t.Errorf("include did not merge: %+v", arc)
	}
	mmlu, _ := set.Task("mmlu_anatomy")
	if mmlu.Fewshot.Sampler != "first_n" || *mmlu.Fewshot.Split != "dev" || !strings.HasSuffix(mmlu.Description, "anatomy.\n\n") {
		t.Errorf("mmlu: sampler %q description %q", mmlu.Fewshot.Sampler, mmlu.Description)
	}
	gsm, _ := set.Task("gsm8k")
	if !slices.Equal(gsm.Until, []string{"Question:", "</s>", "<|im_end|>"}) || gsm.NumFewshot != 5 || len(gsm.Filters) != 2 || gsm.Filters[1].Steps[0].GroupSelect != -1 {
		t.Errorf("gsm8k generation/filters: %+v", gsm)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		file string
		want []string
	}{
		{"testdata/bad/missing_hook.yaml", []string{"missing_hook.yaml:5", "!function utils.process_docs", "bad/utils.process_docs", "hellaswag/utils.process_docs"}},
		{"testdata/bad/cycle_a.yaml", []string{"include cycle"}},
	} {
		_, err := NewLoader().LoadFile(c.file)
		if err == nil {
			t.Fatalf("%s loaded", c.file)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.file, err, w)
			}
		}
	}
}

func TestUndefinedVariableNamesTaskFieldAndDoc(t *testing.T) {
	set, err := NewLoader().LoadFile("testdata/bad/undefined_var.yaml")
	if err != nil {
		t.Fatal(err)
	}
	task := set.Tasks[0]
	splits, err := task.LoadSplits("testdata/data", BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = task.Build(splits, BuildOptions{})
	for _, w := range []string{"undefined_var", "doc 0", "doc_to_text", "undefined_var.yaml:5", "questoin"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
}

func TestMissingDataNamesPaths(t *testing.T) {
	set, err := NewLoader().LoadFile("testdata/tasks/arc/arc_easy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = set.Tasks[0].LoadSplits(t.TempDir(), BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join("allenai", "ai2_arc", "ARC-Easy", "test.jsonl")) {
		t.Fatalf("error %v does not name the expected path", err)
	}
}
