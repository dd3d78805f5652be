package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tunecheck/tunecheck/internal/benchdata"
	"github.com/tunecheck/tunecheck/internal/lmeval"
)

// golden is one instance as testdata/gen_golden.py writes it.
type golden struct {
	Task          string   `json:"task"`
	Doc           int      `json:"doc"`
	Context       string   `json:"context"`
	Contexts      []string `json:"contexts"`
	Fewshot       []int    `json:"fewshot"`
	Choices       []string `json:"choices"`
	Continuations []string `json:"continuations"`
	Gold          int      `json:"gold"`
	Golds         []int    `json:"golds"`
	Targets       []string `json:"targets"`
}

func loadSet(t *testing.T) *lmeval.Set {
	t.Helper()
	set, err := LoadTasks()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestPromptBytesGolden compares the first two items of every built-in
// benchmark, few-shot context included, with the renderings
// testdata/gen_golden.py derives from lm-eval's task definitions.
func TestPromptBytesGolden(t *testing.T) {
	set := loadSet(t)
	orig := Dir(filepath.Join("testdata", "original"))
	cases := []struct {
		golden, bench string
		data          Data
	}{
		{"mmlu", "mmlu", Embedded()},
		{"arc_easy", "arc_easy", Embedded()},
		{"arc_easy_original", "arc_easy", orig},
		{"arc_challenge", "arc_challenge", Embedded()},
		{"hellaswag", "hellaswag", Embedded()},
		{"hellaswag_original", "hellaswag", orig},
		{"truthfulqa_mc1", "truthfulqa_mc1", Embedded()},
		{"truthfulqa_mc2", "truthfulqa_mc2", Embedded()},
		{"gsm8k_original", "gsm8k", orig},
		{"piqa", "piqa", Embedded()},
		{"winogrande", "winogrande", Embedded()},
		{"winogrande_original", "winogrande", orig},
		{"humaneval", "humaneval", Embedded()},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "golden", tc.golden+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want []golden
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			bs, err := Lookup(tc.bench)
			if err != nil {
				t.Fatal(err)
			}
			covered[bs[0].Name] = true
			ins, err := bs[0].Build(set, tc.data, Options{Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			byKey := map[string]Instance{}
			for _, in := range ins {
				byKey[in.Task+"/"+string(rune('0'+in.Doc))] = in
			}
			for _, w := range want {
				in, ok := byKey[w.Task+"/"+string(rune('0'+w.Doc))]
				if !ok {
					t.Fatalf("no instance for %s doc %d", w.Task, w.Doc)
				}
				got := golden{Task: in.Task, Doc: in.Doc, Context: in.Context, Contexts: in.Contexts, Fewshot: in.Fewshot,
					Choices: in.Choices, Continuations: in.Continuations, Gold: in.Gold, Golds: in.Golds, Targets: in.Targets}
				if w.Fewshot != nil && len(w.Fewshot) == 0 {
					w.Fewshot = nil
				}
				if got.Context != w.Context {
					t.Errorf("%s doc %d: prompt bytes differ\n got: %q\nwant: %q", w.Task, w.Doc, got.Context, w.Context)
				}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("%s doc %d:\n got %+v\nwant %+v", w.Task, w.Doc, got, w)
				}
			}
		})
	}
	for _, n := range Names() {
		if !covered[n] {
			t.Errorf("benchmark %s has no golden prompt test", n)
		}
	}
}

// leakage --bench reads the embedded samples through internal/benchdata,
// which must know every registry name and no other.
func TestBenchdataNamesAreTheRegistry(t *testing.T) {
	want := slices.Sorted(slices.Values(Names()))
	if got := benchdata.Names(); !slices.Equal(got, want) {
		t.Fatalf("benchdata names %v, registry %v", got, want)
	}
	for _, n := range Names() {
		if _, err := benchdata.Load(n); err != nil {
			t.Errorf("benchdata.Load(%s): %v", n, err)
		}
	}
}

func TestParseAliasesAndErrors(t *testing.T) {
	bs, err := Parse("arc, mmlu ,arc_easy")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, b.Name)
	}
	if strings.Join(got, ",") != "arc_easy,arc_challenge,mmlu" {
		t.Fatalf("got %v", got)
	}
	if _, err := Parse("mmlu,nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("want an error naming nope, got %v", err)
	}
}

