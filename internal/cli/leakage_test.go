package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/benchdata"
)

// leakageCLI runs tunecheck with args and an environment of vars.
func leakageCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errOut.String()
}

func writeJSONL(t *testing.T, path string, rows []map[string]any) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		j, _ := json.Marshal(r)
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// leakFiles writes a chat-format training set of 60 real GSM8K questions
// (with answers as the assistant turn) and an Alpaca-format test set of 20
// others, two of which are planted in the training set: one verbatim, one
// with its first sentence dropped.
func leakFiles(t *testing.T) (train, test string, items []benchdata.Item) {
	t.Helper()
	items, err := benchdata.Load("gsm8k")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var tr, te []map[string]any
	for i, it := range items[100:160] {
		tr = append(tr, map[string]any{"id": fmt.Sprintf("train-%d", i), "messages": []map[string]string{
			{"role": "user", "content": it.Question}, {"role": "assistant", "content": it.Answer}}})
	}
	for i, it := range items[:20] {
		te = append(te, map[string]any{"id": fmt.Sprintf("test-%d", i), "instruction": it.Question, "input": "", "output": it.Answer})
	}
	tr[10]["messages"] = []map[string]string{{"role": "user", "content": items[4].Question}, {"role": "assistant", "content": items[4].Answer}}
	q := items[8].Question
	tr[20]["messages"] = []map[string]string{{"role": "user", "content": q[strings.Index(q, ". ")+2:]}, {"role": "assistant", "content": items[8].Answer}}
	return writeJSONL(t, filepath.Join(dir, "train.jsonl"), tr), writeJSONL(t, filepath.Join(dir, "test.jsonl"), te), items
}

