package app

import (
	"strings"

	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/task"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run --log-samples writes lm-eval's results JSON and per-sample JSONL for
// each model; the golden files hold their exact shape.
func TestLogSamples(t *testing.T) {
	srv := echoServer(t, map[string]map[string]bool{
		"base":  {"Rome": true, "four": true},
		"tuned": {"Paris": true, "four": true, "blue": true, "cold": true},
	}, false)
	defer srv.Close()
	out := t.TempDir()
	_, err := Run(context.Background(), Options{PlanPath: mcPlan(t, srv.URL), StoreDSN: filepath.Join(t.TempDir(), "tc.db"), OutputDir: out,
		LogSamples: true, ToolVersion: "test", Now: func() time.Time { return time.Unix(1700000000, 500000000) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tuned/results_lmeval.json", "tuned/samples_facts.jsonl", "base/results_lmeval.json"} {
		got, err := os.ReadFile(filepath.Join(out, "lmeval", f))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "lmeval", filepath.Dir(f)+"."+filepath.Base(f)+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/app -run TestLogSamples -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; rerun with -update and review the diff", f, golden)
		}
	}
	// The numbers: tuned got all 4 right (acc 1, stderr 0), base 1 of 4
	// (stderr √(.25·.75·4/3)/2 = .25).
	var res struct {
		Results map[string]map[string]any `json:"results"`
	}
	for model, want := range map[string][2]float64{"tuned": {1, 0}, "base": {0.25, 0.25}} {
		b, _ := os.ReadFile(filepath.Join(out, "lmeval", model, "results_lmeval.json"))
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		f := res.Results["facts"]
		if f["acc,none"] != want[0] || f["acc_stderr,none"] != want[1] {
			t.Errorf("%s: acc %v ± %v, want %v ± %v", model, f["acc,none"], f["acc_stderr,none"], want[0], want[1])
		}
	}
	// Every sample line carries lm-eval's fields and its metric values.
	fh, err := os.Open(filepath.Join(out, "lmeval", "tuned", "samples_facts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		var s map[string]any
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash", "prompt_hash", "target_hash", "acc"} {
			if _, ok := s[k]; !ok {
				t.Errorf("sample %d lacks %q", n, k)
			}
		}
		if s["acc"] != 1.0 {
			t.Errorf("sample %d: tuned acc %v, want 1", n, s["acc"])
		}
		n++
	}
	if n != 4 {
		t.Errorf("%d samples, want 4", n)
	}
}

// With --mask-pii the samples carry no personal data: the row, the target,
// the prompt and the hashes are of the masked text.
func TestLogSamplesMasked(t *testing.T) {
	it := task.Item{ID: "1", Prompt: "Write to jane.doe@example.com", Fields: map[string]any{"q": "Write to jane.doe@example.com", "n": 3},
		References: []string{"jane.doe@example.com"}, Gold: -1,
		Requests: []provider.Request{{Type: provider.Generate, ItemID: "1", Prompt: "Write to jane.doe@example.com"}}}
	bt := &builtTask{Stages: []string{"generate"}, Items: []task.Item{it}}
	s := lmSampleOf(bt, 0, nil, report.Outcome{Status: report.StatusFailed, Error: "no answer for jane.doe@example.com"}, []string{"exact_match"}, true)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "jane.doe") {
		t.Errorf("masked sample still has the address: %s", b)
	}
	if !strings.Contains(string(b), `"n":3`) || s.Status != report.StatusFailed {
		t.Errorf("masking changed more than texts: %s", b)
	}
	raw := lmSampleOf(bt, 0, nil, report.Outcome{Status: report.StatusFailed}, nil, false)
	if raw.DocHash == s.DocHash || raw.PromptHash == s.PromptHash {
		t.Error("hashes of the masked sample are the raw text's")
	}
}
