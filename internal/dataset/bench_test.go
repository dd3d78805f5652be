package dataset

import (
	"os"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

func benchFile(b *testing.B, opts Options, elem ...string) {
	data, err := os.ReadFile(shareddata.Path(b, elem...))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(elem[len(elem)-1], data, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// 805 AlpacaEval annotations, 3.6 MB JSON array.
func BenchmarkJSONArray(b *testing.B) {
	benchFile(b, Options{}, "alpacaeval", "annotations", "gpt-3.5-turbo-1106_concise.json")
}

// 300 GSM8K rows, 169 kB JSONL.
func BenchmarkJSONL(b *testing.B) {
	benchFile(b, Options{}, "benchmarks", "gsm8k", "test_first300.jsonl")
}

// 817 TruthfulQA rows, 476 kB CSV with a BOM and quoted newlines.
func BenchmarkCSV(b *testing.B) {
	benchFile(b, Options{Sample: 100, Seed: 7}, "benchmarks", "truthfulqa", "v1", "TruthfulQA.csv")
}
