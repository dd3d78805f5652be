package plan

import (
	"os"
	"testing"
)

// A plan of three models and three tasks with templates: decode, defaults,
// validation (including gonja parsing of four templates) and the hash.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/good/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("full.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// All errors of a plan with twenty mistakes, with suggestions and positions.
func BenchmarkParseErrors(b *testing.B) {
	data, err := os.ReadFile("testdata/bad/semantic.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse("semantic.yaml", data); err == nil {
			b.Fatal("no error")
		}
	}
}