func TestLeakageCommand(t *testing.T) {
	train, test, _ := leakFiles(t)
	code, out, errOut := leakageCLI(t, nil, "leakage", "--train", train, "--test", test)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"test items leaked: 2 of 20 (10.0%)", "exact          1", "near           1",
		"train:11 [train-10]", "test:5 [test-4]", "bands 14 × rows 9"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "--fail-above", "5")
	if code != 1 || !strings.Contains(errOut, "leakage 10.0% is above --fail-above 5%") {
		t.Errorf("fail-above: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ = leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "--fail-above", "10"); code != 0 {
		t.Errorf("at the threshold: exit %d", code)
	}
	code, out, _ = leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "-f", "json")
	var rep struct {
		Summary struct {
			LeakedAny int            `json:"leaked_any"`
			Leaked    map[string]int `json:"leaked"`
		} `json:"summary"`
		LeakedTestIDs []string `json:"leaked_test_ids"`
		Pairs         []struct {
			Kind string `json:"kind"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("json: %v (exit %d)", err, code)
	}
	if rep.Summary.LeakedAny != 2 || strings.Join(rep.LeakedTestIDs, ",") != "test-4,test-8" || len(rep.Pairs) != 2 {
		t.Errorf("json report %+v", rep)
	}
	code, out, _ = leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "-f", "md")
	if code != 0 || !strings.HasPrefix(out, "## Data leakage") || !strings.Contains(out, "| **any** | **2 of 20** | **10.0%** |") {
		t.Errorf("markdown:\n%s", out)
	}
	// Only the questions count: the verbatim copy still matches, while the
	// truncated one, no longer carried over the threshold by its identical
	// answer, drops below 0.8.
	code, out, _ = leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "--fields", "messages:user", "--test-fields", "instruction")
	if code != 0 || !strings.Contains(out, "test items leaked: 1 of 20") || !strings.Contains(out, "test:5 [test-4]") {
		t.Errorf("fields: exit %d\n%s", code, out)
	}
}

func TestLeakageBench(t *testing.T) {
	train, _, items := leakFiles(t)
	code, out, errOut := leakageCLI(t, nil, "leakage", "--train", train, "--bench", "gsm8k,arc", "--fail-above", "19")
	if code != 1 || !strings.Contains(errOut, "leakage 20.0% is above --fail-above 19%") {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	// The training set holds 60 GSM8K test items with their answers (100-159
	// without 110 and 120, plus 4 and 8): 60 dirty. 15 ARC items are shorter
	// than 13 words and cannot be checked.
	// arc stands for arc_challenge and arc_easy, reported apart.
	for _, want := range []string{"gsm8k            300     300     60  20.0%     240         0     60",
		"arc_challenge    300     296      0   0.0%", "arc_easy         300     289      0   0.0%",
		"gsm8k not clean: gsm8k/test/4 gsm8k/test/8 " + items[100].ID + " "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "gsm8k/test/110 ") {
		t.Error("item 110 is not in the training set")
	}
}

func TestLeakageBadInput(t *testing.T) {
	train, test, _ := leakFiles(t)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte("{\"text\":\"ok\"}\n{oops\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"leakage"}, "--train is required"},
		{[]string{"leakage", "--train", "missing.jsonl"}, "cannot read missing.jsonl"},
		{[]string{"leakage", "--train", train, "--method", "fuzzy"}, `unknown method "fuzzy"`},
		{[]string{"leakage", "--train", train, "--method", "ngram"}, "needs --test (13-gram overlap with the test set) or --bench"},
		{[]string{"leakage", "--train", train, "--bench", "mmlu,squad"}, `unknown benchmark "squad"`},
		{[]string{"leakage", "--train", train, "--test", test, "--threshold", "1.5"}, "--threshold 1.5"},
		{[]string{"leakage", "--train", train, "--test", test, "--lsh-weights", "1"}, "--lsh-weights"},
		{[]string{"leakage", "--train", bad, "--test", test}, "bad.jsonl line 2"},
		{[]string{"leakage", "--train", train, "--test", test, "--method", "embed", "--no-cache"}, "--embed-url"},
		{[]string{"leakage", "--train", train, "--test", test, "--method", "embed", "--embed-url", "http://x", "--embed-model", "m", "--api-key-env", "NOPE"}, "NOPE: the variable is not set"},
	}
	for _, tc := range tests {
		code, _, errOut := leakageCLI(t, nil, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestLeakageEmbed runs method embed against an httptest server speaking
// Ollama's /api/embed, with the cache in a real SQLite store: the second run
// sends nothing.
func TestLeakageEmbed(t *testing.T) {
	train, test, _ := leakFiles(t)
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		if r.URL.Path != "/api/embed" || r.Header.Get("Authorization") != "Bearer secret" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"unauthorized"}`)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		var embs [][]float32
		for _, in := range req.Input {
			// Bag of letters: enough to pair a text with itself.
			v := make([]float32, 26)
			for _, c := range strings.ToLower(in) {
				if c >= 'a' && c <= 'z' {
					v[c-'a']++
				}
			}
			embs = append(embs, v)
		}
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": embs})
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "tc.db")
	args := []string{"leakage", "--train", train, "--test", test, "--method", "embed", "--embed-kind", "ollama",
		"--embed-url", srv.URL, "--embed-model", "letters", "--api-key-env", "KEY", "--cosine", "0.999", "--store", db, "-f", "json"}
	vars := map[string]string{"KEY": "secret"}
	code, out, errOut := leakageCLI(t, vars, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Only the verbatim copy reaches cosine 0.999 with bag-of-letters vectors.
	if !strings.Contains(out, `"semantic": 1`) || !strings.Contains(out, `"model": "letters"`) {
		t.Errorf("json:\n%s", out)
	}
	first := requests
	if first == 0 {
		t.Fatal("no requests")
	}
	code, out2, _ := leakageCLI(t, vars, args...)
	if code != 0 || requests != first || out2 != out {
		t.Errorf("cached run: exit %d, %d new requests, same output %v", code, requests-first, out2 == out)
	}
	// A wrong key is the endpoint refusing, not bad input: exit 3. (With the
	// cache on, the cached vectors would answer without asking.)
	code, _, errOut = leakageCLI(t, map[string]string{"KEY": "wrong"}, append(args, "--no-cache")...)
	if code != 3 || !strings.Contains(errOut, "HTTP 401: unauthorized") || !strings.Contains(errOut, "hint: check --embed-url") {
		t.Errorf("wrong key: exit %d, stderr %q", code, errOut)
	}
}