// lm-eval splits mc2 answers at the first false one: a later true answer
// counts as false (TruthfulQA v1 has a few such items).
func TestMC2GoldsAreTheLeadingTrueAnswers(t *testing.T) {
	doc := lmeval.Doc{"mc2_targets": map[string]any{"choices": []any{"a", "b", "c", "d"}, "labels": []any{int64(1), int64(1), int64(0), int64(1)}}}
	got, err := mc2Golds(doc)
	if err != nil || !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("got %v, %v", got, err)
	}
	doc["mc2_targets"].(map[string]any)["labels"] = []any{int64(0), int64(1), int64(1), int64(1)}
	if _, err := mc2Golds(doc); err == nil {
		t.Fatal("want a refusal when no answer leads as true")
	}
}

// --data-dir in the Hugging Face layout (the lmeval fixtures) gives the
// prompts internal/lmeval's own golden files hold (3-shot ARC-Easy).
func TestHFLayoutDataDir(t *testing.T) {
	set := loadSet(t)
	raw, err := os.ReadFile(filepath.Join("..", "lmeval", "testdata", "golden", "arc_easy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		NumFewshot int      `json:"num_fewshot"`
		Limit      int      `json:"limit"`
		Instances  []golden `json:"instances"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	bs, _ := Lookup("arc_easy")
	ins, err := bs[0].Build(set, Dir(filepath.Join("..", "lmeval", "testdata", "data")), Options{NumFewshot: &want.NumFewshot, Limit: want.Limit})
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != len(want.Instances) {
		t.Fatalf("%d instances, want %d", len(ins), len(want.Instances))
	}
	for i, w := range want.Instances {
		if ins[i].Context != w.Context || !slices.Equal(ins[i].Fewshot, w.Fewshot) || ins[i].Gold != w.Gold {
			t.Errorf("doc %d:\n got %q %v\nwant %q %v", i, ins[i].Context, ins[i].Fewshot, w.Context, w.Fewshot)
		}
	}
}

// A Hugging Face snapshot's Parquet shards (ARC's choices a struct of two
// lists) give the same prompts as the original files.
func TestHFParquetShards(t *testing.T) {
	type choices struct {
		Text  []string `parquet:"text,list"`
		Label []string `parquet:"label,list"`
	}
	type row struct {
		ID        string  `parquet:"id"`
		Question  string  `parquet:"question"`
		Choices   choices `parquet:"choices"`
		AnswerKey string  `parquet:"answerKey"`
	}
	docs, err := readJSONLDocs(os.DirFS("testdata/original"), "arc/ARC-Easy-Test.jsonl", arcDoc)
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for _, d := range docs {
		c := d["choices"].(map[string]any)
		var r row
		r.ID, r.Question, r.AnswerKey = d["id"].(string), d["question"].(string), d["answerKey"].(string)
		for i := range c["text"].([]any) {
			r.Choices.Text = append(r.Choices.Text, c["text"].([]any)[i].(string))
			r.Choices.Label = append(r.Choices.Label, c["label"].([]any)[i].(string))
		}
		rows = append(rows, r)
	}
	dir := t.TempDir()
	shard := filepath.Join(dir, "allenai", "ai2_arc", "ARC-Easy", "test-00000-of-00001.parquet")
	if err := os.MkdirAll(filepath.Dir(shard), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := parquet.WriteFile(shard, rows); err != nil {
		t.Fatal(err)
	}
	bs, _ := Lookup("arc_easy")
	got, err := bs[0].Build(loadSet(t), Dir(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := bs[0].Build(loadSet(t), Dir("testdata/original"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("parquet:\n%+v\noriginal:\n%+v", got, want)
	}
}

// Errors about a built-in task name its embedded file, not a temporary one.
func TestBuiltinFileNames(t *testing.T) {
	set := loadSet(t)
	tk, ok := set.Task("piqa")
	if !ok || tk.File != "builtin:tasks/piqa/piqa.yaml" || !strings.HasPrefix(tk.DocToChoice.At, "builtin:tasks/piqa/piqa.yaml:") {
		t.Fatalf("file %q, doc_to_choice at %q", tk.File, tk.DocToChoice.At)
	}
}

// BenchmarkBuildMMLU renders every embedded MMLU item (57 subjects × 10,
// 5-shot from dev) from the original CSV files.
func BenchmarkBuildMMLU(b *testing.B) {
	set, err := LoadTasks()
	if err != nil {
		b.Fatal(err)
	}
	bs, _ := Lookup("mmlu")
	for b.Loop() {
		if _, err := bs[0].Build(set, Embedded(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
