package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// TestVocabularyOldSpellings: every old spelling gives the output of its new
// spelling, with a one-line deprecation warning on stderr naming the
// replacement; the new spelling warns about nothing.
func TestVocabularyOldSpellings(t *testing.T) {
	dir := t.TempDir()
	curvesLog := filepath.Join(shareddata.Path(t, "curves"), "llamafactory_qwen2.5-7b-medical.trainer_log.jsonl")
	train, test, _ := leakFiles(t)
	textTrain := filepath.Join(dir, "train.txt")
	textTest := filepath.Join(dir, "test.txt")
	os.WriteFile(textTrain, []byte("the cat sat on the mat today\nan entirely different line of text here\n"), 0o644)
	os.WriteFile(textTest, []byte("the cat sat on the mat today\nnothing in common with training\n"), 0o644)
	outputs := writeJSONL(t, filepath.Join(dir, "outputs.jsonl"), []map[string]any{{"id": "1", "output": "the cat sat on the mat today"}})
	data := writeJSONL(t, filepath.Join(dir, "data.jsonl"), []map[string]any{
		{"id": "a", "text": "alpha one", "mail": "ana@example.com"}, {"id": "b", "text": "beta two"}, {"id": "c", "text": "gamma three"},
		{"id": "d", "text": "delta four"}, {"id": "e", "text": "epsilon five"},
	})
	split := filepath.Join(dir, "split")
	scoreData := scoreData + "text.jsonl"
	annotations := filepath.Join(shareddata.Path(t, "alpacaeval", "annotations"), "gpt-3.5-turbo-1106.json")

	db, _ := quickstartRun(t)

	for _, tc := range []struct {
		name     string
		old, new []string
		warn     string // what the warning says to use instead
	}{
		{"curves --format READER", []string{"curves", curvesLog, "--format", "llamafactory"}, []string{"curves", curvesLog, "--reader", "llamafactory"}, "use --reader llamafactory"},
		{"curves -o FORMAT", []string{"curves", curvesLog, "-o", "json"}, []string{"curves", curvesLog, "-f", "json"}, "use --format json"},
		{"curves both old", []string{"curves", curvesLog, "--format", "llamafactory", "-o", "md"}, []string{"curves", curvesLog, "--reader", "llamafactory", "--format", "md"}, "use --format md"},
		{"leakage -o FORMAT", []string{"leakage", "--train", train, "--test", test, "-o", "json"}, []string{"leakage", "--train", train, "--test", test, "--format", "json"}, "use --format json"},
		{"leakage --format ROWS", []string{"leakage", "--train", train, "--test", test, "--format", "jsonl", "-o", "md"}, []string{"leakage", "--train", train, "--test", test, "--input-format", "jsonl", "-f", "md"}, "use --input-format jsonl"},
		{"leakage --format text -o FORMAT", []string{"leakage", "--train", textTrain, "--test", textTest, "--format", "text", "-o", "json"}, []string{"leakage", "--train", textTrain, "--test", textTest, "--input-format", "text", "-f", "json"}, "use --input-format text"},
		{"memorisation -o FORMAT", []string{"leakage", "memorisation", "--train", textTrain, "--outputs", outputs, "--min-span", "3", "-o", "json"}, []string{"leakage", "memorisation", "--train", textTrain, "--outputs", outputs, "--min-span", "3", "-f", "json"}, "use --format json"},
		{"data fingerprint --json", []string{"data", "fingerprint", "--json", data}, []string{"data", "fingerprint", "-f", "json", data}, "use --format json"},
		{"data fingerprint --format DATA", []string{"data", "fingerprint", "--format", "jsonl", data}, []string{"data", "fingerprint", "--input-format", "jsonl", data}, "use --input-format jsonl"},
		{"data fingerprint --json --format jsonl", []string{"data", "fingerprint", "--json", "--format", "jsonl", data}, []string{"data", "fingerprint", "--format", "json", "--input-format", "jsonl", data}, "use --input-format jsonl"},
		{"data pii --json", []string{"data", "pii", "--json", data}, []string{"data", "pii", "-f", "json", data}, "use --format json"},
		{"data split --out -o FORMAT", []string{"data", "split", data, "--out", split, "-o", "json", "--no-check"}, []string{"data", "split", data, "-o", split, "-f", "json", "--no-check"}, "use -o/--output"},
		{"data split --out", []string{"data", "split", data, "--out", split, "--no-check"}, []string{"data", "split", data, "--output", split, "--no-check"}, "use -o/--output"},
		{"score --format table", []string{"score", "--pred", scoreData, "--metrics", "bleu", "--format", "table"}, []string{"score", "--pred", scoreData, "--metrics", "bleu", "-f", "text"}, "use --format text"},
		{"score --format markdown", []string{"score", "--pred", scoreData, "--metrics", "bleu", "--format", "markdown"}, []string{"score", "--pred", scoreData, "--metrics", "bleu", "--format", "md"}, "use --format md"},
		{"scorers --json", []string{"scorers", "--json", "bleu"}, []string{"scorers", "-f", "json", "bleu"}, "use --format json"},
		{"judge winrate --format markdown", []string{"judge", "winrate", annotations, "--format", "markdown"}, []string{"judge", "winrate", annotations, "-f", "md"}, "use --format md"},
		{"report -f terminal", []string{"report", "--store", db, "-f", "terminal"}, []string{"report", "--store", db, "-f", "text"}, "use --format text"},
		{"compare --format terminal", []string{"compare", "latest", "--store", db, "--format", "terminal"}, []string{"compare", "latest", "--store", db}, "use --format text"},
		{"show --json", []string{"show", "--store", db, "--trend", "mtbench-ref.token_f1", "--json"}, []string{"show", "--store", db, "--trend", "mtbench-ref.token_f1", "-f", "json"}, "use --format json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			codeOld, outOld, errOld := runCLI(t, tc.old...)
			codeNew, outNew, errNew := runCLI(t, tc.new...)
			if codeNew != codeOld || outNew != outOld {
				t.Fatalf("old spelling: exit %d, stdout\n%s\nnew spelling: exit %d, stdout\n%s\nstderr old %q new %q", codeOld, outOld, codeNew, outNew, errOld, errNew)
			}
			if strings.Contains(errNew, "deprecated") {
				t.Errorf("the new spelling warns: %q", errNew)
			}
			if !strings.Contains(errOld, "is deprecated, "+tc.warn) {
				t.Errorf("old spelling: stderr %q lacks %q", errOld, "is deprecated, "+tc.warn)
			}
			for line := range strings.Lines(errOld) {
				if strings.Contains(line, "deprecated") && !strings.HasPrefix(line, "warning: ") {
					t.Errorf("warning is not one line of its own: %q", errOld)
				}
			}
		})
	}
}

