package app

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

func resp(t *testing.T, r provider.Response) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func genTask(t *testing.T, n int) *builtTask {
	t.Helper()
	em, err := scorer.New("exact_match", nil)
	if err != nil {
		t.Fatal(err)
	}
	bt := &builtTask{Name: "qa", Type: task.Generate, Kind: task.Types()[task.Generate], Stages: []string{"generate"}, Scorers: []scorer.Scorer{em}}
	for i := range n {
		id := string(rune('a' + i))
		bt.Items = append(bt.Items, task.Item{ID: id, Prompt: "q" + id, References: []string{"yes"}, Gold: -1,
			Requests: []provider.Request{{Type: provider.Generate, ItemID: id}}})
	}
	return bt
}

// Failed items are counted per model, never scored, and left out of the pairs.
func TestEvaluateCountsFailuresAndPairs(t *testing.T) {
	bt := genTask(t, 6)
	var rs []store.Result
	base := []string{"yes", "no", "no", "yes", "ERR", "no"}
	cand := []string{"yes", "yes", "yes", "ERR", "yes", "no"}
	for i, it := range bt.Items {
		for _, side := range []struct {
			model string
			out   string
		}{{"base", base[i]}, {"cand", cand[i]}} {
			r := store.Result{Model: side.model, Task: "qa", Stage: "generate", ItemID: it.ID}
			if side.out == "ERR" {
				r.Error = "HTTP 500: boom"
			} else {
				r.Response = resp(t, provider.Response{Text: side.out})
			}
			rs = append(rs, r)
		}
	}
	// One item has no stored result at all for the candidate.
	bt.Items = append(bt.Items, task.Item{ID: "z", References: []string{"yes"}, Requests: []provider.Request{{ItemID: "z"}}})
	rs = append(rs, store.Result{Model: "base", Task: "qa", Stage: "generate", ItemID: "z", Response: resp(t, provider.Response{Text: "yes"})})

	rep := Evaluate(evaluation{Tasks: []*builtTask{bt}, Models: []modelInfo{{Name: "base", Provider: "openai"}, {Name: "cand", Provider: "openai"}},
		Results: rs, Baseline: "base", Candidate: "cand", Seed: 1, Resamples: 200, Conf: 0.95})
	tr := rep.Tasks[0]
	b, c := tr.PerModel[0], tr.PerModel[1]
	if b.Scored != 6 || b.Failed != 1 || c.Scored != 5 || c.Failed != 2 {
		t.Fatalf("scored/failed: base %d/%d cand %d/%d", b.Scored, b.Failed, c.Scored, c.Failed)
	}
	if got := b.Metrics["exact_match"]; got.N != 6 || math.Abs(got.Mean-3.0/6) > 1e-12 {
		t.Fatalf("base exact_match %+v", got)
	}
	if got := c.Metrics["exact_match"]; got.N != 5 || math.Abs(got.Mean-4.0/5) > 1e-12 {
		t.Fatalf("cand exact_match %+v", got)
	}
	if len(c.Errors) != 2 || c.Errors[0].Count != 1 {
		t.Fatalf("errors %+v", c.Errors)
	}
	cmp := tr.Comparison
	p := cmp.Metrics["exact_match"]
	// pairs: a (1,1) b (0,1) c (0,1) f (0,0) → delta 2/4
	if cmp.Pairs != 4 || cmp.Excluded != 3 || p.N != 4 || math.Abs(p.Delta-0.5) > 1e-12 || p.Wins != 2 || p.Ties != 2 || p.Losses != 0 {
		t.Fatalf("comparison %+v %+v", cmp, p)
	}
	if rep.Models[0].Requests != 7 || rep.Models[0].Failed != 1 || rep.Models[1].Requests != 6 {
		t.Fatalf("bills %+v", rep.Models)
	}
}

