package shareddata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchPairs loads pairs10k.jsonl, the text-metric speed workload of
// shared/data/parity/BASELINE.md written by bench_data.py.
// TUNECHECK_BENCH_DATA names bench_data.py's output folder (or the file);
// without it the benchmark is skipped with the instruction. It returns the
// predictions, the references and the raw bytes (for benchmarks that time
// parsing too).
func BenchPairs(b *testing.B) ([]string, [][]string, []byte) {
	b.Helper()
	p := os.Getenv("TUNECHECK_BENCH_DATA")
	if p == "" {
		b.Skip("TUNECHECK_BENCH_DATA is not set: run python3 shared/data/parity/bench_data.py DIR and set it to DIR")
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, "pairs10k.jsonl")
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	preds, refs, err := ParsePairs(raw)
	if err != nil {
		b.Fatalf("%s: %v", p, err)
	}
	if len(preds) != 10000 {
		b.Fatalf("%s: %d rows, want 10000 (regenerate it with bench_data.py)", p, len(preds))
	}
	return preds, refs, raw
}

// ParsePairs decodes JSONL rows {"prediction": …, "references": […]}.
func ParsePairs(raw []byte) ([]string, [][]string, error) {
	var preds []string
	var refs [][]string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var r struct {
			Prediction string   `json:"prediction"`
			References []string `json:"references"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, nil, err
		}
		preds = append(preds, r.Prediction)
		refs = append(refs, r.References)
	}
	return preds, refs, sc.Err()
}