// Where an old spelling and a new one read the same, the command refuses and
// says how to write each meaning; where old and new contradict, it says which
// to drop.
func TestVocabularyAmbiguous(t *testing.T) {
	dir := t.TempDir()
	train, test, _ := leakFiles(t)
	data := writeJSONL(t, filepath.Join(dir, "data.jsonl"), []map[string]any{{"id": "a", "text": "x"}})
	curvesLog := filepath.Join(shareddata.Path(t, "curves"), "llamafactory_qwen2.5-7b-medical.trainer_log.jsonl")
	for _, tc := range []struct {
		args       []string
		want, hint string
	}{
		{[]string{"leakage", "--train", train, "--test", test, "--format", "text"}, "--format text is ambiguous", "--input-format text"},
		{[]string{"data", "split", data, "-o", filepath.Join(dir, "s"), "--format", "text"}, "--format text is ambiguous", "--input-format auto --format text"},
		{[]string{"data", "fingerprint", "--format", "json", data}, "--format json is ambiguous", "--input-format json"},
		{[]string{"data", "pii", "--format", "json", data}, "--format json is ambiguous", "--input-format auto --format json"},
		{[]string{"curves", curvesLog, "-o", "json", "--format", "md"}, "-o json names a format, and --format is given too", "-o ./json"},
		{[]string{"curves", curvesLog, "--format", "llamafactory", "--reader", "csv"}, "names a reader, and --reader is given too", "drop --format"},
		{[]string{"curves", curvesLog, "--format", "xls"}, `--format "xls": unknown output format`, "--reader"},
		{[]string{"data", "split", data, "--out", filepath.Join(dir, "a"), "-o", filepath.Join(dir, "b")}, "both name the directory", "drop --out"},
		{[]string{"scorers", "--json", "-f", "text"}, "contradict", "drop --json"},
		{[]string{"version", "-f", "xml"}, `--format "xml": unknown output format`, "use text or json"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "hint: ") || !strings.Contains(errOut, tc.hint) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2, %q and a hint with %q", tc.args, code, errOut, tc.want, tc.hint)
		}
	}
	// -f is new with the vocabulary, so -f json is never the old data format.
	if code, out, errOut := runCLI(t, "data", "fingerprint", "-f", "json", data); code != 0 || !json.Valid([]byte(out)) || errOut != "" {
		t.Errorf("-f json: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// quickstartRun stores a run of examples/quickstart (file models, no
// network) and returns the store and the run's output directory.
func quickstartRun(t *testing.T) (db, out string) {
	t.Helper()
	dir := t.TempDir()
	db, out = filepath.Join(dir, "tc.db"), filepath.Join(dir, "out")
	plan, _ := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml"))
	if code, stdout, errOut := runCLI(t, "run", plan, "--store", db, "-o", out); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, errOut)
	}
	return db, out
}

