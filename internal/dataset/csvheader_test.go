package dataset

import (
	"path/filepath"
	"strings"
	"testing"
)

// testdata/abstract_algebra_test.csv is MMLU's (../shared/data/benchmarks/mmlu), as stored.
const mmluFile = "testdata/abstract_algebra_test.csv"

// MMLU's CSV files have no header row. Read as if they had one, the first
// question became the column names and one item vanished, silently.
func TestHeaderlessMMLURefused(t *testing.T) {
	_, err := Load(mmluFile, Options{})
	if err == nil {
		t.Fatal("a header-less MMLU file was read with its first question as the header")
	}
	for _, want := range []string{
		"abstract_algebra_test.csv:1: the first line looks like data, not a header: column 6's name \"B\" is an answer letter, like every value under it",
		"--columns question,A,B,C,D,answer (dataset.columns: [question, A, B, C, D, answer] in a plan)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

func TestHeaderlessMMLUWithColumns(t *testing.T) {
	d, err := Load(mmluFile, Options{Columns: []string{"question", "A", "B", "C", "D", "answer"}})
	if err != nil {
		t.Fatal(err)
	}
	// The stored excerpt holds 10 questions; the first is kept as a row.
	if d.Total != 10 {
		t.Errorf("rows = %d, want 10", d.Total)
	}
	if q := d.Rows[0].Fields["question"].(string); !strings.HasPrefix(q, "Find the degree for the given field extension") || d.Rows[0].Fields["answer"] != "B" {
		t.Errorf("first row = %v", d.Rows[0].Fields)
	}
}

// A CSV with a real header (TruthfulQA's) is read as before.
// testdata/truthfulqa_head.csv is TruthfulQA.csv's header (with its BOM)
// and first 5 rows.
func TestHeaderedCSVAccepted(t *testing.T) {
	d, err := Load(filepath.FromSlash("testdata/truthfulqa_head.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Rows[0].Fields["Best Answer"]; !ok {
		t.Errorf("header not taken as column names: %v", d.Rows[0].Keys)
	}
}

func TestHeaderLooksLikeData(t *testing.T) {
	tests := []struct {
		name, data string
		refused    string // "" when the header is accepted
	}{
		{"mmlu header", "question,A,B,C,D,answer\nWhat?,1,2,3,4,A\nWhy?,x,y,z,w,C\n", ""},
		{"letter names over text", "A,B\nfoo,bar\n", ""},
		{"numbers under a name", "id,score\n1,0.5\n2,0.7\n", ""},
		{"empty index name", ",q\n0,a\n1,b\n", ""},
		{"answer letter over letters", "What?,1,2,3,4,A\nWhy?,x,y,z,w,C\n", `column 6's name "A" is an answer letter`},
		{"number over numbers", "hello,7\nworld,8\n", `column 2's name "7" is a number`},
		{"sentence", "Which of these is the largest planet in the solar system by mass,x\nq,y\n", "column 1's name is a sentence"},
		{"mmlu with a repeated option", "\"Is it?\",\"True, True\",\"False, False\",\"True, True\",\"False, True\",B\nq,a,b,c,d,A\n", "the first line looks like data, not a header; if the file has no header row, name its columns: --columns question,A,B,C,D,answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("t.csv", []byte(tt.data), Options{})
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && err == nil:
				t.Errorf("accepted; want an error with %q", tt.refused)
			case tt.refused != "" && !strings.Contains(err.Error(), tt.refused):
				t.Errorf("error %q lacks %q", err, tt.refused)
			}
		})
	}
}
