package leakage

import (
	"context"
	"strings"
	"testing"
)

func TestMemorisation(t *testing.T) {
	gsm := mustLoad(t, "gsm8k")
	var rows []map[string]string
	for _, it := range gsm[:40] {
		rows = append(rows, map[string]string{"id": it.ID, "text": it.Question + "\n" + it.Answer})
	}
	train := StringSource("train", jsonl(t, rows), ReadOptions{})
	src := Tokens(gsm[4].Question+"\n"+gsm[4].Answer, nil)
	if len(src) < 70 {
		t.Fatalf("source row too short: %d tokens", len(src))
	}
	long := strings.Join(src[5:65], " ")  // 60 tokens
	short := strings.Join(src[0:20], " ") // 20 tokens
	outputs := []Output{
		{ID: "regurgitates", Text: "Sure! " + long + " That is all."},
		{ID: "quotes", Text: "As asked: " + short + ". Then I computed it myself."},
		{ID: "own words", Text: "The answer is 42 because I added the numbers together carefully."},
		{ID: "empty", Text: ""},
	}
	rep, err := Memorisation(context.Background(), outputs, train, MemoOptions{MinSpan: 50, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		longest int
		flagged bool
		line    int
	}{{60, true, 5}, {20, false, 5}, {0, false, 0}, {0, false, 0}}
	for i, w := range want {
		got := rep.Items[i]
		if got.Longest != w.longest || got.Flagged != w.flagged || got.TrainLine != w.line {
			t.Errorf("%s: longest %d flagged %v line %d, want %d %v %d", got.ID, got.Longest, got.Flagged, got.TrainLine, w.longest, w.flagged, w.line)
		}
	}
	if rep.Items[0].Span != long || rep.Items[0].TrainID != gsm[4].ID {
		t.Errorf("span %q from %q", rep.Items[0].Span, rep.Items[0].TrainID)
	}
	if rep.Flagged != 1 || rep.Train.Rows != 40 || rep.Outputs != 4 {
		t.Errorf("report %+v", rep)
	}
	var b strings.Builder
	if err := WriteMemoText(&b, rep); err != nil || !strings.Contains(b.String(), "! regurgitates") {
		t.Errorf("text report:\n%s", b.String())
	}
}

func TestReadOutputs(t *testing.T) {
	outs, err := ReadOutputs(strings.NewReader(`{"id":"a","output":"x y"}`+"\n"+`{"id":"b","completion":"z"}`+"\n"), "o.jsonl", "")
	if err != nil || len(outs) != 2 || outs[1].Text != "z" || outs[0].ID != "a" {
		t.Fatalf("%+v %v", outs, err)
	}
	_, err = ReadOutputs(strings.NewReader(`{"id":"a","answer":"x"}`), "o.jsonl", "")
	if err == nil || !strings.Contains(err.Error(), "o.jsonl line 1") || !strings.Contains(err.Error(), "--output-field") {
		t.Fatalf("error %v", err)
	}
}