func TestMemorisationCommand(t *testing.T) {
	train, _, items := leakFiles(t)
	outs := filepath.Join(t.TempDir(), "outputs.jsonl")
	answer := items[104].Answer
	writeJSONL(t, outs, []map[string]any{
		{"id": "a", "output": "Here is my reasoning. " + answer},
		{"id": "b", "output": "I do not know."},
	})
	code, out, errOut := leakageCLI(t, nil, "leakage", "memorisation", "--train", train, "--outputs", outs, "--min-span", "20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "flagged at ≥ 20 shared tokens: 1 (50.0%)") || !strings.Contains(out, "! a ") || !strings.Contains(out, "train:5 [train-4]") {
		t.Errorf("output:\n%s", out)
	}
	code, _, errOut = leakageCLI(t, nil, "leakage", "memorization", "--train", train, "--outputs", outs, "--min-span", "20", "--fail-above", "0")
	if code != 1 || !strings.Contains(errOut, "50.0% of outputs regurgitate") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = leakageCLI(t, nil, "leakage", "memorisation", "--train", train, "--outputs", outs, "--output-field", "completion")
	if code != 2 || !strings.Contains(errOut, "outputs.jsonl line 1: no text field") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestLeakageAlpacaDefaultFields is the check that, with the default
// fields, test prompts copied verbatim into the instruction (or input) of
// Alpaca training rows are found when the test set has another shape
// (prompt/completion), and that every output format names the fields
// compared on each side.
func TestLeakageAlpacaDefaultFields(t *testing.T) {
	items, err := benchdata.Load("gsm8k")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var tr, te []map[string]any
	for i, it := range items[100:200] {
		tr = append(tr, map[string]any{"instruction": it.Question, "input": "", "output": it.Answer, "id": fmt.Sprintf("train-%d", i)})
	}
	for k := range 10 {
		// The training answers are not the test set's.
		row := map[string]any{"instruction": items[k].Question, "input": "", "output": items[k+50].Answer, "id": fmt.Sprintf("planted-%d", k)}
		if k%4 == 3 {
			row["instruction"], row["input"] = "Answer the question below.", items[k].Question
		}
		tr = append(tr, row)
	}
	for i, it := range items[:30] {
		te = append(te, map[string]any{"id": fmt.Sprintf("test-%d", i), "prompt": it.Question, "completion": it.Answer})
	}
	train := writeJSONL(t, filepath.Join(dir, "train.jsonl"), tr)
	test := writeJSONL(t, filepath.Join(dir, "test.jsonl"), te)
	for _, method := range []string{"exact", "minhash", "exact,minhash"} {
		code, out, errOut := leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "--method", method)
		if code != 0 || !strings.Contains(out, "test items leaked: 10 of 30 (33.3%)") {
			t.Errorf("--method %s: exit %d, stderr %q\n%s", method, code, errOut, out)
		}
		if !strings.Contains(out, "fields: train instruction, input, output (whole row, and each field alone); test prompt, completion (whole row, and prompt part: prompt)") {
			t.Errorf("--method %s: text does not name the fields:\n%s", method, out)
		}
	}
	code, out, _ := leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "-f", "json")
	var rep struct {
		Train struct {
			Fields []string `json:"fields"`
		} `json:"train"`
		Test struct {
			Fields       []string `json:"fields"`
			PromptFields []string `json:"prompt_fields"`
		} `json:"test"`
		LeakedTestIDs []string `json:"leaked_test_ids"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("json: %v (exit %d)", err, code)
	}
	if fmt.Sprint(rep.Train.Fields, rep.Test.Fields, rep.Test.PromptFields) != "[instruction input output] [prompt completion] [prompt]" ||
		strings.Join(rep.LeakedTestIDs, ",") != "test-0,test-1,test-2,test-3,test-4,test-5,test-6,test-7,test-8,test-9" {
		t.Errorf("json report %+v", rep)
	}
	code, out, _ = leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "-f", "md")
	if code != 0 || !strings.Contains(out, "Fields compared: train `instruction`, `input`, `output` (whole row, and each field alone); test `prompt`, `completion` (whole row, and prompt part: `prompt`).") {
		t.Errorf("markdown does not name the fields:\n%s", out)
	}
}

// TestLeakageNgramTestSet is the check that --method ngram without --bench
// compares the test set with the training set.
func TestLeakageNgramTestSet(t *testing.T) {
	train, test, _ := leakFiles(t)
	code, out, errOut := leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "--method", "ngram", "--fail-above", "5")
	// test-4 is in the training set whole (dirty); test-8 without its first
	// sentence (not clean or dirty, by its length).
	if code != 1 || !strings.Contains(errOut, "leakage 10.0% is above --fail-above 5%") {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"test set n-gram overlap with the training set (13-gram", "ngram          2  10.0%",
		"not clean: test-4 test-8", "ngram    train-test"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = leakageCLI(t, nil, "leakage", "--train", train, "--test", test, "--method", "ngram", "-f", "md")
	if code != 0 || !strings.Contains(out, "### Test set n-gram overlap") {
		t.Errorf("markdown: exit %d\n%s", code, out)
	}
}
