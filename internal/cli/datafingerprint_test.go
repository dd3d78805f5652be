package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

var updateFingerprint = flag.Bool("update-fingerprint", false, "rewrite internal/cli/testdata/datafingerprint golden files")

func runFingerprintCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

func TestDataFingerprint(t *testing.T) {
	shared := shareddata.Dir(t)
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v1 := writeFile("v1.jsonl", `{"id":"a","q":"2+2","a":"4"}
{"id":"b","q":"3+3","a":"6"}
{"id":"c","q":"capital of France","a":"Paris"}
`)
	v2 := writeFile("v2.jsonl", `{"id":"a","q":"2+2","a":"4"}
{"id":"c","q":"capital of France","a":"Paris, France"}
{"id":"d","q":"5*5","a":"25"}
`)
	// Without an id field, ids derive from content.
	v1n := writeFile("v1n.jsonl", `{"q":"2+2","a":"4"}
{"q":"3+3","a":"6"}
{"q":"capital of France","a":"Paris"}
`)
	v2n := writeFile("v2n.jsonl", `{"q":"2+2","a":"4"}
{"q":"capital of France","a":"Paris, France"}
{"q":"5*5","a":"25"}
`)
	bad := writeFile("bad.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\",}\n")
	tests := []struct {
		golden string
		args   []string
		code   int
	}{
		{"shared.txt", []string{"data", "fingerprint",
			filepath.Join(shared, "benchmarks", "gsm8k", "test_first300.jsonl"),
			filepath.Join(shared, "benchmarks", "truthfulqa", "v1", "TruthfulQA.csv"),
			filepath.Join(shared, "benchmarks", "truthfulqa", "v1", "mc_task.json")}, 0},
		{"shared.json", []string{"data", "fingerprint", "-f", "json", "--id-field", "question_id", filepath.Join(shared, "mtbench", "question.jsonl")}, 0},
		{"diff.txt", []string{"data", "fingerprint", "--diff", "--id-field", "id", v1, v2}, 0},
		{"diff-derived.txt", []string{"data", "fingerprint", "--diff", v1n, v2n}, 0},
		{"diff-default-id.txt", []string{"data", "fingerprint", "--diff", v1, v2}, 0},
		{"diff.json", []string{"data", "fingerprint", "--diff", "-f", "json", "--id-field", "id", v1, v2}, 0},
		{"same.txt", []string{"data", "fingerprint", "--diff", v1, v1}, 0},
		{"bad.txt", []string{"data", "fingerprint", v1, bad, v2, filepath.Join(dir, "none.csv")}, 2},
		{"mmlu.txt", []string{"data", "fingerprint", "--columns", "question,A,B,C,D,answer", filepath.Join(shared, "benchmarks", "mmlu", "data", "dev", "anatomy_dev.csv")}, 0},
		{"diff-args.txt", []string{"data", "fingerprint", "--diff", v1}, 2},
		{"missing-id.txt", []string{"data", "fingerprint", "--id-field", "nope", v1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, code := runFingerprintCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			// Paths differ per machine; the golden files hold them relative.
			got := strings.NewReplacer(shared+string(filepath.Separator), "SHARED/", dir+string(filepath.Separator), "TMP/").Replace("stdout:\n" + stdout + "stderr:\n" + stderr)
			path := filepath.Join("testdata", "datafingerprint", tt.golden)
			if *updateFingerprint {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -run DataFingerprint -update-fingerprint)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (refresh with -update-fingerprint if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// A header-less CSV (MMLU's) is refused with the flag that reads it, not
// fingerprinted with its first question taken for column names.
func TestDataFingerprintHeaderlessCSV(t *testing.T) {
	mmlu := filepath.FromSlash("testdata/abstract_algebra_test.csv") // MMLU's, as ../shared stores it
	_, stderr, code := runFingerprintCLI(t, "data", "fingerprint", mmlu)
	if code != 2 || !strings.Contains(stderr, "the first line looks like data, not a header") || !strings.Contains(stderr, "--columns question,A,B,C,D,answer") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	stdout, stderr, code := runFingerprintCLI(t, "data", "fingerprint", "--columns", "question,A,B,C,D,answer", mmlu)
	if code != 0 || !strings.Contains(stdout, "10 rows") {
		t.Errorf("with --columns: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
