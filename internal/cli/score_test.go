package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

var updateScore = flag.Bool("update-score", false, "rewrite internal/cli/testdata/score golden files")

// scoreData is the folder of score's input fixtures.
const scoreData = "../scorefile/testdata/"

func runScoreCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"score"}, args...), Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" },
	})
	return code, out.String(), errOut.String()
}

func scoreGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "score", name)
	if *updateScore {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run Score -update-score to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (refresh with -update-score if intended)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestScoreCommand(t *testing.T) {
	tests := []struct {
		name   string
		stdin  string
		args   []string
		golden string
	}{
		{"text defaults", "", []string{"--pred", scoreData + "text.jsonl"}, "text-default.txt"},
		{"example from the docs", "", []string{"--pred", scoreData + "text.jsonl", "--metrics", "bleu,chrf,rougeL,token_f1", "--confidence", "--resamples", "300", "--format", "markdown"}, "text-ci.md"},
		{"parallel files, json", "", []string{"--pred", scoreData + "hyp.txt", "--ref", scoreData + "ref.txt", "--ref", scoreData + "ref2.txt", "--metrics", "bleu,ter", "--format", "json", "--tokenize", "none", "--smooth", "add-k", "--smooth-value", "0.5"}, "parallel.json"},
		{"stdin", "{\"label\": 1, \"score\": 0.9}\n{\"label\": 0, \"score\": 0.4}\n{\"label\": 1, \"score\": 0.35}\n{\"label\": 0, \"score\": 0.1}\n", []string{"--pred", "-", "--metrics", "roc_auc,average_precision", "--max-fpr", "0.5"}, "stdin.txt"},
		{"classification flags", "", []string{"--pred", scoreData + "labels.jsonl", "--metrics", "precision,f1,cohen_kappa,balanced_accuracy", "--average", "weighted", "--weights", "linear", "--adjusted", "--zero-division", "1"}, "labels.txt"},
		{"binary string labels", "", []string{"--pred", scoreData + "probs.jsonl", "--metrics", "brier,ece,log_loss,roc_auc", "--pos-label", "yes", "--bins", "3", "--strategy", "quantile"}, "probs.txt"},
		{"pass@k", "", []string{"--pred", scoreData + "counts.jsonl", "--metrics", "pass@k", "--k", "1,2,10"}, "counts.txt"},
		// scikit-learn 1.2.1 gives the same (precision_recall_fscore_support
		// and confusion_matrix with labels=["pos", "neg", "other"]): a subset
		// of the classes plus one that never occurs is accepted.
		{"labels subset and unseen label", "", []string{"--pred", scoreData + "labels.jsonl", "--metrics", "precision,recall,f1,confusion_matrix", "--labels", `["pos", "neg", "other"]`, "--average", "macro", "--zero-division", "0"}, "labels-subset.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runScoreCLI(t, tt.stdin, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			scoreGolden(t, tt.golden, out)
		})
	}
}

func TestScorePerItem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "items.jsonl")
	code, _, errOut := runScoreCLI(t, "", "--pred", scoreData+"text.jsonl", "--metrics", "bleu,token_f1", "--per-item", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	scoreGolden(t, "text.items.jsonl", string(got))
}

func TestScoreBadInput(t *testing.T) {
	dir := t.TempDir()
	nan := filepath.Join(dir, "nan.jsonl")
	if err := os.WriteFile(nan, []byte("{\"label\": 1, \"prob\": 0.3}\n{\"label\": 0, \"prob\": NaN}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no pred", nil, "give --pred FILE"},
		{"missing file", []string{"--pred", filepath.Join(dir, "absent.jsonl")}, "no such file"},
		{"nan probability", []string{"--pred", nan}, "nan.jsonl:2: field \"prob\""},
		{"unknown metric", []string{"--pred", scoreData + "text.jsonl", "--metrics", "bleu,blue"}, "unknown metric \"blue\""},
		{"unknown format", []string{"--pred", scoreData + "text.jsonl", "--format", "xml"}, "--format \"xml\""},
		{"length mismatch", []string{"--pred", scoreData + "hyp.txt", "--ref", scoreData + "text.jsonl"}, "one reference per prediction"},
		{"seed without confidence", []string{"--pred", scoreData + "text.jsonl", "--seed", "3"}, "add --confidence"},
		{"bad zero division", []string{"--pred", scoreData + "labels.jsonl", "--metrics", "f1", "--zero-division", "2"}, "zero_division \"2\""},
		{"accuracy on multi-reference text", []string{"--pred", scoreData + "text.jsonl", "--metrics", "accuracy"}, "text.jsonl:2: field \"references\": 2 references, but accuracy compares the prediction with one true class"},
		{"per-item of corpus metrics", []string{"--pred", scoreData + "scores.jsonl", "--per-item", filepath.Join(dir, "x.jsonl")}, "none of the metrics has per-item values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runScoreCLI(t, "", tt.args...)
			if code != int(exitcode.BadInput) {
				t.Fatalf("exit %d, want %d (stdout %q, stderr %q)", code, exitcode.BadInput, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout should be empty on error, got %q", out)
			}
		})
	}
}
