package leakage

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/benchdata"
)

func TestRollingGramsMatchesDirectHash(t *testing.T) {
	toks := Tokens("a b c d e f g h i j k l m n o p q", nil)
	th := tokenHashes(toks, nil)
	var rolled []uint64
	rollingGrams(th, 5, func(pos int, h uint64) { rolled = append(rolled, h) })
	if len(rolled) != len(th)-4 {
		t.Fatalf("%d grams", len(rolled))
	}
	for pos := range rolled {
		var direct uint64
		for _, x := range th[pos : pos+5] {
			direct = direct*rollP + x
		}
		if rolled[pos] != direct {
			t.Fatalf("gram %d: rolling %x, direct %x", pos, rolled[pos], direct)
		}
	}
}

// TestNgramContamination plants GSM8K and MMLU items in a training set in
// three ways: whole (dirty), a 13-token fragment of a long item (clean by
// the Llama 2 share, contaminated by GPT-3's any-overlap rule) and half an
// item (not clean); every other item must stay untouched.
func TestNgramContamination(t *testing.T) {
	gsm := mustLoad(t, "gsm8k")
	mmlu := mustLoad(t, "mmlu")
	whole := gsm[5].Text()
	frag := strings.Join(Tokens(gsm[7].Text(), nil)[10:23], " ")
	halfToks := Tokens(mmlu[20].Text(), nil)
	half := strings.Join(halfToks[:len(halfToks)/2], " ")
	var rows []map[string]string
	for i := range 50 {
		rows = append(rows, map[string]string{"text": fmt.Sprintf("Unrelated training row number %d about cooking pasta with garlic and olive oil for dinner tonight.", i)})
	}
	rows[10]["text"] = "Intro words. " + strings.ToUpper(whole) + " Outro words."
	rows[20]["text"] = frag
	rows[30]["text"] = "Some context: " + half
	train := StringSource("train", jsonl(t, rows), ReadOptions{})
	rep, err := Check(context.Background(), train, nil, Options{Methods: []string{MethodNgram}, Benchmarks: []string{"gsm8k", "mmlu"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Benchmarks) != 2 || rep.Benchmarks[0].Benchmark != "gsm8k" || rep.Benchmarks[1].Benchmark != "mmlu" {
		t.Fatalf("benchmarks %+v", rep.Benchmarks)
	}
	g, m := rep.Benchmarks[0], rep.Benchmarks[1]
	type hit struct {
		id    string
		class string
		line  int
	}
	var got []hit
	for _, b := range rep.Benchmarks {
		for _, it := range b.ItemsHit {
			got = append(got, hit{it.ID, it.Class, it.TrainLine})
		}
	}
	want := []hit{{"gsm8k/test/5", ClassDirty, 11}, {"gsm8k/test/7", ClassClean, 21}, {mmlu[20].ID, ClassNotClean, 31}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hits %v, want %v", got, want)
	}
	if g.Contaminated != 2 || g.Dirty != 1 || g.NotClean != 0 || g.Clean != g.Checked-1 || g.Items != 300 {
		t.Errorf("gsm8k %+v", g)
	}
	if m.Contaminated != 1 || m.NotClean != 1 || m.Share != 1/float64(m.Checked) {
		t.Errorf("mmlu %+v", m)
	}
	if m.TooShort == 0 || m.Checked+m.TooShort != 570 {
		t.Errorf("mmlu short items: %+v", m)
	}
	if ids := g.DirtyIDs(); fmt.Sprint(ids) != "[gsm8k/test/5]" {
		t.Errorf("dirty ids %v", ids)
	}
	if rep.Summary.BenchmarkShare != 2/float64(g.Checked) {
		t.Errorf("benchmark share %v", rep.Summary.BenchmarkShare)
	}
	if rep.Worst() != rep.Summary.BenchmarkShare {
		t.Errorf("worst %v", rep.Worst())
	}
}

// TestNgramCleanOnOtherBenchmarks: no stored benchmark shares a 13-gram with
// GSM8K's questions, so a check of one against the other finds nothing.
func TestNgramCleanOnOtherBenchmarks(t *testing.T) {
	var rows []map[string]string
	for _, it := range mustLoad(t, "gsm8k") {
		rows = append(rows, map[string]string{"text": it.Text()})
	}
	var items []benchdata.Item
	for _, b := range []string{"arc", "mmlu", "piqa", "truthfulqa", "winogrande", "hellaswag", "humaneval"} {
		items = append(items, mustLoad(t, b)...)
	}
	rep, err := Check(context.Background(), StringSource("gsm8k", jsonl(t, rows), ReadOptions{}), nil,
		Options{Methods: []string{MethodNgram}, BenchItems: items})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rep.Benchmarks {
		if b.Contaminated != 0 {
			t.Errorf("%s: %d contaminated: %+v", b.Benchmark, b.Contaminated, b.ItemsHit)
		}
	}
	if len(rep.Benchmarks) != 8 { // arc loads as arc_easy and arc_challenge
		t.Errorf("%d benchmarks", len(rep.Benchmarks))
	}
}