// Every command that prints results prints JSON with -f json.
func TestFormatJSONEverywhere(t *testing.T) {
	db, out := quickstartRun(t)
	labels := writeJSONL(t, filepath.Join(t.TempDir(), "labels.jsonl"), []map[string]any{{"id": "101", "label": "A"}})
	for _, args := range [][]string{
		{"version", "-f", "json"},
		{"runs", "--store", db, "-f", "json"},
		{"show", "--store", db, "-f", "json"},
		{"show", "latest", "--store", db, "--trend", "mtbench-ref.token_f1", "-f", "json"},
		{"report", "--store", db, "-f", "json"},
		{"compare", "latest", "--store", db, "-f", "json"},
		{"labels", "import", "latest", labels, "--store", db, "--user", "ana", "-f", "json"},
		{"scorers", "-f", "json", "bleu"},
		{"score", "--pred", scoreData + "text.jsonl", "--metrics", "bleu", "-f", "json"},
	} {
		code, stdout, errOut := runCLI(t, args...)
		var v any
		if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != 0 {
			t.Errorf("%v: exit %d, %v\nstdout %s\nstderr %s", args, code, err, stdout, errOut)
		}
	}
	// The JSON says what the text says.
	_, stdout, _ := runCLI(t, "runs", "--store", db, "-f", "json")
	var runs []runJSON
	if err := json.Unmarshal([]byte(stdout), &runs); err != nil || len(runs) != 1 || runs[0].ID == "" || runs[0].Status != "finished" || runs[0].Verdict == "" {
		t.Errorf("runs -f json: %v %+v", err, runs)
	}
	_, stdout, _ = runCLI(t, "show", "--store", db, "-f", "json")
	var show struct {
		Run    runJSON        `json:"run"`
		Report map[string]any `json:"report"`
	}
	if err := json.Unmarshal([]byte(stdout), &show); err != nil || show.Run.ID != runs[0].ID || show.Report["verdict"] == nil {
		t.Errorf("show -f json: %v\n%s", err, stdout)
	}
	// -o is a path on compare and report alike.
	path := filepath.Join(out, "compare.md")
	if code, stdout, errOut := runCLI(t, "compare", "latest", "--store", db, "-f", "md", "-o", path); code != 0 || stdout != "" {
		t.Fatalf("compare -o: exit %d %q %q", code, stdout, errOut)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "**Verdict: PASS**") {
		t.Errorf("compare -o wrote %q, %v", b, err)
	}
}

// run -f takes a comma list, old names included, and refuses a name that is
// not a report file format before anything runs.
func TestRunFormatList(t *testing.T) {
	dir := t.TempDir()
	plan, _ := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml"))
	code, _, errOut := runCLI(t, "run", plan, "--store", filepath.Join(dir, "tc.db"), "-o", dir, "-f", "markdown,junit")
	if code != 0 || !strings.Contains(errOut, "--format markdown is deprecated, use --format md") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, f := range []string{"report.md", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if code, _, errOut := runCLI(t, "run", plan, "--store", filepath.Join(dir, "tc.db"), "-f", "md,text"); code != 2 || !strings.Contains(errOut, `--format "text": unknown output format`) {
		t.Errorf("text is not a report file: exit %d, %q", code, errOut)
	}
}
