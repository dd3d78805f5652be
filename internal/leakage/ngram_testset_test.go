package leakage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestNgramAgainstTestSet is the check that method ngram without benchmarks
// measures the 13-gram overlap of each test item with the training set: a
// training row that shares one 13-gram with an item flags it (when the
// shared tokens are at least 20% of the item), one that shares a whole item
// makes it dirty, and 12-gram overlaps, one word short, flag nothing.
func TestNgramAgainstTestSet(t *testing.T) {
	items := mustLoad(t, "gsm8k")
	// Test items of 25 to 60 tokens, so one 13-gram is at least 20%.
	var test []int
	for i, it := range items[:100] {
		if n := len(Tokens(it.Question, nil)); n >= 25 && n <= 60 {
			test = append(test, i)
		}
		if len(test) == 20 {
			break
		}
	}
	if len(test) < 20 {
		t.Fatalf("only %d short enough items", len(test))
	}
	var testRows, trainRows []map[string]any
	for _, i := range test {
		testRows = append(testRows, map[string]any{"id": fmt.Sprintf("t%d", i), "question": items[i].Question, "answer": items[i].Answer})
	}
	for i, it := range items[200:260] {
		trainRows = append(trainRows, map[string]any{"id": fmt.Sprintf("r%d", i), "instruction": it.Question, "output": it.Answer})
	}
	window := func(i, n int) string {
		toks := Tokens(items[i].Question, nil)
		return strings.Join(toks[5:5+n], " ")
	}
	plant := func(id, text string) {
		trainRows = append(trainRows, map[string]any{"id": id, "instruction": "Read this note: zzz " + text + " zzz and say what it means.", "output": "It is about arithmetic."})
	}
	a, b, c, d := test[2], test[5], test[9], test[14]
	plant("gram13", window(a, 13))
	plant("whole", items[b].Question+" "+items[b].Answer)
	plant("gram12", window(c, 12))
	plant("gram12b", window(d, 12))
	for i := range 3 {
		// Overlapping 12-grams from d that never line up into a 13-gram.
		plant(fmt.Sprintf("gram12-%d", i), window(d, 12)+" qqq "+strings.Join(Tokens(items[d].Question, nil)[6:18], " "))
	}
	trainSrc := StringSource("train.jsonl", jsonlAny(t, trainRows), ReadOptions{})
	testSrc := StringSource("test.jsonl", jsonlAny(t, testRows), ReadOptions{})
	rep, err := Check(context.Background(), trainSrc, &testSrc, Options{Methods: []string{MethodNgram}})
	if err != nil {
		t.Fatal(err)
	}
	tn := rep.TestNgram
	if tn == nil || len(rep.Benchmarks) != 0 {
		t.Fatalf("test ngram %+v, benchmarks %+v", tn, rep.Benchmarks)
	}
	if tn.Benchmark != "test.jsonl" || tn.Items != 20 || tn.Checked != 20 || tn.Contaminated != 2 || tn.Dirty != 1 || tn.NotClean != 1 {
		t.Errorf("test ngram %+v", *tn)
	}
	hit := map[string]ContaminatedItem{}
	for _, it := range tn.ItemsHit {
		hit[it.ID] = it
	}
	ntok := len(Tokens(items[a].Question+"\n"+items[a].Answer, nil))
	if got := hit[fmt.Sprintf("t%d", a)]; got.Fraction != 13/float64(ntok) || got.Class != ClassNotClean || got.TrainLine != 61 {
		t.Errorf("13-gram item: %+v, want fraction 13/%d from line 61", got, ntok)
	}
	if got := hit[fmt.Sprintf("t%d", b)]; got.Fraction != 1 || got.Class != ClassDirty || got.TrainLine != 62 {
		t.Errorf("whole item: %+v", got)
	}
	want := []string{fmt.Sprintf("t%d", a), fmt.Sprintf("t%d", b)}
	slices.Sort(want)
	if !slices.Equal(rep.LeakedTestIDs, want) || rep.Summary.Leaked[KindNgram] != 2 || rep.Summary.LeakedAny != 2 {
		t.Errorf("leaked %v %v, want %v", rep.LeakedTestIDs, rep.Summary.Leaked, want)
	}
	var pairs []string
	for _, p := range rep.Pairs {
		pairs = append(pairs, fmt.Sprintf("%s %s %s~%s", p.Kind, p.Scope, p.A.ID, p.B.ID))
	}
	wantPairs := []string{fmt.Sprintf("ngram train-test gram13~t%d", a), fmt.Sprintf("ngram train-test whole~t%d", b)}
	slices.Sort(pairs)
	slices.Sort(wantPairs)
	if !slices.Equal(pairs, wantPairs) {
		t.Errorf("pairs %v, want %v", pairs, wantPairs)
	}

	var txt, md strings.Builder
	if err := WriteText(&txt, rep, 10); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"test set n-gram overlap with the training set (13-gram", "test.jsonl      20      20      2  10.0%      18         1      1",
		"test.jsonl not clean: " + strings.Join([]string{fmt.Sprintf("t%d", min(a, b)), fmt.Sprintf("t%d", max(a, b))}, " "), "ngram          2  10.0%"} {
		if !strings.Contains(txt.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, txt.String())
		}
	}
	for _, w := range []string{"### Test set n-gram overlap", "| test.jsonl | 20 | 20 | 2 | 10.0% | 18 | 1 | 1 |", "| ngram | 2 | 10.0% |"} {
		if !strings.Contains(md.String(), w) {
			t.Errorf("markdown lacks %q:\n%s", w, md.String())
		}
	}

	// With benchmarks, ngram checks them and not the test set.
	rep, err = Check(context.Background(), trainSrc, &testSrc, Options{Methods: []string{MethodNgram}, Benchmarks: []string{"gsm8k"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TestNgram != nil || len(rep.Benchmarks) != 1 || rep.Summary.LeakedAny != 0 {
		t.Errorf("with benchmarks: test ngram %+v, benchmarks %d, leaked %d", rep.TestNgram, len(rep.Benchmarks), rep.Summary.LeakedAny)
	}
	// Neither: an error that says what to pass.
	if _, err := Check(context.Background(), trainSrc, nil, Options{Methods: []string{MethodNgram}}); err == nil || !strings.Contains(err.Error(), "needs a test set or benchmarks") {
		t.Errorf("no test set, no benchmarks: %v", err)
	}
}