func TestEvaluateMultipleChoice(t *testing.T) {
	bt := &builtTask{Name: "mc", Type: task.MultipleChoice, Kind: task.Types()[task.MultipleChoice], Stages: []string{"choices"}, Scorers: []scorer.Scorer{scorer.ChoiceScorer}}
	lls := map[string][]float64{"base": {-1, -2, -5, -3}, "cand": {-4, -1, -2, -9}}
	var rs []store.Result
	// item 0: gold 1; item 1: gold 0
	golds := []int{1, 0}
	for i, gold := range golds {
		id := string(rune('a' + i))
		it := task.Item{ID: id, Choices: []string{"aa", "b", "c", "d"}, Gold: gold}
		for k := range it.Choices {
			it.Requests = append(it.Requests, provider.Request{Type: provider.Loglikelihood, ItemID: task.RequestID(id, k, 4)})
			for m, l := range lls {
				rs = append(rs, store.Result{Model: m, Task: "mc", Stage: "choices", ItemID: task.RequestID(id, k, 4), Response: resp(t, provider.Response{LogLikelihood: l[k]})})
			}
		}
		bt.Items = append(bt.Items, it)
	}
	rep := Evaluate(evaluation{Tasks: []*builtTask{bt}, Models: []modelInfo{{Name: "base"}, {Name: "cand"}}, Results: rs, Baseline: "base", Candidate: "cand", Seed: 1, Resamples: 100, Conf: 0.95})
	get := func(model, metric string) float64 {
		for _, m := range rep.Tasks[0].PerModel {
			if m.Model == model {
				return m.Metrics[metric].Mean
			}
		}
		return math.NaN()
	}
	// base picks choice 0 (ll -1) for both: right on item b only → acc 0.5.
	// acc_norm: "aa" has ll/len = -0.5, so base still picks 0.
	// cand picks choice 1 (ll -1) for both: right on item a only → acc 0.5.
	if get("base", "acc") != 0.5 || get("cand", "acc") != 0.5 || get("base", "acc_norm") != 0.5 {
		t.Fatalf("%+v", rep.Tasks[0].PerModel)
	}
}

func TestEvaluatePerplexityIsCorpusLevel(t *testing.T) {
	bt := &builtTask{Name: "ppl", Type: task.Perplexity, Kind: task.Types()[task.Perplexity], Stages: []string{"rolling"}, Scorers: []scorer.Scorer{scorer.PerplexityScorer}}
	docs := []string{"one two", "three four five six"}
	var rs []store.Result
	for i, d := range docs {
		id := string(rune('a' + i))
		bt.Items = append(bt.Items, task.Item{ID: id, Prompt: d, Requests: []provider.Request{{Type: provider.LoglikelihoodRolling, ItemID: id}}})
		rs = append(rs, store.Result{Model: "m", Task: "ppl", Stage: "rolling", ItemID: id, Response: resp(t, provider.Response{LogLikelihood: -float64(len(d))})})
	}
	rep := Evaluate(evaluation{Tasks: []*builtTask{bt}, Models: []modelInfo{{Name: "m"}}, Results: rs, Seed: 1, Resamples: 100, Conf: 0.95})
	m := rep.Tasks[0].PerModel[0].Metrics
	// total ll = -(7+19) = -26 over 26 bytes and 6 words
	if math.Abs(m["bits_per_byte"].Mean-1/math.Ln2) > 1e-12 || math.Abs(m["word_perplexity"].Mean-math.Exp(26.0/6)) > 1e-9 {
		t.Fatalf("%+v", m)
	}
}

// An empty output and an item without a reference are counted in their own
// categories, shown with their counts, and never scored 0: the means rest on
// the items that were scored, and n says how many.
func TestEvaluateEmptyOutputsAndMissingReferences(t *testing.T) {
	bt := genTask(t, 5)
	ln, err := scorer.New("length", nil)
	if err != nil {
		t.Fatal(err)
	}
	bt.Scorers = append(bt.Scorers, ln)
	bt.Items[3].References = nil // a null reference in the dataset
	outs := map[string][]string{"base": {"yes", "", "  \n", "yes", "no"}, "cand": {"yes", "yes", "yes", "yes", "yes"}}
	var rs []store.Result
	for m, texts := range outs {
		for i, it := range bt.Items {
			rs = append(rs, store.Result{Model: m, Task: "qa", Stage: "generate", ItemID: it.ID, Response: resp(t, provider.Response{Text: texts[i]})})
		}
	}
	rep := Evaluate(evaluation{Tasks: []*builtTask{bt}, Models: []modelInfo{{Name: "base"}, {Name: "cand"}},
		Results: rs, Baseline: "base", Candidate: "cand", Seed: 1, Resamples: 100, Conf: 0.95})
	tr := rep.Tasks[0]
	b, c := tr.PerModel[0], tr.PerModel[1]
	if b.Empty != 2 || b.Failed != 0 || b.NoReference != 1 || b.Scored != 3 || b.Items != 5 {
		t.Fatalf("base counts %+v", b)
	}
	if c.Empty != 0 || c.NoReference != 1 || c.Scored != 5 {
		t.Fatalf("cand counts %+v", c)
	}
	// exact_match: base scored on a and e only (b, c empty; d has no reference).
	if got := b.Metrics["exact_match"]; got.N != 2 || got.Mean != 0.5 {
		t.Fatalf("base exact_match %+v", got)
	}
	// length needs no reference: d is scored on it.
	if got := b.Metrics["length_words"]; got.N != 3 {
		t.Fatalf("base length_words %+v", got)
	}
	if st := tr.Records[1].Outcomes["base"]; st.Status != "empty" || st.Scores != nil {
		t.Fatalf("record of the empty output %+v", st)
	}
	if st := tr.Records[3].Outcomes["cand"]; st.Status != "no_reference" || st.Scores["length_words"] != 1 {
		t.Fatalf("record of the item without reference %+v", st)
	}
	p := tr.Comparison.Metrics["exact_match"]
	if tr.Comparison.Excluded != 2 || p.N != 2 {
		t.Fatalf("comparison %+v %+v", tr.Comparison, p)
	}
}

