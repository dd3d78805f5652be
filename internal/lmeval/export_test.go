package lmeval_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/lmeval"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/task"
)

// TestExportRunsAsLMEvalAsks exports fixture tasks, builds the exported plan
// task with tunecheck's own task types as `run` does, and checks that every
// request carries lm-eval's prompt bytes and continuations.
func TestExportRunsAsLMEvalAsks(t *testing.T) {
	for _, c := range []struct {
		file  string
		shots int
		kind  provider.RequestType
	}{
		{"arc/arc_easy.yaml", 3, provider.Loglikelihood},
		{"hellaswag/hellaswag.yaml", 2, provider.Loglikelihood},
		{"mmlu/mmlu_anatomy.yaml", 5, provider.Loglikelihood},
		{"gsm8k/gsm8k.yaml", 5, provider.Generate},
	} {
		t.Run(c.file, func(t *testing.T) {
			set, err := lmeval.NewLoader().LoadFile(filepath.Join("testdata/tasks", c.file))
			if err != nil {
				t.Fatal(err)
			}
			lt := set.Tasks[0]
			o := lmeval.BuildOptions{NumFewshot: &c.shots, Limit: 3}
			splits, err := lt.LoadSplits("testdata/data", o)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := lt.Build(splits, o)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), lt.Name+".jsonl")
			rows, snippet, err := lmeval.Export(lt, ins, path)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			for _, r := range rows {
				b, _ := json.Marshal(r)
				buf.Write(append(b, '\n'))
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			var pts []plan.Task
			if err := yaml.Unmarshal(snippet, &pts); err != nil || len(pts) != 1 {
				t.Fatalf("plan snippet %s: %v", snippet, err)
			}
			pt := pts[0]
			ds, err := dataset.Load(pt.Dataset.Path, dataset.Options{})
			if err != nil {
				t.Fatal(err)
			}
			spec := task.Spec{Name: pt.Name, Type: pt.Type, Source: path, Template: pt.Prompt.Template, Chat: pt.Prompt.Chat == nil || *pt.Prompt.Chat,
				Reference: pt.Reference, Choices: pt.Choices, Answer: pt.Answer, Shape: ds.Shape}
			if pt.Params != nil {
				spec.Params = provider.Params{MaxTokens: pt.Params.MaxTokens, Stop: pt.Params.Stop, Temperature: pt.Params.Temperature}
			}
			trows := make([]task.Row, len(ds.Rows))
			for i, r := range ds.Rows {
				trows[i] = task.Row{ID: r.ID, Line: r.Line, Fields: r.Fields}
			}
			items, err := task.Build(spec, trows)
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range items {
				in := ins[i]
				if c.kind == provider.Loglikelihood {
					if it.Gold != in.Gold || len(it.Requests) != len(in.Continuations) {
						t.Fatalf("doc %d: gold %d, %d requests; want %d, %d", i, it.Gold, len(it.Requests), in.Gold, len(in.Continuations))
					}
					for j, r := range it.Requests {
						if r.Type != c.kind || r.Prompt != in.Context || r.Continuation != in.Continuations[j] {
							t.Fatalf("doc %d choice %d: request %+v\nwant context %q continuation %q", i, j, r, in.Context, in.Continuations[j])
						}
					}
					continue
				}
				r := it.Requests[0]
				if r.Type != c.kind || r.Prompt != in.Context || len(r.Messages) != 0 || len(r.Params.Stop) != 3 || r.Params.MaxTokens != 256 {
					t.Fatalf("doc %d: request %+v, want completion prompt %q", i, r, in.Context)
				}
				if len(it.References) != 1 || it.References[0] != in.Targets[0] {
					t.Fatalf("doc %d: references %q, want %q", i, it.References, in.Targets)
				}
			}
			for _, sc := range pt.Scorers {
				if _, err := scorer.New(sc.Name, scorer.Options(sc.Options)); err != nil {
					t.Fatalf("exported scorer %s: %v", sc.Name, err)
				}
			}
			if c.kind == provider.Generate && len(pt.Scorers) != 2 {
				t.Fatalf("gsm8k: %d scorers, want one per filter", len(pt.Scorers))
			}
		})
	}
}
