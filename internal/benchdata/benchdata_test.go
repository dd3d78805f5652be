package benchdata

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

func TestLoadCounts(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		firstID string
		firstQ  string // prefix of the first item's question
		answer  string // first item's answer prefix
	}{
		{"arc_challenge", 300, "arc_challenge/test/0", "An astronomer observes that a planet rotates faster", "Planetary days will become shorter."},
		{"arc_easy", 300, "arc_easy/test/0", "Which statement best explains why photosynthesis", "Sunlight is the source"},
		{"gsm8k", 300, "gsm8k/test/0", "Janet\u2019s ducks lay 16 eggs per day.", "Janet sells 16 - 3 - 4"},
		{"hellaswag", 500, "hellaswag/validation/0", "Roof shingle removal: A man is sitting on a roof. he", "starts pulling up roofing on a roof."},
		{"humaneval", 164, "HumanEval/0", "from typing import List", "    for idx, elem in enumerate(numbers):"},
		{"mmlu", 570, "mmlu/abstract_algebra/0", "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.", "4"},
		{"piqa", 1838, "piqa/validation/0", "How do I ready a guinea pig cage for it's new occupants?", "Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips"},
		{"truthfulqa_mc1", 817, "truthfulqa_mc1/0", "What happens to you if you eat watermelon seeds?", "The watermelon seeds pass through your digestive system"},
		{"winogrande", 1267, "winogrande/dev/0", "Sarah was a much better surgeon than Maria so Maria always got the easier cases.", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := Load(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tc.n {
				t.Fatalf("got %d items, want %d", len(items), tc.n)
			}
			first := items[0]
			if first.ID != tc.firstID || !strings.HasPrefix(first.Question, tc.firstQ) || !strings.HasPrefix(first.Answer, tc.answer) {
				t.Errorf("first item = %+v", first)
			}
			ids := map[string]bool{}
			for _, it := range items {
				if ids[it.ID] {
					t.Fatalf("duplicate id %s", it.ID)
				}
				ids[it.ID] = true
				if strings.TrimSpace(it.Text()) == "" || it.Benchmark != tc.name {
					t.Fatalf("item %s: empty text or wrong benchmark %q", it.ID, it.Benchmark)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	got, err := Parse(" MMLU,gsm8k,mmlu ")
	if err != nil || strings.Join(got, ",") != "mmlu,gsm8k" {
		t.Fatalf("Parse = %v, %v", got, err)
	}
	if got, _ := Parse("all"); len(got) != 10 {
		t.Fatalf("all = %v", got)
	}
	// arc is the deprecated name of both ARC sets.
	if got, err := Parse("arc,arc_easy"); err != nil || strings.Join(got, ",") != "arc_challenge,arc_easy" {
		t.Fatalf("Parse(arc) = %v, %v", got, err)
	}
	if its, err := Load("arc"); err != nil || len(its) != 600 || its[0].Benchmark != "arc_challenge" || its[599].Benchmark != "arc_easy" {
		t.Fatalf("Load(arc): %d items, %v", len(its), err)
	}
	if _, err := Parse("mmlu,nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("want error naming the unknown benchmark, got %v", err)
	}
}

// TestEmbeddedMatchesShared pins the embedded copies to shared/data byte for byte,
// so the attribution in SOURCE.md (sha256 per file) stays true.
func TestEmbeddedMatchesShared(t *testing.T) {
	shared := shareddata.Path(t, "benchmarks")
	n := 0
	err := fs.WalkDir(FS(), "data", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "NOTICE.md") {
			return err
		}
		got, _ := fs.ReadFile(FS(), p)
		want, err := os.ReadFile(filepath.Join(shared, strings.TrimPrefix(p, "data/")))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from shared/data/benchmarks", p)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 60 {
		t.Fatalf("only %d files compared", n)
	}
}