// A two-turn item is scored on its turn-2 answer; an empty turn-1 answer
// ends it as empty (not sent on), and a failed turn 2 fails it, naming the stage.
func TestEvaluateTurns(t *testing.T) {
	spec := task.Spec{Name: "chat", Type: task.Generate, Turns: "turns", Reference: "ref", Chat: true}
	kind := task.Types()[task.Generate]
	rows := []task.Row{
		{ID: "a", Fields: map[string]any{"turns": []any{"hi", "and then?"}, "ref": "yes"}},
		{ID: "b", Fields: map[string]any{"turns": []any{"hi", "and then?"}, "ref": "yes"}},
		{ID: "c", Fields: map[string]any{"turns": []any{"hi", "and then?"}, "ref": "yes"}},
	}
	items, err := kind.Build(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	em, _ := scorer.New("exact_match", nil)
	bt := &builtTask{Name: "chat", Type: task.Generate, Kind: kind, Spec: spec, Stages: kind.Stages(spec, items), Items: items, Scorers: []scorer.Scorer{em}}
	if len(bt.Stages) != 2 || bt.Stages[1] != "turn2" {
		t.Fatalf("stages %v", bt.Stages)
	}
	rs := []store.Result{
		{Model: "m", Task: "chat", Stage: "turn1", ItemID: "a", Response: resp(t, provider.Response{Text: "hello"})},
		{Model: "m", Task: "chat", Stage: "turn2", ItemID: "a", Response: resp(t, provider.Response{Text: "yes"})},
		{Model: "m", Task: "chat", Stage: "turn1", ItemID: "b", Response: resp(t, provider.Response{Text: " "})},
		{Model: "m", Task: "chat", Stage: "turn1", ItemID: "c", Response: resp(t, provider.Response{Text: "hello"})},
		{Model: "m", Task: "chat", Stage: "turn2", ItemID: "c", Error: "HTTP 500: boom"},
	}
	rep := Evaluate(evaluation{Tasks: []*builtTask{bt}, Models: []modelInfo{{Name: "m"}}, Results: rs, Seed: 1, Resamples: 50, Conf: 0.95})
	tr := rep.Tasks[0]
	got := map[string]string{}
	for _, r := range tr.Records {
		got[r.ID] = r.Outcomes["m"].Status + " " + r.Outcomes["m"].Error
	}
	want := map[string]string{"a": "ok ", "b": "empty ", "c": "failed turn2: HTTP 500: boom"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if m := tr.PerModel[0]; m.Scored != 1 || m.Empty != 1 || m.Failed != 1 || m.Metrics["exact_match"].Mean != 1 {
		t.Fatalf("counts %+v", m)
	}
	// The turn-2 request of item a carries the model's own turn-1 answer.
	reqs, err := kind.Next(spec, 1, &bt.Items[0], [][]provider.Response{{{Text: "hello"}}})
	if err != nil || len(reqs) != 1 || len(reqs[0].Messages) != 3 || reqs[0].Messages[1].Content != "hello" || reqs[0].Messages[2].Content != "and then?" {
		t.Fatalf("turn-2 request %+v, %v", reqs, err)
	}
}
