package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A benchmark group in lm-eval's results shape: the group's score is its
// subjects' size-weighted mean, its stderr the pooled one; the subjects
// are listed under group_subtasks with lm-eval's indented alias.
func TestLMEvalGroup(t *testing.T) {
	r := mmluFixture()
	res, ok := LMEval(r, "tuned", 1700000000)
	if !ok {
		t.Fatal("no results for tuned")
	}
	f, _ := BuildForgetting(r, nil)
	g := res.Results["mmlu"]
	want := f.Benchmarks[0].Scores[1]
	if g["acc,none"] != want.Score || g["acc_stderr,none"] != want.Stderr {
		t.Errorf("mmlu: %v ± %v, want %v ± %v", g["acc,none"], g["acc_stderr,none"], want.Score, want.Stderr)
	}
	if math.Abs(want.Score-45.0/80) > 1e-12 {
		t.Errorf("tuned mmlu %v, want 45/80", want.Score)
	}
	if !slices.Equal(res.GroupSubtasks["mmlu"], []string{"mmlu_anatomy", "mmlu_astronomy", "mmlu_law"}) {
		t.Errorf("group_subtasks %v", res.GroupSubtasks["mmlu"])
	}
	if a := res.Results["mmlu_law"]["alias"]; a != " - mmlu_law" {
		t.Errorf("subject alias %q", a)
	}
	if res.NShot["gsm8k"] != 5 || res.Versions["gsm8k"] != "3.0" || res.Configs["gsm8k"].DatasetPath != "openai/gsm8k" {
		t.Errorf("gsm8k n-shot %d, version %v, config %+v", res.NShot["gsm8k"], res.Versions["gsm8k"], res.Configs["gsm8k"])
	}
	b, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "lmeval.results.golden")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantB, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(b, wantB) {
		t.Errorf("results differ from %s; run go test ./internal/report -update and review the diff", golden)
	}
	if _, ok := LMEval(r, "nobody", 0); ok {
		t.Error("results for a model that did not run")
	}
}
