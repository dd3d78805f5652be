package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/benchdata"
)

// splitInput writes 100 chat rows: real ARC questions in 25 conversations of
// four turns, with row 99 a verbatim copy of row 0 (a duplicate a random
// split may put on both sides).
func splitInput(t *testing.T) string {
	t.Helper()
	items, err := benchdata.Load("arc")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for i := range 100 {
		it := items[i]
		if i == 99 {
			it = items[0]
		}
		rows = append(rows, map[string]any{"id": fmt.Sprintf("r%d", i), "conversation": fmt.Sprintf("c%d", i/4),
			"label": []string{"easy", "hard"}[i%2], "ts": fmt.Sprintf("2024-03-%02d", 1+i%28),
			"messages": []map[string]string{{"role": "user", "content": it.Question}, {"role": "assistant", "content": it.Answer}}})
	}
	return writeJSONL(t, filepath.Join(t.TempDir(), "data.jsonl"), rows)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestDataSplitRandom(t *testing.T) {
	in := splitInput(t)
	out := filepath.Join(t.TempDir(), "s")
	// Seed 3 puts row 0 and its copy, row 99, on different sides.
	code, stdout, errOut := leakageCLI(t, nil, "data", "split", in, "-o", out, "--test", "0.2", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	train, test := readLines(t, filepath.Join(out, "train.jsonl")), readLines(t, filepath.Join(out, "test.jsonl"))
	if len(train) != 80 || len(test) != 20 {
		t.Fatalf("sizes %d/%d", len(train), len(test))
	}
	src := readLines(t, in)
	seen := map[string]bool{}
	for _, l := range append(train, test...) {
		seen[l] = true
	}
	for _, l := range src {
		if !seen[l] {
			t.Fatalf("input line missing from the output: %s", l)
		}
	}
	for _, want := range []string{"random, seed 3, test fraction 0.20", "(80 rows)", "(20 rows)",
		"check: 1 of 20 test rows have a duplicate in train (exact 1, near 0)", "exact  train-test   1.000", "manifest: " + filepath.Join(out, "split.json")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	manifest, _ := os.ReadFile(filepath.Join(out, "split.json"))
	var m struct {
		InputSHA256 string `json:"input_sha256"`
		Options     struct {
			Seed uint64 `json:"seed"`
		} `json:"options"`
		Counts []int `json:"counts"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil || m.Options.Seed != 3 || len(m.InputSHA256) != 64 || m.Counts[1] != 20 {
		t.Fatalf("manifest %s (%v)", manifest, err)
	}
	// Same seed, same bytes; and --fail-above turns the finding into exit 1.
	out2 := filepath.Join(t.TempDir(), "s")
	code, _, errOut = leakageCLI(t, nil, "data", "split", in, "-o", out2, "--test", "0.2", "--seed", "3", "--fail-above", "0")
	if code != 1 || !strings.Contains(errOut, "5.0% of test rows have a duplicate in train") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, f := range []string{"train.jsonl", "test.jsonl"} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(out2, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs with the same seed", f)
		}
	}
	m2, _ := os.ReadFile(filepath.Join(out2, "split.json"))
	if !bytes.Equal(bytes.ReplaceAll(m2, []byte(out2), []byte(out)), manifest) {
		t.Error("manifest differs between runs with the same seed")
	}
}

func TestDataSplitGroupedAndKFold(t *testing.T) {
	in := splitInput(t)
	out := filepath.Join(t.TempDir(), "g")
	code, _, errOut := leakageCLI(t, nil, "data", "split", in, "-o", out, "--method", "grouped", "--group", "conversation", "--test", "0.2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	side := map[string]string{}
	for _, part := range []string{"train", "test"} {
		for _, l := range readLines(t, filepath.Join(out, part+".jsonl")) {
			var r struct{ Conversation string }
			json.Unmarshal([]byte(l), &r)
			if s, ok := side[r.Conversation]; ok && s != part {
				t.Fatalf("conversation %s on both sides", r.Conversation)
			}
			side[r.Conversation] = part
		}
	}
	out = filepath.Join(t.TempDir(), "k")
	code, stdout, errOut := leakageCLI(t, nil, "data", "split", in, "-o", out, "--method", "kfold", "--folds", "4", "--no-check")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for k := 1; k <= 4; k++ {
		dir := filepath.Join(out, fmt.Sprintf("fold-%d", k))
		if n := len(readLines(t, filepath.Join(dir, "test.jsonl"))); n != 25 {
			t.Errorf("fold %d test has %d rows", k, n)
		}
		if n := len(readLines(t, filepath.Join(dir, "train.jsonl"))); n != 75 {
			t.Errorf("fold %d train has %d rows", k, n)
		}
	}
	if strings.Contains(stdout, "check:") {
		t.Error("--no-check still checked")
	}
}

func TestDataSplitBadInput(t *testing.T) {
	in := splitInput(t)
	out := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"data", "split", in}, "-o DIR is required"},
		{[]string{"data", "split", in, "-o", out, "--method", "alphabetical"}, `unknown split method "alphabetical"`},
		{[]string{"data", "split", in, "-o", out, "--method", "stratified"}, "needs --label"},
		{[]string{"data", "split", in, "-o", out, "--method", "grouped", "--group", "customer"}, `data.jsonl line 1: field "customer" (--group) is missing`},
		{[]string{"data", "split", in, "-o", out, "--method", "chronological", "--time", "id"}, "neither a number nor"},
		{[]string{"data", "split", "nope.jsonl", "-o", out}, "cannot read nope.jsonl"},
	}
	for _, tc := range tests {
		code, _, errOut := leakageCLI(t, nil, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args[2:], code, errOut, tc.want)
		}
	}
}
